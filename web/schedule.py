"""The office's schedule in the web app: week and month grids (the office's and one
official's), and the calendar feed links (create, copy, rotate, revoke).

Named `schedule`, not `calendar`: see the packaging note in the README.

The grids read the calendar read model (`twinning.calendar`), the entries the feeds are made
of, each in its audience (the office's, or `official:<id>`): what a subscriber's calendar
shows is what the page shows. An entry is placed on the local days it covers in its own time
zone (an all-day entry: its whole days), and its times are shown in that zone, named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_interval, format_skeleton, format_time
from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import Clock, DbSession
from twinning.api.routes.feeds import _issued as issued_link
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.calendar import feeds
from twinning.calendar.describe import KIND_LABELS, EntryRow, location, summary
from twinning.calendar.feeds import Audience
from twinning.calendar.models import CalendarAudience, CalendarEntry, EntryStatus, FeedLink
from twinning.calendar.schemas import FeedLinkCreate
from twinning.crm import service as crm
from twinning.crm.schemas import PartnerFilter
from twinning.db import Page
from twinning.i18n import (
    L_,
    _,
    babel_locale,
    force_locale,
    language_name,
    localized,
    supported_locales,
)
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.schedule import service as roster
from twinning.schedule.schemas import InterpreterFilter
from twinning.streams import outbox
from twinning.visits import service as visits
from twinning.visits.models import ItineraryItem
from twinning.web.pages import (
    CheckedForm,
    User,
    field_errors,
    form_of,
    not_found,
    office_today,
    page_language,
    render,
    require_staff,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

WEEK = 7
#: A month grid: six weeks always hold a month, whatever day it starts on.
MONTH_WEEKS = 6


# --- the entries of a period -----------------------------------------------------------------


@dataclass
class Shown:
    """An entry as a grid shows it, in the page's language."""

    uid: str
    kind: str
    kind_label: str
    title: str
    place: str | None
    href: str
    #: Its times on the wall clock of its zone ("10:00 – 11:30"), or "" for an all-day entry.
    when: str
    timezone: str | None
    cancelled: bool
    starts_at: datetime
    days: list[date] = field(default_factory=list)


@dataclass
class Day:
    day: date
    #: The day with its weekday, in the page's language ("Mon, Dec 7", "12月7日 週一").
    label: str
    entries: list[Shown]
    today: bool
    outside: bool = False  # a day of the month grid that belongs to the month before or after


_COLUMNS = [getattr(CalendarEntry, name) for name in EntryRow.__slots__]


def _local_days(row: EntryRow) -> list[date]:
    """The local days an entry covers: in its zone, or whole (UTC) days for an all-day one; an
    entry ending at midnight does not spill into the next day."""
    zone = ZoneInfo(row.timezone) if row.timezone is not None else UTC
    first = row.starts_at.astimezone(zone).date()
    last = max(first, (row.ends_at - timedelta(microseconds=1)).astimezone(zone).date())
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _when(row: EntryRow, language: str) -> str:
    """An entry's times in its own zone: "10:00 – 11:30" within a day, with dates across days."""
    if row.timezone is None:
        return ""
    zone = ZoneInfo(row.timezone)
    locale = babel_locale(language)
    start, end = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
    if start == end:
        return format_time(start, "short", tzinfo=zone, locale=locale)
    skeleton = "Hm" if start.date() == end.date() else "MMMdHm"
    return format_interval(start, end, skeleton, tzinfo=zone, locale=locale)


def _href(kind: str, source_id: str, visit_of_item: Mapping[str, str]) -> str:
    if kind == "itinerary":
        return f"/ui/visits/{visit_of_item.get(source_id, '')}"
    if kind == "city-event":
        return f"/ui/city-events/{source_id}"
    if kind == "trip":
        return f"/ui/trips/{source_id}"
    if kind == "anniversary":
        return f"/ui/partners/{source_id}"
    return "/ui/exchanges"


async def schedule_between(
    *,
    db_session: AsyncSession,
    audience: Audience,
    first: date,
    last: date,
    language: str,
) -> list[Shown]:
    """The entries of `audience` on the local days `first` to `last` (both included), earliest
    first, as the feeds have them (cancelled ones too, marked so). Nothing personal: titles,
    places and times only (no interpreter, no notes)."""
    # A day more on each side: an entry's local day (in its zone) may be another UTC day.
    start = datetime.combine(first - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(last + timedelta(days=2), datetime.min.time(), UTC)
    of_audience = (
        (CalendarAudience.entry_uid == CalendarEntry.uid)
        & (CalendarAudience.audience == audience.key)
        & CalendarAudience.removed_at.is_(None)
    )
    rows = (
        await db_session.execute(
            select(*_COLUMNS, CalendarEntry.source_id)
            .join(CalendarAudience, of_audience)
            .where(CalendarEntry.starts_at < end, CalendarEntry.ends_at >= start)
            .order_by(CalendarEntry.starts_at, CalendarEntry.uid)
        )
    ).all()
    item_ids = [row.source_id for row in rows if row.kind == "itinerary"]
    visit_of_item: dict[str, str] = {}
    if item_ids:
        found = await db_session.execute(
            select(ItineraryItem.id, ItineraryItem.visit_id).where(ItineraryItem.id.in_(item_ids))
        )
        visit_of_item = {item_id: visit_id for item_id, visit_id in found}
    shown = []
    with force_locale(language):
        for columns in rows:
            row = EntryRow(*columns[: len(_COLUMNS)])
            days = [d for d in _local_days(row) if first <= d <= last]
            if not days:
                continue
            shown.append(
                Shown(
                    uid=row.uid,
                    kind=row.kind,
                    kind_label=str(KIND_LABELS.get(row.kind, row.kind)),
                    title=summary(row),
                    place=location(row.facts),
                    href=_href(row.kind, columns.source_id, visit_of_item),
                    when=_when(row, language),
                    timezone=row.timezone,
                    cancelled=row.status == EntryStatus.CANCELLED,
                    starts_at=row.starts_at,
                    days=days,
                )
            )
    return shown


def by_day(entries: Sequence[Shown], days: Sequence[date], today: date, language: str) -> list[Day]:
    """The days of a grid, each with its entries (all-day ones first, then by time)."""
    locale = babel_locale(language)
    found: dict[date, list[Shown]] = {d: [] for d in days}
    for entry in entries:
        for d in entry.days:
            if d in found:
                found[d].append(entry)
    return [
        Day(
            day=d,
            label=format_skeleton("MMMEd", d, locale=locale),
            entries=sorted(found[d], key=lambda e: (e.timezone is not None, e.starts_at)),
            today=d == today,
        )
        for d in days
    ]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


# --- the grids -------------------------------------------------------------------------------


async def _officials(db_session: AsyncSession) -> list[tuple[str, dict[str, str]]]:
    found = await visits.list_officials(db_session=db_session, query=Page(limit=500))
    return [(official.id, dict(official.names)) for official in found]


def _month_name(month: date, language: str) -> str:
    """ "December 2026", "2026年12月" (CLDR's year-and-month skeleton)."""
    locale = babel_locale(language)
    pattern = locale.datetime_skeletons.get("yMMMM")
    return babel_format_date(
        month, pattern.pattern if pattern is not None else "MMMM y", locale=locale
    )


def _weekday_names(language: str) -> list[str]:
    """Monday to Sunday, abbreviated in the page's language."""
    locale = babel_locale(language)
    return [str(locale.days["format"]["abbreviated"][n]) for n in range(WEEK)]


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_page(
    request: Request,
    user: User,
    db_session: DbSession,
    clock: Clock,
    view: Annotated[str, Query(max_length=10)] = "week",
    day: Annotated[str, Query(alias="date", max_length=10)] = "",
    official: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The office's (or one official's) week, or month, with links to the period before and
    after and back to today."""
    language = page_language(request)
    today = office_today(request, clock())
    try:
        shown_day = date.fromisoformat(day) if day else today
    except ValueError:
        shown_day = today
    monthly = view == "month"
    officials = await _officials(db_session)
    names = dict(officials)
    if official and official not in names:
        not_found("official", official)
    audience = Audience.official(official) if official else Audience.office()
    if monthly:
        month = shown_day.replace(day=1)
        first = _monday(month)
        days = [first + timedelta(days=n) for n in range(WEEK * MONTH_WEEKS)]
        previous, following = _add_months(month, -1), _add_months(month, 1)
        period = _month_name(month, language)
    else:
        first = _monday(shown_day)
        days = [first + timedelta(days=n) for n in range(WEEK)]
        previous, following = first - timedelta(days=WEEK), first + timedelta(days=WEEK)
        period = format_interval(first, days[-1], "yMMMd", locale=babel_locale(language))
    entries = await schedule_between(
        db_session=db_session, audience=audience, first=days[0], last=days[-1], language=language
    )
    grid = by_day(entries, days, today, language)
    if monthly:
        for cell in grid:
            cell.outside = cell.day.month != shown_day.month

    def link(**change: str) -> str:
        wanted = {"view": "month" if monthly else "week", "official": official, **change}
        query = urlencode({key: value for key, value in wanted.items() if value})
        return "/ui/calendar" + (f"?{query}" if query else "")

    context = {
        "monthly": monthly,
        "weeks": [grid[n : n + WEEK] for n in range(0, len(grid), WEEK)],
        "weekdays": _weekday_names(language),
        "period": period,
        "official": official,
        "official_name": localized(names[official], language) if official else None,
        "officials": [(oid, localized(texts, language) or oid) for oid, texts in officials],
        "shown_date": shown_day.isoformat(),
        "links": {
            "previous": link(date=previous.isoformat()),
            "next": link(date=following.isoformat()),
            "today": link(),
            "week": link(view="week", date=shown_day.isoformat()),
            "month": link(view="month", date=shown_day.isoformat()),
        },
        "empty": not entries,
    }
    return render(request, "calendar_grid.html", context, user=user)


# --- the Today page --------------------------------------------------------------------------


async def today_context(
    request: Request, user: Principal, db_session: AsyncSession, today: date, now: datetime
) -> dict[str, Any]:
    """What this module adds to the Today page (rendered by `today_schedule.html`): the
    office's entries of today and the next six days, by day (a rolling week: on a Sunday
    "this week" would be one day)."""
    language = page_language(request)
    days = [today + timedelta(days=n) for n in range(WEEK)]
    entries = await schedule_between(
        db_session=db_session,
        audience=Audience.office(),
        first=today,
        last=days[-1],
        language=language,
    )
    found = by_day(entries, days, today, language)
    return {"schedule_days": [d for d in found if d.entries]}


# --- feed links ------------------------------------------------------------------------------

FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "audience": L_("Choose whose calendar the link shows"),
    "feed_language": L_("Choose the language of the calendar"),
    "label": L_("Enter what the link is for in 200 characters at most, or leave it empty"),
}
FIELD_OF_LOCATION = {
    ("audience",): "audience",
    ("language",): "feed_language",
    ("label",): "label",
    (): "audience",
}


def interpreter_label(name: str) -> str:
    # TRANSLATORS: whose feed a link shows, in a list of officials: %(name)s is an interpreter.
    return _("Interpreter %(name)s", name=name)


def _audience_of(form: Mapping[str, str]) -> dict[str, Any]:
    chosen = form.get("audience", "").strip()
    if chosen.startswith("official:"):
        return {"kind": "official", "official_id": chosen.partition(":")[2]}
    if chosen.startswith("interpreter:"):
        return {"kind": "interpreter", "interpreter_id": chosen.partition(":")[2]}
    return {"kind": chosen or "office"}


async def _feed_page(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, Any] | None = None,
    issued: Any = None,
    notice: LazyProxy | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    staff = user.role.includes(Role.staff)
    officials = await _officials(db_session)
    official_names = {oid: localized(texts, language) or oid for oid, texts in officials}
    partners = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
    base = request.app.state.settings.base_url()
    public = sorted(
        (
            (localized(p.names, language) or p.id, f"{base}/partners/{p.id}/calendar.ics")
            for p in partners
        ),
        key=lambda pair: pair[0].casefold(),
    )
    interpreters = await roster.list_interpreters(
        db_session=db_session, query=InterpreterFilter(limit=500)
    )
    interpreter_names = {
        f"interpreter:{i.id}": LazyProxy(interpreter_label, i.name, enable_cache=False)
        for i in interpreters
    }
    links: Sequence[FeedLink] = await feeds.list_links(db_session=db_session) if staff else []
    context = {
        "links": links,
        "audience_names": {
            "office": L_("The whole office"),
            **{f"official:{oid}": name for oid, name in official_names.items()},
            **interpreter_names,
        },
        "audiences": [("office", L_("The whole office"))]
        + [(f"official:{oid}", name) for oid, name in official_names.items()]
        + list(interpreter_names.items()),
        "feed_languages_named": [
            (code, language_name(code, locale=code)) for code in supported_locales()
        ],
        "public_feeds": [(name, url, "webcal://" + url.split("://", 1)[1]) for name, url in public],
        "form": form or {"feed_language": language},
        "errors": errors or {},
        "issued": issued,
        "notice": notice,
        "problem": problem,
    }
    return render(request, "feed_links.html", context, user=user, status_code=status_code)


@router.get("/calendar/feeds", response_class=HTMLResponse)
async def feed_links(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    """The secret links to the office's and officials' feeds (staff), and the partner cities'
    public feeds (everyone)."""
    notice = (
        L_("The link was revoked: it no longer works.")
        if "revoked" in request.query_params
        else None
    )
    return await _feed_page(request, user, db_session, notice=notice)


@router.post("/calendar/feeds", response_class=HTMLResponse, dependencies=[CheckedForm])
async def create_feed_link(
    request: Request, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    """A new secret link, shown this once (only its hash is kept)."""
    require_staff(user)
    form = await form_of(request)
    try:
        data = FeedLinkCreate.model_validate(
            {
                "audience": _audience_of(form),
                "language": form.get("feed_language", "").strip() or None,
                "label": form.get("label", "").strip() or None,
            }
        )
        audience = Audience(data.audience.key)
        if audience.id is not None:
            await outbox.settle(db_session, aggregate_ids=[audience.id])
        if not await feeds.audience_exists(db_session=db_session, audience=audience):
            raise InvalidField("audience", "unknown official %(id)s", id=str(audience.id))
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _feed_page(
            request, user, db_session, form=form, errors=errors, status_code=422
        )
    link, token = await feeds.create_link(
        db_session=db_session,
        audience=audience,
        language=data.language,
        label=data.label,
        actor=user.actor,
        now=clock(),
    )
    await db_session.commit()
    return await _feed_page(request, user, db_session, issued=issued_link(request, link, token))


@router.post(
    "/calendar/feeds/{link_id}/rotate", response_class=HTMLResponse, dependencies=[CheckedForm]
)
async def rotate_feed_link(
    request: Request, link_id: str, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    """A new secret for the link, shown this once; the old link stops working at once."""
    require_staff(user)
    link = await feeds.get_link(db_session=db_session, link_id=link_id)
    try:
        if link is None:
            raise NotFound("feed link", link_id)
        if link.revoked_at is not None:  # as the API refuses it (api/routes/feeds.py)
            raise Conflict(
                "feed link %(id)s is %(state)s",
                current_state="revoked",
                id=link_id,
                state="revoked",
            )
    except (Conflict, NotFound) as refusal:
        problem = refusal.text(page_language(request))
        return await _feed_page(request, user, db_session, problem=problem, status_code=409)
    token = await feeds.rotate_link(db_session=db_session, link=link, now=clock())
    await db_session.commit()
    return await _feed_page(request, user, db_session, issued=issued_link(request, link, token))


@router.get("/calendar/feeds/{link_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(
    request: Request, link_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    """Are you sure? The link stops working for everyone subscribed to it."""
    require_staff(user)
    link = await feeds.get_link(db_session=db_session, link_id=link_id)
    if link is None or link.revoked_at is not None:
        not_found("feed link", link_id)
    officials = await _officials(db_session)
    names = {
        f"official:{oid}": localized(texts, page_language(request)) for oid, texts in officials
    }
    context = {
        "link": link,
        "audience_name": names.get(link.audience) or L_("The whole office"),
    }
    return render(request, "calendar_revoke.html", context, user=user)


@router.post("/calendar/feeds/{link_id}/revoke", dependencies=[CheckedForm])
async def revoke_feed_link(
    request: Request, link_id: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    require_staff(user)
    link = await feeds.get_link(db_session=db_session, link_id=link_id)
    if link is None:
        not_found("feed link", link_id)
    await feeds.revoke_link(db_session=db_session, link=link, actor=user.actor, now=clock())
    await db_session.commit()
    return RedirectResponse("/ui/calendar/feeds?revoked=1", status_code=303)
