"""Trips abroad: plan, change, complete (which records the exchange with the partner cities
visited) or cancel them; read them with their legs in the destinations' time zones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command, CompletionAccepted
from twinning.api.deps import DbSession
from twinning.refusals import NotFound
from twinning.trips import service
from twinning.trips.schemas import (
    TripCancellation,
    TripCompletion,
    TripCreate,
    TripFilter,
    TripRead,
    TripUpdate,
)

router = APIRouter(prefix="/trips", tags=["trips"])


@router.post("", **COMMAND)
async def plan_trip(data: TripCreate, command: Command) -> Accepted:
    event = await command.run(service.plan_trip, data=data)
    return await command.accept(event, location=f"/trips/{event.aggregate_id}")


@router.patch("/{trip_id}", **COMMAND)
async def update_trip(trip_id: str, data: TripUpdate, command: Command) -> Accepted:
    event = await command.run(service.update_trip, trip_id=trip_id, data=data)
    return await command.accept(event, location=f"/trips/{trip_id}")


@router.post("/{trip_id}/complete", **{**COMMAND, "response_model": CompletionAccepted})
async def complete_trip(
    trip_id: str, command: Command, data: TripCompletion | None = None
) -> CompletionAccepted:
    completion = data or TripCompletion()
    completed, exchange = await command.run(service.complete_trip, trip_id=trip_id, data=completion)
    await command.commit(f"/trips/{trip_id}")
    return CompletionAccepted.of(completed, exchange, id=trip_id)


@router.post("/{trip_id}/cancel", **COMMAND)
async def cancel_trip(
    trip_id: str, command: Command, data: TripCancellation | None = None
) -> Accepted:
    cancellation = data or TripCancellation()
    event = await command.run(service.cancel_trip, trip_id=trip_id, data=cancellation)
    return await command.accept(event, location=f"/trips/{trip_id}")


@router.get("/{trip_id}", response_model=TripRead, **READ_ONE)
async def get_trip(trip_id: str, db_session: DbSession) -> TripRead:
    trip = await service.get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        raise NotFound("trip", trip_id)
    return TripRead.model_validate(trip)


@router.get("", response_model=list[TripRead])
async def list_trips(
    query: Annotated[TripFilter, Query()], db_session: DbSession
) -> list[TripRead]:
    """In order of departure; `year` is the year the trip starts (UTC)."""
    return [
        TripRead.model_validate(t)
        for t in await service.list_trips(db_session=db_session, query=query)
    ]
