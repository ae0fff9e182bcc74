"""Delegation visits: request them, move them through their lifecycle, plan their itinerary.

Lifecycle steps are `POST /visits/{id}/approve|decline|schedule|complete|cancel`; a step the
visit's state does not allow answers 409 naming the current status. An itinerary item that
books an official or venue already booked at an overlapping time answers 409 listing the
conflicts, unless the request carries `{"override": {"reason": "..."}}`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command, CompletionAccepted
from twinning.api.deps import AppSettings, DbSession, PersonalDataAccess
from twinning.refusals import NotFound
from twinning.schedule import service as roster
from twinning.schedule.conflicts import TravelTimes
from twinning.schedule.schemas import ItemCoverage
from twinning.streams.events import ItineraryItemAdded, NotifiableStep
from twinning.visits import service
from twinning.visits.lifecycle import STEPS, Step
from twinning.visits.schemas import (
    CompleteRequest,
    DelegationMembersRequest,
    ItineraryItemCreate,
    ItineraryItemRead,
    ItineraryItemUpdate,
    NotifyingStepRequest,
    StepRequest,
    TalkingPointsRequest,
    VisitCreate,
    VisitFilter,
    VisitRead,
    item_view,
    visit_view,
)

router = APIRouter(prefix="/visits", tags=["visits"])

# --- visits -----------------------------------------------------------------------------


@router.post("", **COMMAND)
async def request_visit(data: VisitCreate, command: Command) -> Accepted:
    event = await command.run(service.request_visit, data=data)
    return await command.accept(event, location=f"/visits/{event.aggregate_id}")


@router.get("", response_model=list[VisitRead], response_model_exclude_unset=True)
async def list_visits(
    query: Annotated[VisitFilter, Query()],
    db_session: DbSession,
    personal_data: PersonalDataAccess,
    settings: AppSettings,
) -> list[VisitRead]:
    visits = await service.list_visits(db_session=db_session, query=query)
    titles = settings.precedence_titles
    return [visit_view(v, personal_data=personal_data, titles=titles) for v in visits]


@router.get("/{visit_id}", response_model=VisitRead, response_model_exclude_unset=True, **READ_ONE)
async def get_visit(
    visit_id: str, db_session: DbSession, personal_data: PersonalDataAccess, settings: AppSettings
) -> VisitRead:
    visit = await service.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    return visit_view(visit, personal_data=personal_data, titles=settings.precedence_titles)


@router.put("/{visit_id}/delegation-members", **COMMAND)
async def list_delegation_members(
    visit_id: str, data: DelegationMembersRequest, command: Command
) -> Accepted:
    """List the members of the visit's delegation besides its head (the whole list, replacing
    the one before; `[]` clears it): personal data, shown to staff and in the officials'
    briefing book only, in order of precedence. 409 once the visit is closed."""
    event = await command.run(service.list_delegation_members, visit_id=visit_id, data=data)
    return await command.accept(event, location=f"/visits/{visit_id}", id=visit_id)


@router.put("/{visit_id}/talking-points", **COMMAND)
async def write_talking_points(
    visit_id: str, data: TalkingPointsRequest, command: Command
) -> Accepted:
    """Write the visit's talking points (internal: only its briefing book shows them)."""
    event = await command.run(
        service.write_talking_points, visit_id=visit_id, talking_points=data.talking_points
    )
    return await command.accept(event, location=f"/visits/{visit_id}", id=visit_id)


def _step_endpoint(step: Step) -> Any:
    async def take_step(
        visit_id: str, command: Command, data: StepRequest | None = None
    ) -> Accepted:
        reason = data.reason if data else None
        event = await command.run(service.take_step, visit_id=visit_id, step=step, reason=reason)
        return await command.accept(event, location=f"/visits/{visit_id}", id=visit_id)

    async def take_notifying_step(
        visit_id: str, command: Command, data: NotifyingStepRequest | None = None
    ) -> Accepted:
        body = data or NotifyingStepRequest()
        event = await command.run(
            service.take_step,
            visit_id=visit_id,
            step=step,
            reason=body.reason,
            notify_contact=body.notify_contact,
        )
        return await command.accept(event, location=f"/visits/{visit_id}", id=visit_id)

    endpoint = take_notifying_step if issubclass(step.event, NotifiableStep) else take_step
    endpoint.__doc__ = f"Move a visit to `{step.target}` (from {', '.join(sorted(step.source))})."
    return endpoint


@router.post("/{visit_id}/accept", **COMMAND)
async def accept_visit_request(visit_id: str, command: Command) -> Accepted:
    """Accept a visit request sent through the public form as a real one: it is no longer
    flagged (409 for a request staff recorded, or one accepted already)."""
    event = await command.run(service.accept_request, visit_id=visit_id)
    return await command.accept(event, location=f"/visits/{visit_id}", id=visit_id)


@router.post("/{visit_id}/complete", **{**COMMAND, "response_model": CompletionAccepted})
async def complete_visit(
    visit_id: str, command: Command, data: CompleteRequest | None = None
) -> CompletionAccepted:
    """Complete a scheduled visit; a partner city's visit records its exchange with it."""
    completion = data or CompleteRequest()
    completed, exchange = await command.run(
        service.complete_visit, visit_id=visit_id, data=completion
    )
    await command.commit(f"/visits/{visit_id}")
    return CompletionAccepted.of(completed, exchange, id=visit_id)


for _step in STEPS:
    if _step.command != "complete":
        router.add_api_route(
            f"/{{visit_id}}/{_step.command}",
            _step_endpoint(_step),
            methods=["POST"],
            name=f"{_step.command}_visit",
            summary=f"{_step.command.capitalize()} a visit",
            **COMMAND,
        )


# --- itinerary --------------------------------------------------------------------------


def _item_location(visit_id: str, item_id: str) -> str:
    return f"/visits/{visit_id}/itinerary/{item_id}"


@router.post("/{visit_id}/itinerary", **COMMAND)
async def add_itinerary_item(
    visit_id: str, data: ItineraryItemCreate, command: Command, settings: AppSettings
) -> Accepted:
    travel = TravelTimes.of(settings)
    event = await command.run(service.add_item, visit_id=visit_id, data=data, travel=travel)
    assert isinstance(event.payload, ItineraryItemAdded)
    item_id = event.payload.item_id
    return await command.accept(event, location=_item_location(visit_id, item_id), id=item_id)


@router.get(
    "/{visit_id}/itinerary",
    response_model=list[ItineraryItemRead],
    response_model_exclude_unset=True,
    **READ_ONE,
)
async def list_itinerary(
    visit_id: str,
    db_session: DbSession,
    personal_data: PersonalDataAccess,
    include_removed: Annotated[
        bool, Query(description="Also list removed items (calendars cancel them).")
    ] = False,
) -> list[ItineraryItemRead]:
    if await service.get_visit(db_session=db_session, visit_id=visit_id) is None:
        raise NotFound("visit", visit_id)
    items = await service.list_items(
        db_session=db_session, visit_id=visit_id, include_removed=include_removed
    )
    zones = await service.display_zones(db_session=db_session, items=items)
    return [item_view(item, timezone=zones[item.id], internal=personal_data) for item in items]


@router.get(
    "/{visit_id}/itinerary/{item_id}",
    response_model=ItineraryItemRead,
    response_model_exclude_unset=True,
    **READ_ONE,
)
async def get_itinerary_item(
    visit_id: str, item_id: str, db_session: DbSession, personal_data: PersonalDataAccess
) -> ItineraryItemRead:
    item = await service.get_item(db_session=db_session, visit_id=visit_id, item_id=item_id)
    if item is None:
        raise NotFound("itinerary item", item_id)
    zones = await service.display_zones(db_session=db_session, items=[item])
    return item_view(item, timezone=zones[item.id], internal=personal_data)


@router.patch("/{visit_id}/itinerary/{item_id}", **COMMAND)
async def change_itinerary_item(
    visit_id: str, item_id: str, data: ItineraryItemUpdate, command: Command, settings: AppSettings
) -> Accepted:
    event = await command.run(
        service.change_item,
        visit_id=visit_id,
        item_id=item_id,
        data=data,
        travel=TravelTimes.of(settings),
    )
    return await command.accept(event, location=_item_location(visit_id, item_id), id=item_id)


@router.delete("/{visit_id}/itinerary/{item_id}", **COMMAND)
async def remove_itinerary_item(
    visit_id: str, item_id: str, command: Command, data: StepRequest | None = None
) -> Accepted:
    """Remove an item; it stays listed with `include_removed`, so calendars can cancel it."""
    reason = data.reason if data else None
    event = await command.run(
        service.remove_item, visit_id=visit_id, item_id=item_id, reason=reason
    )
    return await command.accept(event, location=_item_location(visit_id, item_id), id=item_id)


@router.get("/{visit_id}/interpreting", response_model=list[ItemCoverage], **READ_ONE)
async def interpreting(
    visit_id: str, db_session: DbSession, settings: AppSettings
) -> list[ItemCoverage]:
    """For each live item: the language pairs it needs interpreted (both ways between each
    language of the delegation the office does not speak and the office's first language,
    `TWINNING_OFFICE_LANGUAGES`), and which of its interpreters cover each."""
    visit = await service.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    items = await service.list_items(db_session=db_session, visit_id=visit_id)
    named = await roster.interpreters_named(
        db_session=db_session, interpreter_ids={i for item in items for i in item.interpreter_ids}
    )
    return [roster.coverage(item, visit, named, settings.office_languages) for item in items]
