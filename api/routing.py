"""Routers included once per process, whose routes every app made in it then shares.

FastAPI (0.137 and later) includes a router lazily: `app.include_router` adds a node that
builds the router's routes (each endpoint's dependencies and models analysed again, with the
include's prefix and dependencies) on the first request that walks past them, and it does so
for each app. An app's first requests paid it, some 0.5 to 1 s of CPU in all (a 404, which
walks every route, built all of them), and every app made again paid it again: every test
system of the suite, one per test (issue 17).

`included_once` includes the routers into one router the first time it is asked and hands
out that router's routes; `create_app` and the web app's pages add them to each app as they
are. What an include could make per app is the same for every app here (the routers carry
their own prefixes and tags; the dependencies are the caller's), except the dependency
overrides, which FastAPI reads from the app that includes a router: these routes read them
from the app serving the request instead (`ServingApp`), so `app.dependency_overrides` works
on each app as on any FastAPI app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.params import Depends
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

_serving: ContextVar[FastAPI | None] = ContextVar("twinning_serving_app", default=None)


class ServingApp:
    """ASGI middleware: the app serving a request, for the shared routes' dependency overrides."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _serving.set(scope.get("app"))
        try:
            await self.app(scope, receive, send)
        finally:
            _serving.reset(token)


class _OverridesOfTheServingApp:
    """The shared routes' `dependency_overrides_provider`: FastAPI reads its
    `dependency_overrides` as each request's dependencies are solved."""

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        app = _serving.get()
        return app.dependency_overrides if app is not None else {}


_OVERRIDES = _OverridesOfTheServingApp()
_included: dict[tuple[tuple[int, ...], tuple[int, ...]], list[BaseRoute]] = {}
_lock = threading.Lock()


def included_once(
    routers: Sequence[APIRouter], dependencies: Sequence[Depends] = ()
) -> list[BaseRoute]:
    """The routes of `routers` included with `dependencies`, the same objects on every call
    with the same routers and dependencies (the same objects: they are module-level)."""
    key = (tuple(map(id, routers)), tuple(id(d.dependency) for d in dependencies))
    with _lock:
        if key not in _included:
            shared = APIRouter(dependency_overrides_provider=_OVERRIDES)
            for router in routers:
                shared.include_router(router, dependencies=list(dependencies))
            _included[key] = list(shared.routes)
        return _included[key]
