"""Delegation visits in the web app: the list by state, the intake form of a request, and a
visit's page with the steps its state allows.

A command is answered before the worker applies it: after a submit the page says the change
is being saved, and turns into the applied state (or the dead-letter reason) by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from twinning.api.deps import DbSession
from twinning.crm import service as crm
from twinning.i18n import L_, supported_locales
from twinning.mail import visit_mail
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.streams.events import NotifiableStep, PhotoSubjectKind
from twinning.streams.status import event_status
from twinning.visits import service as visits
from twinning.visits.lifecycle import STEP_BY_COMMAND, STEPS, VisitStatus
from twinning.visits.precedence import form_of_address
from twinning.visits.schemas import VisitCreate, VisitFilter, item_view
from twinning.web import photos
from twinning.web.briefing import briefing_context
from twinning.web.delegation import members_context
from twinning.web.gifts import visit_gifts
from twinning.web.itinerary import itinerary_context
from twinning.web.letters import letters_context
from twinning.web.pages import (
    TWO_LANGUAGES,
    CheckedForm,
    Forbidden,
    User,
    by_name,
    change_context,
    committed,
    field_errors,
    form_of,
    not_found,
    page_language,
    partner_names,
    read_after_change,
    refused_to,
    render,
    require_staff,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

#: The form's fields, each with what to write when it is refused: what is expected, in the
#: page's language (never a pattern or a type name).
FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "organisation": L_("Choose a partner city, or enter the name of the organisation"),
    "head_name": L_("Enter the name of the head of the delegation"),
    "head_title": L_("Enter the title of the head of the delegation"),
    "head_rank": L_("Enter a protocol rank, a whole number from 1 to 999"),
    "head_address": L_("Enter each form of address in plain text, up to 200 characters"),
    "members": L_("Enter how many people come, a whole number from 1"),
    "purpose": L_("Enter the purpose of the visit"),
    "requested_from": L_("Enter the first day asked for, as a date"),
    "requested_to": L_("Enter the last day asked for, on or after the first day"),
}
#: Where in the command each form field lands (its error's location).
FIELD_OF_LOCATION = {
    ("delegation",): "organisation",
    ("delegation", "organisation"): "organisation",
    ("delegation", "partner_id"): "organisation",
    ("head_of_delegation", "names"): "head_name",
    ("head_of_delegation", "title"): "head_title",
    ("head_of_delegation", "protocol_rank"): "head_rank",
    ("head_of_delegation", "forms_of_address"): "head_address",
    ("members",): "members",
    ("purpose",): "purpose",
    ("requested_from",): "requested_from",
    ("requested_to",): "requested_to",
    (): "requested_to",  # the request's own rule: the last day is not before the first
}
#: The lifecycle steps a visit's page offers, as buttons.
STEP_LABELS: Mapping[str, LazyProxy] = {
    "approve": L_("Approve"),
    "decline": L_("Decline"),
    "schedule": L_("Schedule"),
    "cancel": L_("Cancel the visit"),
}


def visit_request(form: Mapping[str, str]) -> dict[str, Any]:
    """The command the intake form describes (validated by `VisitCreate`, as the API's is)."""
    partner_id = form.get("partner_id", "").strip()
    return {
        "delegation": {"partner_id": partner_id}
        if partner_id
        else {"organisation": texts_of(form, "organisation", TWO_LANGUAGES)},
        "head_of_delegation": {
            "names": texts_of(form, "head_name", TWO_LANGUAGES),
            "title": texts_of(form, "head_title", TWO_LANGUAGES),
            "protocol_rank": form.get("head_rank", "").strip() or None,
            "forms_of_address": texts_of(form, "head_address", supported_locales()),
        },
        "members": form.get("members", "").strip() or None,
        "purpose": texts_of(form, "purpose", TWO_LANGUAGES),
        "requested_from": form.get("requested_from", "").strip() or None,
        "requested_to": form.get("requested_to", "").strip() or None,
        "interpreter_needed": form.get("interpreter_needed") == "yes",
    }


async def _names_of_partner(db_session: DbSession, partner_id: str | None) -> dict[str, Any]:
    """The one partner city a visit's page names (not every partner's)."""
    partner = (
        await crm.get_partner(db_session=db_session, partner_id=partner_id) if partner_id else None
    )
    return {partner.id: partner.names} if partner is not None else {}


async def _partner_choices(db_session: DbSession, language: str) -> list[tuple[str, str]]:
    """The partner cities to choose from, by their names in the page's language."""
    return by_name(await partner_names(db_session), language)


# --- the list ------------------------------------------------------------------------------


@router.get("/visits", response_class=HTMLResponse)
async def visit_list(
    request: Request,
    user: User,
    db_session: DbSession,
    status: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Visits by state, newest first (a state's tab, or all)."""
    chosen = VisitStatus(status) if status in set(VisitStatus) else None
    found = await visits.list_visits(
        db_session=db_session, query=VisitFilter(status=chosen, limit=200)
    )
    context = {
        "visits": found,
        "states": list(VisitStatus),
        "chosen": chosen,
        "partner_names": await partner_names(db_session),
    }
    return render(request, "visits.html", context, user=user)


# --- the intake form -------------------------------------------------------------------------


@router.get("/visits/new", response_class=HTMLResponse)
async def new_visit_form(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    require_staff(user)
    partners = await _partner_choices(db_session, page_language(request))
    context = {"form": {}, "errors": {}, "partners": partners}
    return render(request, "visit_form.html", context, user=user)


@router.post("/visits/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def request_visit(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    try:
        data = VisitCreate.model_validate(visit_request(form))
        event = await visits.request_visit(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        partners = await _partner_choices(db_session, page_language(request))
        context = {
            "form": form,
            "errors": field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION),
            "partners": partners,
        }
        return render(request, "visit_form.html", context, user=user, status_code=422)
    return await committed(request, db_session, f"/ui/visits/{event.aggregate_id}", event.event_id)


# --- one visit -------------------------------------------------------------------------------


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
async def visit_page(
    request: Request,
    visit_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
    refused: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    visit, state = await read_after_change(
        db_session, event, lambda: visits.get_visit(db_session=db_session, visit_id=visit_id)
    )
    if visit is None and state is None:
        not_found("visit", visit_id)
    items = await visits.list_items(db_session=db_session, visit_id=visit_id) if visit else []
    zones = await visits.display_zones(db_session=db_session, items=items)
    steps = [
        step
        for step in STEPS
        if visit is not None and visit.status in step.source and step.command != "complete"
    ]
    contact = (visit.contact or {}) if visit is not None else {}
    context = {
        "contact_email": contact.get("email"),
        "contact_language": visit_mail.contact_language(contact),
        "notifiable": [s for s in steps if issubclass(s.event, NotifiableStep)],
        "visit": visit,
        "visit_id": visit_id,
        "items": [item_view(item, timezone=zones[item.id]) for item in items],
        "steps": steps,
        **change_context(state, event),
        "refused": refused,
        "partner_names": await _names_of_partner(db_session, visit.partner_id if visit else None),
        "step_labels": STEP_LABELS,
        "live": f"visit:{visit_id}",
        **await itinerary_context(
            db_session, visit, items, request.app.state.settings.office_languages
        ),
        **await briefing_context(db_session, visit),
        **await letters_context(db_session, visit),
        **await visit_gifts(db_session, visit, user, page_language(request)),
        "head_address": form_of_address(visit.head_of_delegation, page_language(request))
        if visit
        else None,
        **members_context(request, visit, user),
        **await photos.photos_context(db_session, PhotoSubjectKind.VISIT, visit_id),
    }
    return render(request, "visit.html", context, user=user)


@router.post("/visits/{visit_id}/{command}", dependencies=[CheckedForm])
async def take_step(
    request: Request, visit_id: str, command: str, user: User, db_session: DbSession
) -> Response:
    """Approve, decline, schedule or cancel (mailing the contact when staff chose to), or
    accept a request from the public form: a refused step comes back with the reason."""
    require_staff(user)
    if command == "accept":
        return await _accept(request, visit_id, user, db_session)
    step = STEP_BY_COMMAND.get(command)
    if step is None or command == "complete":
        raise Forbidden
    form = await request.form()
    reason = str(form.get("reason", "")).strip()[:2000] or None
    notify = form.get("notify_contact") == "yes" and issubclass(step.event, NotifiableStep)
    try:
        event = await visits.take_step(
            db_session=db_session,
            visit_id=visit_id,
            step=step,
            reason=reason,
            actor=user.actor,
            notify_contact=notify,
        )
    except (Conflict, NotFound, InvalidField) as refusal:
        await db_session.rollback()
        return refused_to(request, f"/ui/visits/{visit_id}", refusal)
    return await committed(request, db_session, f"/ui/visits/{visit_id}", event.event_id)


async def _accept(request: Request, visit_id: str, user: Any, db_session: DbSession) -> Response:
    try:
        event = await visits.accept_request(
            db_session=db_session, visit_id=visit_id, actor=user.actor
        )
    except (Conflict, NotFound) as refusal:
        await db_session.rollback()
        return refused_to(request, f"/ui/visits/{visit_id}", refusal)
    return await committed(request, db_session, f"/ui/visits/{visit_id}", event.event_id)


@router.get("/visits/{visit_id}/mail-preview/{command}", response_class=HTMLResponse)
async def mail_preview(
    request: Request, visit_id: str, command: str, user: User, db_session: DbSession
) -> HTMLResponse:
    """The email the contact would get for a step, in the contact's language, before it goes."""
    require_staff(user)
    step = STEP_BY_COMMAND.get(command)
    visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None or step is None or not issubclass(step.event, NotifiableStep):
        not_found("visit", visit_id)
    language = visit_mail.contact_language(visit.contact)
    made = await visit_mail.compose(
        db_session,
        visit,
        visit_mail.STEP_KINDS[step.event.__name__],
        settings=request.app.state.settings,
        language=language,
    )
    context = {
        "visit": visit,
        "mail": made,
        "mail_language": language,
        "step_label": STEP_LABELS[step.command],
    }
    return render(request, "visit_mail_preview.html", context, user=user)


@router.get("/events/{event_id}", response_class=HTMLResponse)
async def event_banner(
    request: Request, event_id: str, user: User, db_session: DbSession
) -> Response:
    """Where a change is on its way, as the banner a page polls (htmx): applied reloads it."""
    state = await event_status(db_session, event_id[:36])
    if state is not None and state.status == "applied":
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    context = {"pending": state, "event_id": event_id[:36]}
    return render(request, "event_banner.html", context, user=user)
