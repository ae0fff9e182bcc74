"""Trip commands and queries for the API: commands check the lifecycle and record events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from twinning.streams import outbox
from twinning.streams.events import (
    Event,
    ExchangeDirection,
    ExchangeRecorded,
    ExchangeSource,
    TripCompleted,
    new_event,
)
from twinning.trips.models import Trip
from twinning.trips.schemas import (
    TripCancellation,
    TripCompletion,
    TripCreate,
    TripStatus,
    TripUpdate,
)

# The exchange a trip records gets an id derived from the trip's, so the two stay linked.
TRIP_EXCHANGES = uuid.UUID("6f1c1d57-3b0e-4d2f-9a47-5f8e0b7c2a11")


class IllegalTransition(Exception):
    def __init__(self, trip: Trip, action: str) -> None:
        super().__init__(f"trip {trip.id} is {trip.status}: only a planned trip can be {action}")
        self.current_state = trip.status


def require_planned(trip: Trip, action: str) -> None:
    if trip.status != TripStatus.PLANNED:
        raise IllegalTransition(trip, action)


def _record(db_session: AsyncSession, event: Event) -> Event:
    outbox.record(db_session, event)
    return event


async def plan_trip(*, db_session: AsyncSession, data: TripCreate, actor: str) -> Event:
    return _record(db_session, new_event(data, aggregate_id=str(uuid.uuid4()), actor=actor))


async def update_trip(
    *, db_session: AsyncSession, trip: Trip, data: TripUpdate, actor: str
) -> Event:
    require_planned(trip, "changed")
    return _record(db_session, new_event(data, aggregate_id=trip.id, actor=actor))


async def cancel_trip(
    *, db_session: AsyncSession, trip: Trip, data: TripCancellation, actor: str
) -> Event:
    require_planned(trip, "cancelled")
    return _record(db_session, new_event(data, aggregate_id=trip.id, actor=actor))


def trip_exchange(trip: Trip, data: TripCompletion) -> ExchangeRecorded | None:
    """The exchange with the partner cities a trip visited (none if it visited none); it is
    dated on the first day a partner was visited, in that destination's own calendar."""
    visiting = [leg for leg in trip.legs if leg.partner_ids]
    if not visiting:
        return None
    first = visiting[0]
    return ExchangeRecorded(
        partner_ids=list(dict.fromkeys(p for leg in visiting for p in leg.partner_ids)),
        date=first.starts_at.astimezone(ZoneInfo(first.timezone)).date(),
        field=data.field,
        direction=ExchangeDirection.OUTBOUND,
        summary=data.summary or trip.title,
        participants=data.participants if data.participants is not None else len(trip.officials),
        source=ExchangeSource(kind="trip", id=trip.id),
    )


async def complete_trip(
    *,
    db_session: AsyncSession,
    trip: Trip,
    data: TripCompletion,
    actor: str,
) -> tuple[Event, Event | None]:
    """Record `TripCompleted` and the exchange with the partners visited, in one transaction."""
    require_planned(trip, "completed")
    exchange = trip_exchange(trip, data)
    exchange_event = None
    if exchange is not None:
        exchange_id = str(uuid.uuid5(TRIP_EXCHANGES, trip.id))
        exchange_event = _record(
            db_session, new_event(exchange, aggregate_id=exchange_id, actor=actor)
        )
    completed = TripCompleted(
        exchange_id=exchange_event.aggregate_id if exchange_event is not None else None
    )
    return _record(
        db_session, new_event(completed, aggregate_id=trip.id, actor=actor)
    ), exchange_event


async def get_trip(*, db_session: AsyncSession, trip_id: str) -> Trip | None:
    return await db_session.get(
        Trip, trip_id, options=[selectinload(Trip.legs)], populate_existing=True
    )


async def list_trips(
    *,
    db_session: AsyncSession,
    status: TripStatus | None = None,
    year: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Trip]:
    query = (
        select(Trip)
        .options(selectinload(Trip.legs))
        .order_by(Trip.starts_at, Trip.id)
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(Trip.status == status.value)
    if year is not None:
        query = query.where(
            Trip.starts_at >= datetime(year, 1, 1, tzinfo=UTC),
            Trip.starts_at < datetime(year + 1, 1, 1, tzinfo=UTC),
        )
    return (await db_session.scalars(query)).all()
