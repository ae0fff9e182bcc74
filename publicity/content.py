"""What a leaflet or a brochure shows, in one locale, gathered from the read models.

The result is plain frozen data, already in the reader's language (labels, CLDR names and
dates, multilingual texts through the fallback chain), so that its hash (`content_hash`) says
exactly whether the document would look different: the renderer skips the work when it would
not. Only public facts are read: contacts, visit contacts, dietary and accessibility notes
and the names of delegation members are never queried.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.core import get_global
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.crm.models import (
    Exchange,
    ExchangePartner,
    ForeignMission,
    PartnerCity,
    PartnerExchangeCount,
)
from twinning.crm.stats import next_anniversary
from twinning.i18n import _ as gettext
from twinning.i18n import (
    babel_locale,
    country_name,
    force_locale,
    format_date,
    format_interval,
    format_number,
    localized_entry,
    ngettext,
)
from twinning.i18n.labels import (
    agreement_anniversary,
    agreement_year,
    exchange_count,
    label,
    partner_city_count,
)
from twinning.i18n.locales import catalog_path
from twinning.invitations.models import CityEvent, CityEventStatus, Invitation, InvitationStatus
from twinning.plans.documents import ProgressReport
from twinning.publicity.models import CityProfile, Photo, PhotoImage
from twinning.streams.events import (
    CITY_PROFILE,
    ExchangeDirection,
    ExchangeField,
    InviteeKind,
    PartnerKind,
    PartnerStatus,
    PhotoSubjectKind,
)
from twinning.trips.models import Trip, TripLeg
from twinning.trips.schemas import TripStatus
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.models import Venue, Visit

if TYPE_CHECKING:
    from twinning.publicity.briefing import Briefing

TEMPLATES = Path(__file__).parent / "templates"
#: Bump when the code that turns content into a page changes what the page looks like.
RENDERER_VERSION = "2"

LATEST_EXCHANGES = 5
UPCOMING_EVENTS = 6
CHART_YEARS = 10
TIMELINE_PER_FIELD = 8
#: Visits shown each way in a brochure (the latest): the page holds no more.
INBOUND_OUTBOUND = 2
#: Upcoming events a partner is invited to, on its brochure (the soonest).
INVITED_EVENTS = 3
#: Photos a leaflet shows (our city's first, then the exchanges', then the partners'), and a
#: brochure (the partner's first, then its visits', then its exchanges').
LEAFLET_PHOTOS = 4
BROCHURE_PHOTOS = 3


@dataclass(frozen=True)
class Shown:
    """A text from the data (multilingual or typed by someone) and the language it is in:
    templates mark it up with that language and isolate it (`<bdi>`)."""

    text: str
    lang: str | None = None


@dataclass(frozen=True)
class OfficeContact:
    name: Shown
    address: Shown | None
    email: str
    phone: str


@dataclass(frozen=True)
class PartnerLine:
    name: Shown
    country: str
    kind: str
    agreement: str | None


@dataclass(frozen=True)
class Region:
    name: str
    partners: tuple[PartnerLine, ...]


@dataclass(frozen=True)
class ExchangeLine:
    date: str
    field: str
    direction: str
    partners: tuple[Shown, ...]
    summary: Shown


@dataclass(frozen=True)
class EventLine:
    title: Shown
    when: str
    where: Shown | None
    #: The partner cities and foreign missions hosting it with the city.
    co_hosts: tuple[Shown, ...] = ()


@dataclass(frozen=True)
class FieldSeries:
    key: str
    label: str
    counts: tuple[int, ...]  # one per year of the chart


@dataclass(frozen=True)
class Chart:
    years: tuple[int, ...]
    series: tuple[FieldSeries, ...]


@dataclass(frozen=True)
class MapPoint:
    name: Shown
    latitude: float
    longitude: float
    home: bool = False


@dataclass(frozen=True)
class Tally:
    """A labelled count (exchanges of a field, partners of a kind)."""

    label: str
    count: str


@dataclass(frozen=True)
class KeyFigureLine:
    label: Shown
    value: str


@dataclass(frozen=True)
class OurCity:
    """Our city as the office presents it (`twinning.publicity.profile`); its name when the
    office set one (`office_city`)."""

    name: Shown | None
    about: Shown | None
    figures: tuple[KeyFigureLine, ...]


@dataclass(frozen=True)
class PhotoLine:
    """A photo as a document embeds it: the smaller JPEG as a `data:` URL (a document is
    self-contained), its alt text and caption in the document's language."""

    src: str
    alt: Shown
    caption: Shown | None
    width: int
    height: int


@dataclass(frozen=True)
class Leaflet:
    locale: str
    office: OfficeContact
    partner_count: str
    exchange_count: str
    regions: tuple[Region, ...]
    chart: Chart | None
    map: tuple[MapPoint, ...]
    latest: tuple[ExchangeLine, ...]
    events: tuple[EventLine, ...]
    fields: tuple[Tally, ...] = ()
    kinds: tuple[Tally, ...] = ()
    #: The document's public page (its QR code on the back).
    page_url: str = ""
    city: OurCity | None = None
    photos: tuple[PhotoLine, ...] = ()


@dataclass(frozen=True)
class FieldTimeline:
    key: str
    label: str
    exchanges: tuple[ExchangeLine, ...]


@dataclass(frozen=True)
class VisitLine:
    when: str
    purpose: Shown
    led_by: Shown | None
    members: str


@dataclass(frozen=True)
class TripLine:
    when: str
    title: Shown
    place: Shown


@dataclass(frozen=True)
class Milestone:
    """A dated step of the relationship: the agreement, a visit either way, an exchange."""

    day: str  # ISO date, for ordering
    date: str
    kind: str  # agreement, inbound, outbound, exchange
    label: str
    text: Shown


@dataclass(frozen=True)
class Brochure:
    locale: str
    partner_id: str
    name: Shown
    country: str
    kind: str
    website: str | None
    agreement: str | None
    scope: Shown | None
    milestones: tuple[Milestone, ...]
    next_anniversary: str | None
    exchange_count: str
    chart: Chart | None
    timeline: tuple[FieldTimeline, ...]
    inbound: tuple[VisitLine, ...]
    outbound: tuple[TripLine, ...]
    office: OfficeContact
    region: Shown | None = None
    fields: tuple[str, ...] = ()
    #: The home city and the partner, for the map of the two (when both locations are known),
    #: or the partner alone (the map of its region, when only its location is known).
    map: tuple[MapPoint, ...] = ()
    distance: str | None = None
    #: The document's public page (its QR code by the office's contact).
    page_url: str = ""
    city: OurCity | None = None
    #: The upcoming city events the partner is invited to.
    invited: tuple[EventLine, ...] = ()
    #: The partner's inhabitants, written in the document's language.
    population: str | None = None
    photos: tuple[PhotoLine, ...] = ()


Document = Leaflet | Brochure


# --- the content hash ------------------------------------------------------------------------


@cache
def _templates_digest() -> str:
    digest = hashlib.sha256(RENDERER_VERSION.encode())
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _catalog_digest(locale: str) -> str:
    return hashlib.sha256(catalog_path(locale).read_bytes()).hexdigest()


def content_hash(document: Document | Briefing | ProgressReport) -> str:
    """SHA-256 of everything that decides how the document looks: its content, the templates
    and the locale's catalog. Equal hashes, equal documents: nothing to render."""
    shown = document.shown() if isinstance(document, ProgressReport) else asdict(document)
    body = json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)
    digest = hashlib.sha256(body.encode())
    digest.update(_templates_digest().encode())
    digest.update(_catalog_digest(document.locale).encode())
    return digest.hexdigest()


# --- small pieces ----------------------------------------------------------------------------


def shown(texts: Mapping[str, str] | None) -> Shown | None:
    """The text of multilingual `texts` a reader of the current locale sees, with its language."""
    entry = localized_entry(texts) if texts else None
    if entry is None:
        return None
    tag, text = entry
    return Shown(text, None if tag == "und" else tag)


def _name(partner: PartnerCity) -> Shown:
    return shown(partner.names) or Shown(partner.id)


def office_contact(settings: Settings) -> OfficeContact:
    return OfficeContact(
        name=shown(settings.office_name) or Shown(""),
        address=shown(settings.office_address),
        email=settings.office_email,
        phone=settings.office_phone,
    )


async def _our_city(session: AsyncSession, settings: Settings) -> OurCity | None:
    """Our city's profile in the current locale; None when the office has written none."""
    profile = await session.get(CityProfile, CITY_PROFILE)
    if profile is None:
        return None
    about = shown(profile.about)
    figures = tuple(
        KeyFigureLine(shown(figure["label"]) or Shown(""), figure["value"])
        for figure in profile.figures
    )
    if about is None and not figures:
        return None
    return OurCity(shown(settings.office_city), about, figures)


async def _photos(
    session: AsyncSession, subjects: Sequence[tuple[str, Sequence[str]]], limit: int
) -> tuple[PhotoLine, ...]:
    """Up to `limit` photos of the subjects (kind, ids), the first kinds first, each kind's in
    the order they were attached; in the current locale."""
    chosen: list[Photo] = []
    for kind, ids in subjects:
        if len(chosen) >= limit or not ids:
            continue
        chosen += (
            await session.scalars(
                select(Photo)
                .where(Photo.subject_kind == kind, Photo.subject_id.in_(list(ids)))
                .order_by(Photo.attached_at, Photo.id)
                .limit(limit - len(chosen))
            )
        ).all()
    if not chosen:
        return ()
    wanted = {photo.file["sha256"] for photo in chosen}
    rows = await session.execute(
        select(PhotoImage.sha256, PhotoImage.document_jpeg).where(PhotoImage.sha256.in_(wanted))
    )
    images = {sha256: jpeg for sha256, jpeg in rows}
    lines = []
    for photo in chosen:
        jpeg = images.get(photo.file["sha256"])
        if jpeg is None:  # an event from elsewhere naming bytes this database lacks
            continue
        lines.append(
            PhotoLine(
                src="data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
                alt=shown(photo.alt) or Shown(""),
                caption=shown(photo.caption),
                width=photo.file["width"],
                height=photo.file["height"],
            )
        )
    return tuple(lines)


#: The first part of an IANA zone name -> the UN M49 code of the world region CLDR names.
ZONE_AREA_REGIONS = {
    "Africa": "002",
    "America": "019",
    "Antarctica": "AQ",
    "Asia": "142",
    "Australia": "009",
    "Europe": "150",
    "Pacific": "009",
}


def world_region(partner: PartnerCity) -> str:
    """The partner's world region (CLDR code), from its time zone, else its country's zones."""
    zones = [partner.timezone, *get_global("territory_zones").get(partner.country, [])]
    areas = (zone.split("/", 1)[0] for zone in zones)
    return next((ZONE_AREA_REGIONS[a] for a in areas if a in ZONE_AREA_REGIONS), "001")


def _exchange_line(exchange: Exchange, partners: Mapping[str, PartnerCity]) -> ExchangeLine:
    return ExchangeLine(
        date=format_date(exchange.date),
        field=label(ExchangeField(exchange.field)),
        direction=label(ExchangeDirection(exchange.direction)),
        partners=tuple(_name(partners[p]) for p in exchange.partner_ids if p in partners),
        summary=shown(exchange.summary) or Shown(""),
    )


def chart(counts: Iterable[tuple[int, str, int]]) -> Chart | None:
    """Exchanges per year and field, for the last `CHART_YEARS` years that have any."""
    by_key: Counter[tuple[int, str]] = Counter()
    for year, field, count in counts:
        by_key[year, field] += count
    if not by_key:
        return None
    last = max(year for year, _ in by_key)
    first = max(min(year for year, _ in by_key), last - CHART_YEARS + 1)
    years = tuple(range(first, last + 1))
    series = tuple(
        FieldSeries(field.value, label(field), tuple(by_key[year, field.value] for year in years))
        for field in ExchangeField
        if any(by_key[year, field.value] for year in years)
    )
    return Chart(years, series)


def _sorted_by_text(lines: Iterable[PartnerLine]) -> tuple[PartnerLine, ...]:
    return tuple(sorted(lines, key=lambda line: line.name.text))


# --- the leaflet -------------------------------------------------------------------------------


def _when(start: datetime, end: datetime, zone: str) -> str:
    """ "26 December 2026 18:00–22:00" for one day, else the range of days (in the event's zone)."""
    local = ZoneInfo(zone)
    if start.astimezone(local).date() == end.astimezone(local).date():
        day = format_date(start.astimezone(local).date(), format="long")
        return f"{day} {format_interval(start, end, zone=zone, skeleton='Hm')}"
    return format_interval(start, end, zone=zone, skeleton="yMMMd")


async def _upcoming_events(
    session: AsyncSession, now: datetime, *, invited: str | None = None
) -> tuple[EventLine, ...]:
    """The coming city events open to partners; for a partner (`invited`), those of them it
    is invited to (and not withdrawn from)."""
    which: ColumnElement[bool] = CityEvent.open_to_partners.is_(True)
    if invited is not None:
        which = (
            CityEvent.id.in_(
                select(Invitation.city_event_id).where(
                    Invitation.invitee_kind == InviteeKind.PARTNER.value,
                    Invitation.invitee_id == invited,
                    Invitation.status == InvitationStatus.INVITED.value,
                )
            )
            & which
        )
    events = (
        await session.scalars(
            select(CityEvent)
            .where(
                CityEvent.status == CityEventStatus.SCHEDULED.value,
                which,
                CityEvent.ends_at >= now,
            )
            .order_by(CityEvent.starts_at, CityEvent.id)
            .limit(UPCOMING_EVENTS if invited is None else INVITED_EVENTS)
        )
    ).all()
    venue_ids = {e.venue_id for e in events if e.venue_id}
    venues = {
        v.id: v
        for v in (
            await session.scalars(select(Venue).where(Venue.id.in_(venue_ids))) if venue_ids else []
        )
    }
    hosts = {(h["kind"], h["id"]) for e in events for h in (e.co_hosts or [])}
    host_names = await _host_names(session, hosts) if hosts else {}
    lines = []
    for event in events:
        venue = venues.get(event.venue_id or "")
        where = (
            shown(venue.names)
            if venue
            else (Shown(event.venue_place) if event.venue_place else None)
        )
        lines.append(
            EventLine(
                title=shown(event.title) or Shown(event.id),
                when=_when(event.starts_at, event.ends_at, event.timezone),
                where=where,
                co_hosts=tuple(
                    named
                    for h in event.co_hosts or []
                    if (named := shown(host_names.get((h["kind"], h["id"])))) is not None
                ),
            )
        )
    return tuple(lines)


async def _host_names(
    session: AsyncSession, hosts: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, str]]:
    """The names of the partner cities and missions that co-host events, by (kind, id)."""
    partners = {i for k, i in hosts if k == "partner"}
    missions = {i for k, i in hosts if k == "mission"}
    found: dict[tuple[str, str], dict[str, str]] = {}
    for partner in await session.scalars(select(PartnerCity).where(PartnerCity.id.in_(partners))):
        found["partner", partner.id] = partner.names
    for mission in await session.scalars(
        select(ForeignMission).where(ForeignMission.id.in_(missions))
    ):
        found["mission", mission.id] = mission.names
    return found


def _map_points(partners: Sequence[PartnerCity], settings: Settings) -> tuple[MapPoint, ...]:
    points = [
        MapPoint(_name(p), p.location["latitude"], p.location["longitude"])
        for p in partners
        if p.location
    ]
    if points and settings.office_location is not None:
        latitude, longitude = settings.office_location
        city = shown(settings.office_city) or shown(settings.office_name) or Shown("")
        points.append(MapPoint(city, latitude, longitude, True))
    return tuple(points)


async def leaflet(
    session: AsyncSession, *, locale: str, now: datetime, settings: Settings
) -> Leaflet:
    """The city-diplomacy leaflet: partners by world region, the exchanges by year and field,
    the latest exchanges, upcoming city events open to partners, how to reach the office."""
    partners = (
        await session.scalars(
            select(PartnerCity)
            .where(PartnerCity.status != PartnerStatus.ENDED.value)
            .order_by(PartnerCity.id)
        )
    ).all()
    by_id = {p.id: p for p in partners}
    # Partner cities' exchanges: those with missions only are counted in the missions' figures.
    with_partners = Exchange.id.in_(select(ExchangePartner.exchange_id))
    exchanges = (
        await session.execute(select(Exchange.date, Exchange.field).where(with_partners))
    ).all()
    latest = (
        await session.scalars(
            select(Exchange)
            .where(with_partners)
            .order_by(Exchange.date.desc(), Exchange.id)
            .limit(LATEST_EXCHANGES)
        )
    ).all()
    with force_locale(locale):
        groups: dict[str, list[PartnerLine]] = defaultdict(list)
        for partner in partners:
            groups[world_region(partner)].append(
                PartnerLine(
                    name=_name(partner),
                    country=country_name(partner.country),
                    kind=label(PartnerKind(partner.kind)),
                    agreement=agreement_year(partner.agreement_date.year)
                    if partner.agreement_date
                    else None,
                )
            )
        territories = babel_locale(locale).territories
        regions = sorted(
            (
                Region(territories.get(code, code), _sorted_by_text(lines))
                for code, lines in groups.items()
            ),
            key=lambda region: (-len(region.partners), region.name),
        )
        by_field = Counter(field for _, field in exchanges)
        by_kind = Counter(partner.kind for partner in partners)
        return Leaflet(
            locale=locale,
            page_url=f"{settings.base_url()}/publicity/leaflet?lang={locale}&format=html",
            fields=tuple(
                Tally(label(f), format_number(by_field[f.value]))
                for f in sorted(ExchangeField, key=lambda f: -by_field[f.value])
                if by_field[f.value]
            ),
            kinds=tuple(
                Tally(label(k), format_number(by_kind[k.value]))
                for k in PartnerKind
                if by_kind[k.value]
            ),
            office=office_contact(settings),
            partner_count=partner_city_count(len(partners)),
            exchange_count=exchange_count(len(exchanges)),
            regions=tuple(regions),
            chart=chart((d.year, field, 1) for d, field in exchanges),
            map=_map_points(partners, settings),
            latest=tuple(_exchange_line(e, by_id) for e in latest),
            events=await _upcoming_events(session, now),
            city=await _our_city(session, settings),
            photos=await _photos(
                session,
                [
                    (PhotoSubjectKind.CITY.value, [CITY_PROFILE]),
                    (PhotoSubjectKind.EXCHANGE.value, [e.id for e in latest]),
                    (PhotoSubjectKind.PARTNER.value, list(by_id)),
                ],
                LEAFLET_PHOTOS,
            ),
        )


# --- a brochure ----------------------------------------------------------------------------------


def _next_anniversary(partner: PartnerCity, today: date) -> str | None:
    """The next 5-year anniversary of the agreement (none once the partnership ended)."""
    if partner.agreement_date is None or partner.status == PartnerStatus.ENDED.value:
        return None
    coming = next_anniversary(partner.agreement_date, today)
    return gettext(
        "Next: %(anniversary)s (%(date)s)",
        anniversary=agreement_anniversary(coming.years, _name(partner).text),
        date=format_date(coming.date, format="long"),
    )


#: How many steps a brochure's timeline shows besides the agreement (the latest ones).
MILESTONES = 6


def _milestones(
    partner: PartnerCity,
    exchanges: Sequence[Exchange],
    inbound: Sequence[tuple[date, VisitLine]],
    outbound: Sequence[tuple[date, TripLine]],
) -> tuple[Milestone, ...]:
    """The agreement, then the latest visits both ways and exchanges, oldest first."""
    steps = [
        Milestone(
            day.isoformat(), format_date(day), "inbound", gettext("Visit to our city"), line.purpose
        )
        for day, line in inbound
    ] + [
        Milestone(
            day.isoformat(), format_date(day), "outbound", gettext("Our delegation"), line.title
        )
        for day, line in outbound
    ]
    visited = {step.day for step in steps}
    steps += [
        Milestone(
            e.date.isoformat(),
            format_date(e.date),
            "exchange",
            label(ExchangeField(e.field)),
            shown(e.summary) or Shown(""),
        )
        for e in exchanges
        if e.date.isoformat() not in visited  # a completed visit records its exchange too
    ]
    steps.sort(key=lambda step: step.day)
    steps = steps[-MILESTONES:]
    if partner.agreement_date is not None:
        steps.insert(
            0,
            Milestone(
                partner.agreement_date.isoformat(),
                format_date(partner.agreement_date),
                "agreement",
                gettext("Agreement"),
                Shown(label(PartnerKind(partner.kind))),
            ),
        )
    return tuple(steps)


async def _partner_exchanges(session: AsyncSession, partner_id: str) -> Sequence[Exchange]:
    return (
        await session.scalars(
            select(Exchange)
            .where(
                Exchange.id.in_(
                    select(ExchangePartner.exchange_id).where(
                        ExchangePartner.partner_id == partner_id
                    )
                )
            )
            .order_by(Exchange.date.desc(), Exchange.id)
        )
    ).all()


def _timeline(
    exchanges: Sequence[Exchange], partners: Mapping[str, PartnerCity]
) -> tuple[FieldTimeline, ...]:
    by_field: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        by_field[exchange.field].append(exchange)
    return tuple(
        FieldTimeline(
            field.value,
            label(field),
            tuple(_exchange_line(e, partners) for e in by_field[field.value][:TIMELINE_PER_FIELD]),
        )
        for field in ExchangeField
        if by_field[field.value]
    )


async def _inbound_visits(
    session: AsyncSession, partner_id: str
) -> tuple[tuple[date, VisitLine], ...]:
    visits = (
        await session.scalars(
            select(Visit)
            .where(Visit.partner_id == partner_id, Visit.status == VisitStatus.COMPLETED.value)
            .order_by(Visit.requested_from.desc(), Visit.id)
        )
    ).all()
    return tuple(
        (
            visit.requested_from,
            VisitLine(
                when=format_interval(visit.requested_from, visit.requested_to),
                purpose=shown(visit.purpose) or Shown(""),
                # The title of the head of delegation (an office), never a person's name.
                led_by=shown(visit.head_of_delegation.get("title")),
                members=ngettext(
                    "%(count)s delegate",
                    "%(count)s delegates",
                    visit.members,
                    count=format_number(visit.members),
                ),
            ),
        )
        for visit in visits
    )


async def _outbound_trips(
    session: AsyncSession, partner_id: str, zone: str
) -> tuple[tuple[date, TripLine], ...]:
    legs = (
        await session.execute(
            select(TripLeg, Trip.title)
            .join(Trip, Trip.id == TripLeg.trip_id)
            .where(Trip.status == TripStatus.COMPLETED.value)
            .order_by(TripLeg.starts_at.desc(), TripLeg.trip_id, TripLeg.position)
        )
    ).all()
    return tuple(
        (
            leg.starts_at.astimezone(ZoneInfo(leg.timezone or zone)).date(),
            TripLine(
                when=format_interval(leg.starts_at, leg.ends_at, zone=leg.timezone),
                title=shown(title) or Shown(""),
                place=shown(leg.city) or Shown(""),
            ),
        )
        for leg, title in legs
        if partner_id in leg.partner_ids
    )


async def brochure(
    session: AsyncSession, *, partner_id: str, locale: str, now: datetime, settings: Settings
) -> Brochure | None:
    """A partner city's brochure: the story of the relationship, its exchanges by field,
    visits in both directions; None when there is no such partner."""
    partner = await session.get(PartnerCity, partner_id)
    if partner is None:
        return None
    exchanges = await _partner_exchanges(session, partner_id)
    others = {p for e in exchanges for p in e.partner_ids}
    partners = {
        p.id: p
        for p in await session.scalars(select(PartnerCity).where(PartnerCity.id.in_(others)))
    } | {partner.id: partner}
    counts = (
        await session.scalars(
            select(PartnerExchangeCount).where(PartnerExchangeCount.partner_id == partner_id)
        )
    ).all()
    with force_locale(locale):
        inbound = await _inbound_visits(session, partner_id)
        outbound = await _outbound_trips(session, partner_id, settings.office_timezone)
        points = _map_points([partner], settings)
        home_partner = (points[-1], points[0]) if len(points) == 2 else None
        return Brochure(
            locale=locale,
            partner_id=partner.id,
            name=_name(partner),
            country=country_name(partner.country),
            kind=label(PartnerKind(partner.kind)),
            website=partner.website,
            agreement=gettext(
                "Agreement signed on %(date)s",
                date=format_date(partner.agreement_date, format="long"),
            )
            if partner.agreement_date
            else None,
            scope=Shown(partner.agreement_scope) if partner.agreement_scope else None,
            milestones=_milestones(partner, exchanges, inbound, outbound),
            next_anniversary=_next_anniversary(partner, now.date()),
            exchange_count=exchange_count(len(exchanges)),
            chart=chart((c.year, c.field, c.count) for c in counts),
            timeline=_timeline(exchanges, partners),
            inbound=tuple(line for _, line in inbound)[:INBOUND_OUTBOUND],
            outbound=tuple(line for _, line in outbound)[:INBOUND_OUTBOUND],
            office=office_contact(settings),
            region=Shown(partner.region) if partner.region else None,
            population=format_number(partner.population) if partner.population else None,
            fields=tuple(_field_label(f) for f in partner.fields_of_cooperation),
            # The two cities, or the partner alone where the office's location is not set.
            map=home_partner or tuple(points),
            distance=_distance(*home_partner) if home_partner else None,
            page_url=f"{settings.base_url()}/partners/{quote(partner.id, safe='')}/brochure"
            f"?lang={locale}&format=html",
            city=await _our_city(session, settings),
            invited=await _upcoming_events(session, now, invited=partner.id),
            photos=await _photos(
                session,
                [
                    (PhotoSubjectKind.PARTNER.value, [partner.id]),
                    (PhotoSubjectKind.VISIT.value, await _visit_ids(session, partner.id)),
                    (PhotoSubjectKind.EXCHANGE.value, [e.id for e in exchanges]),
                ],
                BROCHURE_PHOTOS,
            ),
        )


async def _visit_ids(session: AsyncSession, partner_id: str) -> list[str]:
    """The partner's visits that are completed (photos of a visit still planned are not
    printed)."""
    return list(
        await session.scalars(
            select(Visit.id).where(
                Visit.partner_id == partner_id, Visit.status == VisitStatus.COMPLETED.value
            )
        )
    )


def _field_label(value: str) -> str:
    try:
        return label(ExchangeField(value))
    except ValueError:
        return value


def _distance(home: MapPoint, partner: MapPoint) -> str:
    """ "2,213 km from Taoyuan" in the current locale."""
    from babel.units import format_unit
    from twinning.i18n import get_locale
    from twinning.publicity.geo import distance_km

    km = distance_km((home.longitude, home.latitude), (partner.longitude, partner.latitude))
    length = format_unit(
        round(km, -1),
        "length-kilometer",
        length="short",
        format="#,##0",
        locale=babel_locale(get_locale()),
    )
    return gettext("%(distance)s from %(city)s", distance=length, city=home.name.text)


# --- what a document shows in another language ------------------------------------------------


@dataclass(frozen=True)
class Fallback:
    """A text a document shows in another language than its own: a translation to add."""

    text: str
    lang: str


def missing_translations(document: Document) -> tuple[Fallback, ...]:
    """The names and texts from the data that `document` shows in another language than its
    own (the fallback chain's choice), each once, in the order the document shows them."""
    own = document.locale.split("-")[0].lower()
    found: dict[tuple[str, str], Fallback] = {}

    def walk(value: object) -> None:
        if isinstance(value, Shown):
            if value.lang and value.lang.split("-")[0].lower() != own and value.text:
                found.setdefault((value.text, value.lang), Fallback(value.text, value.lang))
        elif isinstance(value, tuple):
            for item in value:
                walk(item)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                walk(getattr(value, name))

    walk(document)
    return tuple(found.values())
