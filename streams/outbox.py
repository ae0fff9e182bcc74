"""How a command records its event: in the outbox, in the transaction of the command itself.

The API never writes to Kafka directly (no dual write): the relay publishes outbox rows
after they commit. `OutboxSignal` lets a relay in the same process wake at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import Event
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent


def record(session: AsyncSession, event: Event) -> None:
    """Add `event` to the outbox; it is published once the caller's transaction commits."""
    session.add(
        OutboxEvent(
            event_id=event.event_id,
            topic=event.event_type.topic,
            aggregate_id=event.aggregate_id,
            type=event.type,
            body=event.envelope.model_dump_json(),
        )
    )


class OutboxSignal:
    """A doorbell between the code that commits outbox rows and a relay in the same process."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        rang = self._event.wait(timeout)
        self._event.clear()
        return rang


async def settle(
    session: AsyncSession,
    *,
    aggregate_ids: Iterable[str] = (),
    topic: str | None = None,
    within: float = 5.0,
) -> None:
    """Wait until the worker has applied every committed event of these aggregates (or of
    `topic`), so that a command validates against the state its earlier commands produced.

    Read models are kept by the worker a few milliseconds after each commit; a command that
    depends on the current state (a lifecycle step, a conflict check) calls this first.
    Raises `NotSettled` when the worker does not catch up `within` seconds.
    """
    ids = list(aggregate_ids)
    unapplied = select(OutboxEvent.id).where(
        ~exists().where(ArchivedEvent.event_id == OutboxEvent.event_id),
        ~exists().where(DeadLetter.event_id == OutboxEvent.event_id),
    )
    if ids:
        unapplied = unapplied.where(OutboxEvent.aggregate_id.in_(ids))
    if topic is not None:
        unapplied = unapplied.where(OutboxEvent.topic == topic)
    deadline = time.monotonic() + within
    delay = 0.005
    while await session.scalar(unapplied.limit(1)) is not None:
        if time.monotonic() > deadline:
            raise NotSettled(ids or [topic or "all"])
        await session.rollback()  # end the snapshot so that the next look sees new commits
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


class NotSettled(Exception):
    """Earlier changes to these aggregates are still on their way to the read models."""

    def __init__(self, what: list[str]) -> None:
        super().__init__(
            f"earlier changes to {', '.join(what)} are still being applied; retry shortly"
        )
