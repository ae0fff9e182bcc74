"""Exchanges and trips abroad in the web app: lists and forms; trip legs across time zones.

An exchange is recorded with one or more partner cities; a trip abroad is planned with its
officials and its legs, each leg in its destination's own time zone (typed as that place's
wall-clock time, shown the same way, the zone named).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from twinning.api.deps import Clock, DbSession
from twinning.crm import exchanges
from twinning.crm import service as crm
from twinning.crm.schemas import ExchangeCreate, ExchangeFilter, MissionFilter
from twinning.db import Page
from twinning.i18n import L_, localized
from twinning.i18n.labels import EXCHANGE_DIRECTION_LABELS, EXCHANGE_FIELD_LABELS
from twinning.refusals import Conflict, ConflictingItem, InvalidField, NotFound
from twinning.streams.events import ExchangeField, PhotoSubjectKind
from twinning.trips import service as trips
from twinning.trips.models import Trip
from twinning.trips.schemas import (
    TripCancellation,
    TripCompletion,
    TripCreate,
    TripFilter,
    TripStatus,
    TripUpdate,
)
from twinning.visits import service as registers
from twinning.web import photos
from twinning.web.gifts import occasion_gifts
from twinning.web.itinerary import SHOWN, conflict_rows
from twinning.web.pages import (
    PAGE_SIZE,
    TWO_LANGUAGES,
    ZONES,
    CheckedForm,
    Forbidden,
    User,
    aware_time,
    by_name,
    change_context,
    committed,
    country_choices,
    field_errors,
    form_list,
    form_of,
    not_found,
    page_language,
    page_links,
    partner_names,
    read_after_change,
    refused_to,
    render,
    require_staff,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

#: Leg rows a new trip form shows, and at most (the trip's own limit).
LEG_ROWS, MAX_LEGS = 3, 30


# --- exchanges -------------------------------------------------------------------------------


EXCHANGE_MESSAGES: Mapping[str, LazyProxy] = {
    "partner_ids": L_("Choose at least one partner city"),
    "date": L_("Enter the day of the exchange, as a date"),
    "field": L_("Choose the field of cooperation"),
    "direction": L_("Choose how the exchange took place"),
    "summary": L_("Describe the exchange, in one language at least"),
    "participants": L_("Enter how many people took part, a whole number from 0, or leave it empty"),
}
EXCHANGE_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    ("partner_ids",): "partner_ids",
    ("date",): "date",
    ("field",): "field",
    ("direction",): "direction",
    ("summary",): "summary",
    ("participants",): "participants",
}


def exchange_command(
    form: Mapping[str, str], partner_ids: list[str], mission_ids: list[str] | None = None
) -> dict[str, Any]:
    """The command the exchange form describes (validated by `ExchangeCreate`, as the API's is)."""
    return {
        "partner_ids": partner_ids,
        "mission_ids": mission_ids or [],
        "date": form.get("date", "").strip() or None,
        "field": form.get("field", "").strip() or None,
        "direction": form.get("direction", "").strip() or None,
        "summary": texts_of(form, "summary", TWO_LANGUAGES),
        "participants": form.get("participants", "").strip() or None,
    }


@router.get("/exchanges", response_class=HTMLResponse)
async def exchange_list(
    request: Request,
    user: User,
    db_session: DbSession,
    partner: Annotated[str, Query(max_length=100)] = "",
    field: Annotated[str, Query(max_length=30)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Newest first, filtered by partner city, field and year (an empty or unknown choice is
    "any"), a page at a time."""
    names = await partner_names(db_session)
    chosen_partner = partner if partner in names else None
    chosen_field = ExchangeField(field) if field in set(ExchangeField) else None
    chosen_year = int(year) if year.isdigit() and 1900 <= int(year) <= 2200 else None
    found = await exchanges.list_exchanges(
        db_session=db_session,
        query=ExchangeFilter(
            partner_id=chosen_partner,
            field=chosen_field,
            year=chosen_year,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    filters = {
        "partner": chosen_partner or "",
        "field": chosen_field.value if chosen_field else "",
        "year": str(chosen_year) if chosen_year else "",
    }
    context = {
        "exchanges": found[:PAGE_SIZE],
        "page": page,
        **page_links("/ui/exchanges", filters, page, more=len(found) > PAGE_SIZE),
        "filters": filters,
        "partners": by_name(names, page_language(request)),
        "partner_names": names,
        "fields": list(ExchangeField),
    }
    return render(request, "exchanges.html", context, user=user)


async def _exchange_form(
    request: Request,
    user: Any,
    db_session: DbSession,
    form: Mapping[str, Any],
    errors: Mapping[str, LazyProxy],
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "errors": errors,
        "partners": by_name(await partner_names(db_session), page_language(request)),
        "missions": by_name(await _mission_names(db_session), page_language(request)),
        "fields": list(EXCHANGE_FIELD_LABELS.items()),
        "directions": list(EXCHANGE_DIRECTION_LABELS.items()),
    }
    return render(request, "exchange_form.html", context, user=user, status_code=status_code)


@router.get("/exchanges/new", response_class=HTMLResponse)
async def new_exchange_form(
    request: Request,
    user: User,
    db_session: DbSession,
    partner: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    require_staff(user)
    form: dict[str, Any] = {"partner_ids": [partner] if partner else []}
    return await _exchange_form(request, user, db_session, form, {})


@router.post("/exchanges/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def record_exchange(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form: dict[str, Any] = await form_of(request)
    partner_ids = [p for p in await form_list(request, "partner_ids") if p.strip()][:50]
    form["partner_ids"] = partner_ids
    mission_ids = [m for m in await form_list(request, "mission_ids") if m.strip()][:50]
    form["mission_ids"] = mission_ids
    try:
        data = ExchangeCreate.model_validate(exchange_command(form, partner_ids, mission_ids))
        event = await crm.record_exchange(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField, NotFound) as refused:
        await db_session.rollback()
        errors = (
            {"partner_ids": EXCHANGE_MESSAGES["partner_ids"]}
            if isinstance(refused, NotFound)
            else field_errors(refused, EXCHANGE_MESSAGES, EXCHANGE_OF_LOCATION)
        )
        return await _exchange_form(request, user, db_session, form, errors, status_code=422)
    return await committed(
        request, db_session, f"/ui/exchanges/{event.aggregate_id}", event.event_id
    )


@router.get("/exchanges/{exchange_id}", response_class=HTMLResponse)
async def exchange_page(
    request: Request,
    exchange_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    exchange, state = await read_after_change(
        db_session,
        event,
        lambda: exchanges.get_exchange(db_session=db_session, exchange_id=exchange_id),
    )
    if exchange is None and state is None:
        not_found("exchange", exchange_id)
    context = {
        "exchange": exchange,
        "partner_names": await partner_names(db_session) if exchange else {},
        "mission_names": await _mission_names(db_session) if exchange else {},
        **change_context(state, event),
        **await photos.photos_context(db_session, PhotoSubjectKind.EXCHANGE, exchange_id),
    }
    return render(request, "exchange.html", context, user=user)


async def _mission_names(db_session: DbSession) -> dict[str, dict[str, str]]:
    found = await crm.list_missions(db_session=db_session, query=MissionFilter(limit=500))
    return {m.id: m.names for m in found}


# --- trips -----------------------------------------------------------------------------------

TRIP_MESSAGES: Mapping[str, LazyProxy] = {
    "title": L_("Enter the title of the trip, in one language at least"),
    "international_event": L_("Enter the name of the international event, or leave it empty"),
    "officials": L_("Choose at least one official, or write the names of those who travel"),
    "legs": L_("Enter at least one leg, in order: each leg starts after the one before it ends"),
}
#: What each part of a leg says when it is refused, for the leg of that number.
LEG_MESSAGES: Mapping[str, Callable[[int], LazyProxy]] = {
    "city": lambda number: L_(
        "Leg %(number)s: enter the city, in one language at least", number=number
    ),
    "country": lambda number: L_("Leg %(number)s: choose the country", number=number),
    "timezone": lambda number: L_(
        "Leg %(number)s: choose a time zone from the list, such as Asia/Tokyo", number=number
    ),
    "start": lambda number: L_(
        "Leg %(number)s: enter when it starts, as a date and time", number=number
    ),
    "end": lambda number: L_("Leg %(number)s: enter when it ends, after it starts", number=number),
    "partner": lambda number: L_(
        "Leg %(number)s: choose a registered partner city, or none", number=number
    ),
    "itinerary": lambda number: L_(
        "Leg %(number)s: write the notes in plain text, or leave them empty", number=number
    ),
}
LEG_PARTS = ("city", "country", "timezone", "start", "end", "partner", "itinerary")
#: Where a leg's error lands (the part of `TripLeg` named in its location) -> the leg's field.
PART_OF_LOCATION = {
    "city": "city",
    "country": "country",
    "timezone": "timezone",
    "start": "start",
    "end": "end",
    "partner_ids": "partner",
    "itinerary": "itinerary",
}


def leg_rows(form: Mapping[str, str]) -> int:
    """How many leg rows the form shows (as many as it had, at least `LEG_ROWS`)."""
    count = form.get("leg_count", "")
    return min(max(int(count) if count.isdigit() else LEG_ROWS, 1), MAX_LEGS)


def _leg_is_empty(form: Mapping[str, str], row: int, languages: Sequence[str]) -> bool:
    keys = [f"leg{row}_{text}_{code}" for text in ("city", "itinerary") for code in languages]
    keys += [f"leg{row}_{part}" for part in ("country", "timezone", "start", "end", "partner")]
    return not any(form.get(key, "").strip() for key in keys)


def trip_command(
    form: Mapping[str, str],
    official_ids: Sequence[str],
    rows: Sequence[int],
    languages: Sequence[str] = TWO_LANGUAGES,
) -> dict[str, Any]:
    """The command the trip form describes (validated by `TripCreate` or `TripUpdate`, as the
    API's is); `rows` are the form's leg rows that hold something, in order. A leg's partner
    cities beyond the one the form shows come back as they were (`leg<n>_partner_more`)."""
    officials: list[dict[str, str]] = [{"official_id": i} for i in official_ids]
    others = form.get("other_officials", "").splitlines()
    officials += [{"name": name.strip()} for name in others if name.strip()]
    legs = []
    for row in rows:
        zone = form.get(f"leg{row}_timezone", "").strip()
        partner = form.get(f"leg{row}_partner", "").strip()
        more = [p for p in form.get(f"leg{row}_partner_more", "").split() if p != partner]
        legs.append(
            {
                "city": texts_of(form, f"leg{row}_city", languages),
                "country": form.get(f"leg{row}_country", "").strip() or None,
                "timezone": zone or None,
                "start": aware_time(form.get(f"leg{row}_start", ""), zone),
                "end": aware_time(form.get(f"leg{row}_end", ""), zone),
                "partner_ids": ([partner] if partner else []) + more,
                "itinerary": texts_of(form, f"leg{row}_itinerary", languages),
            }
        )
    return {
        "title": texts_of(form, "title", languages),
        "officials": officials,
        "legs": legs,
        "international_event": texts_of(form, "international_event", languages),
    }


def trip_fields(
    count: int, rows: Sequence[int]
) -> tuple[dict[str, LazyProxy], dict[tuple[str, ...], str]]:
    """The trip form's messages and where each error lands, with one set per leg row; `rows`
    are the rows sent as the command's legs (the command's leg k is the form's row rows[k])."""
    messages = dict(TRIP_MESSAGES)
    for row in range(1, count + 1):
        for part in LEG_PARTS:
            messages[f"leg{row}_{part}"] = LEG_MESSAGES[part](row)
    locations: dict[tuple[str, ...], str] = {
        ("title",): "title",
        ("international_event",): "international_event",
        ("officials",): "officials",
        ("legs",): "legs",
    }
    for index, row in enumerate(rows):
        leg = ("legs", str(index))
        locations[leg] = f"leg{row}_end"  # the leg's own rule: it ends after it starts
        for part, name in PART_OF_LOCATION.items():
            locations[(*leg, part)] = f"leg{row}_{name}"
    return messages, locations


async def _official_names(db_session: DbSession) -> dict[str, dict[str, str]]:
    found = await registers.list_officials(db_session=db_session, query=Page(limit=500))
    return {o.id: o.names for o in found}


async def _official_choices(db_session: DbSession, language: str) -> list[tuple[str, str, str]]:
    """(id, name, title) of each registered official, by protocol rank."""
    found = await registers.list_officials(db_session=db_session, query=Page(limit=500))
    return [
        (o.id, localized(o.names, language) or o.id, localized(o.title, language) or "")
        for o in found
    ]


OVERRIDE_REASON = L_("Enter why the trip is planned in spite of the conflict")


async def _trip_form(
    request: Request,
    user: Any,
    db_session: DbSession,
    form: Mapping[str, Any],
    errors: Mapping[str, LazyProxy],
    count: int,
    *,
    trip: Trip | None = None,
    status_code: int = 200,
    conflicts: Sequence[ConflictingItem] = (),
    refused: str = "",
) -> HTMLResponse:
    """The form that plans a trip, or (`trip`) changes a planned one; with the bookings of its
    officials it collides with, and the override, when it was refused for them."""
    language = page_language(request)
    venues = {
        v.id: v for v in await registers.list_venues(db_session=db_session, query=Page(limit=500))
    }
    named = {
        o.id: o
        for o in await registers.list_officials(db_session=db_session, query=Page(limit=500))
    }
    context = {
        "conflicts": await conflict_rows(db_session, conflicts, venues, named),
        "refused": refused,
        **SHOWN,
        "form": form,
        "errors": errors,
        "trip": trip,
        "action": f"/ui/trips/{trip.id}/edit" if trip is not None else "/ui/trips/new",
        "leg_count": count,
        "max_legs": MAX_LEGS,
        "officials": await _official_choices(db_session, language),
        "partners": by_name(await partner_names(db_session), language),
        "countries": country_choices(language),
        "zones": ZONES,
        "text_languages": languages_of(trip),
    }
    return render(request, "trip_form.html", context, user=user, status_code=status_code)


def languages_of(trip: Trip | None) -> tuple[str, ...]:
    """The languages the trip form offers: ours, and any other a trip's texts are in (so that
    a change made in the form keeps them)."""
    if trip is None:
        return TWO_LANGUAGES
    texts = [trip.title, trip.international_event or {}]
    texts += [text for leg in trip.legs for text in (leg.city, leg.itinerary or {})]
    return tuple(dict.fromkeys([*TWO_LANGUAGES, *(code for text in texts for code in text)]))


def trip_form_of(trip: Trip) -> dict[str, Any]:
    """A planned trip as its form shows it: each leg on its own wall clock."""
    form: dict[str, Any] = {
        "official_ids": [o["official_id"] for o in trip.officials if o.get("official_id")],
        "other_officials": "\n".join(
            o["name"] for o in trip.officials if not o.get("official_id") and o.get("name")
        ),
    }
    for name, texts in (("title", trip.title), ("international_event", trip.international_event)):
        form.update({f"{name}_{code}": text for code, text in (texts or {}).items()})
    for row, leg in enumerate(trip.legs, start=1):
        zone = ZoneInfo(leg.timezone)
        for name, texts in (("city", leg.city), ("itinerary", leg.itinerary)):
            form.update({f"leg{row}_{name}_{code}": text for code, text in (texts or {}).items()})
        form[f"leg{row}_country"] = leg.country
        form[f"leg{row}_timezone"] = leg.timezone
        form[f"leg{row}_start"] = leg.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        form[f"leg{row}_end"] = leg.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        form[f"leg{row}_partner"] = leg.partner_ids[0] if leg.partner_ids else ""
        form[f"leg{row}_partner_more"] = " ".join(leg.partner_ids[1:])
    form["leg_count"] = str(min(len(trip.legs) + 1, MAX_LEGS))
    return form


def _trip_times(trip: Trip) -> dict[str, Any]:
    """Where and when a trip starts and ends: in its first and last legs' zones."""
    first, last = trip.legs[0], trip.legs[-1]
    return {
        "starts_at": trip.starts_at,
        "start_zone": first.timezone,
        "ends_at": trip.ends_at,
        "end_zone": last.timezone,
        "cities": [leg.city for leg in trip.legs],
    }


@router.get("/trips", response_class=HTMLResponse)
async def trip_list(
    request: Request, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    """Trips still to come (or under way), soonest first; then past trips, latest first."""
    found = await trips.list_trips(db_session=db_session, query=TripFilter(limit=500))
    now = clock()
    upcoming = [t for t in found if t.legs and t.ends_at >= now]
    past = [t for t in found if t.legs and t.ends_at < now][::-1]
    context = {
        "upcoming": [(t, _trip_times(t)) for t in upcoming],
        "past": [(t, _trip_times(t)) for t in past],
        "official_names": await _official_names(db_session),
    }
    return render(request, "trips.html", context, user=user)


@router.get("/trips/new", response_class=HTMLResponse)
async def new_trip_form(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    require_staff(user)
    form: dict[str, Any] = {"official_ids": []}
    return await _trip_form(request, user, db_session, form, {}, LEG_ROWS)


@router.post("/trips/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def plan_trip(request: Request, user: User, db_session: DbSession) -> Response:
    """Plan the trip; or, with "add another leg", show the same form with one more leg row."""
    require_staff(user)
    return await _submit_trip(request, user, db_session, None)


@router.get("/trips/{trip_id}/edit", response_class=HTMLResponse)
async def edit_trip_form(
    request: Request, trip_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    trip = await trips.get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        not_found("trip", trip_id)
    if trip.status != TripStatus.PLANNED:  # its page says why it cannot change
        return RedirectResponse(f"/ui/trips/{trip_id}", status_code=303)
    form = trip_form_of(trip)
    return await _trip_form(request, user, db_session, form, {}, leg_rows(form), trip=trip)


@router.post("/trips/{trip_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm])
async def change_trip(
    request: Request, trip_id: str, user: User, db_session: DbSession
) -> Response:
    """Change a planned trip: its title, officials and legs as the form shows them."""
    require_staff(user)
    trip = await trips.get_trip(db_session=db_session, trip_id=trip_id)
    if trip is None:
        not_found("trip", trip_id)
    return await _submit_trip(request, user, db_session, trip)


async def _submit_trip(
    request: Request, user: Any, db_session: DbSession, trip: Trip | None
) -> Response:
    """Plan a trip (`trip` None) or change `trip`, as the posted form says; refused with each
    field's message, or shown again with one more leg row when that is what was asked."""
    trip_id = trip.id if trip is not None else None
    form: dict[str, Any] = await form_of(request)
    official_ids = [i for i in await form_list(request, "official_ids") if i.strip()][:50]
    form["official_ids"] = official_ids
    count = leg_rows(form)
    if form.get("more"):
        count = min(count + 1, MAX_LEGS)
        return await _trip_form(request, user, db_session, form, {}, count, trip=trip)
    languages = languages_of(trip)
    rows = [row for row in range(1, count + 1) if not _leg_is_empty(form, row, languages)]
    messages, locations = trip_fields(count, rows)
    command = trip_command(form, official_ids, rows, languages)
    wants_override = form.get("override") == "yes"
    reason = str(form.get("override_reason", "")).strip()
    if wants_override and reason:
        command["override"] = {"reason": reason}
    try:
        if trip is None:
            event = await trips.plan_trip(
                db_session=db_session, data=TripCreate.model_validate(command), actor=user.actor
            )
        else:
            event = await trips.update_trip(
                db_session=db_session,
                trip_id=trip.id,
                data=TripUpdate.model_validate(command),
                actor=user.actor,
            )
    except (Conflict, NotFound) as refusal:
        # Its officials are booked then; no longer planned (changed by someone else); or a
        # partner city no longer registered.
        await db_session.rollback()
        trip = await _reloaded(db_session, trip_id)
        if isinstance(refusal, Conflict) and refusal.conflicts:
            errors = {}
            if wants_override and not reason:
                errors["override_reason"] = OVERRIDE_REASON
            return await _trip_form(
                request,
                user,
                db_session,
                form,
                errors,
                count,
                trip=trip,
                status_code=409,
                conflicts=refusal.conflicts,
                refused=refusal.text(page_language(request)),
            )
        if not (isinstance(refusal, NotFound) and refusal.kind == "partner city"):
            return refused_to(request, f"/ui/trips/{trip_id or ''}", refusal)
        errors = _unknown_partners(form, rows, refusal, messages)
        return await _trip_form(
            request, user, db_session, form, errors, count, trip=trip, status_code=422
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        trip = await _reloaded(db_session, trip_id)
        errors = field_errors(refused, messages, locations)
        return await _trip_form(
            request, user, db_session, form, errors, count, trip=trip, status_code=422
        )
    return await committed(request, db_session, f"/ui/trips/{event.aggregate_id}", event.event_id)


async def _reloaded(db_session: DbSession, trip_id: str | None) -> Trip | None:
    """The trip read again after a rollback (which expires what was read before it)."""
    return await trips.get_trip(db_session=db_session, trip_id=trip_id) if trip_id else None


def _unknown_partners(
    form: Mapping[str, str], rows: Sequence[int], refused: NotFound, messages: Mapping[str, Any]
) -> dict[str, LazyProxy]:
    """The legs whose partner city is not registered (removed while the form was open)."""
    unknown = set(refused.ids)
    legs = [r for r in rows if form.get(f"leg{r}_partner", "").strip() in unknown] or rows[:1]
    return {f"leg{row}_partner": messages[f"leg{row}_partner"] for row in legs}


@router.get("/trips/{trip_id}", response_class=HTMLResponse)
async def trip_page(
    request: Request,
    trip_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
    refused: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    trip, state = await read_after_change(
        db_session, event, lambda: trips.get_trip(db_session=db_session, trip_id=trip_id)
    )
    if trip is None and state is None:
        not_found("trip", trip_id)
    context = {
        "trip": trip,
        "trip_id": trip_id,
        "planned": trip is not None and trip.status == TripStatus.PLANNED,
        "official_names": await _official_names(db_session) if trip else {},
        "partner_names": await partner_names(db_session) if trip else {},
        "fields": list(EXCHANGE_FIELD_LABELS.items()),
        "form": {"field": ExchangeField.GOVERNMENT.value},
        "errors": {},
        **change_context(state, event),
        "refused": refused,
        **await occasion_gifts(
            db_session, "trip", trip.id if trip else None, user, page_language(request)
        ),
    }
    return render(request, "trip.html", context, user=user)


STEP_REFUSED = L_("Write the reason in plain text, up to 2000 characters")


@router.post("/trips/{trip_id}/{command}", dependencies=[CheckedForm])
async def take_trip_step(
    request: Request, trip_id: str, command: str, user: User, db_session: DbSession
) -> Response:
    """Complete (recording the exchange with the partner cities visited) or cancel a planned
    trip: a refused step comes back with the reason."""
    require_staff(user)
    if command not in ("complete", "cancel"):
        raise Forbidden
    form = await form_of(request)
    target = f"/ui/trips/{trip_id}"
    try:
        if command == "complete":
            completion = TripCompletion.model_validate(
                {"field": form.get("field") or ExchangeField.GOVERNMENT.value}
            )
            event, _ = await trips.complete_trip(
                db_session=db_session, trip_id=trip_id, data=completion, actor=user.actor
            )
        else:
            reason = form.get("reason", "").strip() or None
            cancellation = TripCancellation.model_validate({"reason": reason})
            event = await trips.cancel_trip(
                db_session=db_session, trip_id=trip_id, data=cancellation, actor=user.actor
            )
    except ValidationError:
        await db_session.rollback()
        with_message = (
            STEP_REFUSED if command == "cancel" else L_("Choose the field of cooperation")
        )
        return refused_to(request, target, with_message)
    except (Conflict, NotFound) as refusal:
        await db_session.rollback()
        return refused_to(request, target, refusal)
    return await committed(request, db_session, target, event.event_id)
