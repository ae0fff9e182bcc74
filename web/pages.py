"""What every page of the staff web app shares: the templates, the reader's language, the
signed-in user, the one way to render a page, and the CSRF check of a form; and the one way
to do what many pages do: a missing record's page, the change a page waits for, the way back
after a refused step, a paged list's links, a local time read in a zone, the choices of
countries, time zones and registered records."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.support import LazyProxy
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context as JinjaContext
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import DbSession
from twinning.auth import service as auth
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.config import known_timezones
from twinning.crm import service as crm
from twinning.crm.schemas import PartnerFilter
from twinning.i18n import (
    country_name,
    force_locale,
    format_date,
    format_datetime,
    format_number,
    get_locale,
    gettext,
    language_name,
    localized,
    negotiate,
    ngettext,
    resolve,
    supported_locales,
)
from twinning.i18n.labels import label
from twinning.refusals import STATES, InvalidField, NotFound, Refusal
from twinning.streams import outbox
from twinning.streams.events import (
    CountryCode,
    ExchangeDirection,
    ExchangeField,
    PartnerKind,
    PartnerStatus,
)
from twinning.streams.status import EventState, event_status
from twinning.visits.precedence import by_precedence, form_of_address
from twinning.web.session import (
    LANGUAGE_COOKIE,
    Session,
    Sessions,
    csrf_matches,
)

#: The package's own folder; resolved, so that an editable install (whose tree links each file
#: back to the source) serves templates and static files added after it was made.
HERE = Path(__file__).resolve().parent
PAGE_SIZE = 25
#: The languages a form asks multilingual texts in (one input each): the office's and English.
TWO_LANGUAGES: tuple[str, ...] = ("zh-TW", "en")
#: Scripts only from this origin (htmx), no inline script; styles only from our stylesheet.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.globals.update(
    localized=localized,
    country_name=country_name,
    label=label,
    kind_label=lambda kind: label(PartnerKind(kind)),
    status_label=lambda status: label(PartnerStatus(status)),
    field_label=lambda field: label(ExchangeField(field)),
    direction_label=lambda direction: label(ExchangeDirection(direction)),
    state_label=lambda state: str(STATES.get(state, state)),
    #: Each language named in itself, for the switcher and the multilingual inputs.
    language_name=lambda code: language_name(code, locale=code),
    #: The languages of a form's multilingual inputs (`f.texts(name, legend, languages_two)`).
    languages_two=TWO_LANGUAGES,
)


@pass_context
def _in_precedence(
    context: JinjaContext, people: Iterable[Any], registry: Mapping[str, Any] | None = None
) -> list[Any]:
    """`people` in order of precedence for the page's reader (`visits/precedence.py`); with
    `registry`, `people` are ids (one not registered is shown by its id, last)."""
    if registry is not None:
        people = [registry.get(i) or {"id": i, "names": {"und": i}} for i in people]
    settings = context["request"].app.state.settings
    return by_precedence(people, context["language"], settings.precedence_titles)


templates.globals.update(
    in_precedence=_in_precedence,
    form_of_address=lambda person: form_of_address(person, get_locale()),
)
templates.filters["day"] = lambda value: format_date(value, format="medium") if value else ""
templates.filters["moment"] = lambda value, zone: format_datetime(value, zone, format="short")
templates.filters["number"] = lambda value: format_number(value)  # in the page's language


# --- who is asking, in which language ------------------------------------------------------


def page_language(request: Request) -> str:
    """`?lang=`, else the remembered choice, else the browser's, else the office's default."""
    for wish in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if wish and (locale := resolve(wish[:35])) is not None:
            return locale
    return negotiate(request.headers.get("accept-language"))


def sessions_of(request: Request) -> Sessions:
    found: Sessions = request.app.state.web_sessions
    return found


class SignInRequired(Exception):
    """The page needs a signed-in user; answered with a redirect to the sign-in page."""


class Forbidden(Exception):
    """The signed-in user's role does not allow this page or form (403)."""


async def current_user(request: Request, db_session: DbSession) -> Principal:
    session = sessions_of(request).read(request)
    if session is None:
        raise SignInRequired
    user = await auth.get_user(db_session=db_session, user_id=session.user_id)
    if user is None or not user.active:
        raise SignInRequired
    request.state.web_session = session
    request.state.user = principal = auth.principal_of(user)  # for the error pages' header
    return principal


User = Annotated[Principal, Depends(current_user)]


def require_staff(user: Principal) -> None:
    """Refuse (403) a form or page that needs the staff role (viewers only read)."""
    if not user.role.includes(Role.staff):
        raise Forbidden


def require_admin(user: Principal) -> None:
    if not user.role.includes(Role.admin):
        raise Forbidden


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    user: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the reader's language, with a refreshed session cookie (idle expiry)."""
    language = page_language(request)
    session: Session | None = getattr(request.state, "web_session", None)
    with force_locale(language):
        html = templates.get_template(template).render(
            request=request,
            user=user,
            staff=user is not None and user.role.includes(Role.staff),
            admin=user is not None and user.role.includes(Role.admin),
            csrf=session.csrf if session is not None else "",
            language=language,
            languages=supported_locales(),
            office_zone=request.app.state.settings.office_timezone,
            **context,
        )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"
    if session is not None:
        sessions_of(request).write(request, response, session)
    return response


async def checked_form(request: Request) -> None:
    """Refuse (403) a state-changing form without this session's CSRF token."""
    form = await request.form()
    token = form.get("csrf")
    session = sessions_of(request).read(request)
    if not csrf_matches(session, token if isinstance(token, str) else None):
        raise Forbidden


CheckedForm = Depends(checked_form)


# --- forms ---------------------------------------------------------------------------------


async def form_of(request: Request) -> dict[str, str]:
    """A posted form's text fields (a repeated field: its last value; see `form_list`)."""
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


async def form_list(request: Request, name: str) -> list[str]:
    """Every value of a repeated field (a multi-select, checkboxes of one name)."""
    return [value for value in (await request.form()).getlist(name) if isinstance(value, str)]


def texts_of(form: Mapping[str, str], name: str, languages: Iterable[str]) -> dict[str, str] | None:
    """A multilingual field from its inputs, one per language (`name_zh-TW`, `name_en`); None
    when every one is empty."""
    texts = {code: form.get(f"{name}_{code}", "").strip() for code in languages}
    given = {code: text for code, text in texts.items() if text}
    return given or None


def field_errors(
    refused: ValidationError | Refusal,
    messages: Mapping[str, LazyProxy],
    locations: Mapping[tuple[str, ...], str],
) -> dict[str, LazyProxy]:
    """Form field -> what to write next to it, in the order of `messages` (each message says
    what is expected, read in the page's language when rendered).

    `locations` maps where in the command an error lands (its `loc`, or a prefix of it) to the
    form field that shows it; the empty tuple catches the command's own rules."""
    if isinstance(refused, InvalidField):
        found = [tuple(str(part) for part in refused.loc)]
    elif isinstance(refused, ValidationError):
        found = [tuple(str(part) for part in e["loc"]) for e in refused.errors()]
    else:
        return {}
    fields: dict[str, LazyProxy] = {}
    for location in found:
        for length in range(len(location), -1, -1):
            name = locations.get(location[:length])
            if name is not None:
                fields.setdefault(name, messages[name])
                break
    order = list(messages)
    return dict(sorted(fields.items(), key=lambda item: order.index(item[0])))


# --- what many pages do ----------------------------------------------------------------------

T = TypeVar("T")


class PageNotFound(Exception):
    """No record of `kind` has this id (or these ids): the page that says so (404), rendered
    once by the web app's handler, wherever in a route or its helpers the lookup failed."""

    def __init__(self, kind: str, *ids: str) -> None:
        super().__init__(kind, *ids)
        self.refusal = NotFound(kind, *ids)


def not_found(kind: str, *ids: str) -> NoReturn:
    """Answer the page that says no record of `kind` has this id (404)."""
    raise PageNotFound(kind, *ids)


#: How long a page sent to after a change (`?event=`) waits for the worker to apply it before it
#: shows the change as being saved: the worker applies a change tens of milliseconds after its
#: commit (the benchmark's freshness: p50 ~50 ms, p99 ~150-250 ms), so the page nearly always
#: shows the change itself at once, instead of a "being saved" banner that polls every 0.7 s and
#: then reloads the whole page. A worker that is down or far behind still gets the banner.
CHANGE_WAIT = 0.5
#: A change's states while the worker may still apply it (parked and dead-lettered are answers).
_ON_ITS_WAY = frozenset({"pending", "published"})


async def change_state(db_session: AsyncSession, event_id: str) -> EventState | None:
    """Where the change a page was sent to after (`?event=`) is (None without one, or for an
    event no table knows), having waited up to `CHANGE_WAIT` seconds for it to be applied (or
    parked, or dead-lettered). Each look sees the latest commits (a statement of its own on
    SQLite, read committed on PostgreSQL), and reads nothing else of the session."""
    if not event_id:
        return None
    state = await event_status(db_session, event_id)
    deadline = time.monotonic() + CHANGE_WAIT
    delay = 0.01
    while state is not None and state.status in _ON_ITS_WAY:
        if time.monotonic() + delay > deadline:
            break
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
        state = await event_status(db_session, event_id)
    return state


async def read_after_change(
    db_session: AsyncSession, event_id: str, read: Callable[[], Awaitable[T]]
) -> tuple[T, EventState | None]:
    """What `read` finds, and where the change a page was sent to after (`?event=`) is (None
    without one, or for an event no table knows).

    The change's state first, then the record: read the other way round, a change applied in
    between would show neither itself nor the banner that waits for it. A change still on its
    way is asked about once more: applied meanwhile, the record is read again (the session's
    copies expired first), so that the page does not wait for a change it already shows.
    `read` must be all that the page reads of the session before this."""
    state = await change_state(db_session, event_id)
    found = await read()
    if pending_of(state) is not None:
        again = await event_status(db_session, event_id)
        if again is not None and again.status == "applied":
            db_session.expire_all()
            state, found = again, await read()
    return found, state


def pending_of(state: EventState | None) -> EventState | None:
    """The change's state while it is not applied (what `event_banner.html` shows), else None."""
    return state if state is not None and state.status != "applied" else None


def change_context(state: EventState | None, event_id: str) -> dict[str, Any]:
    """What a page's pending banner needs (`parts.pending_banner()`)."""
    return {"pending": pending_of(state), "event_id": event_id}


async def committed(
    request: Request, db_session: AsyncSession, target: str, event_id: str
) -> RedirectResponse:
    """Commit an accepted command (waking the relay), and go (303) to the page that shows its
    result, `target`, which waits for the change (`?event=`) until it is applied."""
    await outbox.commit(db_session, request.app.state.outbox_signal)
    return RedirectResponse(f"{target}?event={event_id}", status_code=303)


def in_language(message: LazyProxy, language: str) -> str:
    """A lazy message read in `language` (outside `render`)."""
    with force_locale(language):
        return str(message)


def refused_to(request: Request, target: str, refusal: Refusal | LazyProxy) -> RedirectResponse:
    """Back (303) to a record's page, `target`, saying why a step was refused (`?refused=`,
    in the reader's language; the page shows it with `parts.refused_alert()`)."""
    language = page_language(request)
    text = (
        refusal.text(language) if isinstance(refusal, Refusal) else in_language(refusal, language)
    )
    return RedirectResponse(f"{target}?{urlencode({'refused': text})}", status_code=303)


def page_links(
    base: str, filters: Mapping[str, str], page: int, *, more: bool
) -> dict[str, str | None]:
    """The links of a paged list at `base` (its filters kept, the empty ones left out) to the
    page before `page` and, when there are `more`, the one after it (`parts.pager()`)."""

    def link(number: int) -> str:
        kept = {key: value for key, value in filters.items() if value}
        return f"{base}?" + urlencode({**kept, "page": number})

    return {
        "previous": link(page - 1) if page > 1 else None,
        "next_page": link(page + 1) if more else None,
    }


def paged(found: Sequence[T], page: int, base: str, filters: Mapping[str, str]) -> dict[str, Any]:
    """One page (`PAGE_SIZE`) of the whole list `found`: `shown`, the `total`, and the links."""
    return {
        "total": len(found),
        "page": page,
        "shown": found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        **page_links(base, filters, page, more=page * PAGE_SIZE < len(found)),
    }


# --- times, places and names -------------------------------------------------------------------


#: The time zones a form offers: UTC, and every region/city (no `Etc/` nor legacy aliases).
ZONES: tuple[str, ...] = tuple(
    sorted(
        zone
        for zone in known_timezones()
        if zone == "UTC" or ("/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    )
)


def zone_choices() -> list[tuple[str, str]]:
    """`ZONES` as a select's (value, label) pairs ("America/New York")."""
    return [(zone, zone.replace("_", " ")) for zone in ZONES]


def aware_time(local: str, zone: str) -> str | None:
    """A `datetime-local` input's value, read on the wall clock of the IANA `zone`, as an ISO
    time with its offset; what cannot be read is passed on as typed, for the schema to refuse
    on its field (a time in an unknown zone is read in UTC, so that only the zone is refused)."""
    local = local.strip()
    if not local:
        return None
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return local
    if moment.tzinfo is not None:
        return moment.isoformat()
    zone = zone.strip()
    where = ZoneInfo(zone) if zone in known_timezones() else UTC
    return moment.replace(tzinfo=where).isoformat()


def office_today(request: Request, now: datetime) -> date:
    """The office's day (in its time zone) at `now`."""
    return now.astimezone(ZoneInfo(request.app.state.settings.office_timezone)).date()


@cache
def _country_codes() -> tuple[str, ...]:
    valid = TypeAdapter(CountryCode)
    codes: list[str] = []
    for code in Locale("en").territories:
        if not isinstance(code, str):
            continue
        try:
            valid.validate_python(code)
        except ValidationError:
            continue
        codes.append(code)
    return tuple(codes)


def country_choices(language: str) -> list[tuple[str, str]]:
    """Every country a command accepts, by CLDR's name in the page's language."""
    choices = [(code, country_name(code, locale=language)) for code in _country_codes()]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def by_name(names: Mapping[str, Mapping[str, str]], language: str) -> list[tuple[str, str]]:
    """Records' (id, name in the page's language) from their multilingual names, by name."""
    choices = [(rid, localized(dict(texts), language) or rid) for rid, texts in names.items()]
    return sorted(choices, key=lambda choice: choice[1].casefold())


async def partner_names(db_session: AsyncSession) -> dict[str, dict[str, str]]:
    """Every registered partner city's names, by id."""
    partners = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
    return {p.id: p.names for p in partners}


def person_download(document: Mapping[str, Any], kind: str, subject_id: str) -> Response:
    """A person's data (`twinning.export`), downloaded as `twinning-<kind>-<id>.json`, never
    kept in a cache."""
    from twinning import export

    name = re.sub(r"[^A-Za-z0-9._-]", "_", subject_id)[:100]
    return Response(
        export.person_json(document),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="twinning-{kind}-{name}.json"',
            "Cache-Control": "no-store",
        },
    )
