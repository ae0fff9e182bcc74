"""How a command records its event: in the outbox, in the transaction of the command itself.

The API never writes to Kafka directly (no dual write): the relay publishes outbox rows
after they commit. `OutboxSignal` lets a relay in the same process wake at once.
"""

from __future__ import annotations

import threading

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import Event
from twinning.streams.store import OutboxEvent


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
