"""A visit's itinerary in the web app: the editor (add, change, remove; a venue or an outside
place; officials, interpreter, gift, press), conflicts shown inline with the override, completing
a visit with its exchange, and the day's programme, printable.

The item form is validated by `ItineraryItemCreate` (the whole item, as the API's add is); a
change sends `ItineraryItemUpdate` with only what differs from the stored item, so that a
change which books nothing new is not checked for conflicts again. A booking conflict comes
back on the form with the conflicting items linked, and a reason that books it anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import DbSession
from twinning.auth.service import Principal
from twinning.config import known_timezones
from twinning.crm import exchanges
from twinning.crm import service as crm
from twinning.db import Page
from twinning.i18n import L_, format_date, format_datetime, format_interval
from twinning.i18n.labels import label
from twinning.refusals import Conflict, ConflictingItem, InvalidField, NotFound
from twinning.schedule import service as roster
from twinning.schedule.conflicts import TravelTimes
from twinning.schedule.schemas import InterpreterFilter
from twinning.streams.events import ExchangeDirection, ExchangeField
from twinning.visits import service as visits
from twinning.visits.lifecycle import OPEN, VisitStatus
from twinning.visits.models import ItineraryItem, Official, Venue, Visit
from twinning.visits.schemas import (
    CompleteRequest,
    ItineraryItemCreate,
    ItineraryItemRead,
    ItineraryItemUpdate,
    item_view,
)
from twinning.web.pages import (
    TWO_LANGUAGES,
    ZONES,
    CheckedForm,
    User,
    aware_time,
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

#: The item form's fields, each with what to write when it is refused.
ITEM_MESSAGES: Mapping[str, LazyProxy] = {
    "titles": L_("Enter what the item is, in one language at least"),
    "starts_at": L_("Enter when the item starts, as a date and a time"),
    "ends_at": L_("Enter when the item ends, as a date and a time after the start"),
    "where": L_("Choose a city venue, or enter the name of an outside place"),
    "place_name": L_("Enter the outside place's name, in one language at least"),
    "place_zone": L_("Choose the time zone of the outside place"),
    "place_address": L_("Enter the outside place's address, or leave it empty"),
    "officials": L_("Choose registered officials, each once"),
    "interpreter_ids": L_("Choose interpreters of the roster, each once"),
    "interpreter": L_("Enter the interpreter's name, or leave it empty"),
    "gift": L_("Describe the gift in at most 2000 characters, or leave it empty"),
    "notes": L_("Enter the notes in at most 2000 characters, or leave them empty"),
    "talking_points": L_(
        "Enter the talking points in at most 4000 characters, or leave them empty"
    ),
    "override_reason": L_("Enter why the item is booked in spite of the conflict"),
}
#: Where in the item command each form field lands.
ITEM_FIELD_OF_LOCATION = {
    ("titles",): "titles",
    ("starts_at",): "starts_at",
    ("ends_at",): "ends_at",
    ("venue_id",): "where",
    ("place",): "place_name",
    ("place", "names"): "place_name",
    ("place", "timezone"): "place_zone",
    ("place", "address"): "place_address",
    ("official_ids",): "officials",
    ("interpreter_ids",): "interpreter_ids",
    ("interpreter",): "interpreter",
    ("gift_exchange",): "gift",
    ("notes_shared",): "notes",
    ("talking_points",): "talking_points",
    ("override",): "override_reason",
    (): "where",  # the item's own rules: a venue or a place (the order of times: see below)
}
#: The completion form's fields.
COMPLETE_MESSAGES: Mapping[str, LazyProxy] = {
    "exchange_field": L_("Choose the field of the exchange"),
    "direction": L_("Choose the direction of the exchange"),
    "summary": L_("Enter a summary of the exchange, in one language at least"),
    "participants": L_("Enter how many took part, a whole number from 0, or leave it empty"),
    "exchange_date": L_("Enter the day of the exchange as a date, or leave it empty"),
    "reason": L_("Enter the note in at most 2000 characters, or leave it empty"),
}
COMPLETE_FIELD_OF_LOCATION = {
    ("exchange",): "exchange_field",
    ("exchange", "field"): "exchange_field",
    ("exchange", "direction"): "direction",
    ("exchange", "summary"): "summary",
    ("exchange", "participants"): "participants",
    ("exchange", "date"): "exchange_date",
    ("reason",): "reason",
}


# --- what the pages show -------------------------------------------------------------------


def page_of(href: str | None) -> str | None:
    """The page that shows what an API link names (a conflicting item: its visit's page, at
    the item), or None when no page shows it."""
    if not href:
        return None
    if found := re.fullmatch(r"/visits/([^/?#]+)/itinerary/([^/?#]+)", href):
        return f"/ui/visits/{found[1]}#item-{found[2]}"
    if found := re.fullmatch(r"/(visits|partners|missions|city-events|trips)/([^/?#]+)", href):
        return f"/ui/{found[1]}/{found[2]}"
    return None


async def _registered(db_session: AsyncSession) -> tuple[dict[str, Venue], dict[str, Official]]:
    venues = await visits.list_venues(db_session=db_session, query=Page(limit=500))
    officials = await visits.list_officials(db_session=db_session, query=Page(limit=500))
    return {v.id: v for v in venues}, {o.id: o for o in officials}


async def _views(
    db_session: AsyncSession, items: Sequence[ItineraryItem], *, internal: bool = False
) -> list[Any]:
    zones = await visits.display_zones(db_session=db_session, items=items)
    return [item_view(item, timezone=zones[item.id], internal=internal) for item in items]


async def visit_title(db_session: AsyncSession, visit: Visit) -> dict[str, str]:
    """The name a visit goes by: its partner city's, else the organisation's, else its head's."""
    if visit.partner_id is not None:
        partner = await crm.get_partner(db_session=db_session, partner_id=visit.partner_id)
        if partner is not None:
            return dict(partner.names)
    names = visit.organisation or visit.head_of_delegation.get("names") or {}
    return dict(names)


def _interval(start: datetime, end: datetime, zone: str, times_only: bool = False) -> str:
    """A span of time on the wall clock of `zone`, in the page's language (within `render`):
    its day and hours when it starts and ends the same day, else both moments in full."""
    local = ZoneInfo(zone)
    hours = format_interval(start, end, zone=zone, skeleton="Hm")
    if times_only:
        return hours
    if start.astimezone(local).date() == end.astimezone(local).date():
        return f"{format_date(start.astimezone(local).date(), format='medium')} {hours}"
    starts, ends = (format_datetime(moment, zone, format="short") for moment in (start, end))
    return f"{starts} – {ends}"


#: What a conflicting booking is, as the conflicts list names it.
CONFLICT_KINDS: Mapping[str, LazyProxy] = {
    "itinerary-item": L_("Itinerary item"),
    "city-event": L_("City event"),
    "trip": L_("Trip abroad"),
}
SHOWN = {"interval": _interval, "conflict_kinds": CONFLICT_KINDS}


async def itinerary_context(
    db_session: AsyncSession,
    visit: Visit | None,
    items: Sequence[ItineraryItem],
    office_languages: Sequence[str] = (),
) -> dict[str, Any]:
    """What the visit's page adds for its itinerary: the items with their venues, officials
    and interpreters, the language pairs each needs and who covers them, whether it may
    change, and the exchange a completed visit recorded."""
    venues, officials = await _registered(db_session)
    interpreters = await roster.interpreters_named(
        db_session=db_session, interpreter_ids={i for item in items for i in item.interpreter_ids}
    )
    coverage = (
        {item.id: roster.coverage(item, visit, interpreters, office_languages) for item in items}
        if visit is not None
        else {}
    )
    exchange = None
    if visit is not None and visit.exchange_id:
        exchange = await exchanges.get_exchange(
            db_session=db_session, exchange_id=visit.exchange_id
        )
    return {
        "venues": venues,
        "officials": officials,
        "interpreters": interpreters,
        "coverage": coverage,
        "editable": visit is not None and visit.status in OPEN,
        "exchange": exchange,
        "exchange_field": lambda value: _enum_label(ExchangeField, value),
        "exchange_direction": lambda value: _enum_label(ExchangeDirection, value),
        **SHOWN,
    }


def _enum_label(kind: type[ExchangeField] | type[ExchangeDirection], value: str) -> str:
    return label(kind(value)) if value in set(kind) else value


# --- the item form -------------------------------------------------------------------------


def item_facts(
    form: Mapping[str, str],
    officials: list[str],
    venues: Mapping[str, Venue],
    office_zone: str,
    interpreter_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The item the form describes (validated by `ItineraryItemCreate`): a chosen venue wins
    over the outside place's inputs; times are read in the venue's or the place's zone."""
    venue_id = form.get("venue_id", "").strip() or None
    place_zone = form.get("place_zone", "").strip()
    place = None
    if venue_id is None:
        names = texts_of(form, "place_name", TWO_LANGUAGES)
        if names is not None:
            place = {
                "names": names,
                "timezone": place_zone or None,
                "address": texts_of(form, "place_address", TWO_LANGUAGES),
            }
    if venue_id is not None:
        zone = venues[venue_id].timezone if venue_id in venues else office_zone
    else:
        zone = place_zone if place_zone in known_timezones() else office_zone
    interpreter: bool | str = form.get("interpreter", "").strip() or (
        form.get("interpreter_needed") == "yes"
    )
    return {
        "titles": texts_of(form, "titles", TWO_LANGUAGES),
        "starts_at": aware_time(form.get("starts_at", ""), zone),
        "ends_at": aware_time(form.get("ends_at", ""), zone),
        "venue_id": venue_id,
        "place": place,
        "official_ids": officials,
        "interpreter_ids": interpreter_ids or [],
        "interpreter": interpreter,
        "gift_exchange": form.get("gift", "").strip() or None,
        "press": form.get("press") == "yes",
        "notes_shared": form.get("notes", "").strip() or None,
        "talking_points": form.get("talking_points", "").strip() or None,
    }


def item_form(item: ItineraryItemRead) -> tuple[dict[str, str], list[str]]:
    """The form of a stored item (what its inputs show), and its officials."""
    form: dict[str, str] = {
        "starts_at": item.local_starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": item.local_ends_at.strftime("%Y-%m-%dT%H:%M"),
        "venue_id": item.venue_id or "",
        "gift": item.gift_exchange or "",
        "notes": item.notes_shared or "",
        "talking_points": item.talking_points or "",
        "press": "yes" if item.press else "",
    }
    for code in TWO_LANGUAGES:
        form[f"titles_{code}"] = item.titles.get(code, "")
    if item.place:
        form["place_zone"] = item.place.get("timezone", "")
        for code in TWO_LANGUAGES:
            form[f"place_name_{code}"] = item.place.get("names", {}).get(code, "")
            form[f"place_address_{code}"] = (item.place.get("address") or {}).get(code, "")
    if isinstance(item.interpreter, str):
        form["interpreter"] = item.interpreter
    elif item.interpreter:
        form["interpreter_needed"] = "yes"
    form["interpreter_ids"] = ",".join(item.interpreter_ids)
    return form, list(item.official_ids)


def _changes(data: ItineraryItemCreate, item: ItineraryItem) -> dict[str, Any]:
    """What the form changes of a stored item (the facts that differ from it)."""
    after = data.model_dump(exclude={"override"})
    before: dict[str, Any] = {
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "venue_id": item.venue_id,
        "place": _set_fields(item.place),
        "official_ids": sorted(item.official_ids),
        "interpreter_ids": sorted(item.interpreter_ids),
        "interpreter": item.interpreter,
        "gift_exchange": item.gift_exchange,
        "press": item.press,
        "titles": item.titles,
        "notes_shared": item.notes_shared,
        "talking_points": item.talking_points,
    }
    after["place"] = _set_fields(after["place"])
    after["official_ids"] = sorted(after["official_ids"])
    after["interpreter_ids"] = sorted(after["interpreter_ids"])
    changed = {}
    for key, value in after.items():
        old = before[key]
        if value != old:
            changed[key] = data.model_dump(include={key})[key]
    return changed


def _set_fields(place: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An outside place without its empty fields (as stored and as validated alike)."""
    return {k: v for k, v in place.items() if v is not None} if place else None


def _item_errors(refused: ValidationError | InvalidField) -> dict[str, LazyProxy]:
    """Field -> message; the item's own rule on the order of its times lands on its end."""
    errors = field_errors(refused, ITEM_MESSAGES, ITEM_FIELD_OF_LOCATION)
    if isinstance(refused, ValidationError):
        rules = [str(e["msg"]) for e in refused.errors() if not e["loc"]]
        if rules and all("ends_at" in rule for rule in rules):
            errors.pop("where", None)
            errors["ends_at"] = ITEM_MESSAGES["ends_at"]
    order = list(ITEM_MESSAGES)
    return dict(sorted(errors.items(), key=lambda entry: order.index(entry[0])))


async def conflict_rows(
    db_session: AsyncSession,
    conflicts: Sequence[ConflictingItem],
    venues: Mapping[str, Venue],
    officials: Mapping[str, Official],
) -> list[dict[str, Any]]:
    """Each conflicting record as the form lists it: its page, what it is, when, what it books."""
    rows = []
    for conflict in conflicts:
        facts = conflict.model_extra or {}
        row: dict[str, Any] = {
            "kind": conflict.kind,
            "id": conflict.id,
            "link": page_of(conflict.href),
            "titles": facts.get("title"),
            "item": None,
            "official": officials.get(str(facts.get("official_id") or "")),
            "venue": venues.get(str(facts.get("venue_id") or "")),
            "interpreter": await roster.get_interpreter(
                db_session=db_session, interpreter_id=str(facts.get("interpreter_id"))
            )
            if facts.get("interpreter_id")
            else None,
            "travel_minutes": facts.get("travel_minutes"),
            "starts_at": _instant(facts.get("starts_at")),
            "ends_at": _instant(facts.get("ends_at")),
        }
        visit_id = facts.get("visit_id")
        if conflict.kind == "itinerary-item" and isinstance(visit_id, str):
            found = await visits.get_item(
                db_session=db_session, visit_id=visit_id, item_id=conflict.id
            )
            if found is not None:
                [row["item"]] = await _views(db_session, [found])
                visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
                row["visit"] = await visit_title(db_session, visit) if visit else None
        rows.append(row)
    return rows


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def _visit_or_404(db_session: AsyncSession, visit_id: str) -> Visit:
    visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is None:
        not_found("visit", visit_id)
    return visit


async def _item_page(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    visit: Visit,
    *,
    item: ItineraryItemRead | None,
    form: Mapping[str, str],
    chosen: list[str],
    errors: Mapping[str, Any] | None = None,
    refused: str = "",
    conflicts: Sequence[ConflictingItem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    venues, officials = await _registered(db_session)
    context = {
        "visit": visit,
        "title": await visit_title(db_session, visit),
        "item": item,
        "form": form,
        "chosen": chosen,
        "errors": errors or {},
        "refused": refused,
        "conflicts": await conflict_rows(db_session, conflicts, venues, officials),
        "venues": venues,
        "officials": officials,
        "interpreters": await roster.list_interpreters(
            db_session=db_session, query=InterpreterFilter(limit=500)
        ),
        "zones": ZONES,
        **SHOWN,
    }
    return render(request, "itinerary_form.html", context, user=user, status_code=status_code)


def _office_zone(request: Request) -> str:
    zone: str = request.app.state.settings.office_timezone
    return zone


async def _reloaded(db_session: AsyncSession, visit_id: str) -> Visit:
    """The visit again after a rollback (which expires what the session had loaded)."""
    visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
    assert visit is not None
    return visit


async def _submit_item(
    request: Request, user: Principal, db_session: AsyncSession, visit: Visit, item_id: str | None
) -> Response:
    """Add an item (`item_id` None) or change one: refused with what to fix, or with the
    conflicting bookings and the override; accepted, back to the visit's page."""
    visit_id = visit.id
    form = await form_of(request)
    chosen = await form_list(request, "official_ids")
    interpreting = await form_list(request, "interpreter_ids")
    form = {**form, "interpreter_ids": ",".join(interpreting)}
    venues, _ = await _registered(db_session)
    wants_override = form.get("override") == "yes"
    reason = form.get("override_reason", "").strip()
    override = {"reason": reason} if wants_override and reason else None
    stored = (
        await visits.get_item(db_session=db_session, visit_id=visit.id, item_id=item_id)
        if item_id is not None
        else None
    )
    shown = (await _views(db_session, [stored], internal=True))[0] if stored is not None else None
    try:
        facts = item_facts(form, chosen, venues, _office_zone(request), interpreting)
        data = ItineraryItemCreate.model_validate({**facts, "override": override})
        if stored is None:
            if item_id is not None:
                raise NotFound("itinerary item", item_id)
            event = await visits.add_item(
                db_session=db_session,
                visit_id=visit.id,
                data=data,
                actor=user.actor,
                travel=TravelTimes.of(request.app.state.settings),
            )
        else:
            changes = _changes(data, stored)
            if not changes:
                return RedirectResponse(f"/ui/visits/{visit.id}#item-{stored.id}", status_code=303)
            update = ItineraryItemUpdate.model_validate({**changes, "override": override})
            event = await visits.change_item(
                db_session=db_session,
                visit_id=visit.id,
                item_id=stored.id,
                data=update,
                actor=user.actor,
                travel=TravelTimes.of(request.app.state.settings),
            )
    except (ValidationError, InvalidField, Conflict, NotFound) as refused:
        await db_session.rollback()
        visit = await _reloaded(db_session, visit_id)
        conflicts = refused.conflicts if isinstance(refused, Conflict) else []
        errors: dict[str, LazyProxy] = {}
        text, status_code = "", 422
        if isinstance(refused, ValidationError | InvalidField):
            errors = _item_errors(refused)
        else:  # a booking conflict (with the override), or what it books is gone
            if conflicts and wants_override and not reason:
                errors["override_reason"] = ITEM_MESSAGES["override_reason"]
            text = refused.text(page_language(request))
            status_code = 409 if isinstance(refused, Conflict) else 404
        return await _item_page(
            request,
            user,
            db_session,
            visit,
            item=shown,
            form=form,
            chosen=chosen,
            errors=errors,
            refused=text,
            conflicts=conflicts,
            status_code=status_code,
        )
    return await committed(request, db_session, f"/ui/visits/{visit.id}", event.event_id)


@router.get("/visits/{visit_id}/itinerary/new", response_class=HTMLResponse)
async def new_item_form(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    form = {"place_zone": _office_zone(request)}
    return await _item_page(request, user, db_session, visit, item=None, form=form, chosen=[])


@router.post("/visits/{visit_id}/itinerary/new", dependencies=[CheckedForm])
async def add_item(request: Request, visit_id: str, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    return await _submit_item(request, user, db_session, visit, None)


@router.get("/visits/{visit_id}/itinerary/{item_id}", response_class=HTMLResponse)
async def item_page(
    request: Request, visit_id: str, item_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    """The form of one item: change it, or remove it."""
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    found = await visits.get_item(db_session=db_session, visit_id=visit_id, item_id=item_id)
    if found is None or found.removed:
        not_found("itinerary item", item_id)
    [shown] = await _views(db_session, [found], internal=True)
    form, chosen = item_form(shown)
    form.setdefault("place_zone", _office_zone(request))
    return await _item_page(request, user, db_session, visit, item=shown, form=form, chosen=chosen)


@router.post("/visits/{visit_id}/itinerary/{item_id}", dependencies=[CheckedForm])
async def change_item(
    request: Request, visit_id: str, item_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    return await _submit_item(request, user, db_session, visit, item_id[:100])


@router.post("/visits/{visit_id}/itinerary/{item_id}/remove", dependencies=[CheckedForm])
async def remove_item(
    request: Request, visit_id: str, item_id: str, user: User, db_session: DbSession
) -> Response:
    """Remove an item (kept as removed, so that calendars cancel it); a refusal comes back on
    the visit's page."""
    require_staff(user)
    reason = (await form_of(request)).get("reason", "").strip()[:2000] or None
    try:
        event = await visits.remove_item(
            db_session=db_session,
            visit_id=visit_id,
            item_id=item_id,
            reason=reason,
            actor=user.actor,
        )
    except (Conflict, NotFound) as refusal:
        await db_session.rollback()
        return refused_to(request, f"/ui/visits/{visit_id}", refusal)
    return await committed(request, db_session, f"/ui/visits/{visit_id}", event.event_id)


# --- completing a visit ----------------------------------------------------------------------


def completion(form: Mapping[str, str], *, with_exchange: bool) -> dict[str, Any]:
    """The completion the form describes (validated by `CompleteRequest`, as the API's is)."""
    exchange = None
    if with_exchange:
        exchange = {
            "field": form.get("exchange_field", "").strip() or None,
            "direction": form.get("direction", "").strip() or ExchangeDirection.INBOUND.value,
            "summary": texts_of(form, "summary", TWO_LANGUAGES),
            "participants": form.get("participants", "").strip() or None,
            "date": form.get("exchange_date", "").strip() or None,
        }
    return {"reason": form.get("reason", "").strip() or None, "exchange": exchange}


async def _complete_page(
    request: Request,
    user: Principal,
    db_session: AsyncSession,
    visit: Visit,
    *,
    form: Mapping[str, str],
    errors: Mapping[str, Any] | None = None,
    refused: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "visit": visit,
        "title": await visit_title(db_session, visit),
        "form": form,
        "errors": errors or {},
        "refused": refused,
        "fields": [(f.value, _enum_label(ExchangeField, f.value)) for f in ExchangeField],
        "directions": [
            (d.value, _enum_label(ExchangeDirection, d.value)) for d in ExchangeDirection
        ],
    }
    return render(request, "itinerary_complete.html", context, user=user, status_code=status_code)


@router.get("/visits/{visit_id}/complete", response_class=HTMLResponse)
async def complete_form(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    form = {"direction": ExchangeDirection.INBOUND.value}
    return await _complete_page(request, user, db_session, visit, form=form)


@router.post("/visits/{visit_id}/complete", dependencies=[CheckedForm])
async def complete_visit(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> Response:
    """Complete a scheduled visit; a partner city's visit records its exchange with it."""
    require_staff(user)
    visit = await _visit_or_404(db_session, visit_id)
    form = await form_of(request)
    try:
        data = CompleteRequest.model_validate(
            completion(form, with_exchange=visit.partner_id is not None)
        )
        completed, _exchange = await visits.complete_visit(
            db_session=db_session, visit_id=visit.id, data=data, actor=user.actor
        )
    except (ValidationError, InvalidField, Conflict, NotFound) as refused:
        await db_session.rollback()
        visit = await _reloaded(db_session, visit_id)
        if isinstance(refused, ValidationError | InvalidField):
            errors = field_errors(refused, COMPLETE_MESSAGES, COMPLETE_FIELD_OF_LOCATION)
            return await _complete_page(
                request, user, db_session, visit, form=form, errors=errors, status_code=422
            )
        text = refused.text(page_language(request))
        return await _complete_page(
            request, user, db_session, visit, form=form, refused=text, status_code=409
        )
    return await committed(request, db_session, f"/ui/visits/{visit.id}", completed.event_id)


@router.get("/visits/{visit_id}/exchange", response_class=HTMLResponse)
async def exchange_banner(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> Response:
    """Whether the exchange a completed visit records is applied yet, as the banner its page
    polls (htmx): applied reloads the page."""
    visit = await visits.get_visit(db_session=db_session, visit_id=visit_id)
    if visit is not None and visit.exchange_id:
        found = await exchanges.get_exchange(db_session=db_session, exchange_id=visit.exchange_id)
        if found is not None:
            return Response(status_code=200, headers={"HX-Refresh": "true"})
    context = {"visit_id": visit_id}
    return render(request, "itinerary_exchange_pending.html", context, user=user)


# --- the day's programme ---------------------------------------------------------------------


@router.get("/visits/{visit_id}/programme", response_class=HTMLResponse)
async def programme(
    request: Request,
    visit_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """The itinerary as a timeline per local day (the zone shown), one printed A4 page each."""
    visit, state = await read_after_change(
        db_session, event, lambda: _visit_or_404(db_session, visit_id)
    )
    items = await _views(
        db_session, await visits.list_items(db_session=db_session, visit_id=visit.id)
    )
    days: dict[date, list[ItineraryItemRead]] = {}
    for item in items:
        days.setdefault(item.local_starts_at.date(), []).append(item)
    venues, officials = await _registered(db_session)
    context = {
        "visit": visit,
        "title": await visit_title(db_session, visit),
        "days": sorted(days.items()),
        "venues": venues,
        "officials": officials,
        **change_context(state, event),
        "live": f"visit:{visit.id}",
        "cancelled": visit.status in (VisitStatus.CANCELLED, VisitStatus.DECLINED),
        **SHOWN,
    }
    return render(request, "programme.html", context, user=user)
