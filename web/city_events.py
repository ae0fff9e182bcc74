"""City events in the web app: the list, the form that schedules one, and an event's page where
staff invite partner cities and foreign missions, record their answers, read the summary
(counts per answer, who has not replied) and cancel or complete the event. The Today page
shows the invitations past their answer-by date without a reply (`today_context`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import zip_longest
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import Clock, DbSession
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.crm import service as crm
from twinning.crm.schemas import MissionFilter, PartnerFilter
from twinning.db import Page
from twinning.i18n import L_, localized
from twinning.i18n.labels import label
from twinning.invitations import service as invitations
from twinning.invitations.models import NO_REPLY, CityEvent, CityEventStatus, InvitationStatus
from twinning.invitations.schemas import (
    CityEventCancel,
    CityEventComplete,
    CityEventCreate,
    CityEventFilter,
    CityEventUpdate,
    InvitationsCreate,
    RsvpCreate,
)
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.schedule import service as roster
from twinning.schedule.conflicts import TravelTimes
from twinning.schedule.schemas import InterpreterFilter
from twinning.streams.events import (
    CityEventKind,
    ExchangeField,
    InviteeKind,
    ReceivedVia,
    RsvpAnswer,
)
from twinning.visits import service as visits
from twinning.web.gifts import occasion_gifts
from twinning.web.itinerary import SHOWN, conflict_rows
from twinning.web.pages import (
    TWO_LANGUAGES,
    CheckedForm,
    User,
    aware_time,
    by_name,
    change_context,
    committed,
    field_errors,
    form_list,
    form_of,
    not_found,
    page_language,
    read_after_change,
    refused_to,
    render,
    require_staff,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

# --- what each form asks for, and what to write when it is refused --------------------------

#: The form that schedules a city event.
EVENT_MESSAGES: Mapping[str, LazyProxy] = {
    "kind": L_("Choose what kind of event it is"),
    "title": L_("Enter the event's title, in one language at least"),
    "description": L_("Enter a shorter description, or leave it empty"),
    "starts_at": L_("Enter when the event starts, as a date and a time"),
    "ends_at": L_("Enter when the event ends, as a date and a time after its start"),
    "timezone": L_("Enter the venue's time zone as a region and a city, such as Asia/Taipei"),
    "venue": L_("Choose a city venue or enter a place, not both"),
    "video_link": L_(
        "Enter the link for video attendance, starting with https://, or leave it empty"
    ),
    "official_ids": L_("Choose registered officials, each once"),
    "interpreter_ids": L_("Choose interpreters of the roster, each once"),
    "override_reason": L_("Enter why the event is booked in spite of the conflict"),
}
EVENT_LOCATIONS = {
    ("kind",): "kind",
    ("title",): "title",
    ("description",): "description",
    ("starts_at",): "starts_at",
    ("ends_at",): "ends_at",
    ("timezone",): "timezone",
    ("venue",): "venue",
    ("video_link",): "video_link",
    ("official_ids",): "official_ids",
    ("interpreter_ids",): "interpreter_ids",
    ("override",): "override_reason",
    (): "ends_at",
}
#: The invitation form of an event's page.
INVITE_MESSAGES: Mapping[str, LazyProxy] = {
    "invitees": L_("Choose at least one partner city or mission not invited yet"),
    "answer_by": L_("Enter the day to answer by, on or before the event's first day"),
}
INVITE_LOCATIONS = {("invitees",): "invitees", ("answer_by",): "answer_by", (): "invitees"}
#: The form that records an answer.
RSVP_MESSAGES: Mapping[str, LazyProxy] = {
    "invitation": L_("Choose whose answer this is"),
    "answer": L_("Choose the answer"),
    "delegates": L_(
        "Enter how many delegates come in person, a whole number from 1; only when they come "
        "in person"
    ),
    "delegate_details": L_(
        "Enter the name of each delegate listed (the title and needs are optional), no more "
        "delegates than come in person; only when they come in person"
    ),
    "received_via": L_("Choose how the answer arrived"),
    "note": L_("Enter a shorter note, or leave it empty"),
}
RSVP_LOCATIONS = {
    ("invitation",): "invitation",
    ("answer",): "answer",
    ("delegates",): "delegates",
    ("delegate_details",): "delegate_details",
    ("received_via",): "received_via",
    ("note",): "note",
    (): "answer",
}
#: The form that records a held event as an exchange.
COMPLETE_MESSAGES: Mapping[str, LazyProxy] = {
    "field": L_("Choose the field of the exchange"),
    "summary": L_("Enter what took place, in one language at least"),
    "participants": L_("Enter how many people took part, a whole number from 0, or leave it empty"),
}
COMPLETE_LOCATIONS = {
    ("field",): "field",
    ("summary",): "summary",
    ("participants",): "participants",
    (): "summary",
}

KIND_LABELS: Mapping[str, LazyProxy] = {
    CityEventKind.FESTIVAL: L_("Festival"),
    CityEventKind.FORUM: L_("Forum"),
    CityEventKind.CEREMONY: L_("Ceremony"),
    # TRANSLATORS: a kind of city event that is not a festival, a forum or a ceremony.
    CityEventKind.OTHER: L_("Other event"),
}
#: An invitation's answer as the summary counts it.
ANSWER_LABELS: Mapping[str, LazyProxy] = {
    NO_REPLY: L_("No reply yet"),
    RsvpAnswer.ACCEPTED_IN_PERSON: L_("Accepted, in person"),
    RsvpAnswer.ACCEPTED_BY_VIDEO: L_("Accepted, by video"),
    RsvpAnswer.DECLINED: L_("Declined"),
}
RECEIVED_VIA_LABELS: Mapping[str, LazyProxy] = {
    ReceivedVia.PORTAL: L_("Through the portal"),
    ReceivedVia.LETTER: L_("By letter"),
    ReceivedVia.EMAIL: L_("By email"),
    ReceivedVia.PHONE: L_("By phone"),
}
INVITEE_KIND_LABELS: Mapping[str, LazyProxy] = {
    InviteeKind.PARTNER: L_("Partner city"),
    InviteeKind.MISSION: L_("Foreign mission"),
}
LABELS = {
    "kind_labels": KIND_LABELS,
    "answer_labels": ANSWER_LABELS,
    "received_via_labels": RECEIVED_VIA_LABELS,
    "invitee_kind_labels": INVITEE_KIND_LABELS,
}


# --- shared helpers ---------------------------------------------------------------------------

#: A delegate's row in an answer form: its inputs are `delegate_<field>`, repeated per row.
DELEGATE_FIELDS = ("name", "title", "needs")
#: Empty rows an answer form offers below those filled, and how many more "More rows" adds.
SPARE_DELEGATE_ROWS, MORE_DELEGATE_ROWS = 3, 5
#: As many as an answer may list (`Rsvp.delegate_details`).
MAX_DELEGATE_ROWS = 100


async def delegates_typed(request: Request) -> list[dict[str, str]]:
    """The delegate rows of a posted answer form in which something was typed."""
    posted = await request.form()
    columns = [
        [v.strip() for v in posted.getlist(f"delegate_{name}") if isinstance(v, str)]
        for name in DELEGATE_FIELDS
    ]
    rows = (
        dict(zip(DELEGATE_FIELDS, row, strict=True)) for row in zip_longest(*columns, fillvalue="")
    )
    return [row for row in rows if any(row.values())][:MAX_DELEGATE_ROWS]


def delegate_details(rows: Sequence[Mapping[str, str]]) -> list[dict[str, str | None]]:
    """The rows as the command's `delegate_details` (an empty input is no value)."""
    return [{name: row.get(name) or None for name in DELEGATE_FIELDS} for row in rows]


def delegate_rows(
    rows: Sequence[Mapping[str, Any]] | None, *, more: bool = False
) -> list[Mapping[str, Any]]:
    """The rows an answer form shows: those given, then empty ones to fill."""
    given = list(rows or [])
    spare = SPARE_DELEGATE_ROWS + (MORE_DELEGATE_ROWS if more else 0)
    return (given + [{}] * spare)[: max(MAX_DELEGATE_ROWS, len(given))]


def city_event_command(form: Mapping[str, str]) -> dict[str, Any]:
    """The command the form describes (validated by `CityEventCreate`, as the API's is)."""
    zone = form.get("timezone", "").strip()
    venue_id = form.get("venue_id", "").strip()
    place = form.get("place", "").strip()
    venue: dict[str, str | None] | None = None
    if venue_id or place:
        venue = {"venue_id": venue_id or None, "place": place or None}
    return {
        "kind": form.get("kind", "").strip() or None,
        "title": texts_of(form, "title", TWO_LANGUAGES),
        "description": texts_of(form, "description", TWO_LANGUAGES),
        "starts_at": aware_time(form.get("starts_at", ""), zone),
        "ends_at": aware_time(form.get("ends_at", ""), zone),
        "timezone": zone or None,
        "venue": venue,
        "video_link": form.get("video_link", "").strip() or None,
        "open_to_partners": form.get("open_to_partners") == "yes",
    }


async def _names(db_session: AsyncSession) -> dict[tuple[str, str], dict[str, str]]:
    """Every partner city's and mission's names, by (invitee kind, id)."""
    partners = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
    missions = await crm.list_missions(db_session=db_session, query=MissionFilter(limit=500))
    names = {(InviteeKind.PARTNER.value, p.id): p.names for p in partners}
    names.update({(InviteeKind.MISSION.value, m.id): m.names for m in missions})
    return names


async def _refused_event_form(
    request: Request,
    db_session: AsyncSession,
    user: Any,
    template: str,
    context: dict[str, Any],
    refused: Exception,
    form: Any,
    errors: dict[str, Any],
    *,
    override_unexplained: bool,
) -> HTMLResponse:
    """A city event's form (new or change) again, with what was refused: 422 naming the
    fields, or 409 listing the bookings it conflicts with (and asking for the override's
    reason when the override was ticked without one)."""
    conflicts = refused.conflicts if isinstance(refused, Conflict) else []
    if conflicts and override_unexplained:
        errors["override_reason"] = EVENT_MESSAGES["override_reason"]
    venues, named = await _venues(db_session), context["officials"]
    context.update(
        form=form,
        errors=errors,
        conflicts=await conflict_rows(db_session, conflicts, venues, named),
        refused=refused.text(page_language(request)) if isinstance(refused, Conflict) else "",
    )
    status_code = 409 if isinstance(refused, Conflict) else 422
    return render(request, template, context, user=user, status_code=status_code)


async def _venues(db_session: AsyncSession) -> dict[str, Any]:
    return {v.id: v for v in await visits.list_venues(db_session=db_session, query=Page(limit=500))}


# --- the list and the form --------------------------------------------------------------------


async def _booked_choices(db_session: AsyncSession) -> dict[str, Any]:
    """The officials and the interpreters a city event may book."""
    officials = await visits.list_officials(db_session=db_session, query=Page(limit=500))
    interpreters = await roster.list_interpreters(
        db_session=db_session, query=InterpreterFilter(limit=500)
    )
    return {"officials": {o.id: o for o in officials}, "interpreters": interpreters}


async def _list_context(
    request: Request, db_session: AsyncSession, now: datetime
) -> dict[str, Any]:
    found = await invitations.list_city_events(
        db_session=db_session, query=CityEventFilter(limit=500)
    )
    upcoming = [e for e in found if e.ends_at >= now]
    past = sorted((e for e in found if e.ends_at < now), key=lambda e: e.starts_at, reverse=True)
    venues = await _venues(db_session)
    language = page_language(request)
    venue_choices = by_name({v.id: v.names for v in venues.values()}, language)
    return {
        "upcoming": upcoming,
        "past": past,
        "venues": venues,
        "venue_choices": venue_choices,
        "kinds": [(kind.value, str(KIND_LABELS[kind])) for kind in CityEventKind],
        **await _booked_choices(db_session),
        "chosen_officials": [],
        "chosen_interpreters": [],
        "conflicts": [],
        "refused": "",
        **LABELS,
        **SHOWN,
    }


@router.get("/city-events", response_class=HTMLResponse)
async def city_event_list(
    request: Request, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    """Upcoming events first (soonest first), then past ones (latest first); the form below
    for staff."""
    context = await _list_context(request, db_session, clock())
    office_zone = request.app.state.settings.office_timezone
    context.update(form={"timezone": office_zone, "open_to_partners": "yes"}, errors={})
    return render(request, "city_events.html", context, user=user)


@router.post("/city-events", response_class=HTMLResponse, dependencies=[CheckedForm])
async def schedule_city_event(
    request: Request, user: User, db_session: DbSession, clock: Clock
) -> Response:
    require_staff(user)
    form = await form_of(request)
    officials = await form_list(request, "official_ids")
    interpreters = await form_list(request, "interpreter_ids")
    reason = form.get("override_reason", "").strip()
    wants_override = form.get("override") == "yes"
    try:
        data = CityEventCreate.model_validate(
            {
                **city_event_command(form),
                "official_ids": officials,
                "interpreter_ids": interpreters,
                "override": {"reason": reason} if wants_override and reason else None,
            }
        )
        event = await invitations.schedule_city_event(
            db_session=db_session,
            data=data,
            actor=user.actor,
            travel=TravelTimes.of(request.app.state.settings),
        )
    except (ValidationError, InvalidField, Conflict) as refused:
        await db_session.rollback()
        context = await _list_context(request, db_session, clock())
        errors = field_errors(refused, EVENT_MESSAGES, EVENT_LOCATIONS)
        context.update(chosen_officials=officials, chosen_interpreters=interpreters)
        return await _refused_event_form(
            request, db_session, user, "city_events.html", context, refused, form, errors,
            override_unexplained=wants_override and not reason,
        )  # fmt: skip
    return await committed(
        request, db_session, f"/ui/city-events/{event.aggregate_id}", event.event_id
    )


# --- one event --------------------------------------------------------------------------------


async def _event_context(
    request: Request,
    db_session: AsyncSession,
    city_event_id: str,
    city_event: CityEvent | None,
    user: Principal,
    now: datetime,
) -> dict[str, Any]:
    language = page_language(request)
    sent = (
        await invitations.list_invitations(db_session=db_session, city_event_id=city_event_id)
        if city_event is not None
        else []
    )
    summary = (
        await invitations.invitation_summary(
            db_session=db_session, city_event_id=city_event_id, now=now
        )
        if city_event is not None
        else None
    )
    names = await _names(db_session)
    active = [i for i in sent if i.status == InvitationStatus.INVITED]
    invited = {(i.invitee_kind, i.invitee_id) for i in active}

    def choices(kind: InviteeKind) -> list[tuple[str, str]]:
        found = {
            f"{kind.value}:{key[1]}": texts
            for key, texts in names.items()
            if key[0] == kind.value and key not in invited
        }
        return by_name(found, language)

    venue = (
        await visits.get_venue(db_session=db_session, venue_id=city_event.venue_id)
        if city_event is not None and city_event.venue_id
        else None
    )
    scheduled = city_event is not None and city_event.status == CityEventStatus.SCHEDULED
    started = city_event is not None and now >= city_event.starts_at
    overdue = {u.invitation_id for u in summary.not_replied_after_answer_by} if summary else set()
    booked = await _booked_choices(db_session)
    return {
        "city_event": city_event,
        "city_event_id": city_event_id,
        "venue": venue,
        "attending": [
            booked["officials"][o]
            for o in (city_event.official_ids if city_event is not None else [])
            if o in booked["officials"]
        ],
        "interpreting": [
            i
            for i in booked["interpreters"]
            if city_event is not None and i.id in city_event.interpreter_ids
        ],
        "invitations": sent,
        "active": active,
        "summary": summary,
        "no_reply": [i for i in active if i.answer == NO_REPLY],
        "overdue": overdue,
        "names": names,
        "partner_choices": choices(InviteeKind.PARTNER),
        "mission_choices": choices(InviteeKind.MISSION),
        "may_invite": scheduled and not started,
        "may_answer": scheduled and not started and bool(active),
        "may_cancel": scheduled,
        "may_complete": scheduled and started,
        "personal_data": user.role.includes(Role.staff),
        "answers": [(a.value, str(ANSWER_LABELS[a])) for a in RsvpAnswer],
        "received_via": [(v.value, str(RECEIVED_VIA_LABELS[v])) for v in ReceivedVia],
        "field_choices": [(f.value, label(f)) for f in ExchangeField],
        "rsvp_choices": [
            (
                i.id,
                localized(names.get((i.invitee_kind, i.invitee_id), {}), language) or i.invitee_id,
            )
            for i in active
        ],
        "chosen_invitees": [],
        "delegate_rows": delegate_rows(None),
        "form": {},
        "errors": {},
        "refused": "",
        "pending": None,
        "event_id": "",
        "live": f"city-event:{city_event_id}",
        **LABELS,
        **await occasion_gifts(
            db_session, "city-event", city_event.id if city_event else None, user, language
        ),
    }


@router.get("/city-events/{city_event_id}", response_class=HTMLResponse)
async def city_event_page(
    request: Request,
    city_event_id: str,
    user: User,
    db_session: DbSession,
    clock: Clock,
    event: Annotated[str, Query(max_length=36)] = "",
    refused: Annotated[str, Query(max_length=500)] = "",
    invitation: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    city_event, state = await read_after_change(
        db_session,
        event,
        lambda: invitations.get_city_event(db_session=db_session, city_event_id=city_event_id),
    )
    if city_event is None and state is None:
        not_found("city event", city_event_id)
    context = await _event_context(request, db_session, city_event_id, city_event, user, clock())
    context.update(change_context(state, event), refused=refused, form={"invitation": invitation})
    chosen = next((i for i in context["active"] if i.id == invitation), None)
    if chosen is not None and chosen.delegate_details:  # changing an answer: its rows
        context["delegate_rows"] = delegate_rows(chosen.delegate_details)
    return render(request, "city_event.html", context, user=user)


async def _refused_form(
    request: Request,
    db_session: AsyncSession,
    city_event_id: str,
    user: Principal,
    now: datetime,
    form: dict[str, str],
    errors: Mapping[str, LazyProxy],
    chosen: Sequence[str] = (),
    *,
    delegates: Sequence[Mapping[str, str]] = (),
    more_rows: bool = False,
) -> Response:
    """The event's page again (422), with what was typed and what to fix next to it (200
    when the answer form only asked for more delegate rows)."""
    await db_session.rollback()
    city_event = await invitations.get_city_event(
        db_session=db_session, city_event_id=city_event_id
    )
    if city_event is None:
        not_found("city event", city_event_id)
    context = await _event_context(request, db_session, city_event_id, city_event, user, now)
    context.update(
        form=form,
        errors=errors,
        chosen_invitees=list(chosen),
        delegate_rows=delegate_rows(delegates, more=more_rows),
    )
    status_code = 200 if more_rows else 422
    return render(request, "city_event.html", context, user=user, status_code=status_code)


async def _refused_step(
    request: Request, db_session: AsyncSession, city_event_id: str, refusal: Conflict | NotFound
) -> RedirectResponse:
    """Back to the event's page, saying why the step was refused."""
    await db_session.rollback()
    return refused_to(request, f"/ui/city-events/{city_event_id}", refusal)


async def _done(
    request: Request, db_session: AsyncSession, city_event_id: str, event_id: str
) -> RedirectResponse:
    """The event's page, waiting for the change to be applied."""
    return await committed(request, db_session, f"/ui/city-events/{city_event_id}", event_id)


@router.post("/city-events/{city_event_id}/invite", dependencies=[CheckedForm])
async def invite(
    request: Request, city_event_id: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    """Invite the chosen partner cities and missions, all with one answer-by date."""
    require_staff(user)
    form = await form_of(request)
    chosen = await form_list(request, "invitees")
    invitees = [
        {"kind": kind, "id": ident} for kind, _, ident in (value.partition(":") for value in chosen)
    ]
    now = clock()
    try:
        data = InvitationsCreate.model_validate(
            {"answer_by": form.get("answer_by", "").strip() or None, "invitees": invitees}
        )
        events = await invitations.send_invitations(
            db_session=db_session, city_event_id=city_event_id, data=data, actor=user.actor, now=now
        )
    except (ValidationError, InvalidField) as refused:
        errors = field_errors(refused, INVITE_MESSAGES, INVITE_LOCATIONS)
        return await _refused_form(
            request, db_session, city_event_id, user, now, form, errors, chosen
        )
    except (Conflict, NotFound) as refusal:
        return await _refused_step(request, db_session, city_event_id, refusal)
    return await _done(request, db_session, city_event_id, events[-1].event_id)


@router.post("/city-events/{city_event_id}/answer", dependencies=[CheckedForm])
async def record_answer(
    request: Request, city_event_id: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    """Record (or change) one invitee's answer, as it arrived."""
    require_staff(user)
    form = await form_of(request)
    now = clock()
    invitation_id = form.get("invitation", "").strip()
    found = (
        await invitations.get_invitation(db_session=db_session, invitation_id=invitation_id)
        if invitation_id
        else None
    )
    typed = await delegates_typed(request)
    if form.get("more_rows"):
        return await _refused_form(
            request, db_session, city_event_id, user, now, form, {}, delegates=typed, more_rows=True
        )
    if found is None or found.city_event_id != city_event_id:
        errors = {"invitation": RSVP_MESSAGES["invitation"]}
        return await _refused_form(
            request, db_session, city_event_id, user, now, form, errors, delegates=typed
        )
    try:
        data = RsvpCreate.model_validate(
            {
                "answer": form.get("answer", "").strip() or None,
                "delegates": form.get("delegates", "").strip() or None,
                "delegate_details": delegate_details(typed),
                "note": form.get("note", "").strip() or None,
                "received_via": form.get("received_via", "").strip() or None,
            }
        )
        event = await invitations.record_rsvp(
            db_session=db_session, invitation_id=invitation_id, data=data, actor=user.actor, now=now
        )
    except (ValidationError, InvalidField) as refused:
        errors = field_errors(refused, RSVP_MESSAGES, RSVP_LOCATIONS)
        return await _refused_form(
            request, db_session, city_event_id, user, now, form, errors, delegates=typed
        )
    except (Conflict, NotFound) as refusal:
        return await _refused_step(request, db_session, city_event_id, refusal)
    return await _done(request, db_session, city_event_id, event.event_id)


@router.post("/city-events/{city_event_id}/cancel", dependencies=[CheckedForm])
async def cancel(
    request: Request, city_event_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    reason = str((await request.form()).get("reason", "")).strip()[:2000] or None
    try:
        event = await invitations.cancel_city_event(
            db_session=db_session,
            city_event_id=city_event_id,
            data=CityEventCancel(reason=reason),
            actor=user.actor,
        )
    except (Conflict, NotFound) as refusal:
        return await _refused_step(request, db_session, city_event_id, refusal)
    return await _done(request, db_session, city_event_id, event.event_id)


@router.post("/city-events/{city_event_id}/complete", dependencies=[CheckedForm])
async def complete(
    request: Request, city_event_id: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    """Record a held event as the exchange it was (with the partners who accepted)."""
    require_staff(user)
    form = await form_of(request)
    now = clock()
    try:
        data = CityEventComplete.model_validate(
            {
                "field": form.get("field", "").strip() or None,
                "summary": texts_of(form, "summary", TWO_LANGUAGES),
                "participants": form.get("participants", "").strip() or None,
            }
        )
        completed, *_ = await invitations.complete_city_event(
            db_session=db_session, city_event_id=city_event_id, data=data, actor=user.actor, now=now
        )
    except (ValidationError, InvalidField) as refused:
        errors = field_errors(refused, COMPLETE_MESSAGES, COMPLETE_LOCATIONS)
        return await _refused_form(request, db_session, city_event_id, user, now, form, errors)
    except (Conflict, NotFound) as refusal:
        return await _refused_step(request, db_session, city_event_id, refusal)
    return await _done(request, db_session, city_event_id, completed.event_id)


# --- the Today page -------------------------------------------------------------------------


async def today_context(
    request: Request, user: Principal, db_session: AsyncSession, today: date, now: datetime
) -> dict[str, Any]:
    """Invitations past their answer-by date without a reply, for events still to come (an
    answer can be recorded until the event starts), each judged in its event's zone."""
    coming = await invitations.list_city_events(
        db_session=db_session,
        query=CityEventFilter(status=CityEventStatus.SCHEDULED, starts_from=today, limit=500),
    )
    overdue: list[dict[str, Any]] = []
    names: dict[tuple[str, str], dict[str, str]] | None = None
    for city_event in coming:
        if city_event.starts_at <= now:
            continue
        summary = await invitations.invitation_summary(
            db_session=db_session, city_event_id=city_event.id, now=now
        )
        if summary is None or not summary.not_replied_after_answer_by:
            continue
        names = names if names is not None else await _names(db_session)
        overdue.extend(
            {
                "invitee": names.get((u.invitee_kind.value, u.invitee_id)) or {"en": u.invitee_id},
                "invitee_kind": u.invitee_kind.value,
                "answer_by": u.answer_by,
                "city_event": city_event,
            }
            for u in summary.not_replied_after_answer_by
        )
    overdue.sort(key=lambda o: (o["answer_by"], o["city_event"].starts_at))
    return {"overdue_invitations": overdue, "invitee_kind_labels": INVITEE_KIND_LABELS}


# --- changing an event: its facts, time, venue, attendees and co-hosts -------------------------


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _form_of_event(city_event: CityEvent) -> dict[str, str]:
    """The change form as the stored event fills it."""
    zone = city_event.timezone
    return {
        **{f"title_{code}": text for code, text in city_event.title.items()},
        **{f"description_{code}": text for code, text in (city_event.description or {}).items()},
        "kind": city_event.kind,
        "timezone": zone,
        "starts_at": _local(city_event.starts_at, zone),
        "ends_at": _local(city_event.ends_at, zone),
        "venue_id": city_event.venue_id or "",
        "place": city_event.venue_place or "",
        "video_link": city_event.video_link or "",
        "open_to_partners": "yes" if city_event.open_to_partners else "",
    }


def _change_command(
    form: Mapping[str, str], officials: list[str], interpreters: list[str], co_hosts: list[str]
) -> dict[str, Any]:
    return {
        **city_event_command(form),
        "official_ids": officials,
        "interpreter_ids": interpreters,
        "co_hosts": [
            {"kind": kind, "id": record_id}
            for kind, _, record_id in (chosen.partition(":") for chosen in co_hosts)
        ],
    }


def _changed(wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The fields of the whole form that differ from the stored event, each compared as the
    command records it (raises `ValidationError` for the whole form)."""
    recorded = CityEventUpdate.model_validate(wanted).model_dump(mode="json")
    stored = CityEventUpdate.model_validate(current).model_dump(mode="json")
    return {name: wanted[name] for name in wanted if recorded.get(name) != stored.get(name)}


async def _change_context(
    request: Request, db_session: AsyncSession, city_event: CityEvent, now: datetime
) -> dict[str, Any]:
    language = page_language(request)
    names = await _names(db_session)
    return {
        **await _list_context(request, db_session, now),
        "city_event": city_event,
        "co_host_choices": by_name({f"{kind}:{i}": n for (kind, i), n in names.items()}, language),
        "chosen_co_hosts": [f"{c['kind']}:{c['id']}" for c in city_event.co_hosts or []],
    }


async def _scheduled_event(db_session: AsyncSession, city_event_id: str) -> CityEvent:
    city_event = await invitations.get_city_event(
        db_session=db_session, city_event_id=city_event_id
    )
    if city_event is None:
        not_found("city event", city_event_id)
    return city_event


@router.get("/city-events/{city_event_id}/edit", response_class=HTMLResponse)
async def change_city_event_form(
    request: Request, city_event_id: str, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    require_staff(user)
    city_event = await _scheduled_event(db_session, city_event_id)
    context = await _change_context(request, db_session, city_event, clock())
    context.update(
        form=_form_of_event(city_event),
        errors={},
        chosen_officials=city_event.official_ids,
        chosen_interpreters=city_event.interpreter_ids,
    )
    return render(request, "city_event_form.html", context, user=user)


@router.post(
    "/city-events/{city_event_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm]
)
async def change_city_event(
    request: Request, city_event_id: str, user: User, db_session: DbSession, clock: Clock
) -> Response:
    """Only what the form changed is sent; a booking conflict comes back with the conflicting
    items and the override with a reason, as when the event was scheduled."""
    require_staff(user)
    city_event = await _scheduled_event(db_session, city_event_id)
    form = await form_of(request)
    officials = await form_list(request, "official_ids")
    interpreters = await form_list(request, "interpreter_ids")
    co_hosts = await form_list(request, "co_hosts")
    reason = form.get("override_reason", "").strip()
    wants_override = form.get("override") == "yes"
    page = f"/ui/city-events/{city_event_id}"
    current = _change_command(
        _form_of_event(city_event),
        city_event.official_ids,
        city_event.interpreter_ids,
        [f"{c['kind']}:{c['id']}" for c in city_event.co_hosts or []],
    )
    try:
        changed = _changed(_change_command(form, officials, interpreters, co_hosts), current)
        if not changed:
            return RedirectResponse(page, status_code=303)
        if wants_override and reason:
            changed["override"] = {"reason": reason}
        data = CityEventUpdate.model_validate(changed)
        event = await invitations.update_city_event(
            db_session=db_session,
            city_event_id=city_event_id,
            data=data,
            actor=user.actor,
            travel=TravelTimes.of(request.app.state.settings),
        )
    except (ValidationError, InvalidField, Conflict) as refused:
        await db_session.rollback()
        city_event = await _scheduled_event(db_session, city_event_id)
        context = await _change_context(request, db_session, city_event, clock())
        errors = field_errors(refused, CHANGE_MESSAGES, CHANGE_LOCATIONS)
        context.update(
            chosen_officials=officials, chosen_interpreters=interpreters, chosen_co_hosts=co_hosts
        )
        return await _refused_event_form(
            request, db_session, user, "city_event_form.html", context, refused, form, errors,
            override_unexplained=wants_override and not reason,
        )  # fmt: skip
    return await committed(request, db_session, page, event.event_id)


#: The change form asks what the scheduling form asks, and the co-hosts.
CHANGE_MESSAGES: Mapping[str, LazyProxy] = {
    **EVENT_MESSAGES,
    "co_hosts": L_("Choose registered partner cities or missions, each once"),
}
CHANGE_LOCATIONS = {**EVENT_LOCATIONS, ("co_hosts",): "co_hosts"}
