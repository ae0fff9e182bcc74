"""The staff web app: server-rendered pages under `/ui`, in the reader's language, on the same
domain services as the API (no HTTP round trip to ourselves, no second copy of validation).

`install(app, settings)` mounts it on the API app: the pages, their static files, the sign-in
session, and `/docs` served from the vendored Swagger UI (works offline). `/` leads to `/ui/`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from twinning.api.routing import included_once
from twinning.config import Settings
from twinning.web import live
from twinning.web.pages import HERE, Forbidden, PageNotFound, SignInRequired, page_language, render
from twinning.web.session import (
    Sessions,
    SignInThrottle,
    session_key,
)

#: The page modules under `/ui`, in the order their routes are tried: the more specific
#: paths first (`/ui/partners/new` before `/ui/partners/{partner_id}`). They are imported
#: on the first request under `/ui` (`PagesOnFirstUse`), not when the API starts: with
#: the domain code only they need, they are a good part of the API's import, which
#: `twinning up` waits for before the first command can be sent.
PAGES = (
    "signin",
    "registers",
    "itinerary",
    "briefing",
    "visits",
    "office",
    "city_events",
    "travel",
    "schedule",
    "gifts",
    "press",
    "leaflets",
    "admin",
    "imports",
    "mail",
    "plans",
    "interpreters",
    "public_visits",
    "officials",
    "delegation",
    "letters",
    "photos",
)
PAGES_PREFIX, STATIC_PREFIX = "/ui", "/ui/static/"


# --- mounting ------------------------------------------------------------------------------


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the web app, its static files and the offline `/docs` on the API app."""
    app.state.web_sessions = Sessions(
        session_key(settings), idle_seconds=settings.session_idle_minutes * 60
    )
    app.state.web_throttle = SignInThrottle()
    # The live updates at once: their router's lifespan (closing the hub) is the app's.
    app.include_router(live.router)
    app.add_middleware(PagesOnFirstUse)
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


class PagesOnFirstUse:
    """ASGI middleware: before the first request under `/ui/` (other than its static files)
    goes on, the page modules (`PAGES`) are imported, in a thread so that the API answers
    meanwhile, and their routes added to the app; every later request passes straight on.
    The one place where the web app is loaded lazily: `load_pages` does it for a caller
    that needs the routes without a request."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.loaded: asyncio.Future[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        pending = self.loaded is None or not self.loaded.done()
        if pending and scope["type"] in ("http", "websocket") and _is_page(scope.get("path", "")):
            await self._load(scope["app"])
        await self.app(scope, receive, send)

    async def _load(self, app: FastAPI) -> None:
        if self.loaded is None:  # the first request: the others wait for the same load
            self.loaded = asyncio.ensure_future(_include_pages(app))
        try:
            await asyncio.shield(self.loaded)
        except Exception:
            self.loaded = None  # an import that failed is tried again by the next request
            raise


def _is_page(path: str) -> bool:
    return (path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/")) and not path.startswith(
        STATIC_PREFIX
    )


async def _include_pages(app: FastAPI) -> None:
    modules = await asyncio.to_thread(lambda: [_page_module(name) for name in PAGES])
    load_pages(app, modules)


def _page_module(name: str) -> Any:
    return importlib.import_module(f"twinning.web.{name}")


def load_pages(app: FastAPI, modules: list[Any] | None = None) -> None:
    """Add the page modules' routes to `app` (once), where their order is kept."""
    if getattr(app.state, "web_pages_loaded", False):
        return
    modules = modules if modules is not None else [_page_module(n) for n in PAGES]
    app.router.routes.extend(included_once([module.router for module in modules]))
    app.state.web_pages_loaded = True
