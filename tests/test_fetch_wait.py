"""How long a worker's fetches wait (`FetchWait`): the short wait while events come, the
long one once none has come for a second, the short one again at the first fetch that
brings data. Installed on a stand-in for aiokafka's fetcher, which reads the wait for each
request it builds; the worker tests (`test_backbone`) run it against the embedded broker."""

from __future__ import annotations

import asyncio

from twinning.streams.worker import FetchWait


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """What `FetchWait` uses of aiokafka's fetcher."""

    def __init__(self) -> None:
        self._fetch_max_wait_ms = 500
        self.answers: list[bool] = []

    async def _proc_fetch_request(self, assignment: object, node_id: int, request: object) -> bool:
        return self.answers.pop(0)


def test_the_wait_grows_after_a_quiet_second_and_shrinks_at_the_first_data() -> None:
    clock, fetcher = Clock(), Fetcher()
    FetchWait(10, 100, quiet_after=1.0, clock=clock).install(fetcher)
    assert fetcher._fetch_max_wait_ms == 10  # from the start

    async def fetch(brought_data: bool, after: float) -> int:
        clock.now += after
        fetcher.answers.append(brought_data)
        assert await fetcher._proc_fetch_request(None, 0, None) is brought_data
        return fetcher._fetch_max_wait_ms

    async def scenario() -> list[int]:
        return [
            await fetch(True, 0.01),  # data
            await fetch(False, 0.5),  # half a second without any: still short
            await fetch(False, 0.6),  # 1.1 s: quiet
            await fetch(False, 5.0),
            await fetch(True, 0.1),  # data again
            await fetch(False, 0.01),
        ]

    assert asyncio.run(scenario()) == [10, 10, 100, 100, 10, 10]


def test_an_idle_wait_shorter_than_the_active_one_is_the_active_one() -> None:
    clock = Clock()
    wait = FetchWait(50, 10, clock=clock)
    clock.now += 5.0  # quiet
    assert wait.after_fetch(False) == 50
