"""Where an event is on its way: pending in the outbox, published, applied, parked, dead-lettered."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from twinning.api.common import READ_ONE
from twinning.api.deps import DbSession
from twinning.refusals import NotFound
from twinning.streams.status import EventState, event_status

router = APIRouter(prefix="/events", tags=["events"])


@router.get("/{event_id}", response_model=EventState, **READ_ONE)
async def get_event_status(event_id: uuid.UUID, db_session: DbSession) -> EventState:
    key = str(event_id)
    state = await event_status(db_session, key)
    if state is None:
        raise NotFound("event", key)
    return state
