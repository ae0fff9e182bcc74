"""Where an event is on its way: pending in the outbox, published, applied, parked or
dead-lettered, as the backbone's tables tell (`GET /events/{event_id}` answers with it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent, ParkedEvent

EventStatus = Literal["pending", "published", "applied", "parked", "dead-lettered"]


# Also the API's response model (no docstring: it would become the OpenAPI description).
class EventState(BaseModel):
    event_id: str
    status: EventStatus
    reason: str | None = None


async def event_status(session: AsyncSession, event_id: str) -> EventState | None:
    """The furthest an event has come (applied, else parked or dead-lettered with the reason,
    else pending or published in the outbox), or None if no table knows it. Parked comes
    before dead-lettered: a parked event still waits, whatever was dead-lettered under its id
    (an earlier failure, a conflicting duplicate)."""
    if await session.scalar(select(exists().where(ArchivedEvent.event_id == event_id))):
        return EventState(event_id=event_id, status="applied")
    parked = await session.scalar(
        select(ParkedEvent.reason).where(ParkedEvent.event_id == event_id)
    )
    if parked is not None:
        return EventState(event_id=event_id, status="parked", reason=parked)
    dead = await session.scalar(
        select(DeadLetter.reason).where(DeadLetter.event_id == event_id).limit(1)
    )
    if dead is not None:
        return EventState(event_id=event_id, status="dead-lettered", reason=dead)
    row = (
        await session.execute(
            select(OutboxEvent.published_at).where(OutboxEvent.event_id == event_id)
        )
    ).first()
    if row is None:
        return None
    return EventState(
        event_id=event_id, status="pending" if row.published_at is None else "published"
    )
