"""Users and API tokens: create, list, change, issue, revoke, and authenticate a bearer token.

A token is `twn_` + 256 random bits (URL-safe base64). Only its SHA-256 digest is stored: a
slow password hash buys nothing for a random secret of that size. A lookup goes by the
token's first characters (`prefix`, not secret enough to matter) and then compares the full
digest in constant time, so response times say nothing about the secret part.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.auth.models import ApiToken, User
from twinning.auth.schemas import Role, UserCreate, UserUpdate
from twinning.db import utcnow
from twinning.refusals import Conflict, InvalidField

TOKEN_MARK = "twn_"
PREFIX_LENGTH = 12
MAX_TOKEN_LENGTH = 512
BOOTSTRAP_ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller, as established by a valid token of an active user (or, in the web app,
    by a signed-in session: no token)."""

    user_id: str
    name: str
    role: Role
    token_id: str | None

    @property
    def actor(self) -> str:
        """How events record this caller."""
        return f"user:{self.name}"


def new_token() -> str:
    return TOKEN_MARK + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------


async def create_user(*, db_session: AsyncSession, data: UserCreate, created_by: str) -> User:
    if await get_user_by_name(db_session=db_session, name=data.name) is not None:
        raise Conflict("a user named '%(name)s' exists already", name=data.name)
    user = User(
        id=str(uuid.uuid4()), name=data.name, role=data.role, active=True, created_by=created_by
    )
    db_session.add(user)
    await db_session.flush()
    return user


async def get_user(*, db_session: AsyncSession, user_id: str) -> User | None:
    return await db_session.get(User, user_id)


async def get_user_by_name(*, db_session: AsyncSession, name: str) -> User | None:
    return await db_session.scalar(select(User).where(User.name == name))


async def list_users(*, db_session: AsyncSession) -> Sequence[User]:
    return (await db_session.scalars(select(User).order_by(User.name))).all()


async def update_user(*, db_session: AsyncSession, user: User, data: UserUpdate) -> User:
    """Change role or active state; refuses to leave the system without an active admin."""
    role = data.role if data.role is not None else Role(user.role)
    active = data.active if data.active is not None else user.active
    if user.role == Role.admin and user.active and not (role == Role.admin and active):
        other_admins = select(User.id).where(
            User.role == Role.admin, User.active.is_(True), User.id != user.id
        )
        if await db_session.scalar(other_admins.limit(1)) is None:
            raise Conflict(
                "'%(name)s' is the last active admin; make another admin first",
                current_state="last-active-admin",
                name=user.name,
            )
    user.role, user.active = role, active
    await db_session.flush()
    return user


# --- tokens --------------------------------------------------------------------------------


async def issue_token(
    *,
    db_session: AsyncSession,
    user: User,
    created_by: str,
    label: str | None = None,
    token: str | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token of `user` (random unless `token` is given); returns it with the row."""
    if not user.active:
        raise Conflict(
            "user '%(name)s' is deactivated", current_state="deactivated", name=user.name
        )
    token = token or new_token()
    row = ApiToken(
        id=str(uuid.uuid4()),
        user_id=user.id,
        prefix=token[:PREFIX_LENGTH],
        token_hash=token_digest(token),
        label=label,
        created_by=created_by,
    )
    db_session.add(row)
    await db_session.flush()
    return row, token


async def list_tokens(*, db_session: AsyncSession, user_id: str) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    return (await db_session.scalars(query)).all()


async def get_token(*, db_session: AsyncSession, token_id: str) -> ApiToken | None:
    return await db_session.get(ApiToken, token_id)


async def find_tokens(*, db_session: AsyncSession, id_or_prefix: str) -> Sequence[ApiToken]:
    """Tokens whose id or prefix is `id_or_prefix` (how an operator names one on the CLI)."""
    query = select(ApiToken).where(
        (ApiToken.id == id_or_prefix) | (ApiToken.prefix == id_or_prefix)
    )
    return (await db_session.scalars(query)).all()


async def revoke_token(*, db_session: AsyncSession, token: ApiToken) -> None:
    """From the commit on, the token authenticates nobody; revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await db_session.flush()


async def authenticate(*, db_session: AsyncSession, token: str) -> Principal | None:
    """The active user whose unrevoked token this is, or None."""
    if len(token) < PREFIX_LENGTH or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    candidates = await db_session.execute(
        select(ApiToken.id, ApiToken.token_hash, User.id, User.name, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.prefix == token[:PREFIX_LENGTH],
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    for token_id, token_hash, user_id, name, role in candidates:
        if hmac.compare_digest(token_hash, digest):
            return Principal(user_id=user_id, name=name, role=Role(role), token_id=token_id)
    return None


async def admin_exists(*, db_session: AsyncSession) -> bool:
    admins = select(User.id).where(User.role == Role.admin, User.active.is_(True))
    return await db_session.scalar(admins.limit(1)) is not None


async def bootstrap_admin(*, db_session: AsyncSession, token: str | None) -> str | None:
    """When no active admin exists, create the user `admin` with `token` (or a new random
    token) and return that token; return None when an admin exists already."""
    if await admin_exists(db_session=db_session):
        return None
    user = await create_user(
        db_session=db_session,
        data=UserCreate(name=BOOTSTRAP_ADMIN, role=Role.admin),
        created_by="bootstrap",
    )
    _, issued = await issue_token(
        db_session=db_session, user=user, created_by="bootstrap", label="bootstrap", token=token
    )
    return issued


# --- passwords (the web app's sign-in) -------------------------------------------------------

#: argon2id with the library's defaults (RFC 9106's second recommended profile).
_hasher = PasswordHasher()
#: A password is at least this long (NIST SP 800-63B: length over composition rules).
MIN_PASSWORD_LENGTH = 10


async def set_password(*, db_session: AsyncSession, user: User, password: str) -> None:
    """Store the argon2 hash of `password` as `user`'s sign-in; refuses a short one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "password", "use at least %(count)s characters", count=MIN_PASSWORD_LENGTH
        )
    user.password_hash = _hasher.hash(password)
    user.password_set_at = utcnow()
    await db_session.flush()


@cache
def _dummy_hash() -> str:
    """Compared against when the name is unknown, so that a sign-in takes as long either way
    (hashed on the first sign-in, not at import: an argon2 hash is a fifth of a second of CPU
    that every process importing this module, and `twinning up`'s start, would spend)."""
    return _hasher.hash("not a password anyone has")


async def verify_password(*, db_session: AsyncSession, name: str, password: str) -> User | None:
    """The active user with this name and password, or None (unknown name, no password set,
    wrong password, deactivated)."""
    user = await get_user_by_name(db_session=db_session, name=name)
    stored = user.password_hash if user is not None and user.active else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
        await db_session.flush()
    return user


def principal_of(user: User) -> Principal:
    """The caller a signed-in user is (no token: the session cookie stands for it)."""
    return Principal(user_id=user.id, name=user.name, role=Role(user.role), token_id=None)
