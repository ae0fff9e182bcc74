"""Where an event is on its way: pending in the outbox, published, applied, parked or
dead-lettered, as the backbone's tables tell (`GET /events/{event_id}` answers with it); and
whether any worker is there to apply it (the heartbeats `/health` reads)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.db import utcnow
from twinning.streams.store import (
    ArchivedEvent,
    DeadLetter,
    OutboxEvent,
    ParkedEvent,
    WorkerHeartbeat,
)

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


# --- the workers' heartbeats ------------------------------------------------------------------

#: A dead worker's last heartbeat is forgotten after this long.
FORGET_AFTER = timedelta(days=1)


async def record_heartbeat(
    session: AsyncSession, worker_id: str, started_at: datetime, lag: int | None
) -> None:
    """A worker's sign of life (one row per worker, updated in place)."""
    now = utcnow()
    changed = await session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker_id == worker_id)
        .values(beat_at=now, lag=lag)
    )
    if not getattr(changed, "rowcount", 0):
        session.add(
            WorkerHeartbeat(worker_id=worker_id, started_at=started_at, beat_at=now, lag=lag)
        )
    await session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER)
    )


class WorkerState(BaseModel):
    worker_id: str
    seconds_since_heartbeat: float
    lag: int | None = None


async def live_workers(session: AsyncSession, within: float) -> list[WorkerState]:
    """The workers that sent a heartbeat in the last `within` seconds, the latest first."""
    now = utcnow()
    rows = await session.scalars(
        select(WorkerHeartbeat)
        .where(WorkerHeartbeat.beat_at >= now - timedelta(seconds=within))
        .order_by(WorkerHeartbeat.beat_at.desc())
    )
    return [
        WorkerState(
            worker_id=row.worker_id,
            seconds_since_heartbeat=round((now - row.beat_at).total_seconds(), 1),
            lag=row.lag,
        )
        for row in rows
    ]
