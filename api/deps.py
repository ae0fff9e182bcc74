"""Request-scoped dependencies: the database session, the actor, the outbox doorbell, the
settings and the clock (a dependency, so that tests can set it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.db import utcnow
from twinning.streams.outbox import OutboxSignal


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_outbox_signal(request: Request) -> OutboxSignal:
    signal: OutboxSignal = request.app.state.outbox_signal
    return signal


def get_actor(request: Request) -> str:
    """Who is acting; until access control lands this is the caller's address."""
    client = request.client.host if request.client else "unknown"
    return f"api@{client}"


def get_staff_actor(actor: Annotated[str, Depends(get_actor)]) -> str:
    """The actor of a write; access control (roles admin/staff/viewer) plugs in here."""
    return actor


def get_personal_data_access(request: Request) -> bool:
    """Whether the caller may see personal data (contacts, dietary and accessibility notes)."""
    return True


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock() -> Callable[[], datetime]:
    """What time it is now (UTC); tests override this dependency to move deadlines past."""
    return utcnow


DbSession = Annotated[AsyncSession, Depends(get_db)]
Actor = Annotated[str, Depends(get_actor)]
StaffActor = Annotated[str, Depends(get_staff_actor)]
PersonalDataAccess = Annotated[bool, Depends(get_personal_data_access)]
OutboxDoorbell = Annotated[OutboxSignal, Depends(get_outbox_signal)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Clock = Annotated[Callable[[], datetime], Depends(get_clock)]
