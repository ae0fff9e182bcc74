"""How long a worker's fetches wait (`FetchWait`): the short wait while events come, the
long one once a run of fetches has brought nothing, the short one again at the first fetch
that brings data. Installed on a stand-in for aiokafka's fetcher, which reads the wait for
each request it builds; the worker tests (`test_backbone`) run it against the embedded
broker."""

from __future__ import annotations

import asyncio

from twinning.streams.worker import FetchWait


class Fetcher:
    """What `FetchWait` uses of aiokafka's fetcher."""

    def __init__(self) -> None:
        self._fetch_max_wait_ms = 500
        self.answers: list[bool] = []

    async def _proc_fetch_request(self, assignment: object, node_id: int, request: object) -> bool:
        return self.answers.pop(0)


def test_the_wait_grows_after_a_run_of_empty_fetches_and_shrinks_at_the_first_data() -> None:
    fetcher = Fetcher()
    FetchWait(10, 100, quiet_fetches=3).install(fetcher)
    assert fetcher._fetch_max_wait_ms == 10  # from the start

    async def fetch(brought_data: bool) -> int:
        fetcher.answers.append(brought_data)
        assert await fetcher._proc_fetch_request(None, 0, None) is brought_data
        return fetcher._fetch_max_wait_ms

    async def scenario() -> list[int]:
        return [
            await fetch(data)
            for data in (True, False, False, True, False, False, False, False, True)
        ]

    # Two empty fetches are not yet quiet; the third is; data makes it short at once.
    assert asyncio.run(scenario()) == [10, 10, 10, 10, 10, 10, 100, 100, 10]


def test_an_idle_wait_shorter_than_the_active_one_is_the_active_one() -> None:
    wait = FetchWait(50, 10, quiet_fetches=1)
    assert wait.after_fetch(False) == 50
