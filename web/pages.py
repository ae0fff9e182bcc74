"""What every page of the staff web app shares: the templates, the reader's language, the
signed-in user, the one way to render a page, and the CSRF check of a form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from twinning.api.deps import DbSession
from twinning.auth import service as auth
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.i18n import (
    country_name,
    force_locale,
    format_date,
    format_datetime,
    gettext,
    language_name,
    localized,
    negotiate,
    ngettext,
    resolve,
    supported_locales,
)
from twinning.i18n.labels import label
from twinning.refusals import STATES, InvalidField, Refusal
from twinning.streams.events import ExchangeField, PartnerKind, PartnerStatus
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
    state_label=lambda state: str(STATES.get(state, state)),
    #: Each language named in itself, for the switcher and the multilingual inputs.
    language_name=lambda code: language_name(code, locale=code),
)
templates.filters["day"] = lambda value: format_date(value, format="medium") if value else ""
templates.filters["moment"] = lambda value, zone: format_datetime(value, zone, format="short")


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
    return auth.principal_of(user)


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
