"""The office's schedule in the web app: week and month grids (the office's and one
official's), and the calendar feed links (create, copy, rotate, revoke).

Named `schedule`, not `calendar`: see the packaging note in the README."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.auth.service import Principal

router = APIRouter(prefix="/ui", include_in_schema=False)


async def today_context(
    request: Request, user: Principal, db_session: AsyncSession, today: date
) -> dict[str, Any]:
    """What this module adds to the Today page (rendered by `today_schedule.html`)."""
    return {}
