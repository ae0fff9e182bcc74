"""Administration in the web app: users, roles, passwords, API tokens; parked and
dead-lettered events.

Users and tokens are security data, not domain events: as in the API (`api/routes/users.py`)
they are written at once, so these pages show the result directly (no pending banner).

An admin cannot take away their own admin role or deactivate themselves: the page refuses it
with a message (another admin can), so that nobody locks themselves out by a wrong click; the
service's own rule (never leave the system without an active admin) holds as well.

A generated password and a new token's secret are shown once, in the answer to the form that
made them (never in an address, never stored): the page says to copy them now.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.support import LazyProxy
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import DbSession
from twinning.auth import service as auth
from twinning.auth.models import ApiToken
from twinning.auth.models import User as UserRow
from twinning.auth.schemas import Role, TokenCreate, UserCreate, UserUpdate
from twinning.auth.service import MIN_PASSWORD_LENGTH, Principal
from twinning.i18n import L_
from twinning.refusals import Conflict, InvalidField
from twinning.streams.store import DeadLetter, ParkedEvent
from twinning.web.pages import (
    CheckedForm,
    User,
    field_errors,
    form_of,
    not_found,
    page_language,
    render,
    require_admin,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

#: What each form field expects, said when it is refused.
FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "name": L_(
        "Enter a name in lowercase letters, digits and . _ @ -, starting with a letter or a "
        "digit, at most 100 characters"
    ),
    "role": L_("Choose a role: viewer, staff or admin"),
    "password": L_("Enter a password of at least %(count)s characters", count=MIN_PASSWORD_LENGTH),
    "label": L_(
        "Enter what the token is for in at most 200 characters, without control characters"
    ),
}
FIELD_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    ("name",): "name",
    ("role",): "role",
    ("password",): "password",
    ("label",): "label",
}
#: How many parked and dead-lettered events a page lists (the newest).
FAULTS_SHOWN = 200
#: How long a generated password is (URL-safe characters, about 120 random bits).
GENERATED_PASSWORD_BYTES = 15


# --- users -----------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def users_page(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    require_admin(user)
    return await _users_page(request, user, db_session, form={}, errors={})


async def _users_page(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    *,
    form: Mapping[str, str],
    errors: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    users = await auth.list_users(db_session=db_session)
    context = {
        "users": users,
        "role_list": list(Role),
        "form": form,
        "errors": errors,
        "faults": await fault_count(db_session),
    }
    return render(request, "admin_users.html", context, user=user, status_code=status_code)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[CheckedForm])
async def create_user(request: Request, user: User, db_session: DbSession) -> Response:
    require_admin(user)
    form = await form_of(request)
    try:
        data = UserCreate.model_validate(
            {"name": form.get("name", "").strip(), "role": form.get("role", "")}
        )
        created = await auth.create_user(db_session=db_session, data=data, created_by=user.actor)
    except ValidationError as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _users_page(
            request, user, db_session, form=form, errors=errors, status_code=422
        )
    except Conflict as refused:
        await db_session.rollback()
        taken = {"name": refused.text(page_language(request))}
        return await _users_page(
            request, user, db_session, form=form, errors=taken, status_code=409
        )
    await db_session.commit()
    return RedirectResponse(f"/ui/admin/users/{created.id}?done=created", status_code=303)


#: What a user's page says after a change (`?done=`).
DONE: Mapping[str, LazyProxy] = {
    "created": L_("The user was created. Set a password so that they can sign in."),
    "role": L_("The role was changed."),
    "deactivated": L_("The user was deactivated: they cannot sign in, their tokens stop working."),
    "reactivated": L_("The user was reactivated."),
    "password": L_("The password was set."),
    "revoked": L_("The token was revoked: the API refuses it from now on."),
}


async def _user_page(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    shown: UserRow,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, Any] | None = None,
    refused: str | LazyProxy = "",
    done: str = "",
    secret: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    await db_session.refresh(shown)  # expired by a rollback after a refusal
    tokens = await auth.list_tokens(db_session=db_session, user_id=shown.id)
    context = {
        "shown": shown,
        "itself": shown.id == user.user_id,
        "tokens": list(reversed(tokens)),
        "role_list": list(Role),
        "form": form or {},
        "errors": errors or {},
        "refused": refused,
        "done": DONE.get(done, ""),
        "secret": secret,
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "admin_user.html", context, user=user, status_code=status_code)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(
    request: Request, user_id: str, user: User, db_session: DbSession, done: str = ""
) -> HTMLResponse:
    require_admin(user)
    shown = await auth.get_user(db_session=db_session, user_id=user_id[:36])
    if shown is None:
        not_found("user", user_id[:36])
    return await _user_page(request, user, db_session, shown, done=done[:20])


@router.post(
    "/admin/users/{user_id}/{change}", response_class=HTMLResponse, dependencies=[CheckedForm]
)
async def change_user(
    request: Request, user_id: str, change: str, user: User, db_session: DbSession
) -> Response:
    """`role` (with the chosen role), `deactivate`, `reactivate`, `password` (typed, or
    generated when the form's `generate` button was pressed) or `token` (a new one)."""
    require_admin(user)
    shown = await auth.get_user(db_session=db_session, user_id=user_id[:36])
    if shown is None:
        not_found("user", user_id[:36])
    form = await form_of(request)
    language = page_language(request)
    if change in ("role", "deactivate", "reactivate"):
        return await _change_access(request, user, db_session, shown, change, form)
    if change == "password":
        generated = "generate" in form
        password = (
            secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
            if generated
            else form.get("password", "")
        )
        try:
            await auth.set_password(db_session=db_session, user=shown, password=password)
        except InvalidField as refused:
            await db_session.rollback()
            errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
            return await _user_page(
                request, user, db_session, shown, errors=errors, status_code=422
            )
        await db_session.commit()
        if not generated:
            return RedirectResponse(f"/ui/admin/users/{shown.id}?done=password", status_code=303)
        secret = {"kind": "password", "value": password}
        return await _user_page(request, user, db_session, shown, done="password", secret=secret)
    if change == "token":
        try:
            data = TokenCreate.model_validate({"label": form.get("label", "").strip() or None})
            row, token = await auth.issue_token(
                db_session=db_session, user=shown, created_by=user.actor, label=data.label
            )
        except ValidationError as refused:
            await db_session.rollback()
            errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
            return await _user_page(
                request, user, db_session, shown, form=form, errors=errors, status_code=422
            )
        except Conflict as refusal:
            await db_session.rollback()
            return await _user_page(
                request, user, db_session, shown, refused=refusal.text(language), status_code=409
            )
        await db_session.commit()
        secret = {"kind": "token", "value": token, "prefix": row.prefix}
        return await _user_page(request, user, db_session, shown, secret=secret)
    not_found("page", change[:40])


async def _change_access(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    shown: UserRow,
    change: str,
    form: Mapping[str, str],
) -> Response:
    """A new role, or (de)activation; never one's own (another admin does that)."""
    if shown.id == user.user_id:
        refused = L_("You cannot change your own role or deactivate yourself: another admin can.")
        return await _user_page(request, user, db_session, shown, refused=refused, status_code=409)
    try:
        if change == "role":
            data = UserUpdate.model_validate({"role": form.get("role", "")})
        else:
            data = UserUpdate(active=change == "reactivate")
        await auth.update_user(db_session=db_session, user=shown, data=data)
    except ValidationError as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _user_page(
            request, user, db_session, shown, form=form, errors=errors, status_code=422
        )
    except Conflict as refusal:
        await db_session.rollback()
        text = refusal.text(page_language(request))
        return await _user_page(request, user, db_session, shown, refused=text, status_code=409)
    await db_session.commit()
    done = "role" if change == "role" else f"{change}d"
    return RedirectResponse(f"/ui/admin/users/{shown.id}?done={done}", status_code=303)


# --- revoking a token ------------------------------------------------------------------------


async def _token_and_owner(db_session: AsyncSession, token_id: str) -> tuple[ApiToken, UserRow]:
    """The token and whose it is, or the page that says there is no such token."""
    token = await auth.get_token(db_session=db_session, token_id=token_id[:36])
    owner = await auth.get_user(db_session=db_session, user_id=token.user_id) if token else None
    if token is None or owner is None:
        not_found("token", token_id[:36])
    return token, owner


@router.get("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(
    request: Request, token_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    """Ask before revoking: whatever uses the token stops working."""
    require_admin(user)
    found = await _token_and_owner(db_session, token_id)
    token, owner = found
    context = {"token": token, "owner": owner}
    return render(request, "admin_revoke.html", context, user=user)


@router.post("/admin/tokens/{token_id}/revoke", dependencies=[CheckedForm])
async def revoke_token(
    request: Request, token_id: str, user: User, db_session: DbSession
) -> Response:
    require_admin(user)
    found = await _token_and_owner(db_session, token_id)
    token, owner = found
    await auth.revoke_token(db_session=db_session, token=token)
    await db_session.commit()
    return RedirectResponse(f"/ui/admin/users/{owner.id}?done=revoked", status_code=303)


# --- parked and dead-lettered events ---------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """An event the worker parked or could not apply, as an admin sees it: what it is and why,
    never its payload (the API shows admins the reason of an event id, not its body)."""

    kind: str  # "parked" or "dead-lettered"
    event_id: str | None
    event_type: str | None
    aggregate_id: str | None
    topic: str
    at: datetime
    reason: str
    waits_for: str | None = None


def _envelope_facts(raw: str) -> tuple[str | None, str | None, str | None]:
    """The event id, type and aggregate an envelope names, if it is one (else Nones)."""
    try:
        envelope = json.loads(raw)
    except ValueError:
        return None, None, None
    if not isinstance(envelope, dict):
        return None, None, None

    def text(key: str) -> str | None:
        value = envelope.get(key)
        return value[:100] if isinstance(value, str) else None

    return text("event_id"), text("type"), text("aggregate_id")


async def list_faults(db_session: AsyncSession, limit: int = FAULTS_SHOWN) -> list[Fault]:
    """Parked and dead-lettered events, newest first."""
    parked = await db_session.scalars(
        select(ParkedEvent).order_by(ParkedEvent.parked_at.desc()).limit(limit)
    )
    dead = await db_session.scalars(
        select(DeadLetter).order_by(DeadLetter.created_at.desc()).limit(limit)
    )
    faults: list[Fault] = []
    for row in parked:
        _, event_type, aggregate_id = _envelope_facts(row.body)
        faults.append(
            Fault(
                "parked",
                row.event_id,
                event_type,
                aggregate_id,
                row.topic,
                row.parked_at,
                row.reason,
                waits_for=row.waits_for,
            )
        )
    for letter in dead:
        event_id, event_type, aggregate_id = _envelope_facts(letter.raw)
        faults.append(
            Fault(
                "dead-lettered",
                letter.event_id or event_id,
                event_type,
                aggregate_id,
                letter.topic,
                letter.created_at,
                letter.reason,
            )
        )
    faults.sort(key=lambda fault: fault.at, reverse=True)
    return faults[:limit]


async def fault_count(db_session: AsyncSession) -> dict[str, int]:
    parked = await db_session.scalar(select(func.count()).select_from(ParkedEvent))
    dead = await db_session.scalar(select(func.count()).select_from(DeadLetter))
    return {"parked": parked or 0, "dead": dead or 0}


@router.get("/admin/events", response_class=HTMLResponse)
async def events_page(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    require_admin(user)
    context = {"faults": await list_faults(db_session), "counts": await fault_count(db_session)}
    return render(request, "admin_events.html", context, user=user)


async def today_context(
    request: Request, user: Principal, db_session: AsyncSession, today: date, now: datetime
) -> dict[str, Any]:
    """What this module adds to the Today page (rendered by `today_faults.html`): for admins,
    how many events are parked or dead-lettered, and the latest few with their reason."""
    if not user.role.includes(Role.admin):
        return {}
    faults: Sequence[Fault] = await list_faults(db_session, limit=5)
    return {"fault_counts": await fault_count(db_session), "latest_faults": faults}
