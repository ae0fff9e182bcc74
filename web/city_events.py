"""City events in the web app: create, invite partners and missions, record answers, the summary."""

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
    """What this module adds to the Today page (rendered by `today_invitations.html`)."""
    return {}
