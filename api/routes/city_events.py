"""City events: schedule, change, cancel and complete them, invite partners and missions to
them (commands), and read them with their invitations and the RSVP summary (queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command, CompletionAccepted
from twinning.api.deps import AppSettings, Clock, DbSession, PersonalDataAccess
from twinning.invitations import service
from twinning.invitations.models import CityEvent
from twinning.invitations.schemas import (
    AnswerState,
    CityEventCancel,
    CityEventComplete,
    CityEventCreate,
    CityEventFilter,
    CityEventRead,
    CityEventUpdate,
    InvitationRead,
    InvitationsCreate,
    InvitationSummary,
)
from twinning.refusals import NotFound
from twinning.schedule.conflicts import TravelTimes
from twinning.streams.events import InvitationSent

router = APIRouter(prefix="/city-events", tags=["city events"])


@router.post("", **COMMAND)
async def schedule_city_event(
    data: CityEventCreate, command: Command, settings: AppSettings
) -> Accepted:
    """Schedule a city event: its venue, the officials attending and its interpreters are
    checked against the whole schedule (409 naming each conflict, unless `override` has a
    reason)."""
    travel = TravelTimes.of(settings)
    event = await command.run(service.schedule_city_event, data=data, travel=travel)
    return await command.accept(event, location=f"/city-events/{event.aggregate_id}")


@router.patch("/{city_event_id}", **COMMAND)
async def update_city_event(
    city_event_id: str, data: CityEventUpdate, command: Command, settings: AppSettings
) -> Accepted:
    event = await command.run(
        service.update_city_event,
        city_event_id=city_event_id,
        data=data,
        travel=TravelTimes.of(settings),
    )
    return await command.accept(event, location=f"/city-events/{city_event_id}")


@router.post("/{city_event_id}/cancel", **COMMAND)
async def cancel_city_event(
    city_event_id: str, command: Command, data: Annotated[CityEventCancel | None, Body()] = None
) -> Accepted:
    cancel = data or CityEventCancel()
    event = await command.run(service.cancel_city_event, city_event_id=city_event_id, data=cancel)
    return await command.accept(event, location=f"/city-events/{city_event_id}")


@router.post("/{city_event_id}/complete", **{**COMMAND, "response_model": CompletionAccepted})
async def complete_city_event(
    city_event_id: str, data: CityEventComplete, command: Command, clock: Clock
) -> CompletionAccepted:
    completed, *exchange = await command.run(
        service.complete_city_event, city_event_id=city_event_id, data=data, now=clock()
    )
    await command.commit(f"/city-events/{city_event_id}")
    return CompletionAccepted.of(completed, exchange[0] if exchange else None, id=city_event_id)


async def _existing_city_event(db_session: DbSession, city_event_id: str) -> CityEvent:
    city_event = await service.get_city_event(db_session=db_session, city_event_id=city_event_id)
    if city_event is None:
        raise NotFound("city event", city_event_id)
    return city_event


@router.get("/{city_event_id}", response_model=CityEventRead, **READ_ONE)
async def get_city_event(city_event_id: str, db_session: DbSession) -> CityEventRead:
    return CityEventRead.of(await _existing_city_event(db_session, city_event_id))


@router.get("", response_model=list[CityEventRead])
async def list_city_events(
    query: Annotated[CityEventFilter, Query()], db_session: DbSession
) -> list[CityEventRead]:
    city_events = await service.list_city_events(db_session=db_session, query=query)
    return [CityEventRead.of(e) for e in city_events]


@router.post("/{city_event_id}/invitations", **{**COMMAND, "response_model": list[Accepted]})
async def send_invitations(
    city_event_id: str, data: InvitationsCreate, command: Command, clock: Clock
) -> list[Accepted]:
    """Invite one or several partner cities or missions; each gets its own invitation id."""
    events = await command.run(
        service.send_invitations, city_event_id=city_event_id, data=data, now=clock()
    )
    await command.commit(f"/city-events/{city_event_id}/invitations")
    sent = [(e.payload, e) for e in events]
    return [
        Accepted(id=p.invitation_id, event_id=e.event_id)
        for p, e in sent
        if isinstance(p, InvitationSent)
    ]


@router.get("/{city_event_id}/invitations", response_model=list[InvitationRead], **READ_ONE)
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


@router.get("/{city_event_id}/invitations/summary", response_model=InvitationSummary, **READ_ONE)
async def invitation_summary(
    city_event_id: str, db_session: DbSession, clock: Clock
) -> InvitationSummary:
    summary = await service.invitation_summary(
        db_session=db_session, city_event_id=city_event_id, now=clock()
    )
    if summary is None:
        raise NotFound("city event", city_event_id)
    return summary
