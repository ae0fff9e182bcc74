"""Liveness of what the API depends on: the database and the broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, DataError, IntegrityError, OperationalError
from twinning.db import database_error_reason

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
    status: Literal["ok", "unavailable"]
    database: ComponentHealth
    broker: ComponentHealth


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, response: Response) -> Health:
    faults: DatabaseFaults | None = getattr(request.app.state, "database_faults", None)
    try:
        async with request.app.state.sessions() as session:
            # A row of a real table, not only `SELECT 1`: a file that is no database any more,
            # or a schema gone, answers this with an error.
            await session.execute(text("SELECT count(*) FROM alembic_version"))
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
    healthy = database.status == "up" and broker.status == "up"
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "unavailable", database=database, broker=broker)


def _described(error: DatabaseError) -> str:
    if isinstance(error, OperationalError):  # cannot reach it (or it is busy): not its data
        return type(error).__name__
    return f"the database reports an error: {database_error_reason(error)}"
