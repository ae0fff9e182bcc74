"""The visits projector: keeps officials, venues, visits and itineraries from the events on
`twinning.visits`, whoever produced them.

An event that the lifecycle does not allow (completing a visit that was never scheduled,
changing the itinerary of a cancelled visit) raises, so that the worker dead-letters it
with the reason instead of corrupting the read model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import (
    Event,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    OfficialRegistered,
    OfficialUpdated,
    VenueRegistered,
    VenueUpdated,
    VisitCompleted,
    VisitDelegationMembersListed,
    VisitRequestAccepted,
    VisitRequested,
    VisitStep,
    VisitTalkingPointsWritten,
)
from twinning.streams.projection import Park, Projector, add, current, load_and_hold
from twinning.visits.lifecycle import (
    STEPS,
    Step,
    VisitStatus,
    check_delegation_open,
    check_itinerary_open,
    check_step,
)
from twinning.visits.models import (
    ItineraryAttendance,
    ItineraryInterpreter,
    ItineraryItem,
    Official,
    Venue,
    Visit,
    VisitStatusChange,
)


async def _prefetch(session: AsyncSession, events: Sequence[Event]) -> None:
    """Load a batch's aggregates (visits, officials, venues) and itinerary items in a query per
    kind it names, noting those not registered yet, instead of a query per event."""
    wanted: dict[type[Visit | Official | Venue | ItineraryItem], set[str]] = {}
    for event in events:
        model = (
            Official
            if event.type.startswith("Official")
            else Venue
            if event.type.startswith("Venue")
            else Visit
        )
        wanted.setdefault(model, set()).add(event.aggregate_id)
        if item_id := getattr(event.payload, "item_id", None):
            wanted.setdefault(ItineraryItem, set()).add(item_id)
    for held, ids in wanted.items():
        await load_and_hold(session, held, ids)


# Children first, so that `twinning rebuild` can empty them in this order.
projector = Projector(
    "visits",
    tables=[
        ItineraryInterpreter,
        ItineraryAttendance,
        ItineraryItem,
        VisitStatusChange,
        Visit,
        Official,
        Venue,
    ],
    prefetch=_prefetch,
)

#: Multilingual fields that an update merges by language instead of replacing.
MERGED = frozenset({"names", "title", "address", "titles"})


class UnknownItem(LookupError):
    """An itinerary change names an item that its visit does not have (or removed)."""


def _apply(target: Any, changes: dict[str, Any], event: Event) -> None:
    for key, value in changes.items():
        current = getattr(target, key, None)
        if key in MERGED and value is not None and current:
            value = {**current, **value}
        setattr(target, key, value)
    target.updated_at = max(target.updated_at, event.occurred_at)


async def _register(session: AsyncSession, model: type[Official | Venue], event: Event) -> None:
    entity = await current(session, model, event.aggregate_id)
    if entity is None:
        entity = add(
            session,
            model(
                id=event.aggregate_id,
                registered_at=event.occurred_at,
                updated_at=event.occurred_at,
                version=0,
            ),
        )
    for key, value in event.payload.model_dump().items():
        setattr(entity, key, value)
    entity.version += 1


async def _update(session: AsyncSession, model: type[Official | Venue], event: Event) -> None:
    entity = await current(session, model, event.aggregate_id)
    if entity is None:
        raise Park(event.aggregate_id, f"{model.__tablename__} {event.aggregate_id} is unknown")
    _apply(entity, event.payload.model_dump(exclude_unset=True), event)
    entity.version += 1


@projector.on(OfficialRegistered)
async def official_registered(session: AsyncSession, event: Event) -> None:
    await _register(session, Official, event)


@projector.on(OfficialUpdated)
async def official_updated(session: AsyncSession, event: Event) -> None:
    await _update(session, Official, event)


@projector.on(VenueRegistered)
async def venue_registered(session: AsyncSession, event: Event) -> None:
    await _register(session, Venue, event)


@projector.on(VenueUpdated)
async def venue_updated(session: AsyncSession, event: Event) -> None:
    await _update(session, Venue, event)


def _record_status(visit: Visit, status: VisitStatus, event: Event, reason: str | None) -> None:
    visit.status = status.value
    visit.updated_at = max(visit.updated_at, event.occurred_at)
    visit.version += 1
    visit.history.append(
        VisitStatusChange(
            event_id=event.event_id,
            position=visit.version,
            status=status.value,
            actor=event.envelope.actor,
            reason=reason,
            occurred_at=event.occurred_at,
        )
    )


@projector.on(VisitRequested)
async def visit_requested(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, VisitRequested)
    if await current(session, Visit, event.aggregate_id) is not None:
        raise ValueError(f"visit {event.aggregate_id} was already requested")
    facts = event.payload.model_dump()
    visit = Visit(
        id=event.aggregate_id,
        **facts.pop("delegation"),
        **facts,
        requested_at=event.occurred_at,
        updated_at=event.occurred_at,
        version=0,
        history=[],
    )
    add(session, visit)
    _record_status(visit, VisitStatus.REQUESTED, event, None)


async def _visit(session: AsyncSession, event: Event) -> Visit:
    visit = await current(session, Visit, event.aggregate_id)
    if visit is None:
        raise Park(event.aggregate_id, f"visit {event.aggregate_id} was not requested yet")
    return visit


def _stepper(step: Step) -> Any:
    async def take_step(session: AsyncSession, event: Event) -> None:
        assert isinstance(event.payload, VisitStep)
        visit = await _visit(session, event)
        check_step(visit.id, visit.status, step)
        if isinstance(event.payload, VisitCompleted):
            visit.exchange_id = event.payload.exchange_id
        _record_status(visit, step.target, event, event.payload.reason)

    return take_step


for _step in STEPS:
    projector.on(_step.event)(_stepper(_step))


@projector.on(VisitRequestAccepted)
async def visit_request_accepted(session: AsyncSession, event: Event) -> None:
    visit = await _visit(session, event)
    if visit.accepted_at is None:
        visit.accepted_at, visit.accepted_by = event.occurred_at, event.envelope.actor
        visit.updated_at = max(visit.updated_at, event.occurred_at)
        visit.version += 1


@projector.on(VisitTalkingPointsWritten)
async def talking_points_written(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, VisitTalkingPointsWritten)
    visit = await _visit(session, event)
    visit.talking_points = event.payload.talking_points
    visit.updated_at = max(visit.updated_at, event.occurred_at)
    visit.version += 1


@projector.on(VisitDelegationMembersListed)
async def delegation_members_listed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, VisitDelegationMembersListed)
    visit = await _visit(session, event)
    check_delegation_open(visit.id, visit.status)
    visit.delegation_members = [m.to_json() for m in event.payload.members] or None
    visit.updated_at = max(visit.updated_at, event.occurred_at)
    visit.version += 1


async def _open_visit(session: AsyncSession, event: Event) -> Visit:
    visit = await _visit(session, event)
    check_itinerary_open(visit.id, visit.status)
    return visit


async def _item(session: AsyncSession, visit: Visit, item_id: str) -> ItineraryItem:
    item = await current(session, ItineraryItem, item_id)
    if item is None or item.visit_id != visit.id or item.removed:
        raise UnknownItem(f"visit {visit.id} has no live itinerary item {item_id}")
    return item


def _attendance(official_ids: list[str]) -> list[ItineraryAttendance]:
    return [ItineraryAttendance(official_id=official_id) for official_id in official_ids]


def _interpreting(interpreter_ids: list[str]) -> list[ItineraryInterpreter]:
    return [ItineraryInterpreter(interpreter_id=i) for i in interpreter_ids]


def _override(item: ItineraryItem, payload: ItineraryItemAdded | ItineraryItemChanged) -> None:
    if payload.override is not None:
        item.overrides = [*item.overrides, payload.override.model_dump(mode="json")]


@projector.on(ItineraryItemAdded)
async def itinerary_item_added(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, ItineraryItemAdded)
    visit = await _open_visit(session, event)
    if await current(session, ItineraryItem, payload.item_id) is not None:
        raise ValueError(f"itinerary item {payload.item_id} already exists")
    item = ItineraryItem(
        id=payload.item_id,
        visit_id=visit.id,
        **payload.model_dump(exclude={"item_id", "override", "official_ids", "interpreter_ids"}),
        attendance=_attendance(payload.official_ids),
        interpreting=_interpreting(payload.interpreter_ids),
        overrides=[],
        removed=False,
        added_at=event.occurred_at,
        updated_at=event.occurred_at,
        sequence=0,
    )
    add(session, item)
    _override(item, payload)


@projector.on(ItineraryItemChanged)
async def itinerary_item_changed(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, ItineraryItemChanged)
    visit = await _open_visit(session, event)
    item = await _item(session, visit, payload.item_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"item_id", "override"})
    if "official_ids" in changes:
        item.attendance = _attendance(changes.pop("official_ids"))
    if "interpreter_ids" in changes:
        item.interpreting = _interpreting(changes.pop("interpreter_ids"))
    _apply(item, changes, event)
    _override(item, payload)
    item.sequence += 1


@projector.on(ItineraryItemRemoved)
async def itinerary_item_removed(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, ItineraryItemRemoved)
    visit = await _open_visit(session, event)
    item = await _item(session, visit, payload.item_id)
    item.removed = True
    item.removal_reason = payload.reason
    item.updated_at = max(item.updated_at, event.occurred_at)
    item.sequence += 1
