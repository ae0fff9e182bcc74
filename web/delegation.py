"""A visit's delegation members besides its head, in the web app (staff only: their notes
are personal data): the list on the visit's page in order of precedence, a form that adds a
member, and a button that removes one. Each change records the whole new list."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from babel.support import LazyProxy
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from twinning.api.deps import DbSession
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.i18n import L_, supported_locales
from twinning.refusals import Conflict, NotFound
from twinning.streams.events import DelegationMember
from twinning.visits import service as visits
from twinning.visits.lifecycle import OPEN
from twinning.visits.models import Visit
from twinning.visits.precedence import form_of_address
from twinning.web.officials import in_precedence
from twinning.web.pages import (
    TWO_LANGUAGES,
    CheckedForm,
    User,
    committed,
    field_errors,
    form_of,
    not_found,
    page_language,
    refused_to,
    render,
    require_staff,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "names": L_("Enter the member's name in one language at least"),
    "title": L_("Enter the member's title in plain text, up to 2000 characters"),
    "protocol_rank": L_("Enter a protocol rank, a whole number from 1 to 999"),
    "forms_of_address": L_("Enter each form of address in plain text, up to 200 characters"),
    "dietary_notes": L_("Enter the dietary notes in plain text, up to 2000 characters"),
    "accessibility_notes": L_("Enter the accessibility notes in plain text, up to 2000 characters"),
}
FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {(name,): name for name in FIELD_MESSAGES}


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def member_of(form: Mapping[str, str]) -> dict[str, Any]:
    """One member as the form describes them (validated with the whole list)."""
    return {
        "names": texts_of(form, "names", TWO_LANGUAGES),
        "title": texts_of(form, "title", TWO_LANGUAGES),
        "protocol_rank": _blank(form.get("protocol_rank")),
        "forms_of_address": texts_of(form, "forms_of_address", supported_locales()),
        "dietary_notes": _blank(form.get("dietary_notes")),
        "accessibility_notes": _blank(form.get("accessibility_notes")),
    }


def member_key(member: Mapping[str, Any]) -> str:
    """What a remove button names: the member as recorded (a digest), so that a removal sent
    after someone else changed the list removes that member or none."""
    recorded = json.dumps(member, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(recorded.encode()).hexdigest()[:20]


def members_context(request: Request, visit: Visit | None, user: Principal) -> dict[str, Any]:
    """What the visit's page shows staff of the delegation's members (nothing for a viewer),
    in order of precedence."""
    if visit is None or not user.role.includes(Role.staff):
        return {"delegation_members": None}
    language = page_language(request)
    return {
        "delegation_members": [
            (member_key(m), m, form_of_address(m, language))
            for m in in_precedence(request, visit.delegation_members or [])
        ],
        "members_editable": visit.status in OPEN,
    }


async def _visit(db_session: DbSession, visit_id: str) -> Visit:
    visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None:
        not_found("visit", visit_id)
    return visit


async def _save(
    request: Request,
    db_session: DbSession,
    user: Principal,
    visit_id: str,
    edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> Response:
    try:
        event = await visits.edit_delegation_members(
            db_session=db_session, visit_id=visit_id, edit=edit, actor=user.actor
        )
    except (Conflict, NotFound) as refusal:
        await db_session.rollback()
        return refused_to(request, f"/ui/visits/{visit_id}", refusal)
    return await committed(request, db_session, f"/ui/visits/{visit_id}", event.event_id)


@router.get("/visits/{visit_id}/members/new", response_class=HTMLResponse)
async def new_member_form(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    visit = await _visit(db_session, visit_id)
    context = {"visit": visit, "form": {}, "errors": {}}
    return render(request, "delegation_member_form.html", context, user=user)


@router.post("/visits/{visit_id}/members/new", dependencies=[CheckedForm])
async def add_member(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    visit = await _visit(db_session, visit_id)
    form = await form_of(request)
    try:
        member = DelegationMember.model_validate(member_of(form)).to_json()
    except ValidationError as refused:
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        context = {"visit": visit, "form": form, "errors": errors}
        return render(request, "delegation_member_form.html", context, user=user, status_code=422)
    return await _save(request, db_session, user, visit_id, lambda members: [*members, member])


@router.post("/visits/{visit_id}/members/{key}/remove", dependencies=[CheckedForm])
async def remove_member(
    request: Request, visit_id: str, key: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    await _visit(db_session, visit_id)

    def without(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [member_key(member) for member in members]
        if key not in keys:
            raise NotFound("delegation member", visit_id, key)
        position = keys.index(key)
        return members[:position] + members[position + 1 :]

    return await _save(request, db_session, user, visit_id, without)
