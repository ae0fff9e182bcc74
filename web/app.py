"""The staff web app: server-rendered pages under `/ui`, in the reader's language, on the same
domain services as the API (no HTTP round trip to ourselves, no second copy of validation).

`install(app, settings)` mounts it on the API app: the pages, their static files, the sign-in
session, and `/docs` served from the vendored Swagger UI (works offline). `/` leads to `/ui/`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from twinning.config import Settings
from twinning.web import (
    admin,
    briefing,
    city_events,
    delegation,
    gifts,
    imports,
    interpreters,
    itinerary,
    leaflets,
    letters,
    live,
    mail,
    office,
    officials,
    photos,
    plans,
    press,
    public_visits,
    registers,
    schedule,
    signin,
    travel,
    visits,
)
from twinning.web.pages import HERE, Forbidden, PageNotFound, SignInRequired, page_language, render
from twinning.web.session import (
    Sessions,
    SignInThrottle,
    session_key,
)

# --- mounting ------------------------------------------------------------------------------


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the web app, its static files and the offline `/docs` on the API app."""
    app.state.web_sessions = Sessions(
        session_key(settings), idle_seconds=settings.session_idle_minutes * 60
    )
    app.state.web_throttle = SignInThrottle()
    # The more specific paths first: `/ui/partners/new` before `/ui/partners/{partner_id}`.
    for module in (
        signin,
        registers,
        itinerary,
        briefing,
        visits,
        office,
        city_events,
        travel,
        schedule,
    ):
        app.include_router(module.router)
    for module in (gifts, press):
        app.include_router(module.router)
    for module in (leaflets, admin, live, imports, mail, plans):
        app.include_router(module.router)
    app.include_router(interpreters.router)
    app.include_router(public_visits.router)
    app.include_router(officials.router)
    app.include_router(delegation.router)
    app.include_router(letters.router)
    app.include_router(photos.router)
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
            # 23 groups of 130 operations: listed folded, each opened on a click. All open at
            # once, Swagger UI stopped drawing after the first two groups (seen in Chromium).
            swagger_ui_parameters={"docExpansion": "none"},
        )

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/ui/signin?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        user = getattr(request.state, "user", None)
        return render(request, "forbidden.html", {}, user=user, status_code=403)

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        message = exc.refusal.text(page_language(request))
        user = getattr(request.state, "user", None)
        return render(request, "not_found.html", {"message": message}, user=user, status_code=404)
