"""Request-scoped dependencies: the database session, the caller and what they may do, the
actor of a write, the outbox doorbell, the settings and the clock.

Every route but the public ones (health, leaflets and brochures, feeds with their own
tokens, the OpenAPI docs) needs a caller: include such routers with
`dependencies=[Depends(get_current_user)]` (see api/app.py). Writes take `StaffActor`,
personal data is shown only when `PersonalDataAccess` is true, user management takes
`AdminUser`.

Every dependency here is `async def`, as cheap ones must be: FastAPI runs a plain `def`
dependency in a worker thread, a hop to another thread and back on every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.auth import service as auth
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.config import Settings
from twinning.db import utcnow
from twinning.streams.outbox import OutboxSignal


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


async def get_outbox_signal(request: Request) -> OutboxSignal:
    signal: OutboxSignal = request.app.state.outbox_signal
    return signal


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="APIToken",
    description="An API token (`twinning users token NAME`, or POST /users/{id}/tokens).",
)
_CHALLENGE = 'Bearer realm="twinning"'


async def get_current_user(
    db_session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token: 401 without a token or with one that is unknown,
    revoked, or belongs to a deactivated user."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication required: send an API token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    principal = await auth.authenticate(db_session=db_session, token=credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid API token: it is unknown or revoked, or its user is deactivated",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    return principal


def require_role(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers whose role includes `role`, and 403s the rest."""

    async def check(user: CurrentUser) -> Principal:
        if not user.role.includes(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"forbidden: this needs the {role} role, and your role is {user.role}",
            )
        return user

    return check


async def get_staff_actor(user: StaffUser) -> str:
    """The actor recorded in the event of a write; only staff (and admins) may write."""
    return user.actor


async def get_personal_data_access(user: CurrentUser) -> bool:
    """Whether the caller may see personal data (contacts, dietary and accessibility notes)."""
    return user.role.includes(Role.staff)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock() -> Callable[[], datetime]:
    """What time it is now (UTC); tests override this dependency to move deadlines past."""
    return utcnow


DbSession = Annotated[AsyncSession, Depends(get_db)]
CurrentUser = Annotated[Principal, Depends(get_current_user)]
StaffUser = Annotated[Principal, Depends(require_role(Role.staff))]
AdminUser = Annotated[Principal, Depends(require_role(Role.admin))]
StaffActor = Annotated[str, Depends(get_staff_actor)]
PersonalDataAccess = Annotated[bool, Depends(get_personal_data_access)]
OutboxDoorbell = Annotated[OutboxSignal, Depends(get_outbox_signal)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Clock = Annotated[Callable[[], datetime], Depends(get_clock)]
