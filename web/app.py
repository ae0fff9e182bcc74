"""The staff web app: server-rendered pages under `/ui`, in the reader's language, on the same
domain services as the API (no HTTP round trip to ourselves, no second copy of validation).

`install(app, settings)` mounts it on the API app: the pages, their static files, the sign-in
session, and `/docs` served from the vendored Swagger UI (works offline). `/` leads to `/ui/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from twinning.api.deps import Clock, DbSession
from twinning.auth import service as auth
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.config import Settings
from twinning.crm import exchanges, stats
from twinning.crm import service as crm
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import ContactFilter, ExchangeFilter, PartnerFilter
from twinning.i18n import (
    DEFAULT_LOCALE,
    country_name,
    force_locale,
    format_date,
    gettext,
    localized,
    negotiate,
    ngettext,
    resolve,
    supported_locales,
)
from twinning.i18n.labels import label
from twinning.refusals import NotFound
from twinning.streams.events import ExchangeField, PartnerKind, PartnerStatus
from twinning.visits import service as visits
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.schemas import VisitFilter
from twinning.web.session import (
    LANGUAGE_COOKIE,
    Session,
    Sessions,
    SignInThrottle,
    csrf_matches,
    session_key,
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
LANGUAGE_NAMES = {
    "zh-TW": "繁體中文",
    "en": "English",
    "ja": "日本語",
    "ko": "한국어",
    "es": "Español",
}

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
)
templates.filters["day"] = lambda value: format_date(value, format="medium") if value else ""

router = APIRouter(prefix="/ui", include_in_schema=False)


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
            languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in supported_locales()],
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


# --- sign-in -------------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, next: str = "/ui/") -> HTMLResponse:
    return render(request, "signin.html", {"next": _local(next), "failed": False, "wait": 0})


def _local(target: str) -> str:
    """Only a path of this app may follow a sign-in (no open redirect)."""
    return target if target.startswith("/ui/") and "//" not in target else "/ui/"


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    db_session: DbSession,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=1000)] = "/ui/",
) -> Response:
    throttle: SignInThrottle = request.app.state.web_throttle
    keys = (f"user:{name}", f"address:{request.client.host if request.client else '?'}")
    wait = throttle.wait(*keys)
    if wait > 0:
        context = {"next": _local(next), "failed": False, "wait": int(wait) + 1, "name": name}
        return render(request, "signin.html", context, status_code=429)
    user = await auth.verify_password(db_session=db_session, name=name, password=password)
    if user is None:
        throttle.failed(*keys)
        context = {"next": _local(next), "failed": True, "wait": 0, "name": name}
        return render(request, "signin.html", context, status_code=401)
    throttle.succeeded(keys[0])
    await db_session.commit()
    response = RedirectResponse(_local(next), status_code=303)
    sessions_of(request).start(request, response, user.id)
    return response


@router.post("/signout", dependencies=[CheckedForm])
async def sign_out() -> Response:
    response = RedirectResponse("/ui/signin", status_code=303)
    Sessions.end(response)
    return response


@router.post("/language")
async def choose_language(
    language: Annotated[str, Form(max_length=35)],
    next: Annotated[str, Form(max_length=1000)] = "/ui/",
) -> Response:
    """Remember the reader's language (a preference, not a change of state: no CSRF token)."""
    response = RedirectResponse(_local(next), status_code=303)
    locale = resolve(language) or DEFAULT_LOCALE
    response.set_cookie(LANGUAGE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


# --- today ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def today(request: Request, user: User, db_session: DbSession, clock: Clock) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    now = clock()
    awaiting = await visits.list_visits(
        db_session=db_session, query=VisitFilter(status=VisitStatus.REQUESTED, limit=50)
    )
    overview = await stats.overview(
        db_session=db_session,
        today=now.date(),
        dormant_after_months=settings.dormant_after_months,
        within_days=180,
    )
    names = {s.partner_id: s.names for s in overview.partners}
    context = {
        "today": now.date(),
        "awaiting": awaiting,
        "anniversaries": overview.upcoming_anniversaries,
        "dormant": [(pid, names[pid]) for pid in overview.dormant_partner_ids],
    }
    return render(request, "today.html", context, user=user)


# --- partners ------------------------------------------------------------------------------


def _matches(partner: PartnerCity, search: str) -> bool:
    wanted = search.casefold()
    return any(wanted in name.casefold() for name in partner.names.values())


@router.get("/partners", response_class=HTMLResponse)
async def partners(
    request: Request,
    user: User,
    db_session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Search by name in any language, filter by kind and status (a form's empty choice is
    "any"; an unknown value too), a page at a time."""
    kinds, statuses = {k.value: k for k in PartnerKind}, {s.value: s for s in PartnerStatus}
    return await _partners(
        request, user, db_session, q, kinds.get(kind), statuses.get(status), page
    )


async def _partners(
    request: Request,
    user: Principal,
    db_session: DbSession,
    q: str,
    kind: PartnerKind | None,
    status: PartnerStatus | None,
    page: int,
) -> HTMLResponse:
    everyone = await crm.list_partners(
        db_session=db_session, query=PartnerFilter(kind=kind, status=status, limit=500)
    )
    found = [p for p in everyone if _matches(p, q.strip())] if q.strip() else list(everyone)
    language = page_language(request)
    found.sort(key=lambda p: (localized(p.names, language) or "").casefold())
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    filters = {"q": q, "kind": kind.value if kind else "", "status": status.value if status else ""}

    def page_link(number: int) -> str:
        return "/ui/partners?" + urlencode({**filters, "page": number})

    context = {
        "partners": shown,
        "total": len(found),
        "page": page,
        "previous": page_link(page - 1) if page > 1 else None,
        "next_page": page_link(page + 1) if page * PAGE_SIZE < len(found) else None,
        "filters": filters,
        "kinds": list(PartnerKind),
        "statuses": list(PartnerStatus),
    }
    return render(request, "partners.html", context, user=user)


@router.get("/partners/{partner_id}", response_class=HTMLResponse)
async def partner(
    request: Request, partner_id: str, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    found = await crm.get_partner(db_session=db_session, partner_id=partner_id)
    if found is None:
        refusal = NotFound("partner city", partner_id)
        message = {"message": refusal.text(page_language(request))}
        return render(request, "not_found.html", message, user=user, status_code=404)
    settings: Settings = request.app.state.settings
    [figures] = await stats.stats_of(
        db_session=db_session,
        partners=[found],
        today=clock().date(),
        dormant_after_months=settings.dormant_after_months,
    )
    history = await exchanges.list_exchanges(
        db_session=db_session, query=ExchangeFilter(partner_id=partner_id, limit=50)
    )
    contacts = (
        await crm.list_contacts(db_session=db_session, query=ContactFilter(partner_id=partner_id))
        if user.role.includes(Role.staff)
        else []
    )
    context = {
        "partner": found,
        "figures": figures,
        "history": history,
        "contacts": contacts,
    }
    return render(request, "partner.html", context, user=user)


# --- mounting ------------------------------------------------------------------------------


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the web app, its static files and the offline `/docs` on the API app."""
    app.state.web_sessions = Sessions(
        session_key(settings), idle_seconds=settings.session_idle_minutes * 60
    )
    app.state.web_throttle = SignInThrottle()
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="web-static")

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="twinning API",
            swagger_js_url="/ui/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/ui/static/swagger/swagger-ui.css",
            swagger_favicon_url="/ui/static/swagger/favicon-32x32.png",
        )

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/ui/signin?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        return render(request, "forbidden.html", {}, status_code=403)
