"""The interpreter roster in the web app: the list, an interpreter's page (their languages,
their contact for staff, what they are booked for), and the form that registers one.

The contact is personal data: only staff see it (a viewer reads the roster without it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from twinning import export
from twinning.api.deps import DbSession
from twinning.auth.schemas import Role
from twinning.i18n import L_
from twinning.invitations.models import CityEvent, CityEventInterpreter
from twinning.schedule import service as roster
from twinning.schedule.schemas import InterpreterCreate, InterpreterFilter
from twinning.streams.events import Engagement
from twinning.visits.models import ItineraryInterpreter, ItineraryItem
from twinning.web.pages import (
    CheckedForm,
    User,
    change_context,
    committed,
    field_errors,
    form_of,
    not_found,
    person_download,
    read_after_change,
    render,
    require_staff,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

ENGAGEMENT_LABELS: Mapping[str, LazyProxy] = {
    Engagement.IN_HOUSE: L_("On the city's staff"),
    Engagement.CONTRACTED: L_("Contracted"),
}
MESSAGES: Mapping[str, LazyProxy] = {
    "name": L_("Enter the interpreter's name, up to 200 characters"),
    "language_pairs": L_(
        "Enter one direction a line, from a language into another, such as zh-TW > ja"
    ),
    "engagement": L_("Choose whether the interpreter is on the staff or contracted"),
    "email": L_("Enter an email address, such as name@example.org"),
    "phone": L_("Enter a phone number in digits, such as +886 3 332 2101"),
}
LOCATIONS: dict[tuple[str, ...], str] = {
    **{(name,): name for name in MESSAGES},
    ("contact", "email"): "email",
    ("contact", "phone"): "phone",
    (): "name",
}
#: What separates the two languages of a direction on a line of the form.
ARROW = re.compile(r"\s*(?:>|→|->)\s*")


def pairs_of(text: str) -> list[dict[str, str]] | str:
    """The directions the form's lines name; a line that is not one stays as text, so that
    validation refuses it on its field."""
    pairs: list[dict[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = ARROW.split(line.strip())
        if len(parts) != 2:
            return text
        pairs.append({"source": parts[0], "target": parts[1]})
    return pairs


def interpreter_command(form: Mapping[str, str]) -> dict[str, Any]:
    email, phone = form.get("email", "").strip(), form.get("phone", "").strip()
    contact = {"email": email or None, "phone": phone or None} if email or phone else None
    return {
        "name": form.get("name", ""),
        "language_pairs": pairs_of(form.get("language_pairs", "")),
        "engagement": form.get("engagement", "").strip() or None,
        "contact": contact,
    }


def _form_context(
    form: Mapping[str, str], errors: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors or {},
        "engagements": [(value.value, ENGAGEMENT_LABELS[value]) for value in Engagement],
    }


@router.get("/interpreters", response_class=HTMLResponse)
async def interpreter_list(
    request: Request,
    user: User,
    db_session: DbSession,
    language: Annotated[str, Query(max_length=35)] = "",
) -> HTMLResponse:
    """The roster, by name; `language` keeps those who work from or into it."""
    found = await roster.list_interpreters(
        db_session=db_session, query=InterpreterFilter(limit=500, language=language or None)
    )
    context = {
        "interpreters": found,
        "filters": {"language": language},
        "engagement_labels": ENGAGEMENT_LABELS,
    }
    return render(request, "interpreters.html", context, user=user)


@router.get("/interpreters/new", response_class=HTMLResponse)
async def new_interpreter_form(request: Request, user: User) -> HTMLResponse:
    require_staff(user)
    form = {"engagement": Engagement.CONTRACTED.value}
    return render(request, "interpreter_form.html", _form_context(form), user=user)


@router.post("/interpreters/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def register_interpreter(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    try:
        data = InterpreterCreate.model_validate(interpreter_command(form))
    except ValidationError as refused:
        context = _form_context(form, field_errors(refused, MESSAGES, LOCATIONS))
        return render(request, "interpreter_form.html", context, user=user, status_code=422)
    event = await roster.register_interpreter(db_session=db_session, data=data, actor=user.actor)
    return await committed(
        request, db_session, f"/ui/interpreters/{event.aggregate_id}", event.event_id
    )


@router.get("/interpreters/{interpreter_id}/data.json")
async def interpreter_data(interpreter_id: str, user: User, db_session: DbSession) -> Response:
    """Every item of personal data held about the interpreter (a data subject's request for
    access), as one JSON document; 404 for an interpreter not on the roster."""
    require_staff(user)
    document = await export.interpreter_data(db_session, interpreter_id)
    if document is None:
        not_found("interpreter", interpreter_id)
    return person_download(document, "interpreter", interpreter_id)


@router.get("/interpreters/{interpreter_id}", response_class=HTMLResponse)
async def interpreter_page(
    request: Request,
    interpreter_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """An interpreter's languages, their contact (staff), and what they are booked for."""
    interpreter, state = await read_after_change(
        db_session,
        event,
        lambda: roster.get_interpreter(db_session=db_session, interpreter_id=interpreter_id),
    )
    if interpreter is None and state is None:
        not_found("interpreter", interpreter_id)
    items = (
        await db_session.scalars(
            select(ItineraryItem)
            .join(ItineraryInterpreter, ItineraryInterpreter.item_id == ItineraryItem.id)
            .where(
                ItineraryInterpreter.interpreter_id == interpreter_id,
                ItineraryItem.removed.is_(False),
            )
            .order_by(ItineraryItem.starts_at)
        )
    ).all()
    city_events = (
        await db_session.scalars(
            select(CityEvent)
            .join(CityEventInterpreter, CityEventInterpreter.city_event_id == CityEvent.id)
            .where(CityEventInterpreter.interpreter_id == interpreter_id)
            .order_by(CityEvent.starts_at)
        )
    ).all()
    context = {
        "interpreter": interpreter,
        "interpreter_id": interpreter_id,
        "items": items,
        "city_events": city_events,
        "show_contact": user.role.includes(Role.staff),
        "engagement_labels": ENGAGEMENT_LABELS,
        **change_context(state, event),
    }
    return render(request, "interpreter.html", context, user=user)
