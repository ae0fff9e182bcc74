"""Liveness of what the system depends on: the database, the broker, and a worker that applies
what the API accepts (its heartbeat and lag)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, DataError, IntegrityError, OperationalError
from twinning.db import database_error_reason
from twinning.streams.status import WorkerState, live_workers

router = APIRouter(tags=["health"])

#: How long an error the database reported to a request keeps /health saying it is down.
FAULT_WINDOW = 60.0


class DatabaseFaults:
    """The last error the database reported to a request (a damaged page, a table that is not
    what the code expects): /health reports the database down while one was seen in the last
    `FAULT_WINDOW` seconds. An error about what a request sent (a constraint, a value a column
    refuses) is that request's, not the database's, and is not recorded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last: tuple[float, str] | None = None

    def record(self, error: DatabaseError) -> None:
        if not isinstance(error, IntegrityError | DataError):
            self.last = (self.clock(), database_error_reason(error))

    def recent(self) -> str | None:
        if self.last is None:
            return None
        seen, reason = self.last
        ago = self.clock() - seen
        if ago > FAULT_WINDOW:
            return None
        return f"the database reported an error {ago:.0f}s ago: {reason}"


class ComponentHealth(BaseModel):
    status: Literal["up", "down"]
    detail: str | None = None


class Health(BaseModel):
    #: ok: all up; degraded: commands are accepted but no worker applies them; unavailable:
    #: the database or the broker is down (both 503).
    status: Literal["ok", "degraded", "unavailable"]
    database: ComponentHealth
    broker: ComponentHealth
    worker: ComponentHealth
    workers: list[WorkerState] = []


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, response: Response) -> Health:
    faults: DatabaseFaults | None = getattr(request.app.state, "database_faults", None)
    settings = request.app.state.settings
    workers: list[WorkerState] = []
    try:
        async with request.app.state.sessions() as session:
            # A row of a real table, not only `SELECT 1`: a file that is no database any more,
            # or a schema gone, answers this with an error.
            await session.execute(text("SELECT count(*) FROM alembic_version"))
            workers = await live_workers(session, settings.heartbeat_timeout)
    except DatabaseError as exc:
        if faults is not None and not isinstance(exc, OperationalError):
            faults.record(exc)
        database = ComponentHealth(status="down", detail=_described(exc))
    except Exception as exc:
        database = ComponentHealth(status="down", detail=type(exc).__name__)
    else:
        fault = faults.recent() if faults is not None else None
        database = ComponentHealth(status="down" if fault else "up", detail=fault)
    broker = ComponentHealth.model_validate(await request.app.state.broker_probe.check())
    worker = _worker_health(workers, settings.heartbeat_timeout, database.status == "up")
    if database.status == "up" and broker.status == "up":
        overall: Literal["ok", "degraded", "unavailable"] = (
            "ok" if worker.status == "up" else "degraded"
        )
    else:
        overall = "unavailable"
    if overall != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status=overall, database=database, broker=broker, worker=worker, workers=workers)


def _worker_health(workers: list[WorkerState], timeout: float, readable: bool) -> ComponentHealth:
    if not readable:
        return ComponentHealth(status="down", detail="unknown: the database is down")
    if not workers:
        return ComponentHealth(
            status="down",
            detail=f"no worker has sent a heartbeat in the last {timeout:g} s: accepted "
            "commands wait in the outbox until one runs",
        )
    lags = [w.lag for w in workers if w.lag is not None]
    lag = f"{sum(lags)} events not read yet" if lags else "lag not known yet"
    return ComponentHealth(status="up", detail=f"{len(workers)} running; {lag}")


def _described(error: DatabaseError) -> str:
    if isinstance(error, OperationalError):  # cannot reach it (or it is busy): not its data
        return type(error).__name__
    return f"the database reports an error: {database_error_reason(error)}"
