"""Delegation visits: request them, move them through their lifecycle, plan their itinerary.

Lifecycle steps are `POST /visits/{id}/approve|decline|schedule|complete|cancel`; a step the
visit's state does not allow answers 409 naming the current status. An itinerary item that
books an official or venue already booked at an overlapping time answers 409 listing the
conflicts, unless the request carries `{"override": {"reason": "..."}}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from twinning.api.deps import DbSession, OutboxDoorbell, PersonalDataAccess, StaffActor
from twinning.api.routes.partners import Accepted
from twinning.streams.events import Event, ItineraryItemAdded
from twinning.visits import service
from twinning.visits.lifecycle import STEPS, IllegalTransition, Step, VisitStatus
from twinning.visits.schemas import (
    CompleteRequest,
    ItineraryItemCreate,
    ItineraryItemRead,
    ItineraryItemUpdate,
    PageQuery,
    StepRequest,
    VisitCreate,
    VisitRead,
    item_view,
    visit_view,
)

router = APIRouter(prefix="/visits", tags=["visits"])


class CompletionAccepted(Accepted):
    """The visit's completion, and the exchange recorded with it (none without a partner)."""

    exchange_id: str | None
    exchange_event_id: str | None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Answer what the domain refuses with the status code and a body that says why."""
    try:
        yield
    except service.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except service.InvalidField as exc:
        error = {"type": "value_error", "loc": ("body", *exc.loc), "msg": exc.message}
        raise RequestValidationError([{**error, "input": exc.value}]) from None
    except IllegalTransition as exc:
        detail = {"message": str(exc), "current_status": exc.status}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
    except service.BookingConflicts as exc:
        conflicts = [conflict.model_dump(mode="json") for conflict in exc.conflicts]
        detail = {"message": str(exc), "conflicts": conflicts}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
    except service.RemovedItem as exc:
        detail = {"message": str(exc), "item_id": exc.item_id}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None


async def accept(
    event: Event,
    *,
    entity_id: str,
    location: str,
    db_session: DbSession,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    """Commit the command's events, wake the relay, and answer 202 with where to look."""
    await db_session.commit()
    doorbell.notify()
    response.headers["Location"] = location
    return Accepted(id=entity_id, event_id=event.event_id)


# --- visits -----------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def request_visit(
    data: VisitCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    with domain_errors():
        event = await service.request_visit(db_session=db_session, data=data, actor=actor)
    return await accept(
        event,
        entity_id=event.aggregate_id,
        location=f"/visits/{event.aggregate_id}",
        db_session=db_session,
        doorbell=doorbell,
        response=response,
    )


@router.get("", response_model=list[VisitRead], response_model_exclude_unset=True)
async def list_visits(
    db_session: DbSession,
    personal_data: PersonalDataAccess,
    page: PageQuery,
    status: VisitStatus | None = None,
    partner_id: Annotated[str | None, Query(max_length=100)] = None,
) -> list[VisitRead]:
    visits = await service.list_visits(
        db_session=db_session, page=page, status=status, partner_id=partner_id
    )
    return [visit_view(visit, personal_data=personal_data) for visit in visits]


@router.get("/{visit_id}", response_model=VisitRead, response_model_exclude_unset=True)
async def get_visit(
    visit_id: str, db_session: DbSession, personal_data: PersonalDataAccess
) -> VisitRead:
    visit = await service.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"visit {visit_id} not found")
    return visit_view(visit, personal_data=personal_data)


def _step_endpoint(step: Step) -> Any:
    async def take_step(
        visit_id: str,
        db_session: DbSession,
        actor: StaffActor,
        doorbell: OutboxDoorbell,
        response: Response,
        data: StepRequest | None = None,
    ) -> Accepted:
        with domain_errors():
            event = await service.take_step(
                db_session=db_session,
                visit_id=visit_id,
                step=step,
                reason=data.reason if data else None,
                actor=actor,
            )
        return await accept(
            event,
            entity_id=visit_id,
            location=f"/visits/{visit_id}",
            db_session=db_session,
            doorbell=doorbell,
            response=response,
        )

    take_step.__doc__ = f"Move a visit to `{step.target}` (from {', '.join(sorted(step.source))})."
    return take_step


@router.post(
    "/{visit_id}/complete", status_code=status.HTTP_202_ACCEPTED, response_model=CompletionAccepted
)
async def complete_visit(
    visit_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: CompleteRequest | None = None,
) -> CompletionAccepted:
    """Complete a scheduled visit; a partner city's visit records its exchange with it."""
    with domain_errors():
        completed, exchange = await service.complete_visit(
            db_session=db_session, visit_id=visit_id, data=data or CompleteRequest(), actor=actor
        )
    accepted = await accept(
        completed,
        entity_id=visit_id,
        location=f"/visits/{visit_id}",
        db_session=db_session,
        doorbell=doorbell,
        response=response,
    )
    return CompletionAccepted(
        **accepted.model_dump(),
        exchange_id=exchange.aggregate_id if exchange else None,
        exchange_event_id=exchange.event_id if exchange else None,
    )


for _step in STEPS:
    if _step.command != "complete":
        router.add_api_route(
            f"/{{visit_id}}/{_step.command}",
            _step_endpoint(_step),
            methods=["POST"],
            status_code=status.HTTP_202_ACCEPTED,
            response_model=Accepted,
            name=f"{_step.command}_visit",
            summary=f"{_step.command.capitalize()} a visit",
        )


# --- itinerary --------------------------------------------------------------------------


def _item_location(visit_id: str, item_id: str) -> str:
    return f"/visits/{visit_id}/itinerary/{item_id}"


@router.post("/{visit_id}/itinerary", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def add_itinerary_item(
    visit_id: str,
    data: ItineraryItemCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    with domain_errors():
        event = await service.add_item(
            db_session=db_session, visit_id=visit_id, data=data, actor=actor
        )
    assert isinstance(event.payload, ItineraryItemAdded)
    item_id = event.payload.item_id
    return await accept(
        event,
        entity_id=item_id,
        location=_item_location(visit_id, item_id),
        db_session=db_session,
        doorbell=doorbell,
        response=response,
    )


@router.get("/{visit_id}/itinerary", response_model=list[ItineraryItemRead])
async def list_itinerary(
    visit_id: str,
    db_session: DbSession,
    include_removed: Annotated[
        bool, Query(description="Also list removed items (calendars cancel them).")
    ] = False,
) -> list[ItineraryItemRead]:
    if await service.get_visit(db_session=db_session, visit_id=visit_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"visit {visit_id} not found")
    items = await service.list_items(
        db_session=db_session, visit_id=visit_id, include_removed=include_removed
    )
    zones = await service.display_zones(db_session=db_session, items=items)
    return [item_view(item, timezone=zones[item.id]) for item in items]


@router.get("/{visit_id}/itinerary/{item_id}", response_model=ItineraryItemRead)
async def get_itinerary_item(
    visit_id: str, item_id: str, db_session: DbSession
) -> ItineraryItemRead:
    item = await service.get_item(db_session=db_session, visit_id=visit_id, item_id=item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"itinerary item {item_id} not found")
    zones = await service.display_zones(db_session=db_session, items=[item])
    return item_view(item, timezone=zones[item.id])


@router.patch(
    "/{visit_id}/itinerary/{item_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def change_itinerary_item(
    visit_id: str,
    item_id: str,
    data: ItineraryItemUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    with domain_errors():
        event = await service.change_item(
            db_session=db_session, visit_id=visit_id, item_id=item_id, data=data, actor=actor
        )
    return await accept(
        event,
        entity_id=item_id,
        location=_item_location(visit_id, item_id),
        db_session=db_session,
        doorbell=doorbell,
        response=response,
    )


@router.delete(
    "/{visit_id}/itinerary/{item_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def remove_itinerary_item(
    visit_id: str,
    item_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: StepRequest | None = None,
) -> Accepted:
    """Remove an item; it stays listed with `include_removed`, so calendars can cancel it."""
    with domain_errors():
        event = await service.remove_item(
            db_session=db_session,
            visit_id=visit_id,
            item_id=item_id,
            reason=data.reason if data else None,
            actor=actor,
        )
    return await accept(
        event,
        entity_id=item_id,
        location=_item_location(visit_id, item_id),
        db_session=db_session,
        doorbell=doorbell,
        response=response,
    )
