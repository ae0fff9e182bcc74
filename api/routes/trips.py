"""Trips abroad: plan, change, complete (which records the exchange with the partner cities
visited) or cancel them; read them with their legs in the destinations' time zones."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from twinning.api.common import Accepted, Limit, Offset, Year, accept
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.api.routes.exchanges import require_partners
from twinning.streams import outbox
from twinning.streams.events import TripLeg as TripLegFacts
from twinning.trips import service
from twinning.trips.models import Trip
from twinning.trips.schemas import (
    TripCancellation,
    TripCompletion,
    TripCreate,
    TripRead,
    TripStatus,
    TripUpdate,
)

router = APIRouter(prefix="/trips", tags=["trips"])


class TripCompletionAccepted(Accepted):
    """The trip's completion, and the exchange it recorded (none if no partner was visited)."""

    exchange_id: str | None
    exchange_event_id: str | None


async def _current_trip(db_session: DbSession, trip_id: str) -> Trip:
    """The trip as it stands once its earlier changes are applied (lifecycle checks need it)."""
    await outbox.settle(db_session, aggregate_ids=[trip_id])
    trip = await service.get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"trip {trip_id} not found")
    return trip


def _conflict(exc: service.IllegalTransition) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT, {"message": str(exc), "current_state": exc.current_state}
    )


async def _require_visited_partners(db_session: DbSession, legs: list[TripLegFacts]) -> None:
    await require_partners(db_session, [p for leg in legs for p in leg.partner_ids])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def plan_trip(
    data: TripCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    await _require_visited_partners(db_session, data.legs)
    event = await service.plan_trip(db_session=db_session, data=data, actor=actor)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/trips/{event.aggregate_id}",
    )


@router.patch("/{trip_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_trip(
    trip_id: str,
    data: TripUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    trip = await _current_trip(db_session, trip_id)
    if data.legs is not None:
        await _require_visited_partners(db_session, data.legs)
    try:
        event = await service.update_trip(db_session=db_session, trip=trip, data=data, actor=actor)
    except service.IllegalTransition as exc:
        raise _conflict(exc) from None
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/trips/{trip_id}",
    )


@router.post(
    "/{trip_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TripCompletionAccepted,
)
async def complete_trip(
    trip_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: TripCompletion | None = None,
) -> TripCompletionAccepted:
    trip = await _current_trip(db_session, trip_id)
    try:
        completed, exchange = await service.complete_trip(
            db_session=db_session,
            trip=trip,
            data=data or TripCompletion(),
            actor=actor,
        )
    except service.IllegalTransition as exc:
        raise _conflict(exc) from None
    accepted = await accept(
        completed,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/trips/{trip_id}",
    )
    return TripCompletionAccepted(
        **accepted.model_dump(),
        exchange_id=exchange.aggregate_id if exchange is not None else None,
        exchange_event_id=exchange.event_id if exchange is not None else None,
    )


@router.post("/{trip_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def cancel_trip(
    trip_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: TripCancellation | None = None,
) -> Accepted:
    trip = await _current_trip(db_session, trip_id)
    try:
        event = await service.cancel_trip(
            db_session=db_session, trip=trip, data=data or TripCancellation(), actor=actor
        )
    except service.IllegalTransition as exc:
        raise _conflict(exc) from None
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/trips/{trip_id}",
    )


@router.get("/{trip_id}", response_model=TripRead)
async def get_trip(trip_id: str, db_session: DbSession) -> TripRead:
    trip = await service.get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"trip {trip_id} not found")
    return TripRead.model_validate(trip)


@router.get("", response_model=list[TripRead])
async def list_trips(
    db_session: DbSession,
    status: TripStatus | None = None,
    year: Year | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[TripRead]:
    """In order of departure; `year` is the year the trip starts (UTC)."""
    trips = await service.list_trips(
        db_session=db_session, status=status, year=year, limit=limit, offset=offset
    )
    return [TripRead.model_validate(t) for t in trips]
