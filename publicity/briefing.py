"""What a visit's briefing book and its delegation programme show, in one locale.

Two documents per visit that the office has approved, rendered and versioned by the publicity
refresher like the leaflet and the brochures (document keys `briefing:<visit id>` and
`programme:<visit id>`):

- the **briefing book**, for the officials who receive the delegation: the partner's profile,
  the history of exchanges and visits both ways, the delegation, the programme in local time
  with venues and attendees, interpreters, gifts, talking points, dietary and accessibility
  notes and the delegation's contact. Internal: served to staff only, never by a public route
  or a feed. Rendered in the office's default locale (zh-TW) and in the language of each
  attending official's calendar feed link;
- the **delegation's programme**, for the delegation, in its own languages (the ones its
  request names that the office has a catalog for, else English): public-safe, gathered from
  public facts only (no talking points, no notes, no gifts, no interpreter's name, no personal
  data but the delegation's own contact).

As in `twinning.publicity.content`, the result is plain frozen data already in the reader's
language, so that its hash says whether the document would look different. Nothing here reads
the current date: a version changes only when what the visit, its partner or its itinerary
shows changes.

Interpreters and gifts come from the itinerary items' own fields (`interpreter`,
`gift_exchange`). REGISTERS: when the interpreters and gifts registers land, `_interpreters`
and `_gifts` are the two places to read them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.calendar.models import FeedLink
from twinning.config import Settings
from twinning.crm.models import Exchange, ExchangePartner, ForeignMission, PartnerCity
from twinning.crm.stats import ANNIVERSARY_EVERY_YEARS, anniversary, next_anniversary
from twinning.i18n import (
    babel_locale,
    country_name,
    force_locale,
    format_date,
    format_interval,
    format_number,
    get_locale,
    gettext,
    language_name,
    ngettext,
    resolve,
)
from twinning.i18n.labels import agreement_anniversary, label
from twinning.i18n.locales import BRIDGE_LOCALE, DEFAULT_LOCALE
from twinning.publicity.content import OfficeContact, Shown, office_contact, shown
from twinning.publicity.models import PublicityVersion
from twinning.streams.events import ExchangeDirection, ExchangeField, PartnerKind
from twinning.trips.models import Trip, TripLeg
from twinning.trips.schemas import TripStatus
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.models import ItineraryAttendance, ItineraryItem, Official, Venue, Visit
from twinning.visits.precedence import by_precedence, form_of_address
from twinning.visits.service import display_zones

BRIEFING_PREFIX = "briefing:"
PROGRAMME_PREFIX = "programme:"
#: The visits whose briefing documents are kept current: the office said yes to them, and they
#: have not taken place yet. Once completed (or cancelled) a visit keeps the versions it had.
BRIEFED = frozenset({VisitStatus.APPROVED, VisitStatus.SCHEDULED})
HISTORY_LINES = 12


def briefing_book(visit_id: str) -> str:
    """The document key of a visit's briefing book."""
    return f"{BRIEFING_PREFIX}{visit_id}"


def delegation_programme(visit_id: str) -> str:
    """The document key of a visit's programme for the delegation."""
    return f"{PROGRAMME_PREFIX}{visit_id}"


def documents_of(visit_id: str) -> tuple[str, str]:
    return briefing_book(visit_id), delegation_programme(visit_id)


def visit_of(document: str) -> tuple[str, str] | None:
    """(`briefing` or `programme`, the visit id) of a briefing document key, else None."""
    for prefix in (BRIEFING_PREFIX, PROGRAMME_PREFIX):
        if document.startswith(prefix):
            return prefix.rstrip(":"), document.removeprefix(prefix)
    return None


# --- the content ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A labelled line of a fact sheet."""

    label: str
    value: Shown


@dataclass(frozen=True)
class PartnerProfile:
    name: Shown
    facts: tuple[Fact, ...]
    anniversaries: tuple[str, ...]
    #: An anniversary that falls in the year of the visit: worth a word in a speech.
    milestone: str | None


@dataclass(frozen=True)
class HistoryLine:
    date: str
    kind: str
    what: Shown


@dataclass(frozen=True)
class Person:
    name: Shown
    title: Shown | None
    #: Protocol rank as the record gives it (1 comes first), formatted.
    rank: str | None
    #: How the person is addressed in the document's language (`visits/precedence.py`).
    address: Shown | None = None


@dataclass(frozen=True)
class Member:
    """A member of the delegation besides its head, with their own notes (internal)."""

    person: Person
    dietary_notes: Shown | None
    accessibility_notes: Shown | None


@dataclass(frozen=True)
class ProgrammeItem:
    time: str
    zone: str
    title: Shown
    where: Shown | None
    address: Shown | None
    officials: tuple[Person, ...]
    #: The interpreter's name, or that one is needed (book), or that there is one (programme).
    interpreter: str | None
    press: bool
    gift: Shown | None
    notes: Shown | None
    talking_points: Shown | None


@dataclass(frozen=True)
class ProgrammeDay:
    day: str
    items: tuple[ProgrammeItem, ...]


@dataclass(frozen=True)
class GiftLine:
    when: str
    what: Shown


@dataclass(frozen=True)
class DelegationContact:
    name: Shown
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class BriefingBook:
    locale: str
    visit_id: str
    office: OfficeContact
    title: Shown
    dates: str
    status: str
    purpose: Shown
    partner: PartnerProfile | None
    history: tuple[HistoryLine, ...]
    head: Person
    members: str
    #: The members besides the head, in order of precedence.
    delegation: tuple[Member, ...]
    languages: str | None
    programme: tuple[ProgrammeDay, ...]
    interpreters: tuple[str, ...]
    interpreter_needed: bool
    gifts: tuple[GiftLine, ...]
    earlier_gifts: tuple[GiftLine, ...]
    talking_points: Shown | None
    dietary_notes: Shown | None
    accessibility_notes: Shown | None
    contact: DelegationContact | None


@dataclass(frozen=True)
class DelegationProgramme:
    locale: str
    visit_id: str
    office: OfficeContact
    title: Shown
    dates: str
    purpose: Shown
    head: Person
    programme: tuple[ProgrammeDay, ...]
    contact: DelegationContact | None


Briefing = BriefingBook | DelegationProgramme


# --- which languages -------------------------------------------------------------------------


def _supported(tags: Iterable[str]) -> list[str]:
    found = [resolve(tag) for tag in tags]
    return [tag for tag in dict.fromkeys(found) if tag is not None]


async def book_locales(session: AsyncSession, visit_id: str) -> tuple[str, ...]:
    """The office's default locale, and the language of the calendar feed link of each
    official the itinerary books (the language that official reads the city's papers in)."""
    attending = {
        f"official:{official_id}"
        for item in await _live_items(session, visit_id)
        for official_id in item.official_ids
    }
    languages: Iterable[str] = (
        await session.scalars(
            select(FeedLink.language)
            .where(FeedLink.audience.in_(attending), FeedLink.revoked_at.is_(None))
            .order_by(FeedLink.language)
        )
        if attending
        else []
    )
    return tuple(_supported([DEFAULT_LOCALE, *languages]))


def programme_locales(visit: Visit) -> tuple[str, ...]:
    """The delegation's languages that the office has a catalog for, else English."""
    return tuple(_supported(visit.languages)) or (BRIDGE_LOCALE,)


# --- small pieces ----------------------------------------------------------------------------


def _text(value: str | None) -> Shown | None:
    """A text staff typed: in whatever language they wrote it."""
    return Shown(value) if value else None


def _person(
    names: Mapping[str, str],
    title: Mapping[str, str] | None,
    rank: int | None,
    address: str | None = None,
) -> Person:
    return Person(
        name=shown(names) or Shown(""),
        title=shown(title) if title else None,
        rank=format_number(rank) if rank is not None else None,
        address=Shown(address, get_locale()) if address else None,
    )


def _delegation_contact(visit: Visit) -> DelegationContact | None:
    contact = visit.contact or {}
    if not contact.get("name"):
        return None
    return DelegationContact(
        name=Shown(contact["name"]), email=contact.get("email"), phone=contact.get("phone")
    )


def _visit_dates(visit: Visit, items: Sequence[ItineraryItem], zones: Mapping[str, str]) -> str:
    """The days of the programme (local), else the days the delegation asked for."""
    if items:
        days = [item.starts_at.astimezone(ZoneInfo(zones[item.id])).date() for item in items]
        first, last = min(days), max(days)
    else:
        first, last = visit.requested_from, visit.requested_to
    if first == last:
        return format_date(first, format="full")
    return format_interval(first, last)


def _visit_day(visit: Visit, items: Sequence[ItineraryItem]) -> date:
    return min((item.starts_at.date() for item in items), default=visit.requested_from)


async def _title(session: AsyncSession, visit: Visit) -> Shown:
    """The name a visit goes by: its partner city's, its mission's, the organisation's."""
    if visit.partner_id is not None:
        partner = await session.get(PartnerCity, visit.partner_id)
        if partner is not None:
            return shown(partner.names) or Shown(partner.id)
    if visit.mission_id is not None:
        mission = await session.get(ForeignMission, visit.mission_id)
        if mission is not None:
            return shown(mission.names) or Shown(mission.id)
    return shown(visit.organisation) or shown(visit.head_of_delegation.get("names")) or Shown("")


async def _programme(
    session: AsyncSession,
    items: Sequence[ItineraryItem],
    zones: Mapping[str, str],
    *,
    internal: bool,
    titles: Mapping[str, int],
) -> tuple[ProgrammeDay, ...]:
    """The itinerary by local day, each item on its own wall clock, officials in precedence
    order. Only the internal book carries the interpreter's name, gifts, notes and talking
    points."""
    venue_ids = {item.venue_id for item in items if item.venue_id}
    venues = {v.id: v for v in await session.scalars(select(Venue).where(Venue.id.in_(venue_ids)))}
    official_ids = {a.official_id for item in items for a in item.attendance}
    officials = {
        o.id: o
        for o in await session.scalars(select(Official).where(Official.id.in_(official_ids)))
    }
    days: dict[date, list[ProgrammeItem]] = {}
    for item in items:
        zone = zones[item.id]
        local_start = item.starts_at.astimezone(ZoneInfo(zone))
        venue = venues.get(item.venue_id or "")
        place = item.place or {}
        attending = by_precedence(
            (officials[i] for i in item.official_ids if i in officials), get_locale(), titles
        )
        interpreter: str | None = None
        if isinstance(item.interpreter, str) and item.interpreter:
            interpreter = item.interpreter if internal else gettext("Interpretation provided")
        elif item.interpreter:
            interpreter = (
                gettext("Needed, not named yet") if internal else gettext("Interpretation provided")
            )
        days.setdefault(local_start.date(), []).append(
            ProgrammeItem(
                time=format_interval(item.starts_at, item.ends_at, zone=zone, skeleton="Hm"),
                zone=get_timezone_location(ZoneInfo(zone), locale=babel_locale(get_locale())),
                title=shown(item.titles) or Shown(""),
                where=shown(venue.names) if venue else shown(place.get("names")),
                address=shown(venue.address)
                if venue and venue.address
                else shown(place.get("address")),
                officials=tuple(_person(o.names, o.title, None) for o in attending),
                interpreter=interpreter,
                press=item.press,
                gift=_text(item.gift_exchange) if internal else None,
                notes=_text(item.notes_shared) if internal else None,
                talking_points=_text(item.talking_points) if internal else None,
            )
        )
    return tuple(
        ProgrammeDay(format_date(day, format="full"), tuple(lines))
        for day, lines in sorted(days.items())
    )


def _profile(partner: PartnerCity, visit_day: date) -> PartnerProfile:
    name = shown(partner.names) or Shown(partner.id)
    facts = [
        Fact(gettext("Country"), Shown(country_name(partner.country))),
        Fact(gettext("Relationship"), Shown(label(PartnerKind(partner.kind)))),
    ]
    if partner.agreement_date is not None:
        facts.append(
            Fact(
                gettext("Agreement signed on"),
                Shown(format_date(partner.agreement_date, format="long")),
            )
        )
    if partner.agreement_scope:
        facts.append(Fact(gettext("What the agreement covers"), Shown(partner.agreement_scope)))
    if partner.website:
        facts.append(Fact(gettext("Website"), Shown(partner.website)))
    past: list[str] = []
    milestone = None
    if partner.agreement_date is not None:
        years = ANNIVERSARY_EVERY_YEARS
        while (reached := anniversary(partner.agreement_date, years)).date <= visit_day:
            past.append(
                gettext(
                    "%(anniversary)s (%(date)s)",
                    anniversary=agreement_anniversary(years, name.text),
                    date=format_date(reached.date, format="long"),
                )
            )
            years += ANNIVERSARY_EVERY_YEARS
        # The anniversary that falls in the year of the visit, reached or coming.
        reached_last = anniversary(partner.agreement_date, years - ANNIVERSARY_EVERY_YEARS)
        coming = next_anniversary(partner.agreement_date, visit_day)
        this_year = [
            a
            for a in (reached_last if past else None, coming)
            if a is not None and a.date.year == visit_day.year
        ]
        if this_year:
            milestone = gettext(
                "%(anniversary)s (%(date)s)",
                anniversary=agreement_anniversary(this_year[0].years, name.text),
                date=format_date(this_year[0].date, format="long"),
            )
    return PartnerProfile(
        name=name, facts=tuple(facts), anniversaries=tuple(past), milestone=milestone
    )


async def _history(
    session: AsyncSession, visit: Visit, partner: PartnerCity
) -> tuple[HistoryLine, ...]:
    """Exchanges with the partner, its earlier visits here and the mayor's trips there,
    newest first."""
    exchanges = await session.scalars(
        select(Exchange).where(
            Exchange.id.in_(
                select(ExchangePartner.exchange_id).where(ExchangePartner.partner_id == partner.id)
            )
        )
    )
    lines: list[tuple[date, HistoryLine]] = [
        (
            e.date,
            HistoryLine(
                format_date(e.date),
                gettext(
                    "%(field)s, %(direction)s",
                    field=label(ExchangeField(e.field)),
                    direction=label(ExchangeDirection(e.direction)),
                ),
                shown(e.summary) or Shown(""),
            ),
        )
        for e in exchanges
    ]
    visits = await session.scalars(
        select(Visit).where(
            Visit.partner_id == partner.id,
            Visit.status == VisitStatus.COMPLETED.value,
            Visit.id != visit.id,
            Visit.exchange_id.is_(None),  # a visit that recorded an exchange is listed by it
        )
    )
    lines += [
        (
            v.requested_from,
            HistoryLine(
                format_interval(v.requested_from, v.requested_to),
                gettext("Visit to us"),
                shown(v.purpose) or Shown(""),
            ),
        )
        for v in visits
    ]
    legs = await session.execute(
        select(TripLeg, Trip.title)
        .join(Trip, Trip.id == TripLeg.trip_id)
        .where(Trip.status == TripStatus.COMPLETED.value)
    )
    lines += [
        (
            leg.starts_at.date(),
            HistoryLine(
                format_interval(leg.starts_at, leg.ends_at, zone=leg.timezone),
                gettext("Our visit there"),
                shown(title) or Shown(""),
            ),
        )
        for leg, title in legs
        if partner.id in leg.partner_ids
    ]
    lines.sort(key=lambda pair: pair[0], reverse=True)
    return tuple(line for _, line in lines[:HISTORY_LINES])


def _interpreters(items: Sequence[ItineraryItem]) -> tuple[str, ...]:
    """REGISTERS: the interpreters register replaces this (names from the items for now)."""
    return tuple(
        dict.fromkeys(
            i.interpreter for i in items if isinstance(i.interpreter, str) and i.interpreter
        )
    )


async def _gifts(
    session: AsyncSession, visit: Visit, items: Sequence[ItineraryItem]
) -> tuple[tuple[GiftLine, ...], tuple[GiftLine, ...]]:
    """This visit's gifts, and those exchanged at this partner's earlier visits.
    REGISTERS: the gifts register replaces this (the items' `gift_exchange` for now)."""
    now = tuple(
        GiftLine(format_date(i.starts_at.date()), Shown(i.gift_exchange))
        for i in items
        if i.gift_exchange
    )
    if visit.partner_id is None:
        return now, ()
    earlier = await session.scalars(
        select(ItineraryItem)
        .join(Visit, Visit.id == ItineraryItem.visit_id)
        .where(
            Visit.partner_id == visit.partner_id,
            Visit.id != visit.id,
            Visit.status == VisitStatus.COMPLETED.value,
            ItineraryItem.removed.is_(False),
            ItineraryItem.gift_exchange.is_not(None),
        )
        .order_by(ItineraryItem.starts_at.desc(), ItineraryItem.id)
    )
    return now, tuple(
        GiftLine(format_date(i.starts_at.date()), Shown(i.gift_exchange or "")) for i in earlier
    )


def _members(visit: Visit, titles: Mapping[str, int]) -> tuple[Member, ...]:
    return tuple(
        Member(
            person=_person(
                member.get("names") or {},
                member.get("title"),
                member.get("protocol_rank"),
                form_of_address(member, get_locale()),
            ),
            dietary_notes=_text(member.get("dietary_notes")),
            accessibility_notes=_text(member.get("accessibility_notes")),
        )
        for member in by_precedence(visit.delegation_members or [], get_locale(), titles)
    )


def _head(visit: Visit) -> Person:
    head = visit.head_of_delegation
    return _person(
        head.get("names") or {},
        head.get("title"),
        head.get("protocol_rank"),
        form_of_address(head, get_locale()),
    )


async def _live_items(session: AsyncSession, visit_id: str) -> Sequence[ItineraryItem]:
    return (
        await session.scalars(
            select(ItineraryItem)
            .where(ItineraryItem.visit_id == visit_id, ItineraryItem.removed.is_(False))
            .order_by(ItineraryItem.starts_at, ItineraryItem.id)
        )
    ).all()


def _status(status: VisitStatus) -> str:
    if status == VisitStatus.APPROVED:
        return gettext("Approved, programme in preparation")
    return gettext("Scheduled: the programme is fixed")


# --- the two documents -------------------------------------------------------------------------


async def _briefed_visit(session: AsyncSession, visit_id: str) -> Visit | None:
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.status not in BRIEFED:
        return None
    return visit


async def book(
    session: AsyncSession, *, visit_id: str, locale: str, settings: Settings
) -> BriefingBook | None:
    """The officials' briefing book; None when the visit has none, or not in `locale`."""
    visit = await _briefed_visit(session, visit_id)
    if visit is None or locale not in await book_locales(session, visit_id):
        return None
    items = await _live_items(session, visit_id)
    zones = await display_zones(db_session=session, items=items)
    partner = await session.get(PartnerCity, visit.partner_id) if visit.partner_id else None
    with force_locale(locale):
        day = _visit_day(visit, items)
        gifts, earlier_gifts = await _gifts(session, visit, items)
        return BriefingBook(
            locale=locale,
            visit_id=visit.id,
            office=office_contact(settings),
            title=await _title(session, visit),
            dates=_visit_dates(visit, items, zones),
            status=_status(VisitStatus(visit.status)),
            purpose=shown(visit.purpose) or Shown(""),
            partner=_profile(partner, day) if partner else None,
            history=await _history(session, visit, partner) if partner else (),
            head=_head(visit),
            members=ngettext(
                "%(count)s delegate",
                "%(count)s delegates",
                visit.members,
                count=format_number(visit.members),
            ),
            delegation=_members(visit, settings.precedence_titles),
            languages=", ".join(language_name(tag) for tag in visit.languages) or None,
            programme=await _programme(
                session, items, zones, internal=True, titles=settings.precedence_titles
            ),
            interpreters=_interpreters(items),
            interpreter_needed=visit.interpreter_needed,
            gifts=gifts,
            earlier_gifts=earlier_gifts,
            talking_points=_text(visit.talking_points),
            dietary_notes=_text(visit.dietary_notes),
            accessibility_notes=_text(visit.accessibility_notes),
            contact=_delegation_contact(visit),
        )


async def programme(
    session: AsyncSession, *, visit_id: str, locale: str, settings: Settings
) -> DelegationProgramme | None:
    """The delegation's programme; None when the visit has none, or not in `locale`."""
    visit = await _briefed_visit(session, visit_id)
    if visit is None or locale not in programme_locales(visit):
        return None
    items = await _live_items(session, visit_id)
    zones = await display_zones(db_session=session, items=items)
    with force_locale(locale):
        return DelegationProgramme(
            locale=locale,
            visit_id=visit.id,
            office=office_contact(settings),
            title=await _title(session, visit),
            dates=_visit_dates(visit, items, zones),
            purpose=shown(visit.purpose) or Shown(""),
            head=_head(visit),
            programme=await _programme(
                session, items, zones, internal=False, titles=settings.precedence_titles
            ),
            contact=_delegation_contact(visit),
        )


async def gather(
    session: AsyncSession, *, document: str, locale: str, settings: Settings
) -> Briefing | None:
    """What a briefing document shows in `locale`; None when it is not one, or has none."""
    found = visit_of(document)
    if found is None:
        return None
    kind, visit_id = found
    gather_one = book if kind == "briefing" else programme
    return await gather_one(session, visit_id=visit_id, locale=locale, settings=settings)


async def expected_documents(session: AsyncSession) -> set[str]:
    """The briefing documents of every visit being prepared (for the refresher's first look)."""
    ids = await session.scalars(
        select(Visit.id).where(Visit.status.in_([s.value for s in BRIEFED]))
    )
    return {document for visit_id in ids for document in documents_of(visit_id)}


# --- which visits an event touches (for the publicity projector) ---------------------------


async def visits_preparing(
    session: AsyncSession,
    *,
    partner_ids: Iterable[str] = (),
    official_id: str | None = None,
    venue_id: str | None = None,
) -> list[str]:
    """The visits being prepared whose documents show these partners, this official or this
    venue."""
    preparing = Visit.status.in_([s.value for s in BRIEFED])
    found: set[str] = set()
    if partner_ids := list(partner_ids):
        found |= set(
            await session.scalars(
                select(Visit.id).where(Visit.partner_id.in_(partner_ids), preparing)
            )
        )
    booked = []
    if official_id is not None:
        booked.append(ItineraryItem.attendance.any(ItineraryAttendance.official_id == official_id))
    if venue_id is not None:
        booked.append(ItineraryItem.venue_id == venue_id)
    for condition in booked:
        found |= set(
            await session.scalars(
                select(ItineraryItem.visit_id)
                .join(Visit, Visit.id == ItineraryItem.visit_id)
                .where(condition, ItineraryItem.removed.is_(False), preparing)
            )
        )
    return sorted(found)


# --- the versions staff can download ---------------------------------------------------------


async def rendered_locales(session: AsyncSession, document: str) -> list[str]:
    """The locales `document` has a version in, the office's default first."""
    found = set(
        await session.scalars(
            select(PublicityVersion.locale).where(PublicityVersion.document == document).distinct()
        )
    )
    return sorted(found, key=lambda tag: (tag != DEFAULT_LOCALE, tag))
