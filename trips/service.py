"""Trip commands and queries for the API: commands check the lifecycle and record events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from twinning.crm import service as crm
from twinning.i18n import L_
from twinning.refusals import Conflict, NotFound
from twinning.streams import outbox
from twinning.streams.events import (
    Event,
    ExchangeDirection,
    ExchangeRecorded,
    ExchangeSource,
    TripCompleted,
    TripLeg,
)
from twinning.trips.models import Trip
from twinning.trips.schemas import (
    TripCancellation,
    TripCompletion,
    TripCreate,
    TripFilter,
    TripStatus,
    TripUpdate,
)

# The exchange a trip records gets an id derived from the trip's, so the two stay linked.
TRIP_EXCHANGES = uuid.UUID("6f1c1d57-3b0e-4d2f-9a47-5f8e0b7c2a11")


async def _planned_trip(db_session: AsyncSession, trip_id: str, step: LazyProxy) -> Trip:
    """The trip once its earlier changes are applied; refused unless it is still planned."""
    await outbox.settle(db_session, aggregate_ids=[trip_id])
    trip = await get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        raise NotFound("trip", trip_id)
    if trip.status != TripStatus.PLANNED:
        raise Conflict(
            "trip %(id)s is %(state)s: only a planned trip can be %(target)s",
            current_state=trip.status,
            id=trip.id,
            state=trip.status,
            target=step,
        )
    return trip


async def _require_visited_partners(db_session: AsyncSession, legs: list[TripLeg]) -> None:
    partner_ids = [p for leg in legs for p in leg.partner_ids]
    await crm.require_partners(db_session=db_session, partner_ids=partner_ids)


async def plan_trip(*, db_session: AsyncSession, data: TripCreate, actor: str) -> Event:
    await _require_visited_partners(db_session, data.legs)
    return outbox.record(db_session, data, actor=actor)


async def update_trip(
    *, db_session: AsyncSession, trip_id: str, data: TripUpdate, actor: str
) -> Event:
    trip = await _planned_trip(db_session, trip_id, L_("changed"))
    if data.legs is not None:
        await _require_visited_partners(db_session, data.legs)
    return outbox.record(db_session, data, aggregate_id=trip.id, actor=actor)


async def cancel_trip(
    *, db_session: AsyncSession, trip_id: str, data: TripCancellation, actor: str
) -> Event:
    trip = await _planned_trip(db_session, trip_id, L_("cancelled"))
    return outbox.record(db_session, data, aggregate_id=trip.id, actor=actor)


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
    *, db_session: AsyncSession, trip_id: str, data: TripCompletion, actor: str
) -> tuple[Event, Event | None]:
    """Record `TripCompleted` and the exchange with the partners visited, in one transaction."""
    trip = await _planned_trip(db_session, trip_id, L_("completed"))
    exchange = trip_exchange(trip, data)
    exchange_event = None
    if exchange is not None:
        exchange_id = str(uuid.uuid5(TRIP_EXCHANGES, trip.id))
        exchange_event = outbox.record(db_session, exchange, aggregate_id=exchange_id, actor=actor)
    completed = TripCompleted(
        exchange_id=exchange_event.aggregate_id if exchange_event is not None else None
    )
    return outbox.record(db_session, completed, aggregate_id=trip.id, actor=actor), exchange_event


async def get_trip(*, db_session: AsyncSession, trip_id: str) -> Trip | None:
    return await db_session.get(
        Trip, trip_id, options=[selectinload(Trip.legs)], populate_existing=True
    )


async def list_trips(*, db_session: AsyncSession, query: TripFilter) -> Sequence[Trip]:
    """In order of departure; `year` is the year the trip starts (UTC)."""
    found = select(Trip).options(selectinload(Trip.legs)).order_by(Trip.starts_at, Trip.id)
    status, year = query.status, query.year
    if status is not None:
        found = found.where(Trip.status == status.value)
    if year is not None:
        found = found.where(
            Trip.starts_at >= datetime(year, 1, 1, tzinfo=UTC),
            Trip.starts_at < datetime(year + 1, 1, 1, tzinfo=UTC),
        )
    return (await db_session.scalars(query.of(found))).all()
