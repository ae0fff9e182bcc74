"""The FastAPI application: routers, shared state, and the outbox relay beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning import __version__
from twinning.api import problems, security
from twinning.api.deps import get_current_user
from twinning.api.routes import (
    briefing,
    city_events,
    contacts,
    events,
    exchanges,
    feeds,
    gifts,
    health,
    imports,
    interpreters,
    invitations,
    letters,
    mail,
    missions,
    partners,
    photos,
    plans,
    press,
    protocol,
    publicity,
    trips,
    users,
    visits,
)
from twinning.api.routing import ServingApp, included_once
from twinning.auth import service as auth
from twinning.calendar.feeds import FeedCache, feed_stamp
from twinning.config import Settings
from twinning.db import (
    async_session_scope,
    database_error_reason,
    make_async_engine,
    make_engine,
)
from twinning.streams.broker import BrokerProbe
from twinning.streams.outbox import NotSettled, OutboxSignal
from twinning.streams.relay import OutboxRelay
from twinning.web import app as web

log = logging.getLogger(__name__)

#: Open to anyone: liveness (and leaflets, brochures, and feeds with their own tokens).
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (health.router, feeds.public_router, publicity.router)
#: Everything else: a valid API token first (any role reads; routes ask more where needed).
AUTHENTICATED_ROUTERS: tuple[APIRouter, ...] = (
    partners.router,
    missions.router,
    contacts.router,
    exchanges.router,
    trips.router,
    protocol.officials,
    protocol.venues,
    visits.router,
    briefing.router,
    city_events.router,
    invitations.router,
    events.router,
    feeds.router,
    users.router,
    users.whoami,
    imports.router,
    mail.router,
    interpreters.router,
    plans.router,
    gifts.router,
    press.router,
    publicity.profile_router,
    photos.router,
    letters.router,
)


def create_app(settings: Settings, *, with_relay: bool = True) -> FastAPI:
    """The API; with `with_relay` the outbox relay runs in this process and wakes on each commit."""
    engine = make_async_engine(settings.async_database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    signal = OutboxSignal()
    relay = (
        OutboxRelay(
            make_engine(settings.sync_database_url),
            settings.bootstrap_servers,
            signal=signal,
            poll_interval=settings.relay_poll_interval,
            redeliver_after=settings.redeliver_after,
        )
        if with_relay
        else None
    )

    stamp = feed_stamp(settings.sync_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await ensure_first_admin(sessions, settings)
        if stamp is not None:
            await stamp.start()
        if relay is not None:
            relay.start()
        try:
            yield
        finally:
            if relay is not None:
                relay.stop()
            if stamp is not None:
                await stamp.stop()
            await engine.dispose()

    app = FastAPI(
        title="twinning",
        version=__version__,
        summary="International affairs office: partner cities, visits, invitations, calendar feeds, leaflets.",
        lifespan=lifespan,
        # `/docs` is served from vendored Swagger UI files by the web app (works offline).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.outbox_signal = signal
    app.state.broker_probe = BrokerProbe(settings.bootstrap_servers)
    app.state.feed_cache = FeedCache(
        check_interval=settings.feed_check_interval,
        stamp=stamp,
    )
    app.state.database_faults = health.DatabaseFaults()
    app.router.routes.extend(included_once(PUBLIC_ROUTERS))
    app.router.routes.extend(included_once(AUTHENTICATED_ROUTERS, [Depends(get_current_user)]))
    app.add_middleware(feeds.AnswerFromMemory)  # innermost: inside the security middleware
    security.install(app, settings)
    problems.install(app)
    web.install(app, settings)
    app.add_middleware(ServingApp)  # the shared routes' dependency overrides are this app's
    feeds.hide_feed_secrets_in_access_log()

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The pool reconnects by itself (pre-ping) once the database is back.
        log.warning("database unavailable: %s", type(exc).__name__)
        return problems.answer(
            problems.unavailable("the database is unavailable; nothing was changed, retry shortly"),
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DatabaseError)
    async def _database_error(request: Request, exc: DatabaseError) -> JSONResponse:
        # Not a refusal to connect (above: OperationalError) but an error the database reports
        # about itself: a damaged file, a schema that is not what the code expects. /health
        # reports it for a while. The reason is the driver's first line: no statement, no
        # parameters; the route's template, not its path (a feed's path is its secret).
        reason = database_error_reason(exc)
        route = getattr(request.scope.get("route"), "path", "?")
        log.error("the database reports an error on %s %s: %s", request.method, route, reason)
        request.app.state.database_faults.record(exc)
        return problems.answer(
            problems.unavailable(f"the database reports an error: {reason}; nothing was changed")
        )

    @app.exception_handler(NotSettled)
    async def _not_settled(_request: Request, exc: NotSettled) -> JSONResponse:
        return problems.answer(problems.unavailable(str(exc)), headers={"Retry-After": "1"})

    return app


async def ensure_first_admin(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Store TWINNING_BOOTSTRAP_TOKEN as the first admin's token while there is no admin (on
    startup; an app driven without its lifespan calls this itself)."""
    async with async_session_scope(sessions) as session:
        if settings.bootstrap_token is not None:
            token = settings.bootstrap_token.get_secret_value()
            if await auth.bootstrap_admin(db_session=session, token=token) is None:
                log.info("an admin exists: TWINNING_BOOTSTRAP_TOKEN is not used and can go")
        elif not await auth.admin_exists(db_session=session):
            log.warning(
                "no admin exists: set TWINNING_BOOTSTRAP_TOKEN, or run "
                "`twinning users create NAME --role admin` and `twinning users token NAME`"
            )
