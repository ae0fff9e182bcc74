"""The public visit-request form (no sign-in): a delegation asks to visit, in its language.

It records the request as the staff intake form does, through `twinning.visits.public_form`
(marked as coming from the form, flagged for staff until they accept it), and the notifier
mails the contact an acknowledgement in the page's language. Its guards: a size limit on the
body, a honeypot field that people never see (a form that fills it is thanked and dropped),
and at most `TWINNING_VISIT_FORM_PER_HOUR` requests an hour per network address and per
contact email address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from twinning.api.deps import Clock, DbSession
from twinning.i18n import L_, supported_locales
from twinning.refusals import InvalidField
from twinning.streams import outbox
from twinning.streams.events import VisitRequested
from twinning.visits.public_form import TooManyRequests, submit
from twinning.web.pages import (
    by_name,
    change_state,
    field_errors,
    page_language,
    partner_names,
    render,
)
from twinning.web.visits import FIELD_MESSAGES as STAFF_MESSAGES
from twinning.web.visits import FIELD_OF_LOCATION as STAFF_LOCATIONS

router = APIRouter(prefix="/ui", include_in_schema=False)

#: The largest form body taken (bytes): the fields' own limits fit many times over.
MAX_BODY = 32 * 1024
#: The field people never see; a robot that fills every field fills it too.
HONEYPOT = "website"

#: The head of the delegation's standing, as the protocol ranks staff use (1 comes first).
RANKS: Mapping[str, LazyProxy] = {
    "1": L_("Mayor, governor or head of the organisation"),
    "2": L_("Deputy mayor or deputy head"),
    "3": L_("Council member or director"),
    "4": L_("Other"),
}
FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    **{k: v for k, v in STAFF_MESSAGES.items() if k != "head_rank"},
    "head_rank": L_("Choose the standing of the head of the delegation"),
    "contact_name": L_("Enter your name"),
    "contact_email": L_("Enter your email address, like name@example.org, so that we can answer"),
    "contact_phone": L_("Enter a telephone number with digits only, or leave it empty"),
    "dietary_notes": L_("Enter shorter dietary needs, or leave them empty"),
    "accessibility_notes": L_("Enter shorter accessibility needs, or leave them empty"),
}
FIELD_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    **STAFF_LOCATIONS,
    ("contact", "name"): "contact_name",
    ("contact", "email"): "contact_email",
    ("contact", "phone"): "contact_phone",
    ("contact",): "contact_name",
    ("dietary_notes",): "dietary_notes",
    ("accessibility_notes",): "accessibility_notes",
}


def public_request(form: Mapping[str, str], language: str) -> dict[str, Any]:
    """The command the public form describes: its texts in the writer's language."""

    def text(name: str) -> dict[str, str] | None:
        value = form.get(name, "").strip()
        return {language: value} if value else None

    def optional(name: str) -> str | None:
        return form.get(name, "").strip() or None

    partner_id = form.get("partner_id", "").strip()
    return {
        "delegation": {"partner_id": partner_id}
        if partner_id
        else {"organisation": text("organisation")},
        "head_of_delegation": {
            "names": text("head_name"),
            "title": text("head_title"),
            "protocol_rank": form.get("head_rank", "") if form.get("head_rank") in RANKS else None,
        },
        "members": optional("members"),
        "purpose": text("purpose"),
        "requested_from": optional("requested_from"),
        "requested_to": optional("requested_to"),
        "interpreter_needed": form.get("interpreter_needed") == "yes",
        "dietary_notes": optional("dietary_notes"),
        "accessibility_notes": optional("accessibility_notes"),
        "contact": {
            "name": optional("contact_name"),
            "email": optional("contact_email"),
            "phone": optional("contact_phone"),
            "language": language,
        },
    }


async def _form_page(
    request: Request,
    db_session: DbSession,
    form: Mapping[str, str],
    errors: Mapping[str, LazyProxy],
    *,
    refused: LazyProxy | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    context = {
        "form": form,
        "errors": errors,
        "refused": refused,
        "partners": by_name(await partner_names(db_session), language),
        "ranks": list(RANKS.items()),
        "honeypot": HONEYPOT,
        "link_languages": supported_locales(),
        "query": lambda **params: urlencode(params),
    }
    return render(request, "public_visit_request.html", context, status_code=status_code)


@router.get("/visit-request", response_class=HTMLResponse)
async def visit_request_form(request: Request, db_session: DbSession) -> HTMLResponse:
    return await _form_page(request, db_session, {}, {})


@router.post("/visit-request", response_class=HTMLResponse)
async def send_visit_request(request: Request, db_session: DbSession, clock: Clock) -> Response:
    language = page_language(request)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY:
        message = L_("The request is too long: shorten the texts and send it again.")
        return await _form_page(request, db_session, {}, {}, refused=message, status_code=413)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    thanks = f"/ui/visit-request/sent?{urlencode({'lang': language})}"
    if form.get(HONEYPOT, "").strip():
        return RedirectResponse(thanks, status_code=303)  # a robot: thanked, nothing recorded
    errors: dict[str, LazyProxy] = {}
    try:
        data = VisitRequested.model_validate(public_request(form, language))
    except ValidationError as refused:
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
    if not form.get("contact_email", "").strip():
        errors = {**errors, "contact_email": FIELD_MESSAGES["contact_email"]}
        errors = {name: errors[name] for name in FIELD_MESSAGES if name in errors}
    if errors:
        return await _form_page(request, db_session, form, errors, status_code=422)
    settings = request.app.state.settings
    source = request.client.host if request.client else "unknown"
    try:
        event = await submit(
            db_session=db_session,
            data=data,
            source=source,
            now=clock(),
            per_hour=settings.visit_form_per_hour,
        )
    except InvalidField as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _form_page(request, db_session, form, errors, status_code=422)
    except TooManyRequests:
        await db_session.rollback()
        message = L_(
            "We have received several requests from you in the last hour. Please try again in an hour, or write to us."
        )
        return await _form_page(request, db_session, form, {}, refused=message, status_code=429)
    await outbox.commit(db_session, request.app.state.outbox_signal)
    return RedirectResponse(f"{thanks}&{urlencode({'event': event.event_id})}", status_code=303)


@router.get("/visit-request/sent", response_class=HTMLResponse)
async def visit_request_sent(
    request: Request,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """Thanks; whether the request is recorded yet (the acknowledgement follows by email)."""
    state = await change_state(db_session, event)
    context = {
        "saved": state,
        "link_languages": supported_locales(),
        "query": lambda **params: urlencode(params),
    }
    return render(request, "public_visit_request_sent.html", context)
