"""City events: schedule, change, cancel and complete them, invite partners and missions to
them (commands), and read them with their invitations and the RSVP summary (queries)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import (
    Clock,
    DbSession,
    OutboxDoorbell,
    PersonalDataAccess,
    StaffActor,
)
from twinning.api.routes.partners import Accepted
from twinning.invitations import service
from twinning.invitations.models import CityEventStatus
from twinning.invitations.schemas import (
    AnswerState,
    CityEventCancel,
    CityEventComplete,
    CityEventCreate,
    CityEventRead,
    CityEventUpdate,
    InvitationRead,
    InvitationsCreate,
    InvitationSummary,
)
from twinning.invitations.service import CommandRefused, Conflict, InvalidInput, NotFound
from twinning.streams.events import CityEventKind
from twinning.streams.outbox import OutboxSignal


def refusal_response(refused: CommandRefused) -> JSONResponse:
    """404 for an unknown id, 409 naming the current state, 422 naming the field (in the
    shape FastAPI gives its own validation errors)."""
    if isinstance(refused, NotFound):
        return JSONResponse({"detail": refused.message}, status.HTTP_404_NOT_FOUND)
    if isinstance(refused, Conflict):
        body: Any = {"detail": {"message": refused.message, **refused.details}}
        return JSONResponse(jsonable_encoder(body), status.HTTP_409_CONFLICT)
    assert isinstance(refused, InvalidInput)
    error = {
        "type": "value_error",
        "loc": ["body", refused.field],
        "msg": refused.message,
        "input": refused.value,
    }
    return JSONResponse(
        jsonable_encoder({"detail": [error]}), status.HTTP_422_UNPROCESSABLE_CONTENT
    )


class AnswersRefusals(APIRoute):
    """A route whose refused commands are answered with `refusal_response`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except CommandRefused as refused:
                return refusal_response(refused)

        return answer


router = APIRouter(prefix="/city-events", tags=["city events"], route_class=AnswersRefusals)


class CompletionAccepted(Accepted):
    """The completion was committed, with the exchange it recorded when partners attended."""

    exchange_id: str | None = None
    exchange_event_id: str | None = None


async def commit(
    db_session: AsyncSession, doorbell: OutboxSignal, response: Response, location: str
) -> None:
    await db_session.commit()
    doorbell.notify()
    response.headers["Location"] = location


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def schedule_city_event(
    data: CityEventCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    event = await service.schedule_city_event(db_session=db_session, data=data, actor=actor)
    await commit(db_session, doorbell, response, f"/city-events/{event.aggregate_id}")
    return Accepted(id=event.aggregate_id, event_id=event.event_id)


@router.patch("/{city_event_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_city_event(
    city_event_id: str,
    data: CityEventUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    event = await service.update_city_event(
        db_session=db_session, city_event_id=city_event_id, data=data, actor=actor
    )
    await commit(db_session, doorbell, response, f"/city-events/{city_event_id}")
    return Accepted(id=city_event_id, event_id=event.event_id)


@router.post(
    "/{city_event_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def cancel_city_event(
    city_event_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: Annotated[CityEventCancel | None, Body()] = None,
) -> Accepted:
    event = await service.cancel_city_event(
        db_session=db_session,
        city_event_id=city_event_id,
        data=data or CityEventCancel(),
        actor=actor,
    )
    await commit(db_session, doorbell, response, f"/city-events/{city_event_id}")
    return Accepted(id=city_event_id, event_id=event.event_id)


@router.post(
    "/{city_event_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CompletionAccepted,
)
async def complete_city_event(
    city_event_id: str,
    data: CityEventComplete,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    clock: Clock,
    response: Response,
) -> CompletionAccepted:
    completed, *exchange = await service.complete_city_event(
        db_session=db_session, city_event_id=city_event_id, data=data, actor=actor, now=clock()
    )
    await commit(db_session, doorbell, response, f"/city-events/{city_event_id}")
    return CompletionAccepted(
        id=city_event_id,
        event_id=completed.event_id,
        exchange_id=exchange[0].aggregate_id if exchange else None,
        exchange_event_id=exchange[0].event_id if exchange else None,
    )


@router.get("/{city_event_id}", response_model=CityEventRead)
async def get_city_event(city_event_id: str, db_session: DbSession) -> CityEventRead:
    city_event = await service.get_city_event(db_session=db_session, city_event_id=city_event_id)
    if city_event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"city event {city_event_id} not found")
    return CityEventRead.of(city_event)


@router.get("", response_model=list[CityEventRead])
async def list_city_events(
    db_session: DbSession,
    starts_from: Annotated[
        date | None,
        Query(alias="from", description="Events on or after this day (in their own zone)."),
    ] = None,
    until: Annotated[
        date | None,
        Query(alias="to", description="Events on or before this day (in their own zone)."),
    ] = None,
    city_event_status: Annotated[CityEventStatus | None, Query(alias="status")] = None,
    kind: CityEventKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CityEventRead]:
    if starts_from is not None and until is not None and until < starts_from:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"type": "value_error", "loc": ["query", "to"], "msg": "must not be before 'from'"}],
        )
    city_events = await service.list_city_events(
        db_session=db_session,
        starts_from=starts_from,
        until=until,
        status=city_event_status,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return [CityEventRead.of(e) for e in city_events]


@router.post(
    "/{city_event_id}/invitations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=list[Accepted],
)
async def send_invitations(
    city_event_id: str,
    data: InvitationsCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    clock: Clock,
    response: Response,
) -> list[Accepted]:
    """Invite one or several partner cities or missions; each gets its own invitation id."""
    events = await service.send_invitations(
        db_session=db_session, city_event_id=city_event_id, data=data, actor=actor, now=clock()
    )
    await commit(db_session, doorbell, response, f"/city-events/{city_event_id}/invitations")
    return [Accepted(id=e.envelope.payload["invitation_id"], event_id=e.event_id) for e in events]


async def _existing_city_event(db_session: AsyncSession, city_event_id: str) -> None:
    if await service.get_city_event(db_session=db_session, city_event_id=city_event_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"city event {city_event_id} not found")


@router.get("/{city_event_id}/invitations", response_model=list[InvitationRead])
async def list_invitations(
    city_event_id: str,
    db_session: DbSession,
    personal_data: PersonalDataAccess,
    answer: AnswerState | None = None,
) -> list[InvitationRead]:
    await _existing_city_event(db_session, city_event_id)
    invitations = await service.list_invitations(
        db_session=db_session, city_event_id=city_event_id, answer=answer
    )
    return [InvitationRead.of(i, personal_data=personal_data) for i in invitations]


@router.get("/{city_event_id}/invitations/summary", response_model=InvitationSummary)
async def invitation_summary(
    city_event_id: str, db_session: DbSession, clock: Clock
) -> InvitationSummary:
    summary = await service.invitation_summary(
        db_session=db_session, city_event_id=city_event_id, now=clock()
    )
    if summary is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"city event {city_event_id} not found")
    return summary
