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
from twinning.schedule.conflicts import Booking, check_booking, settle_schedule
from twinning.streams import outbox
from twinning.streams.events import (
    BookedKind,
    ConflictOverride,
    Event,
    ExchangeDirection,
    ExchangeRecorded,
    ExchangeSource,
    TripCompleted,
    TripLeg,
    TripOfficial,
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


async def _check_schedule(
    db_session: AsyncSession,
    legs: Sequence[TripLeg],
    officials: Sequence[TripOfficial],
    reason: str | None,
    trip_id: str | None = None,
) -> ConflictOverride | None:
    """A trip books its officials (those of the register) for each leg's span: checked
    against the whole schedule like any booking; one override covers every leg."""
    official_ids = [o.official_id for o in officials if o.official_id is not None]
    if not official_ids:
        return None
    bookings = [
        Booking(
            starts_at=leg.start,
            ends_at=leg.end,
            official_ids=official_ids,
            itself=(BookedKind.TRIP, trip_id) if trip_id is not None else None,
        )
        for leg in legs
    ]
    return await check_booking(db_session=db_session, booking=bookings, override_reason=reason)


async def plan_trip(*, db_session: AsyncSession, data: TripCreate, actor: str) -> Event:
    await settle_schedule(db_session)
    await _require_visited_partners(db_session, data.legs)
    override = await _check_schedule(
        db_session, data.legs, data.officials, data.override.reason if data.override else None
    )
    return outbox.record(db_session, data.model_copy(update={"override": override}), actor=actor)


async def update_trip(
    *, db_session: AsyncSession, trip_id: str, data: TripUpdate, actor: str
) -> Event:
    await settle_schedule(db_session, [trip_id])
    trip = await _planned_trip(db_session, trip_id, L_("changed"))
    if data.legs is not None:
        await _require_visited_partners(db_session, data.legs)
    override = None
    if data.legs is not None or data.officials is not None:
        legs = data.legs or [
            TripLeg(
                city=leg.city,
                country=leg.country,
                timezone=leg.timezone,
                start=leg.starts_at,
                end=leg.ends_at,
            )
            for leg in trip.legs
        ]
        officials = data.officials or [TripOfficial(**o) for o in trip.officials]
        override = await _check_schedule(
            db_session, legs, officials, data.override.reason if data.override else None, trip.id
        )
    recorded = data.model_copy(update={"override": override})
    if override is None:  # not a field the event carries then
        recorded.model_fields_set.discard("override")
    return outbox.record(db_session, recorded, aggregate_id=trip.id, actor=actor)


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
