"""How the worker's agents take their batches (`ReadyStream.take_ready`): a lone event is
handed over at once, not at a timer's next tick; what queues up while a batch is applied
comes as the next batch, at most `max_` at a time, in order; and an event is acked only once
its batch has been applied, never when the agent stops in the middle of it (an unacked
offset is not committed: the partition's next reader reads the batch again).

faust's own agent test context (`agent.test_context()`) feeds the agent's channel directly:
no broker is involved in what is tested here, the batching of what the channel holds. The
batching through Kafka is exercised by every test that runs a worker (`test_backbone`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import faust
from twinning.streams.worker import ReadyStream

DEADLINE = 10.0


async def _until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < deadline, f"{what} did not happen within {DEADLINE}s"
        await asyncio.sleep(0.005)


def _agent(
    max_: int,
) -> tuple[faust.types.AgentT, list[list[bytes]], list[list[bool]], asyncio.Event]:
    """An agent that records each batch it takes, and whether its events were acked while it
    held it, and holds each batch until `go_on` is set."""
    app = faust.App("test-take-ready", Stream=ReadyStream, store="memory://", web_enabled=False)
    batches: list[list[bytes]] = []
    acked_while_held: list[list[bool]] = []
    go_on = asyncio.Event()

    @app.agent()
    async def consume(stream: faust.StreamT[bytes]) -> None:
        # A safety net of an hour: anything handed over in this test was handed over because
        # the queue ran dry or the batch was full, not by the timer.
        async for batch in stream.take_ready(max_, at_most=3600):  # type: ignore[attr-defined]
            batches.append([event.value for event in batch])
            acked_while_held.append([event.message.acked for event in batch])
            await go_on.wait()
            go_on.clear()

    return consume, batches, acked_while_held, go_on


def test_a_lone_event_is_handed_over_at_once_and_a_backlog_as_the_next_batch() -> None:
    async def scenario() -> list[list[bytes]]:
        agent, batches, _, go_on = _agent(max_=100)
        async with agent.test_context() as context:
            await context.put(b"lone", wait=False)
            await _until(lambda: len(batches) == 1, "the lone event handed over")
            for n in range(5):  # while the first batch is being applied
                await context.put(f"queued {n}".encode(), wait=False)
            go_on.set()
            await _until(lambda: len(batches) == 2, "the queued events handed over")
            go_on.set()
        return batches

    batches = asyncio.run(scenario())
    assert batches == [[b"lone"], [f"queued {n}".encode() for n in range(5)]]


def test_batches_hold_at_most_max_in_order_and_are_acked_only_once_applied() -> None:
    async def scenario() -> tuple[list[list[bytes]], list[list[bool]], list[bool]]:
        agent, batches, acked_while_held, go_on = _agent(max_=3)
        async with agent.test_context() as context:
            sent = [await context.put(f"{n}".encode(), wait=False) for n in range(7)]
            for taken in (1, 2, 3):
                await _until(lambda taken=taken: len(batches) == taken, f"batch {taken}")
                go_on.set()
            await _until(lambda: all(event.message.acked for event in sent), "every ack")
            return batches, acked_while_held, [event.message.acked for event in sent]

    batches, acked_while_held, acked_at_end = asyncio.run(scenario())
    assert batches == [[b"0", b"1", b"2"], [b"3", b"4", b"5"], [b"6"]]
    assert acked_while_held == [[False] * 3, [False] * 3, [False]]
    assert acked_at_end == [True] * 7


def test_a_batch_cut_short_by_a_stop_is_not_acked() -> None:
    async def scenario() -> tuple[list[bytes], list[bool]]:
        app = faust.App(
            "test-take-ready-stop", Stream=ReadyStream, store="memory://", web_enabled=False
        )
        held: list[Any] = []
        closed = asyncio.Event()

        @app.agent()
        async def consume(stream: faust.StreamT[bytes]) -> None:
            batches = stream.take_ready(10, at_most=3600)  # type: ignore[attr-defined]
            held.extend(await batches.__anext__())
            await batches.aclose()  # as a stop does, while the batch is being applied
            closed.set()

        async with consume.test_context() as context:
            sent = [await context.put(f"{n}".encode(), wait=False) for n in range(3)]
            await _until(closed.is_set, "the batch taken and the generator closed")
            return [event.value for event in held], [event.message.acked for event in sent]

    taken, acked = asyncio.run(scenario())
    assert taken == [b"0", b"1", b"2"]
    assert acked == [False, False, False]
