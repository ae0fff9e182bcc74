"""Liveness of what the API depends on: the database and the broker."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class ComponentHealth(BaseModel):
    status: Literal["up", "down"]
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: ComponentHealth
    broker: ComponentHealth


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, response: Response) -> Health:
    try:
        async with request.app.state.sessions() as session:
            await session.execute(text("SELECT 1"))
        database = ComponentHealth(status="up")
    except Exception as exc:
        database = ComponentHealth(status="down", detail=type(exc).__name__)
    broker = ComponentHealth.model_validate(await request.app.state.broker_probe.check())
    healthy = database.status == "up" and broker.status == "up"
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "unavailable", database=database, broker=broker)
