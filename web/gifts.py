"""The gifts register in the web app (staff only: a viewer is refused every page): the register
with its filters and yearly downloads, the form that records a gift (with a photo), a gift's
page with its approval and where it is now, and its photo."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.numbers import get_currency_name
from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from twinning.api.deps import Clock, DbSession
from twinning.auth.schemas import Role
from twinning.auth.service import Principal
from twinning.gifts import register, service
from twinning.gifts.labels import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    LOCATION_LABELS,
    OCCASION_LABELS,
)
from twinning.gifts.models import Gift
from twinning.gifts.schemas import GiftApproval, GiftCreate, GiftFilter, GiftUpdate
from twinning.i18n import L_, localized
from twinning.i18n.formatting import babel_locale
from twinning.invitations import service as invitations
from twinning.invitations.schemas import CityEventFilter
from twinning.photos import PhotoRefused, cleaned
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.streams.events import GiftCategory, GiftDirection, GiftLocation, GiftPartyKind
from twinning.trips import service as trips
from twinning.trips.schemas import TripFilter
from twinning.visits import service as visits
from twinning.visits.models import Visit
from twinning.visits.schemas import VisitFilter
from twinning.web.pages import (
    PAGE_SIZE,
    TWO_LANGUAGES,
    CheckedForm,
    User,
    by_name,
    change_context,
    committed,
    field_errors,
    form_of,
    not_found,
    page_language,
    page_links,
    read_after_change,
    refused_to,
    render,
    require_staff,
    templates,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
templates.globals["gift_location_label"] = lambda value: str(LOCATION_LABELS[GiftLocation(value)])

#: The currencies the form offers (any ISO 4217 code is accepted through the API).
CURRENCIES = ("TWD", "USD", "EUR", "JPY", "KRW", "CNY", "HKD", "SGD", "GBP", "AUD", "CAD",
              "NZD", "CHF", "THB", "VND", "PHP", "MYR", "IDR", "INR")  # fmt: skip

GIFT_MESSAGES: Mapping[str, LazyProxy] = {
    "direction": L_("Choose whether the city gave or received the gift"),
    "description": L_("Describe the gift, in one language at least"),
    "category": L_("Choose the kind of gift"),
    "date": L_("Enter the day the gift was given, as a date"),
    "giver": L_("Choose who gave the gift, or choose a person and write their name"),
    "recipient": L_("Choose who received the gift, or choose a person and write their name"),
    "occasion": L_("Choose the visit, trip or city event, or none"),
    "estimated_value": L_(
        "Enter the estimated value as a number, such as 12000, with its currency"
    ),
    "currency": L_("Choose the currency of the estimated value"),
    "location": L_("Choose where the gift is now"),
    "notes": L_("Write the notes in plain text, up to 2000 characters"),
    "photo": L_("Choose a JPEG, PNG or WebP photo smaller than 800 KB"),
}
GIFT_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    (name,): name for name in GIFT_MESSAGES if name not in ("giver", "recipient")
} | {("giver",): "giver", ("recipient",): "recipient", (): "estimated_value"}


# --- choices -------------------------------------------------------------------------------


async def party_choices(
    db_session: AsyncSession, language: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The select's groups: officials, partner cities, missions (value `kind:id`)."""
    who = await register.names(db_session)
    groups = [
        (GiftPartyKind.OFFICIAL, L_("Officials of the city")),
        (GiftPartyKind.PARTNER, L_("Partner cities")),
        (GiftPartyKind.MISSION, L_("Foreign missions")),
    ]
    found = [
        (
            str(label),
            [
                (f"{kind.value}:{rid}", name)
                for rid, name in by_name(who.by_kind[kind.value], language)
            ],
        )
        for kind, label in groups
    ]
    return [*found, (str(L_("Someone else")), [("person:", str(L_("A person (write the name)")))])]


async def occasion_choices(
    db_session: AsyncSession, language: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Visits, trips and city events (value `kind:id`), newest first."""
    who = await register.names(db_session)
    found_visits = await visits.list_visits(db_session=db_session, query=VisitFilter(limit=300))
    visit_choices = []
    for visit in found_visits:
        party = (
            who.by_kind["partner"].get(visit.partner_id or "")
            or who.by_kind["mission"].get(visit.mission_id or "")
            or visit.organisation
            or {}
        )
        when = visit.requested_from.isoformat()
        visit_choices.append(
            (f"visit:{visit.id}", f"{localized(dict(party), language) or visit.id} ({when})")
        )
    found_trips = await trips.list_trips(db_session=db_session, query=TripFilter(limit=300))
    trip_choices = [
        (f"trip:{t.id}", f"{localized(t.title, language)} ({t.starts_at.date().isoformat()})")
        for t in reversed(found_trips)
    ]
    events = await invitations.list_city_events(
        db_session=db_session, query=CityEventFilter(limit=300)
    )
    event_choices = [
        (f"city-event:{e.id}", f"{localized(e.title, language)} ({e.starts_at.date().isoformat()})")
        for e in reversed(events)
    ]
    return [
        (str(OCCASION_LABELS["visit"]), visit_choices),
        (str(OCCASION_LABELS["trip"]), trip_choices),
        (str(OCCASION_LABELS["city-event"]), event_choices),
    ]


def currency_choices(language: str) -> list[tuple[str, str]]:
    locale = babel_locale(language)
    return [(code, f"{code} · {get_currency_name(code, locale=locale)}") for code in CURRENCIES]


def _party(form: Mapping[str, str], name: str) -> dict[str, Any] | None:
    chosen = form.get(name, "").strip()
    if ":" not in chosen:
        return None
    kind, _, record_id = chosen.partition(":")
    person = form.get(f"{name}_name", "").strip() or None
    return {"kind": kind, "id": record_id or None, "name": person}


def _occasion(form: Mapping[str, str]) -> dict[str, str] | None:
    kind, _, record_id = form.get("occasion", "").strip().partition(":")
    return {"kind": kind, "id": record_id} if kind else None


def gift_command(form: Mapping[str, str], photo: dict[str, Any] | None) -> dict[str, Any]:
    """The command the gift form describes (validated by `GiftCreate`, as the API's is)."""
    value = form.get("estimated_value", "").strip().replace(",", "")
    return {
        "direction": form.get("direction", "").strip() or None,
        "description": texts_of(form, "description", TWO_LANGUAGES),
        "category": form.get("category", "").strip() or None,
        "date": form.get("date", "").strip() or None,
        "giver": _party(form, "giver"),
        "recipient": _party(form, "recipient"),
        "occasion": _occasion(form),
        "estimated_value": value or None,
        "currency": (form.get("currency", "").strip() or None) if value else None,
        "location": form.get("location", "").strip() or None,
        "notes": form.get("notes", "").strip() or None,
        "photo": photo,
    }


# --- the register ----------------------------------------------------------------------------


def _choice(value: str, kind: Any) -> Any:
    return kind(value) if value in {item.value for item in kind} else None


@router.get("/gifts", response_class=HTMLResponse)
async def gift_list(
    request: Request,
    user: User,
    db_session: DbSession,
    clock: Clock,
    direction: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=30)] = "",
    location: Annotated[str, Query(max_length=30)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
    awaiting: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Newest first, filtered by direction, kind, where it is now, year and approval."""
    require_staff(user)
    chosen_year = int(year) if year.isdigit() and 1900 <= int(year) <= 2200 else None
    query = GiftFilter(
        direction=_choice(direction, GiftDirection),
        category=_choice(category, GiftCategory),
        location=_choice(location, GiftLocation),
        year=chosen_year,
        awaiting_approval=True if awaiting == "yes" else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    settings = request.app.state.settings
    found = await service.list_gifts(db_session=db_session, query=query, settings=settings)
    filters = {
        "direction": query.direction.value if query.direction else "",
        "category": query.category.value if query.category else "",
        "location": query.location.value if query.location else "",
        "year": str(chosen_year) if chosen_year else "",
        "awaiting": "yes" if query.awaiting_approval else "",
    }
    context = {
        "gifts": [_view(g, settings) for g in found[:PAGE_SIZE]],
        "who": await register.names(db_session),
        "filters": filters,
        "page": page,
        **page_links("/ui/gifts", filters, page, more=len(found) > PAGE_SIZE),
        "register_year": chosen_year or clock().year,
        "directions": list(DIRECTION_LABELS.items()),
        "categories": list(CATEGORY_LABELS.items()),
        "locations": list(LOCATION_LABELS.items()),
    }
    return render(request, "gifts.html", context, user=user)


def _view(gift: Gift, settings: Any) -> dict[str, Any]:
    return {
        "gift": gift,
        "needs_approval": service.needs_approval(gift, settings),
        "direction": DIRECTION_LABELS[GiftDirection(gift.direction)],
        "category": CATEGORY_LABELS[GiftCategory(gift.category)],
        "location": LOCATION_LABELS[GiftLocation(gift.location)],
    }


@router.get("/gifts/register/{year}.{fmt}")
async def register_download(
    request: Request, year: int, fmt: str, user: User, db_session: DbSession
) -> Response:
    """The register of a year for audit, in the page's language: CSV or PDF."""
    require_staff(user)
    if fmt not in ("csv", "pdf") or not 1900 <= year <= 2200:
        not_found("gift", f"{year}.{fmt}")
    settings = request.app.state.settings
    language = page_language(request)
    gifts = await register.gifts_of_year(db_session, year, settings)
    who = await register.names(db_session)
    if fmt == "csv":
        body = register.register_csv(register.table(gifts, who, language, settings))
        media_type = "text/csv; charset=utf-8"
    else:
        html = register.register_html(
            gifts, who, year, language, settings, datetime.now(UTC).date()
        )
        body = await run_in_threadpool(register.register_pdf, html, language, settings)
        media_type = "application/pdf"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="gifts-register-{year}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


# --- the form --------------------------------------------------------------------------------


async def _gift_form(
    request: Request,
    user: Any,
    db_session: AsyncSession,
    form: Mapping[str, Any],
    errors: Mapping[str, LazyProxy],
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    context = {
        "form": form,
        "errors": errors,
        "parties": await party_choices(db_session, language),
        "occasions": await occasion_choices(db_session, language),
        "directions": list(DIRECTION_LABELS.items()),
        "categories": list(CATEGORY_LABELS.items()),
        "locations": list(LOCATION_LABELS.items()),
        "currencies": currency_choices(language),
    }
    return render(request, "gift_form.html", context, user=user, status_code=status_code)


@router.get("/gifts/new", response_class=HTMLResponse)
async def new_gift_form(
    request: Request,
    user: User,
    db_session: DbSession,
    clock: Clock,
    occasion: Annotated[str, Query(max_length=120)] = "",
    recipient: Annotated[str, Query(max_length=120)] = "",
) -> HTMLResponse:
    """The form, with the occasion and the recipient filled in when a page links here (a
    visit's page: the visit and its partner city)."""
    require_staff(user)
    form = {
        "direction": GiftDirection.GIVEN.value,
        "occasion": occasion,
        "recipient": recipient,
        "location": GiftLocation.KEPT.value,
        "currency": request.app.state.settings.gift_approval_currency,
        "date": clock().date().isoformat(),
    }
    return await _gift_form(request, user, db_session, form, {})


@router.post("/gifts/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def record_gift(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form: dict[str, Any] = await form_of(request)
    settings = request.app.state.settings
    errors: dict[str, LazyProxy] = {}
    photo = None
    upload = (await request.form()).get("photo")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        try:
            clean = cleaned(await upload.read(), max_bytes=settings.gift_photo_max_bytes)
            await service.store_photo(db_session=db_session, photo=clean)
            photo = {
                "sha256": clean.sha256,
                "media_type": clean.media_type,
                "size": len(clean.data),
            }
        except PhotoRefused:
            errors["photo"] = GIFT_MESSAGES["photo"]
    try:
        data = GiftCreate.model_validate(gift_command(form, photo))
        if errors:
            raise InvalidField("photo", "the photo is refused")
        event = await service.record_gift(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField, NotFound) as refused:
        await db_session.rollback()
        found = {**_fields_of(refused, form), **errors}
        order = list(GIFT_MESSAGES)
        ordered = dict(sorted(found.items(), key=lambda item: order.index(item[0])))
        return await _gift_form(request, user, db_session, form, ordered, status_code=422)
    return await committed(request, db_session, f"/ui/gifts/{event.aggregate_id}", event.event_id)


def _fields_of(
    refused: ValidationError | InvalidField | NotFound, form: Mapping[str, str]
) -> dict[str, LazyProxy]:
    """The form's fields a refusal is about: a record no longer registered (removed while the
    form was open) is the field that names it."""
    if not isinstance(refused, NotFound):
        return field_errors(refused, GIFT_MESSAGES, GIFT_OF_LOCATION)
    gone = set(refused.ids)
    named = {
        name: form.get(name, "").partition(":")[2] for name in ("giver", "recipient", "occasion")
    }
    fields = [name for name, record_id in named.items() if record_id in gone] or ["photo"]
    return {name: GIFT_MESSAGES[name] for name in fields}


# --- a gift ----------------------------------------------------------------------------------


@router.get("/gifts/photos/{sha256}")
async def gift_photo(sha256: str, request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    stored = await service.get_photo(db_session=db_session, sha256=sha256[:64])
    if stored is None:
        not_found("gift photo", sha256[:64])
    return Response(
        stored.data,
        media_type=stored.media_type,
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )


@router.get("/gifts/{gift_id}", response_class=HTMLResponse)
async def gift_page(
    request: Request,
    gift_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
    refused: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    require_staff(user)
    gift, state = await read_after_change(
        db_session, event, lambda: service.get_gift(db_session=db_session, gift_id=gift_id)
    )
    if gift is None and state is None:
        not_found("gift", gift_id)
    settings = request.app.state.settings
    language = page_language(request)
    context = {
        "gift_id": gift_id,
        "view": _view(gift, settings) if gift else None,
        "who": await register.names(db_session),
        "occasion": await _occasion_link(db_session, gift, language) if gift else None,
        "value": register.money(gift.estimated_value, gift.currency, language) if gift else "",
        "threshold": register.money(
            str(settings.gift_approval_threshold), settings.gift_approval_currency, language
        ),
        "locations": list(LOCATION_LABELS.items()),
        "form": {"location": gift.location if gift else ""},
        "errors": {},
        **change_context(state, event),
        "refused": refused,
    }
    return render(request, "gift.html", context, user=user)


async def _occasion_link(
    db_session: AsyncSession, gift: Gift, language: str
) -> dict[str, str] | None:
    kind, record_id = gift.occasion_kind, gift.occasion_id
    if not kind or not record_id:
        return None
    path = {"visit": "visits", "trip": "trips", "city-event": "city-events"}[kind]
    return {"href": f"/ui/{path}/{record_id}", "label": str(OCCASION_LABELS[kind])}


@router.post("/gifts/{gift_id}/{command}", dependencies=[CheckedForm])
async def take_gift_step(
    request: Request, gift_id: str, command: str, user: User, db_session: DbSession
) -> Response:
    """Approve the gift, or record where it is now; a refused step comes back with the reason."""
    require_staff(user)
    target = f"/ui/gifts/{gift_id}"
    if command not in ("approve", "location"):
        return RedirectResponse(target, status_code=303)
    form = await form_of(request)
    try:
        if command == "approve":
            note = form.get("note", "").strip() or None
            event = await service.approve_gift(
                db_session=db_session,
                gift_id=gift_id,
                data=GiftApproval.model_validate({"note": note}),
                actor=user.actor,
                settings=request.app.state.settings,
            )
        else:
            change = GiftUpdate.model_validate({"location": form.get("location", "")})
            event = await service.update_gift(
                db_session=db_session, gift_id=gift_id, data=change, actor=user.actor
            )
    except ValidationError:
        await db_session.rollback()
        message = GIFT_MESSAGES["location" if command == "location" else "notes"]
        return refused_to(request, target, message)
    except (Conflict, NotFound, InvalidField) as refusal:
        await db_session.rollback()
        return refused_to(request, target, refusal)
    return await committed(request, db_session, target, event.event_id)


# --- on a visit's page -----------------------------------------------------------------------


async def visit_gifts(
    db_session: AsyncSession, visit: Visit | None, user: Principal, language: str
) -> dict[str, Any]:
    """What a visit's page shows staff of the gifts register: what the city gave the visiting
    partner city or mission before, and a link that records a gift on this visit (nothing for
    a viewer, who never sees gifts)."""
    if visit is None or not user.role.includes(Role.staff):
        return {"gifts_before": None}
    party = (
        f"partner:{visit.partner_id}"
        if visit.partner_id
        else f"mission:{visit.mission_id}"
        if visit.mission_id
        else ""
    )
    before = await service.given_before(db_session=db_session, visit=visit)
    on_this_visit = await service.list_gifts(
        db_session=db_session,
        query=GiftFilter(occasion_id=visit.id, limit=50),
    )
    return {
        "gifts_before": before,
        "gifts_on_visit": on_this_visit,
        "gift_who": await register.names(db_session) if before or on_this_visit else None,
        "gift_new": f"/ui/gifts/new?{urlencode({'occasion': f'visit:{visit.id}', 'recipient': party})}",
        "gift_language": language,
    }


# --- on a trip's or a city event's page ------------------------------------------------------


async def occasion_gifts(
    db_session: AsyncSession, kind: str, occasion_id: str | None, user: Principal, language: str
) -> dict[str, Any]:
    """What a trip's or a city event's page (`kind`: "trip", "city-event") shows staff of the
    gifts register: the gifts given and received on it, and a link that records one (nothing
    for a viewer, who never sees gifts)."""
    if occasion_id is None or not user.role.includes(Role.staff):
        return {"occasion_gifts": None}
    found = await service.list_gifts(
        db_session=db_session, query=GiftFilter(occasion_id=occasion_id, limit=100)
    )
    mine = [gift for gift in found if gift.occasion_kind == kind]
    return {
        "occasion_gifts": {
            direction.value: [gift for gift in mine if gift.direction == direction.value]
            for direction in GiftDirection
        },
        "gift_who": await register.names(db_session) if mine else None,
        "gift_new": f"/ui/gifts/new?{urlencode({'occasion': f'{kind}:{occasion_id}'})}",
        "gift_language": language,
    }
