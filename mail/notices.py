"""Notices to officials: when an itinerary item, a city event or a trip leg an official attends
changes (its time or place, who attends) or is cancelled within `TWINNING_NOTICE_WINDOW_HOURS` (48) of
its start, each official concerned who has an email address is mailed a notice, in their
language, with the new time on the venue's clock. Exactly once per change and official (the
outbox's key: the change's event, the official, the kind).

It is a projector, placed before the domains' projectors: the change is judged against what
the official knew, the item as it was *before* the event is applied, which only the projection's
own transaction sees in order (the worker's mail notifier runs after the batch is applied). It
writes nothing but the mail outbox, whose key makes a replay (`twinning rebuild`) queue
nothing again; the mailer renders the notice from the item as it is when it sends (a cancelled
trip leg: from the leg as it was, kept on the message, since a leg dropped from its trip is
gone by then), and drops it once the item has begun. Each booking an event touches is told
on its own (the outbox's key includes what the notice is about).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.i18n import DEFAULT_LOCALE, force_locale, format_date, format_interval, localized
from twinning.i18n import resolve as resolve_locale
from twinning.invitations.models import CityEvent
from twinning.mail import service
from twinning.streams.events import (
    CityEventCancelled,
    CityEventUpdated,
    Event,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    TripCancelled,
    TripUpdated,
    VisitCancelled,
)
from twinning.streams.projection import Projector, current
from twinning.trips.models import Trip, TripLeg
from twinning.visits.models import ItineraryItem, Official, Venue

projector = Projector("notices")

#: The kinds of notice, by what happened to the official's booking.
CHANGED, CANCELLED, ADDED = "notice-changed", "notice-cancelled", "notice-added"
KINDS = frozenset({CHANGED, CANCELLED, ADDED})
#: What a notice is about (its `about_id`): `item:<id>`, `city-event:<id>`, or
#: `trip-leg:<trip id>/<position>`.
ITEM, CITY_EVENT, TRIP_LEG = "item", "city-event", "trip-leg"


@cache
def window() -> timedelta:
    """How close to its start a change is told (a worker's setting, read once)."""
    return timedelta(hours=Settings().notice_window_hours)


@dataclass(frozen=True)
class Booked:
    """What officials know of a booking: when, where, and who attends."""

    starts_at: datetime
    ends_at: datetime
    place: object
    official_ids: frozenset[str]


def recipient_id(official_id: str) -> str:
    return f"official:{official_id}"


def _close(event: Event, *bookings: Booked | None) -> bool:
    """Whether the change falls within the window before the booking's start (the earlier of
    its start before and after), and the booking is not over."""
    known = [b for b in bookings if b is not None]
    start = min(b.starts_at for b in known)
    end = max(b.ends_at for b in known)
    return start - window() <= event.occurred_at < end


async def _tell(
    session: AsyncSession,
    event: Event,
    about: str,
    before: Booked,
    after: Booked | None,
    facts: dict[str, Any] | None = None,
) -> None:
    if not _close(event, before, after):
        return
    moved = after is not None and (
        (before.starts_at, before.ends_at, before.place)
        != (after.starts_at, after.ends_at, after.place)
    )
    kinds: dict[str, str] = {}
    for official_id in before.official_ids:
        if after is None or official_id not in after.official_ids:
            kinds[official_id] = CANCELLED
        elif moved:
            kinds[official_id] = CHANGED
    for official_id in (after.official_ids - before.official_ids) if after else ():
        kinds[official_id] = ADDED
    for official_id, kind in sorted(kinds.items()):
        official = await current(session, Official, official_id)
        if official is None or not official.email:
            continue
        await service.queue_to(
            db_session=session,
            kind=kind,
            cause_event_id=event.event_id,
            about_id=about,
            recipient_id=recipient_id(official_id),
            to_address=official.email,
            language=(resolve_locale(official.language) if official.language else None)
            or DEFAULT_LOCALE,
            now=event.occurred_at,
            facts=facts,
            key=service.idempotency_key(event.event_id, recipient_id(official_id), kind, about),
        )


def _item_booking(item: ItineraryItem) -> Booked:
    return Booked(
        item.starts_at,
        item.ends_at,
        (item.venue_id, str(item.place)),
        frozenset(item.official_ids),
    )


def _event_booking(city_event: CityEvent) -> Booked:
    return Booked(
        city_event.starts_at,
        city_event.ends_at,
        (city_event.venue_id, city_event.venue_place),
        frozenset(city_event.official_ids),
    )


@projector.on(ItineraryItemChanged)
async def item_changed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, ItineraryItemChanged)
    item = await current(session, ItineraryItem, event.payload.item_id)
    if item is None or item.removed:
        return  # the domain's projector parks or refuses it
    changes = event.payload.model_dump(exclude_unset=True)
    before = _item_booking(item)
    moved = "venue_id" in changes or "place" in changes
    after = Booked(
        changes.get("starts_at", item.starts_at),
        changes.get("ends_at", item.ends_at),
        (changes.get("venue_id"), str(changes.get("place"))) if moved else before.place,
        frozenset(changes.get("official_ids", item.official_ids)),
    )
    await _tell(session, event, f"{ITEM}:{item.id}", before, after)


@projector.on(ItineraryItemRemoved)
async def item_removed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, ItineraryItemRemoved)
    item = await current(session, ItineraryItem, event.payload.item_id)
    if item is not None and not item.removed:
        await _tell(session, event, f"{ITEM}:{item.id}", _item_booking(item), None)


@projector.on(VisitCancelled)
async def visit_cancelled(session: AsyncSession, event: Event) -> None:
    items = await session.scalars(
        select(ItineraryItem).where(
            ItineraryItem.visit_id == event.aggregate_id, ItineraryItem.removed.is_(False)
        )
    )
    for item in items.all():
        await _tell(session, event, f"{ITEM}:{item.id}", _item_booking(item), None)


@projector.on(CityEventUpdated)
async def city_event_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventUpdated)
    city_event = await current(session, CityEvent, event.aggregate_id)
    if city_event is None or city_event.status != "scheduled":
        return
    changes = event.payload.model_dump(exclude_unset=True)
    before = _event_booking(city_event)
    venue = changes.get("venue") or {}
    after = Booked(
        changes.get("starts_at", city_event.starts_at),
        changes.get("ends_at", city_event.ends_at),
        (venue.get("venue_id"), venue.get("place")) if "venue" in changes else before.place,
        frozenset(changes.get("official_ids", city_event.official_ids)),
    )
    await _tell(session, event, f"{CITY_EVENT}:{city_event.id}", before, after)


@projector.on(CityEventCancelled)
async def city_event_cancelled(session: AsyncSession, event: Event) -> None:
    city_event = await current(session, CityEvent, event.aggregate_id)
    if city_event is not None and city_event.status == "scheduled":
        booked = _event_booking(city_event)
        await _tell(session, event, f"{CITY_EVENT}:{city_event.id}", booked, None)


def _trip_officials(officials: list[dict[str, object]]) -> frozenset[str]:
    return frozenset(str(o["official_id"]) for o in officials if o.get("official_id"))


def _leg_booking(leg: TripLeg, official_ids: frozenset[str]) -> Booked:
    return Booked(leg.starts_at, leg.ends_at, _where(leg.country, leg.city), official_ids)


def _leg_facts(trip: Trip, leg: TripLeg) -> dict[str, Any]:
    """The leg as the notice tells it, kept on the message: a leg dropped from its trip is gone
    from `trip_legs` by the time the mailer renders the notice."""
    return {
        "trip_title": dict(trip.title),
        "city": dict(leg.city),
        "timezone": leg.timezone,
        "starts_at": leg.starts_at.isoformat(),
        "ends_at": leg.ends_at.isoformat(),
    }


def _where(country: str, city: dict[str, str]) -> object:
    return (country, tuple(sorted(city.items())))


async def _legs(session: AsyncSession, trip: Trip) -> list[TripLeg]:
    found = select(TripLeg).where(TripLeg.trip_id == trip.id).order_by(TripLeg.position)
    return list((await session.scalars(found)).all())


@projector.on(TripUpdated)
async def trip_updated(session: AsyncSession, event: Event) -> None:
    """Each leg, by its place in the list: one kept whose time or city changed, or whose
    officials changed, is told as changed (or added, or cancelled for an official taken off);
    one dropped from the end of the list is told as cancelled, from the leg as it was."""
    assert isinstance(event.payload, TripUpdated)
    trip = await current(session, Trip, event.aggregate_id)
    if trip is None or trip.status != "planned":
        return
    changes = event.payload.model_dump(exclude_unset=True)
    if not {"legs", "officials"} & changes.keys():
        return
    before_officials = _trip_officials(trip.officials)
    after_officials = (
        _trip_officials(changes["officials"]) if "officials" in changes else before_officials
    )
    new_legs = changes.get("legs")
    for leg in await _legs(session, trip):
        after = None
        if new_legs is None:
            after = _leg_booking(leg, after_officials)
        elif leg.position < len(new_legs):
            new = new_legs[leg.position]
            where = _where(new["country"], new["city"])
            after = Booked(new["start"], new["end"], where, after_officials)
        before = _leg_booking(leg, before_officials)
        about = f"{TRIP_LEG}:{trip.id}/{leg.position}"
        await _tell(session, event, about, before, after, _leg_facts(trip, leg))


@projector.on(TripCancelled)
async def trip_cancelled(session: AsyncSession, event: Event) -> None:
    trip = await current(session, Trip, event.aggregate_id)
    if trip is None or trip.status != "planned":
        return
    officials = _trip_officials(trip.officials)
    for leg in await _legs(session, trip):
        booked = _leg_booking(leg, officials)
        about = f"{TRIP_LEG}:{trip.id}/{leg.position}"
        await _tell(session, event, about, booked, None, _leg_facts(trip, leg))


# --- the notice as the mailer sends it --------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    subject: str
    text: str
    html: str


async def compose(
    db_session: AsyncSession,
    *,
    kind: str,
    about_id: str,
    official_id: str,
    language: str,
    settings: Settings,
    now: datetime,
    facts: dict[str, Any] | None = None,
) -> Notice | None:
    """The notice of `kind` about an item, a city event or a trip leg as it is now (a dropped
    leg: as it was, from the message's `facts`), in `language`; None when it has begun (or is
    gone): a notice after the start helps nobody."""
    from twinning.mail.render import templates  # one template environment for all mail

    what, _, record_id = about_id.partition(":")
    official = await db_session.get(Official, official_id)
    if official is None:
        return None
    if what == ITEM:
        item = await db_session.get(ItineraryItem, record_id)
        if item is None:
            return None
        venue = await db_session.get(Venue, item.venue_id) if item.venue_id else None
        place = item.place or {}
        zone = str(place.get("timezone") or (venue.timezone if venue else "UTC"))
        titles, starts_at, ends_at = item.titles, item.starts_at, item.ends_at
        place_names = venue.names if venue else dict(place.get("names") or {})
        place_text = None
    elif what == TRIP_LEG:
        trip_id, _, position = record_id.rpartition("/")
        trip = await db_session.get(Trip, trip_id)
        leg = (
            await db_session.get(TripLeg, (trip_id, int(position))) if position.isdigit() else None
        )
        if leg is not None and trip is not None and kind != CANCELLED:
            trip_title, city, zone = trip.title, leg.city, leg.timezone
            starts_at, ends_at = leg.starts_at, leg.ends_at
        elif facts is not None:  # told as it was (a dropped leg is no longer there)
            trip_title, city, zone = facts["trip_title"], facts["city"], facts["timezone"]
            starts_at = datetime.fromisoformat(facts["starts_at"])
            ends_at = datetime.fromisoformat(facts["ends_at"])
        else:
            return None
        with force_locale(language):
            titles = {language: f"{localized(trip_title) or ''}: {localized(city) or ''}"}
        place_names, place_text = city, None
    else:
        city_event = await db_session.get(CityEvent, record_id)
        if city_event is None:
            return None
        venue = await db_session.get(Venue, city_event.venue_id) if city_event.venue_id else None
        zone, titles = city_event.timezone, city_event.title
        starts_at, ends_at = city_event.starts_at, city_event.ends_at
        place_names = venue.names if venue else {}
        place_text = city_event.venue_place
    if now >= starts_at:
        return None
    with force_locale(language):
        start, end = starts_at.astimezone(ZoneInfo(zone)), ends_at.astimezone(ZoneInfo(zone))
        when = (
            f"{format_date(start.date(), format='full')} "
            f"{format_interval(start, end, zone=zone, skeleton='Hm')} ({zone})"
        )
        facts = {
            "kind": kind,
            "name": localized(official.names) or "",
            "title": localized(titles) or "",
            "when": when,
            "place": localized(place_names) or place_text or "",
            "office": localized(settings.office_name) or "",
            "language": language,
        }
        subject = templates.get_template("notice.subject.txt").render(**facts).strip()
        text = templates.get_template("notice.txt").render(**facts)
        html = templates.get_template("notice.html").render(subject=subject, **facts)
    return Notice(subject, text, html)
