"""Where an event is on its way: pending in the outbox, published, applied, parked, dead-lettered."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import exists, select
from twinning.api.deps import DbSession
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent, ParkedEvent

router = APIRouter(prefix="/events", tags=["events"])

EventStatus = Literal["pending", "published", "applied", "parked", "dead-lettered"]


class EventState(BaseModel):
    event_id: str
    status: EventStatus
    reason: str | None = None


@router.get("/{event_id}", response_model=EventState)
async def get_event_status(event_id: uuid.UUID, db_session: DbSession) -> EventState:
    key = str(event_id)
    if await db_session.scalar(select(exists().where(ArchivedEvent.event_id == key))):
        return EventState(event_id=key, status="applied")
    dead = await db_session.scalar(
        select(DeadLetter.reason).where(DeadLetter.event_id == key).limit(1)
    )
    if dead is not None:
        return EventState(event_id=key, status="dead-lettered", reason=dead)
    parked = await db_session.scalar(select(ParkedEvent.reason).where(ParkedEvent.event_id == key))
    if parked is not None:
        return EventState(event_id=key, status="parked", reason=parked)
    published_at = await db_session.execute(
        select(OutboxEvent.published_at).where(OutboxEvent.event_id == key)
    )
    row = published_at.first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {key} not found")
    return EventState(event_id=key, status="pending" if row.published_at is None else "published")
