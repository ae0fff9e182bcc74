"""What the web app's tests share: a real browser (Debian's Chromium driven by Playwright), the
app served over HTTP on a free loopback port, and an office with users who sign in."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from conftest import TLS, InlineApi, accepted, sample_partner, shots_dir, wait_for
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from twinning.auth import service as auth
from twinning.auth.schemas import Role, UserCreate
from twinning.db import utcnow
from twinning.i18n import force_locale, gettext
from twinning.streams.broker import free_port
from twinning.web.app import load_pages
from twinning.web.session import COOKIE

#: How long a test waits for what the user should see: generous, for a loaded CI machine (the
#: API docs page parses a 1.8 MB script; every other page shows in milliseconds).
expect.set_options(timeout=20_000)

PASSWORD = "a long enough password"
#: Seconds a stopping server waits for the responses still open (a live page's event stream).
GRACE = 2
#: axe-core from npm (`npm install --prefix tests/web`, as .ci/run does).
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
STAFF, VIEWER, ADMIN = "chen.wei", "lin.viewer", "wang.admin"


#: Where a page loads axe-core from: the test's own server answers it (`with_axe`), at the
#: app's origin, so that the page's own Content-Security-Policy (`script-src 'self'`) lets it
#: run and no test needs to bypass the policy to scan a page. Loaded by URL, the browser
#: compiles the 0.5 MB script once and reuses its code on each page; added as the script's
#: text (`path=`), each scan compiled it again, a third of a second of every scan.
AXE_PATH = "/__test__/axe.min.js"


@cache
def _axe_script() -> bytes:
    return AXE.read_bytes()


def with_axe(app: ASGIApp) -> ASGIApp:
    """`app`, with axe-core answered at `AXE_PATH` (for the server of a browser test)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AXE_PATH:
            script = Response(
                _axe_script(),
                media_type="text/javascript",
                headers={"Cache-Control": "max-age=3600"},
            )
            await script(scope, receive, send)
        else:
            await app(scope, receive, send)

    return serve


def accessibility_violations(page: Page) -> list[str]:
    """What axe-core finds on the page that is serious or critical (rule, and where): every
    rule is run; only the violations are worked out in full (`resultTypes`: what passed, or is
    inapplicable or incomplete, gets one example node each instead of all of them). A served
    page must come from a server that answers `AXE_PATH` (`with_axe`: the office's)."""
    assert AXE.exists(), f"axe-core is missing: run `npm install --prefix tests/web` ({AXE})"
    if page.url.startswith("http"):
        page.add_script_tag(url=AXE_PATH)
    else:  # a page given as content (not served): the script's text
        page.add_script_tag(content=_axe_script().decode())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def shot(target: Page | Locator, name: str, **options: Any) -> None:
    """A screenshot of the page (or of one part of it) as `name`.png, for a person to look at,
    when `TWINNING_TEST_SHOTS` asks for them (`shots_dir`)."""
    directory = shots_dir()
    if directory is not None:
        target.screenshot(path=str(directory / f"{name}.png"), **options)


def text(message: str, locale: str, **variables: object) -> str:
    """A catalog message as a reader of `locale` sees it."""
    with force_locale(locale):
        return gettext(message, **variables)


T = TypeVar("T")


def in_thread(work: Callable[[], T]) -> T:
    """Run `work` off the test's thread: Playwright's sync API keeps an event loop running in
    this one, and what applies commands (or `asyncio.run`) runs one of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def csrf_of(page: Page) -> str:
    """The CSRF token of the signed-in session, as the page's forms carry it."""
    return page.locator("input[name=csrf]").first.get_attribute("value") or ""


@dataclass
class Office:
    """The app served on `base`, with a staff member, a viewer and an admin who sign in by password,
    and partner cities registered through the API (and applied)."""

    base: str
    api: InlineApi
    app: FastAPI
    partners: dict[str, str]  # English name -> id
    users: dict[str, str]  # name -> id
    contexts: list[BrowserContext] = field(default_factory=list)
    #: Set while the worker is held: commands stay committed but unapplied.
    held: threading.Event = field(default_factory=threading.Event)
    #: Held by the worker while it applies (so that `call` waits for it to finish first).
    applying: threading.Lock = field(default_factory=threading.Lock)

    def page(self, browser: Browser, locale: str) -> Page:
        context = browser.new_context(
            locale=locale,
            base_url=self.base,
            # Also on `page.request` posts, which do not send the browser's own language.
            extra_http_headers={"Accept-Language": locale},
        )
        self.contexts.append(context)
        context.set_default_timeout(20_000)
        return context.new_page()

    def sign_in_through_the_form(
        self, page: Page, name: str = STAFF, password: str = PASSWORD
    ) -> None:
        """Sign in as a user does: the sign-in page, the name, the password, the button."""
        page.goto("/ui/")
        page.locator("#name").fill(name)
        page.locator("#password").fill(password)
        page.locator("form.stacked button[type=submit]").click()

    def sign_in(self, page: Page, name: str = STAFF) -> None:
        """Open the first page signed in as `name`, for a test that is not about signing in:
        the page's context gets the session cookie the sign-in would have set (made by the
        app's own `Sessions`, the session a sign-in starts), instead of walking through the
        sign-in page. Signing in through the form took two page loads and an argon2 check,
        about a second of every web test; it is still tested (`sign_in_through_the_form`:
        `test_web_app`, a new user's password in `test_web_admin`)."""
        response = Response()
        request = Request({"type": "http", "scheme": "http", "path": "/", "headers": []})
        self.app.state.web_sessions.start(request, response, self.users[name])
        cookie = SimpleCookie(response.headers["set-cookie"])[COOKIE]
        host = urlsplit(self.base).hostname
        assert host is not None
        page.context.add_cookies(
            [
                {
                    "name": COOKIE,
                    "value": cookie.value,
                    "domain": host,
                    "path": cookie["path"] or "/",
                    "httpOnly": bool(cookie["httponly"]),
                    "sameSite": "Lax",
                }
            ]
        )
        page.goto("/ui/")

    def client(self, locale: str = "en") -> httpx.Client:
        """An HTTP client reading the pages in `locale` (no browser)."""
        return httpx.Client(
            base_url=self.base,
            verify=TLS,
            timeout=15,
            follow_redirects=False,
            headers={"Accept-Language": locale},
        )

    @contextmanager
    def signed_in(self, name: str = STAFF) -> Iterator[tuple[httpx.Client, str]]:
        """A client (no browser) signed in as `name`, and its session's CSRF token."""
        with self.client() as client:
            signin = client.post("/ui/signin", data={"name": name, "password": PASSWORD})
            assert signin.status_code == 303, signin.text
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/").text)
            assert token is not None
            yield client, token.group(1)

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The JSON API, as an admin (`office.api`), its commands applied before it answers.

        Called from another thread (Playwright's sync API keeps an event loop running in the
        test's, and applying commands runs one of its own), with the page's worker held
        meanwhile so that each command is applied by one of them only. `kwargs` are httpx's
        (`json=`, `params=`)."""
        was_held = self.held.is_set()
        self.held.set()
        try:
            with self.applying:  # the worker finishes what it was applying, if anything
                pass
            return in_thread(lambda: self.api.request(method, url, **kwargs))
        finally:
            if not was_held:
                self.held.clear()


#: The argon2 hash of PASSWORD, as `auth.set_password` stored it first (per process).
_stored_hash: list[str] = []


async def _user(sessions: async_sessionmaker[AsyncSession], name: str, role: Role) -> str:
    """A user who signs in with PASSWORD. The first one's password is set by the app; the
    others get the hash it stored (a sign-in verifies it all the same): each argon2 hash takes
    a fifth of a second of CPU, and every web test made three."""
    async with sessions() as session:
        user = await auth.create_user(
            db_session=session, data=UserCreate(name=name, role=role), created_by="test"
        )
        if _stored_hash:
            user.password_hash = _stored_hash[0]
            user.password_set_at = utcnow()
        else:
            await auth.set_password(db_session=session, user=user, password=PASSWORD)
            assert user.password_hash is not None
            _stored_hash.append(user.password_hash)
        await session.commit()
        return user.id


PARTNERS: list[dict[str, Any]] = [
    {**sample_partner(1), "names": {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"}},
    {
        **sample_partner(2),
        "names": {"zh-TW": "伯斯市", "en": "Perth"},
        "country": "AU",
        "timezone": "Australia/Perth",
        "kind": "friendly",
    },
]


@pytest.fixture
def office(inline_api: InlineApi, tmp_path: Path) -> Iterator[Office]:
    # The app that `inline_api` drives is the one served, in the same event loop (the portal's),
    # as one API process serves both: FastAPI works out each route's dependencies on an app's
    # first requests, about a second for the ~600 routes, and a second app cost every test that
    # again. Its pages are added first (as the first page request would), so that it is done once.
    app = inline_api.app
    load_pages(app)

    def seed() -> tuple[dict[str, str], dict[str, str]]:
        sessions = app.state.sessions
        users = {
            name: inline_api.portal.call(_user, sessions, name, role)
            for name, role in ((STAFF, Role.staff), (VIEWER, Role.viewer), (ADMIN, Role.admin))
        }
        ids = {
            p["names"]["en"]: accepted(inline_api.post("/partners", json=p))["id"] for p in PARTNERS
        }
        contact = {"name": "Hanako Yamada", "partner_id": ids["Sapporo"], "email": "h@example.org"}
        accepted(inline_api.post("/contacts", json=contact))
        return ids, users

    # Playwright's sync API keeps an event loop running in this thread, and applying the
    # commands runs one of its own: seed from another thread.
    with ThreadPoolExecutor(1) as pool:
        partners, users = pool.submit(seed).result()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            with_axe(app),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # A live page's event stream ends only when its reader goes: don't wait for one
            # that a test left open (uvicorn waits for every open response, without a limit).
            timeout_graceful_shutdown=GRACE,
        )
    )
    serving = inline_api.portal.start_task_soon(server.serve)
    wait_for(lambda: server.started, timeout=20, what="the web app to start")
    office = Office(f"http://127.0.0.1:{port}", inline_api, app, partners, users)
    stop = threading.Event()

    doorbell = app.state.outbox_signal

    def work() -> None:
        """The worker's part: apply what the pages commit as soon as the app rings the outbox's
        doorbell after each commit (as the app's own relay is woken), a change held back as
        soon as it is let go, and, in case something commits without ringing, whatever is
        pending every half second. It looked every 50 ms before: a query of 0.5 to 0.9 ms
        twenty times a second for the whole of every browser test."""
        rang, last_look = True, 0.0
        while not stop.is_set():
            rang = doorbell.wait(0.05) or rang
            if not rang and time.monotonic() - last_look < 0.5:
                continue
            with office.applying:
                if office.held.is_set():
                    continue  # looked at once it is let go (`rang` stays as it is)
                # Cleared before the look: a commit that rings during it is looked for again.
                rang, last_look = False, time.monotonic()
                if pending := inline_api.pending():
                    inline_api.apply(*pending)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        yield office
    finally:
        stop.set()
        worker.join(20)
        for context in office.contexts:
            context.close()
        server.should_exit = True
        serving.result(20)
