"""Visits commands and queries for the API: commands check the current state and record
events in the outbox, queries read the read model.

Commands that depend on the state first settle the outbox (`outbox.settle`), so that they
see what earlier commands did and no other command on the same visit commits before they do.
A conflict check settles the whole schedule (`twinning.schedule.conflicts`): any visit, city
event or trip may book the same official, venue or interpreter, so two bookings never pass
their checks side by side.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm import service as crm
from twinning.db import Base, Page
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.schedule.conflicts import (
    Booking,
    TravelTimes,
    check_booking,
    place_key,
    settle_schedule,
)
from twinning.streams import outbox
from twinning.streams.events import (
    BookedKind,
    Event,
    ExchangeRecorded,
    ExchangeSource,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    NotifiableStep,
    VisitCompleted,
    VisitRequestAccepted,
    VisitTalkingPointsWritten,
)
from twinning.visits.lifecycle import (
    BOOKING,
    STEP_BY_COMMAND,
    Step,
    check_delegation_open,
    check_itinerary_open,
    check_step,
)
from twinning.visits.models import ItineraryItem, Official, Venue, Visit
from twinning.visits.schemas import (
    CompleteRequest,
    DelegationMembersRequest,
    ItineraryItemCreate,
    ItineraryItemUpdate,
    OfficialCreate,
    OfficialUpdate,
    OverrideRequest,
    VenueCreate,
    VenueUpdate,
    VisitCreate,
    VisitFilter,
)

Entity = TypeVar("Entity", bound=Base)


async def _existing(
    db_session: AsyncSession, model: type[Entity], entity_id: str, *, kind: str
) -> Entity:
    """The entity as the worker has it once its committed events are applied."""
    await outbox.settle(db_session, aggregate_ids=[entity_id])
    entity = await db_session.get(model, entity_id)
    if entity is None:
        raise NotFound(kind, entity_id)
    return entity


# --- officials and venues --------------------------------------------------------------


async def register_official(*, db_session: AsyncSession, data: OfficialCreate, actor: str) -> Event:
    return outbox.record(db_session, data, actor=actor)


async def update_official(
    *, db_session: AsyncSession, official_id: str, data: OfficialUpdate, actor: str
) -> Event:
    await _existing(db_session, Official, official_id, kind="official")
    return outbox.record(db_session, data, aggregate_id=official_id, actor=actor)


async def get_official(*, db_session: AsyncSession, official_id: str) -> Official | None:
    return await db_session.get(Official, official_id)


async def list_officials(*, db_session: AsyncSession, query: Page) -> Sequence[Official]:
    found = select(Official).order_by(Official.protocol_rank, Official.id)
    return (await db_session.scalars(query.of(found))).all()


async def register_venue(*, db_session: AsyncSession, data: VenueCreate, actor: str) -> Event:
    return outbox.record(db_session, data, actor=actor)


async def update_venue(
    *, db_session: AsyncSession, venue_id: str, data: VenueUpdate, actor: str
) -> Event:
    await _existing(db_session, Venue, venue_id, kind="venue")
    return outbox.record(db_session, data, aggregate_id=venue_id, actor=actor)


async def get_venue(*, db_session: AsyncSession, venue_id: str) -> Venue | None:
    return await db_session.get(Venue, venue_id)


async def list_venues(*, db_session: AsyncSession, query: Page) -> Sequence[Venue]:
    return (await db_session.scalars(query.of(select(Venue).order_by(Venue.id)))).all()


# --- visits and their lifecycle ---------------------------------------------------------


async def request_visit(*, db_session: AsyncSession, data: VisitCreate, actor: str) -> Event:
    partner_id = data.delegation.partner_id
    if partner_id is not None and not await crm.partner_exists(
        db_session=db_session, partner_id=partner_id
    ):
        raise InvalidField(
            ("delegation", "partner_id"), "unknown partner city %(id)s", id=partner_id
        )
    return outbox.record(db_session, data, actor=actor)


async def get_visit(*, db_session: AsyncSession, visit_id: str) -> Visit | None:
    return await db_session.get(Visit, visit_id)


async def list_visits(*, db_session: AsyncSession, query: VisitFilter) -> Sequence[Visit]:
    found = select(Visit).order_by(Visit.requested_from.desc(), Visit.id)
    if query.status is not None:
        found = found.where(Visit.status == query.status.value)
    if query.partner_id is not None:
        found = found.where(Visit.partner_id == query.partner_id)
    return (await db_session.scalars(query.of(found))).all()


async def take_step(
    *,
    db_session: AsyncSession,
    visit_id: str,
    step: Step,
    reason: str | None,
    actor: str,
    notify_contact: bool = False,
) -> Event:
    """Approve, decline, schedule or cancel a visit (completing records more: see below);
    approving, declining and scheduling may mail the delegation's contact about it."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    check_step(visit.id, visit.status, step)
    if not notify_contact:
        payload = step.event(reason=reason)
    elif not issubclass(step.event, NotifiableStep):
        raise InvalidField("notify_contact", "the contact is not mailed about this step")
    elif not (visit.contact or {}).get("email"):
        raise InvalidField("notify_contact", "the visit's contact has no email address")
    else:
        payload = step.event(reason=reason, notify_contact=True)
    return outbox.record(db_session, payload, aggregate_id=visit.id, actor=actor)


async def accept_request(*, db_session: AsyncSession, visit_id: str, actor: str) -> Event:
    """Accept a request sent through the public form as a real one (it is no longer flagged)."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    if not visit.flagged:
        state = "accepted" if visit.accepted_at else "recorded by staff"
        raise Conflict(
            "visit %(id)s needs no acceptance: it was %(state)s",
            current_state=state,
            id=visit.id,
            state=state,
        )
    return outbox.record(db_session, VisitRequestAccepted(), aggregate_id=visit.id, actor=actor)


async def write_talking_points(
    *, db_session: AsyncSession, visit_id: str, talking_points: str | None, actor: str
) -> Event:
    """Staff write the visit's talking points (internal: only the briefing book shows them)."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    written = VisitTalkingPointsWritten(talking_points=talking_points)
    return outbox.record(db_session, written, aggregate_id=visit.id, actor=actor)


async def list_delegation_members(
    *, db_session: AsyncSession, visit_id: str, data: DelegationMembersRequest, actor: str
) -> Event:
    """Staff list the delegation's members besides its head (the whole list, replacing the
    one before), until the visit is completed, declined or cancelled (409 after)."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    check_delegation_open(visit.id, visit.status)
    return outbox.record(db_session, data, aggregate_id=visit.id, actor=actor)


async def edit_delegation_members(
    *,
    db_session: AsyncSession,
    visit_id: str,
    edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    actor: str,
) -> Event:
    """Add or remove a member (the web app's forms): `edit` turns the list as it stands, once
    every earlier change is applied and while no other command changes it, into the new one."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    check_delegation_open(visit.id, visit.status)
    members = edit(list(visit.delegation_members or []))
    data = DelegationMembersRequest.model_validate({"members": members})
    return outbox.record(db_session, data, aggregate_id=visit.id, actor=actor)


async def complete_visit(
    *, db_session: AsyncSession, visit_id: str, data: CompleteRequest, actor: str
) -> tuple[Event, Event | None]:
    """Complete a visit and, when a partner city visited (or a foreign mission, with an
    exchange described), record its exchange in the same transaction; returns both events
    (the second is None without one)."""
    visit = await _existing(db_session, Visit, visit_id, kind="visit")
    check_step(visit.id, visit.status, STEP_BY_COMMAND["complete"])
    # A partner city's visit always records its exchange; a mission's when one is described.
    counts = visit.partner_id is not None or (visit.mission_id is not None and data.exchange)
    recorded = await _exchange_of(db_session, visit, data) if counts else None
    exchange_id = str(uuid.uuid4()) if recorded is not None else None
    completed = outbox.record(
        db_session,
        VisitCompleted(reason=data.reason, exchange_id=exchange_id),
        aggregate_id=visit.id,
        actor=actor,
    )
    exchange = None
    if recorded is not None:
        exchange = outbox.record(db_session, recorded, aggregate_id=exchange_id, actor=actor)
    return completed, exchange


async def _exchange_of(
    db_session: AsyncSession, visit: Visit, data: CompleteRequest
) -> ExchangeRecorded:
    facts = data.exchange
    if facts is None:
        raise InvalidField(
            "exchange",
            "a visit by a partner city records its exchange: give at least field and summary",
        )
    return ExchangeRecorded(
        partner_ids=[visit.partner_id] if visit.partner_id else [],
        mission_ids=[visit.mission_id] if visit.mission_id else [],
        date=facts.date or await _first_day(db_session, visit),
        field=facts.field,
        direction=facts.direction,
        summary=facts.summary,
        participants=visit.members if facts.participants is None else facts.participants,
        source=ExchangeSource(kind="visit", id=visit.id),
    )


async def _first_day(db_session: AsyncSession, visit: Visit) -> date:
    """The local day the itinerary starts, or the first requested day without one."""
    first = await db_session.scalar(
        _live_items()
        .where(ItineraryItem.visit_id == visit.id)
        .order_by(ItineraryItem.starts_at)
        .limit(1)
    )
    if first is None:
        return visit.requested_from
    zone = (await display_zones(db_session=db_session, items=[first]))[first.id]
    return first.starts_at.astimezone(ZoneInfo(zone)).date()


# --- itineraries ------------------------------------------------------------------------


def _live_items() -> Any:
    """Items that book their officials and venue: not removed, of a visit still booking."""
    return (
        select(ItineraryItem)
        .join(Visit, Visit.id == ItineraryItem.visit_id)
        .where(
            ItineraryItem.removed.is_(False),
            Visit.status.in_([status.value for status in BOOKING]),
        )
    )


async def _open_visit(db_session: AsyncSession, visit_id: str) -> Visit:
    visit = await db_session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    check_itinerary_open(visit.id, visit.status)
    return visit


async def _check_references(
    db_session: AsyncSession, venue_id: str | None, official_ids: Iterable[str]
) -> None:
    if venue_id is not None and await db_session.get(Venue, venue_id) is None:
        raise InvalidField("venue_id", "unknown venue %(id)s", id=venue_id)
    named = set(official_ids)
    known = set(await db_session.scalars(select(Official.id).where(Official.id.in_(named))))
    if named - known:
        unknown = sorted(named - known)
        raise InvalidField("official_ids", "unknown officials %(ids)s", ids=unknown)


async def _settle_bookings(db_session: AsyncSession, visit_id: str) -> None:
    """Settle the whole schedule (any visit, city event or trip may book the same official,
    venue or interpreter), and hold this visit's own lock too: its lifecycle steps, which
    settle only the visit, wait for this command."""
    await settle_schedule(db_session, [visit_id])


def _booking(after: dict[str, Any], item_id: str | None = None) -> Booking:
    place = after.get("place")
    if place is not None and not isinstance(place, dict):
        place = place.model_dump(mode="json")
    return Booking(
        starts_at=after["starts_at"],
        ends_at=after["ends_at"],
        venue_id=after["venue_id"],
        place=place_key(after["venue_id"], place),
        official_ids=after["official_ids"],
        interpreter_ids=after["interpreter_ids"],
        itself=(BookedKind.ITINERARY_ITEM, item_id) if item_id is not None else None,
    )


def _reason(override: OverrideRequest | None) -> str | None:
    return override.reason if override is not None else None


async def add_item(
    *,
    db_session: AsyncSession,
    visit_id: str,
    data: ItineraryItemCreate,
    actor: str,
    travel: TravelTimes | None = None,
) -> Event:
    await _settle_bookings(db_session, visit_id)
    visit = await _open_visit(db_session, visit_id)
    await _check_references(db_session, data.venue_id, data.official_ids)
    override = await check_booking(
        db_session=db_session,
        booking=_booking(data.model_dump()),
        override_reason=_reason(data.override),
        travel=travel,
    )
    added = ItineraryItemAdded(
        item_id=str(uuid.uuid4()), **data.model_dump(exclude={"override"}), override=override
    )
    return outbox.record(db_session, added, aggregate_id=visit.id, actor=actor)


BOOKED = frozenset({"starts_at", "ends_at", "venue_id", "place", "official_ids", "interpreter_ids"})


async def change_item(
    *,
    db_session: AsyncSession,
    visit_id: str,
    item_id: str,
    data: ItineraryItemUpdate,
    actor: str,
    travel: TravelTimes | None = None,
) -> Event:
    await _settle_bookings(db_session, visit_id)
    visit = await _open_visit(db_session, visit_id)
    item = await _live_item(db_session, visit, item_id)
    changes = data.model_dump(exclude_unset=True, exclude={"override"})
    # Naming one kind of place clears the other: moving outside is just `{"place": {...}}`.
    if changes.get("place") is not None:
        changes.setdefault("venue_id", None)
    if changes.get("venue_id") is not None:
        changes.setdefault("place", None)
    after = {
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "venue_id": item.venue_id,
        "place": item.place,
        "official_ids": item.official_ids,
        "interpreter_ids": item.interpreter_ids,
        **changes,
    }
    if after["ends_at"] <= after["starts_at"]:
        raise InvalidField("ends_at", "ends_at must be after starts_at")
    if after["venue_id"] is None and after["place"] is None:
        raise InvalidField("venue_id", "give venue_id (a city venue) or place (outside)")
    await _check_references(db_session, changes.get("venue_id"), changes.get("official_ids") or [])
    override = None
    if BOOKED & changes.keys():
        override = await check_booking(
            db_session=db_session,
            booking=_booking(after, item.id),
            override_reason=_reason(data.override),
            travel=travel,
        )
    changed = ItineraryItemChanged(item_id=item.id, **changes, override=override)
    return outbox.record(db_session, changed, aggregate_id=visit.id, actor=actor)


async def remove_item(
    *, db_session: AsyncSession, visit_id: str, item_id: str, reason: str | None, actor: str
) -> Event:
    await outbox.settle(db_session, aggregate_ids=[visit_id])
    visit = await _open_visit(db_session, visit_id)
    item = await _live_item(db_session, visit, item_id)
    removed = ItineraryItemRemoved(item_id=item.id, reason=reason)
    return outbox.record(db_session, removed, aggregate_id=visit.id, actor=actor)


async def _live_item(db_session: AsyncSession, visit: Visit, item_id: str) -> ItineraryItem:
    item = await get_item(db_session=db_session, visit_id=visit.id, item_id=item_id)
    if item is None:
        raise NotFound("itinerary item", item_id)
    if item.removed:
        raise Conflict(
            "itinerary item %(id)s was removed: it cannot change",
            current_state="removed",
            id=item_id,
        )
    return item


async def get_item(
    *, db_session: AsyncSession, visit_id: str, item_id: str
) -> ItineraryItem | None:
    item = await db_session.get(ItineraryItem, item_id)
    return item if item is not None and item.visit_id == visit_id else None


async def list_items(
    *, db_session: AsyncSession, visit_id: str, include_removed: bool = False
) -> Sequence[ItineraryItem]:
    query = (
        select(ItineraryItem)
        .where(ItineraryItem.visit_id == visit_id)
        .order_by(ItineraryItem.starts_at, ItineraryItem.id)
    )
    if not include_removed:
        query = query.where(ItineraryItem.removed.is_(False))
    return (await db_session.scalars(query)).all()


async def display_zones(
    *, db_session: AsyncSession, items: Sequence[ItineraryItem]
) -> dict[str, str]:
    """Item id -> the zone its times are shown in: its venue's, or its outside place's."""
    venue_ids = {item.venue_id for item in items if item.venue_id is not None}
    rows = await db_session.execute(select(Venue.id, Venue.timezone).where(Venue.id.in_(venue_ids)))
    venue_zones: dict[str, str] = {venue_id: zone for venue_id, zone in rows}
    return {
        item.id: (item.place or {}).get("timezone") or venue_zones.get(item.venue_id or "", "UTC")
        for item in items
    }
