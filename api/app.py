"""The FastAPI application: routers, shared state, and the outbox relay beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning import __version__
from twinning.api.routes import (
    city_events,
    events,
    feeds,
    health,
    invitations,
    partners,
    protocol,
    visits,
)
from twinning.calendar.feeds import FeedCache
from twinning.config import Settings
from twinning.db import make_async_engine, make_engine
from twinning.streams.broker import BrokerProbe
from twinning.streams.outbox import NotSettled, OutboxSignal
from twinning.streams.relay import OutboxRelay

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, with_relay: bool = True) -> FastAPI:
    """The API; with `with_relay` the outbox relay runs in this process and wakes on each commit."""
    engine = make_async_engine(settings.async_database_url)
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

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if relay is not None:
            relay.start()
        try:
            yield
        finally:
            if relay is not None:
                relay.stop()
            await engine.dispose()

    app = FastAPI(
        title="twinning",
        version=__version__,
        summary="International affairs office: partner cities, visits, invitations, calendar feeds, leaflets.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
    app.state.outbox_signal = signal
    app.state.relay = relay
    app.state.broker_probe = BrokerProbe(settings.bootstrap_servers)
    app.state.feed_cache = FeedCache()
    for module in (health, partners, protocol, visits, city_events, invitations, events, feeds):
        app.include_router(module.router)
    app.include_router(feeds.public_router)  # feeds carry their own secret (or are public)
    feeds.hide_feed_secrets_in_access_log()

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The pool reconnects by itself (pre-ping) once the database is back.
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            {"detail": "the database is unavailable; nothing was changed, retry shortly"},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(NotSettled)
    async def _not_settled(_request: Request, exc: NotSettled) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"}
        )

    return app
