"""The trips projector: keeps `trips` and `trip_legs` from the trip events on `twinning.exchanges`.

The exchange a completed trip records is an `ExchangeRecorded` event of its own, applied by
the CRM projector like any other exchange.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import (
    Event,
    TripCancelled,
    TripCompleted,
    TripPlanned,
    TripUpdated,
)
from twinning.streams.events import TripLeg as TripLegFacts
from twinning.streams.projection import Park, Projector
from twinning.trips.models import Trip, TripLeg
from twinning.trips.schemas import TripStatus

projector = Projector("trips", tables=[Trip, TripLeg])


async def _replace_legs(session: AsyncSession, trip: Trip, legs: list[TripLegFacts]) -> None:
    # Set before the delete below, which flushes a new trip: it must be complete by then.
    trip.starts_at = min(leg.start for leg in legs)
    trip.ends_at = max(leg.end for leg in legs)
    await session.execute(delete(TripLeg).where(TripLeg.trip_id == trip.id))
    session.add_all(
        TripLeg(
            trip_id=trip.id,
            position=position,
            city=dict(leg.city),
            country=leg.country,
            timezone=leg.timezone,
            starts_at=leg.start,
            ends_at=leg.end,
            partner_ids=list(leg.partner_ids),
            itinerary=dict(leg.itinerary) if leg.itinerary is not None else None,
        )
        for position, leg in enumerate(legs)
    )


async def _known_trip(session: AsyncSession, event: Event) -> Trip:
    trip = await session.get(Trip, event.aggregate_id)
    if trip is None:
        raise Park(event.aggregate_id, f"trip {event.aggregate_id} is not planned yet")
    trip.updated_at = max(trip.updated_at, event.occurred_at)
    trip.version += 1
    return trip


@projector.on(TripPlanned)
async def trip_planned(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, TripPlanned)
    facts = event.payload
    trip = await session.get(Trip, event.aggregate_id)
    if trip is None:
        trip = Trip(
            id=event.aggregate_id,
            status=TripStatus.PLANNED.value,
            planned_at=event.occurred_at,
            version=0,
        )
        session.add(trip)
    trip.title = dict(facts.title)
    trip.officials = [o.to_json() for o in facts.officials]
    trip.international_event = (
        dict(facts.international_event) if facts.international_event is not None else None
    )
    trip.updated_at = event.occurred_at
    trip.version += 1
    await _replace_legs(session, trip, facts.legs)


@projector.on(TripUpdated)
async def trip_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, TripUpdated)
    facts = event.payload
    trip = await _known_trip(session, event)
    changed = facts.model_fields_set
    if "title" in changed and facts.title is not None:
        trip.title = {**trip.title, **facts.title}
    if "officials" in changed and facts.officials is not None:
        trip.officials = [o.to_json() for o in facts.officials]
    if "international_event" in changed:
        trip.international_event = (
            dict(facts.international_event) if facts.international_event is not None else None
        )
    if "legs" in changed and facts.legs is not None:
        await _replace_legs(session, trip, facts.legs)


@projector.on(TripCompleted)
async def trip_completed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, TripCompleted)
    trip = await _known_trip(session, event)
    trip.status = TripStatus.COMPLETED.value
    trip.completed_at = event.occurred_at
    trip.exchange_id = event.payload.exchange_id


@projector.on(TripCancelled)
async def trip_cancelled(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, TripCancelled)
    trip = await _known_trip(session, event)
    trip.status = TripStatus.CANCELLED.value
    trip.cancelled_at = event.occurred_at
    trip.cancel_reason = event.payload.reason
