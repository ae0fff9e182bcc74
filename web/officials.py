"""The officials of the city in the web app: the list in order of precedence, and the forms
that register and edit an official (names, title, protocol rank, and the forms of address in
each language that programmes, briefing books and invitations use)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, TypeVar

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from twinning.api.deps import DbSession
from twinning.db import Page
from twinning.i18n import L_, supported_locales
from twinning.refusals import InvalidField
from twinning.visits import service as visits
from twinning.visits.models import Official
from twinning.visits.precedence import by_precedence, form_of_address
from twinning.visits.schemas import OfficialCreate, OfficialRead, OfficialUpdate
from twinning.web.pages import (
    TWO_LANGUAGES,
    CheckedForm,
    User,
    change_context,
    committed,
    field_errors,
    form_of,
    not_found,
    page_language,
    read_after_change,
    render,
    require_staff,
    texts_of,
)
from twinning.web.registers import save_changes, texts_form

router = APIRouter(prefix="/ui", include_in_schema=False)
P = TypeVar("P")

FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "names": L_("Enter the official's name in one language at least"),
    "title": L_("Enter the official's title in one language at least"),
    "protocol_rank": L_("Enter a protocol rank, a whole number from 1 to 999"),
    "forms_of_address": L_("Enter each form of address in plain text, up to 200 characters"),
}
FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {(name,): name for name in FIELD_MESSAGES}


def precedence_titles(request: Request) -> Mapping[str, int]:
    """The configured table of titles (`TWINNING_PRECEDENCE_TITLES`) of the running app."""
    titles: Mapping[str, int] = request.app.state.settings.precedence_titles
    return titles


def in_precedence(request: Request, people: Iterable[P]) -> list[P]:
    """`people` in order of precedence, as a reader of the page's language sees them."""
    return by_precedence(people, page_language(request), precedence_titles(request))


def official_command(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "names": texts_of(form, "names", TWO_LANGUAGES),
        "title": texts_of(form, "title", TWO_LANGUAGES),
        "protocol_rank": form.get("protocol_rank", "").strip() or None,
        "forms_of_address": texts_of(form, "forms_of_address", supported_locales()),
    }


def _form_context(
    form: Mapping[str, str],
    *,
    official: Official | OfficialRead | None = None,
    errors: Mapping[str, LazyProxy] | None = None,
) -> dict[str, Any]:
    return {"form": form, "errors": errors or {}, "official": official}


@router.get("/officials", response_class=HTMLResponse)
async def official_list(
    request: Request,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """Every official of the city, in order of precedence, with how each is addressed."""
    everyone, state = await read_after_change(
        db_session,
        event,
        lambda: visits.list_officials(db_session=db_session, query=Page(limit=500)),
    )
    language = page_language(request)
    context = {
        "officials": [
            (official, form_of_address(official, language))
            for official in in_precedence(request, list(everyone))
        ],
        **change_context(state, event),
    }
    return render(request, "officials.html", context, user=user)


@router.get("/officials/new", response_class=HTMLResponse)
async def new_official_form(request: Request, user: User) -> HTMLResponse:
    require_staff(user)
    return render(request, "official_form.html", _form_context({}), user=user)


@router.post("/officials/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def register_official(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    try:
        data = OfficialCreate.model_validate(official_command(form))
    except ValidationError as refused:
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        context = _form_context(form, errors=errors)
        return render(request, "official_form.html", context, user=user, status_code=422)
    event = await visits.register_official(db_session=db_session, data=data, actor=user.actor)
    return await committed(request, db_session, "/ui/officials", event.event_id)


async def _official(db_session: DbSession, official_id: str) -> Official:
    official = await visits.get_official(db_session=db_session, official_id=official_id)
    if official is None:
        not_found("official", official_id)
    return official


@router.get("/officials/{official_id}/edit", response_class=HTMLResponse)
async def edit_official_form(
    request: Request, official_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    official = await _official(db_session, official_id)
    form = {
        **texts_form("names", official.names),
        **texts_form("title", official.title),
        **texts_form("forms_of_address", official.forms_of_address),
        "protocol_rank": str(official.protocol_rank),
    }
    return render(request, "official_form.html", _form_context(form, official=official), user=user)


@router.post(
    "/officials/{official_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm]
)
async def update_official(
    request: Request, official_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    official = OfficialRead.model_validate(await _official(db_session, official_id))
    form = await form_of(request)
    try:
        return await save_changes(
            request,
            db_session,
            OfficialUpdate,
            official_command(form),
            official.model_dump(mode="json"),
            lambda data: visits.update_official(
                db_session=db_session, official_id=official_id, data=data, actor=user.actor
            ),
            page="/ui/officials",
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        context = _form_context(form, official=official, errors=errors)
        return render(request, "official_form.html", context, user=user, status_code=422)
