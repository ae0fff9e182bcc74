"""Shared pieces of the routers: what a command answers (202 with the event id), paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import Event
from twinning.streams.outbox import OutboxSignal

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]
Year = Annotated[int, Query(ge=1900, le=2200)]
CountryFilter = Annotated[str | None, Query(pattern="^[A-Za-z]{2}$", description="ISO 3166 code")]


class Accepted(BaseModel):
    """The command was validated and its event committed; the read model follows shortly."""

    id: str
    event_id: str


async def accept(
    event: Event,
    *,
    db_session: AsyncSession,
    doorbell: OutboxSignal,
    response: Response,
    location: str,
) -> Accepted:
    """Commit the command's transaction, wake the relay, and point to the resource."""
    await db_session.commit()
    doorbell.notify()
    response.headers["Location"] = location
    return Accepted(id=event.aggregate_id, event_id=event.event_id)
