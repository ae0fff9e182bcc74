"""Correspondence in the web app: the admins' "Outgoing mail" page (each message, its state,
recipient, kind, cause, and the message itself), and the public answer page an invitee's
personal link leads to (no sign-in: the signed link is the permission)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import Clock, DbSession
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.i18n import L_, localized, resolve, supported_locales
from twinning.invitations import service as invitations
from twinning.invitations.models import CityEvent, Invitation
from twinning.invitations.schemas import RsvpCreate
from twinning.mail import service as mail
from twinning.mail.links import AnswerLink, LinkRefused, read_token
from twinning.mail.models import MailState
from twinning.mail.schemas import MailFilter
from twinning.mail.sender import parsed
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.streams import outbox
from twinning.streams.events import ReceivedVia, RsvpAnswer
from twinning.web.city_events import (
    ANSWER_LABELS,
    RSVP_LOCATIONS,
    RSVP_MESSAGES,
    delegate_details,
    delegate_rows,
    delegates_typed,
)
from twinning.web.pages import (
    PAGE_SIZE,
    User,
    change_state,
    field_errors,
    form_of,
    not_found,
    page_links,
    render,
    require_admin,
)
from twinning.web.session import LANGUAGE_COOKIE, session_key

router = APIRouter(prefix="/ui", include_in_schema=False)

STATE_LABELS: Mapping[str, LazyProxy] = {
    MailState.QUEUED: L_("queued"),
    MailState.SENDING: L_("being sent"),
    MailState.SENT: L_("sent"),
    MailState.FAILED: L_("failed"),
    MailState.BOUNCED: L_("bounced"),
    MailState.CANCELLED: L_("cancelled"),
}
KIND_LABELS: Mapping[str, LazyProxy] = {
    "invitation": L_("Invitation"),
    "reminder": L_("Reminder"),
}
ANSWERS = (RsvpAnswer.ACCEPTED_IN_PERSON, RsvpAnswer.ACCEPTED_BY_VIDEO, RsvpAnswer.DECLINED)
#: The answer page's own wording of the fields the staff form shares.
ANSWER_MESSAGES: Mapping[str, LazyProxy] = {
    "answer": L_("Choose your answer"),
    "delegates": RSVP_MESSAGES["delegates"],
    "delegate_details": RSVP_MESSAGES["delegate_details"],
    "note": L_("Enter a shorter message, or leave it empty"),
}
ANSWER_LOCATIONS = {key: value for key, value in RSVP_LOCATIONS.items() if value in ANSWER_MESSAGES}


def kind_label(kind: str) -> str:
    base, _, days = kind.partition("-")
    text = str(KIND_LABELS.get(base, base))
    return f"{text} ({days})" if days else text


# --- outgoing mail (admins) -------------------------------------------------------------------


@router.get("/admin/mail", response_class=HTMLResponse)
async def mail_page(
    request: Request,
    user: User,
    db_session: DbSession,
    state: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The outbox, newest first, a page at a time, of one state or all."""
    require_admin(user)
    chosen = MailState(state) if state in set(MailState) else None
    found = await mail.list_messages(
        db_session=db_session,
        query=MailFilter(state=chosen, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE),
    )
    filters = {"state": chosen.value if chosen else ""}
    context = {
        "messages": found[:PAGE_SIZE],
        "page": page,
        **page_links("/ui/admin/mail", filters, page, more=len(found) > PAGE_SIZE),
        "counts": await mail.count_by_state(db_session=db_session),
        "chosen_state": chosen.value if chosen else "",
        "mail_states": list(MailState),
        "mail_state_labels": STATE_LABELS,
        "mail_kind": kind_label,
    }
    return render(request, "admin_mail.html", context, user=user)


@router.get("/admin/mail/{message_id}", response_class=HTMLResponse)
async def mail_message_page(
    request: Request, message_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_admin(user)
    row = await mail.get_message(db_session=db_session, message_id=message_id)
    if row is None:
        not_found("mail message", message_id)
    message = parsed(row.rendered) if row.rendered else None
    context = {
        "message": row,
        "text": _text_part(message),
        "attachments": _attachments(message),
        "mail_state_labels": STATE_LABELS,
        "mail_kind": kind_label,
    }
    return render(request, "admin_mail_message.html", context, user=user)


def _text_part(message: EmailMessage | None) -> str | None:
    if message is None:
        return None
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else None  # type: ignore[attr-defined]


def _attachments(message: EmailMessage | None) -> list[tuple[str, str]]:
    if message is None:
        return []
    return [
        (part.get_filename() or "", part.get_content_type()) for part in message.iter_attachments()
    ]


# --- the answer page (public) -----------------------------------------------------------------


def _link(request: Request, token: str, now: datetime) -> AnswerLink:
    return read_token(session_key(request.app.state.settings), token, now=now)


def _chosen_language(request: Request) -> str | None:
    for wish in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if wish and resolve(wish[:35]) is not None:
            return wish
    return None


async def _answer_facts(
    db_session: AsyncSession, link: AnswerLink
) -> tuple[Invitation, CityEvent, Contact, str] | None:
    invitation = await db_session.get(Invitation, link.invitation_id)
    contact = await db_session.get(Contact, link.contact_id)
    if invitation is None or contact is None:
        return None
    city_event = await db_session.get(CityEvent, invitation.city_event_id)
    assert city_event is not None
    invitee: PartnerCity | ForeignMission | None = (
        await db_session.get(PartnerCity, invitation.invitee_id)
        if invitation.invitee_kind == "partner"
        else await db_session.get(ForeignMission, invitation.invitee_id)
    )
    name = (localized(invitee.names) or "") if invitee is not None else ""
    return invitation, city_event, contact, name


def _refused_link(request: Request, *, expired: bool) -> HTMLResponse:
    return render(
        request, "answer_refused.html", {"expired": expired}, status_code=410 if expired else 404
    )


@router.get("/answer/{token}", response_class=HTMLResponse)
async def answer_page(
    request: Request, token: str, db_session: DbSession, clock: Clock
) -> Response:
    try:
        link = _link(request, token, clock())
    except LinkRefused as refused:
        return _refused_link(request, expired=refused.expired)
    if _chosen_language(request) is None:  # the link's language, until the reader switches
        return RedirectResponse(f"{request.url.path}?lang={link.language}", status_code=303)
    event_id = request.query_params.get("event", "")[:36]
    state = await change_state(db_session, event_id)
    facts = await _answer_facts(db_session, link)
    if facts is None:
        return _refused_link(request, expired=False)
    return _answer_form(request, token, facts, {}, {}, state=state)


def _answer_form(
    request: Request,
    token: str,
    facts: tuple[Invitation, CityEvent, Contact, str],
    form: Mapping[str, str],
    errors: Mapping[str, LazyProxy],
    *,
    state: Any = None,
    refused: str | None = None,
    status_code: int = 200,
    delegates: Sequence[Mapping[str, str]] | None = None,
    more_rows: bool = False,
) -> HTMLResponse:
    invitation, city_event, contact, invitee = facts
    current = dict(form) or {
        "answer": invitation.answer if invitation.answer in set(ANSWERS) else "",
        "delegates": str(invitation.delegates or ""),
    }
    rows = delegates if delegates is not None else invitation.delegate_details
    context = {
        "token": token,
        "invitation": invitation,
        "city_event": city_event,
        "contact": contact,
        "invitee": invitee,
        "answers": [(a.value, ANSWER_LABELS[a]) for a in ANSWERS],
        "answer_labels": ANSWER_LABELS,
        "form": current,
        "delegate_rows": delegate_rows(rows, more=more_rows),
        "errors": errors,
        "saved": state,
        "refused": refused,
        "link_languages": supported_locales(),
        "query": lambda **params: urlencode(params),
    }
    return render(request, "answer.html", context, status_code=status_code)


@router.post("/answer/{token}", response_class=HTMLResponse)
async def answer(request: Request, token: str, db_session: DbSession, clock: Clock) -> Response:
    now = clock()
    try:
        link = _link(request, token, now)
    except LinkRefused as refused:
        return _refused_link(request, expired=refused.expired)
    facts = await _answer_facts(db_session, link)
    if facts is None:
        return _refused_link(request, expired=False)
    form = await form_of(request)
    typed = await delegates_typed(request)
    if form.get("more_rows"):
        return _answer_form(request, token, facts, form, {}, delegates=typed, more_rows=True)
    chosen = form.get("answer", "").strip()
    in_person = chosen == RsvpAnswer.ACCEPTED_IN_PERSON
    try:
        data = RsvpCreate.model_validate(
            {
                "answer": chosen or None,
                "delegates": (form.get("delegates", "").strip() or None) if in_person else None,
                "delegate_details": delegate_details(typed) if in_person else [],
                "note": form.get("note", "").strip() or None,
                "received_via": ReceivedVia.PORTAL,
            }
        )
        event = await invitations.record_rsvp(
            db_session=db_session,
            invitation_id=link.invitation_id,
            data=data,
            actor=f"contact:{link.contact_id}",
            now=now,
        )
    except (ValidationError, InvalidField) as refused:
        errors = field_errors(refused, ANSWER_MESSAGES, ANSWER_LOCATIONS)
        return _answer_form(request, token, facts, form, errors, status_code=422, delegates=typed)
    except (Conflict, NotFound) as refusal:
        language = _chosen_language(request) or link.language
        text = refusal.text(language)
        return _answer_form(
            request, token, facts, form, {}, refused=text, status_code=409, delegates=typed
        )
    await outbox.commit(db_session, request.app.state.outbox_signal)
    language = request.query_params.get("lang") or link.language
    target = f"{request.url.path}?{urlencode({'lang': language, 'event': event.event_id})}"
    return RedirectResponse(target, status_code=303)
