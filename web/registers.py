"""The registers in the web app: foreign missions and contacts (list, detail, create, edit,
erasure), and the forms that create and edit partner cities (with a warning before a second
partner city of the same name is registered).

Contacts are personal data: every contact page and form is for staff only (403 for a viewer),
and no page a viewer reads names a contact.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from twinning import export
from twinning.api.deps import DbSession
from twinning.auth.schemas import Role
from twinning.crm import exchanges, stats
from twinning.crm import service as crm
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.crm.schemas import (
    ContactCreate,
    ContactFilter,
    ContactRead,
    ContactUpdate,
    ExchangeFilter,
    ForeignMissionCreate,
    ForeignMissionRead,
    ForeignMissionUpdate,
    MissionFilter,
    PartnerCityCreate,
    PartnerCityRead,
    PartnerCityUpdate,
    PartnerFilter,
)
from twinning.i18n import L_, language_name, localized, supported_locales
from twinning.i18n.labels import MISSION_KIND_LABELS, label
from twinning.refusals import InvalidField, NotFound
from twinning.streams.events import Event, ExchangeField, MissionKind, PartnerKind, PartnerStatus
from twinning.streams.status import EventState
from twinning.web.pages import (
    CheckedForm,
    User,
    by_name,
    change_context,
    change_state,
    committed,
    country_choices,
    field_errors,
    form_list,
    form_of,
    not_found,
    page_language,
    paged,
    partner_names,
    pending_of,
    person_download,
    read_after_change,
    render,
    require_staff,
    texts_of,
    zone_choices,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

# --- what each form field expects, and where a refusal lands --------------------------------

PARTNER_FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "names": L_("Enter the city's name in one language at least"),
    "country": L_("Choose the country"),
    "kind": L_("Choose the kind of partnership"),
    "status": L_("Choose the status of the partnership"),
    "timezone": L_("Choose the city's time zone"),
    "agreement_date": L_("Enter the day the agreement was signed, as a date"),
    "agreement_scope": L_("Describe the agreement in plain text, up to 2000 characters"),
    "fields_of_cooperation": L_("Choose fields of cooperation from the list"),
    "region": L_("Enter the region in plain text, up to 200 characters"),
    "languages": L_("Enter language codes separated by commas, such as ja, en"),
    "website": L_("Enter the website's full address, starting with https://"),
    "latitude": L_("Enter the latitude in degrees, a number from -90 to 90"),
    "longitude": L_("Enter the longitude in degrees, a number from -180 to 180"),
    "population": L_("Enter the number of inhabitants as a whole number, such as 1960000"),
}
PARTNER_FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {
    **{(name,): name for name in PARTNER_FIELD_MESSAGES},
    ("location",): "latitude",
    ("location", "latitude"): "latitude",
    ("location", "longitude"): "longitude",
    (): "names",
}
MISSION_FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "names": L_("Enter the mission's name in one language at least"),
    "country": L_("Choose the country the mission represents"),
    "kind": L_("Choose the kind of mission"),
    "address": L_("Enter the address in plain text"),
    "website": L_("Enter the website's full address, starting with https://"),
}
MISSION_FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {
    **{(name,): name for name in MISSION_FIELD_MESSAGES},
    (): "names",
}
CONTACT_FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "belongs_to": L_("Choose the partner city or the foreign mission the contact works for"),
    "name": L_("Enter the contact's name, up to 200 characters"),
    "title": L_("Enter the contact's title, up to 200 characters"),
    "organisation": L_("Enter the organisation, up to 200 characters"),
    "email": L_("Enter an email address, such as name@example.org"),
    "phone": L_("Enter a phone number in digits, such as +81 11 211 2111"),
    "preferred_language": L_("Choose a language from the list"),
}
CONTACT_FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {
    **{(name,): name for name in CONTACT_FIELD_MESSAGES},
    ("partner_id",): "belongs_to",
    ("mission_id",): "belongs_to",
    (): "belongs_to",
}


# --- what the forms share ------------------------------------------------------------------


def texts_form(name: str, texts: Mapping[str, str] | None) -> dict[str, str]:
    """A multilingual field as its form inputs (`name_zh-TW`, `name_en`, …)."""
    return {f"{name}_{code}": text for code, text in (texts or {}).items()}


def changes(
    update: type[BaseModel], wanted: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of a whole edit form that differ from the record (so that an edit changes
    only what the user changed, not what someone else changed meanwhile). Each field is
    compared as the command would record it; raises `ValidationError` for the whole form."""
    recorded = update.model_validate(wanted).model_dump(mode="json")
    return {
        name: value for name, value in wanted.items() if recorded.get(name) != current.get(name)
    }


async def save_changes(
    request: Request,
    db_session: DbSession,
    update: type[BaseModel],
    wanted: Mapping[str, Any],
    current: Mapping[str, Any],
    save: Callable[[Any], Awaitable[Event]],
    *,
    page: str,
    saved: str | None = None,
) -> Response:
    """An edit form's changes (`changes`) saved as `update` by `save`, then the record's page
    (`saved`, when the change is shown elsewhere while it is applied); nothing changed, the
    page at once. Raises `ValidationError` or `InvalidField` for the form to show."""
    changed = changes(update, wanted, current)
    if not changed:
        return RedirectResponse(page, status_code=303)
    event = await save(update.model_validate(changed))
    return await committed(request, db_session, saved or page, event.event_id)


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


async def _mission_names(db_session: DbSession) -> dict[str, dict[str, str]]:
    missions = await crm.list_missions(db_session=db_session, query=MissionFilter(limit=500))
    return {m.id: m.names for m in missions}


def _name_matches(names: Iterable[str], search: str) -> bool:
    wanted = search.strip().casefold()
    return not wanted or any(wanted in name.casefold() for name in names)


# --- partner cities: the duplicate warning -----------------------------------------------------

#: What a city's name may end with in one language and not in another ("札幌市", "Sapporo City").
_CITY_SUFFIXES = re.compile(r"(\s*(city|shi|si|ciudad|市|縣|县|시|군))+$")


def _plain(name: str) -> str:
    return " ".join(name.casefold().split())


def similar_partners(
    names: Mapping[str, str], country: str | None, partners: Iterable[PartnerCity]
) -> list[PartnerCity]:
    """The registered partner cities a new one may be a second copy of: one of its names, in
    any language, is one of theirs in any language (case, spaces around and between words
    aside); or, in the same country, the same once a city suffix (市, "City", "-shi") is set
    aside. A candidate for the API's own warning too."""
    wanted = {_plain(n) for n in names.values() if n.strip()}
    stems = {_CITY_SUFFIXES.sub("", n) for n in wanted} - {""}
    found = []
    for partner in partners:
        theirs = {_plain(n) for n in partner.names.values()}
        same_country = country is not None and partner.country == country.strip().upper()
        if wanted & theirs or (
            same_country and stems & ({_CITY_SUFFIXES.sub("", n) for n in theirs} - {""})
        ):
            found.append(partner)
    return found


# --- partner cities: the forms -------------------------------------------------------------


def partner_command(form: Mapping[str, str], fields: list[str]) -> dict[str, Any]:
    """What the partner form describes, every field (an empty input: None)."""
    latitude, longitude = _blank(form.get("latitude")), _blank(form.get("longitude"))
    languages = [t for t in re.split(r"[\s,、，]+", form.get("languages", "")) if t]
    return {
        "names": texts_of(form, "names", supported_locales()),
        "country": _blank(form.get("country")),
        "kind": _blank(form.get("kind")),
        "status": _blank(form.get("status")),
        "timezone": _blank(form.get("timezone")),
        "agreement_date": _blank(form.get("agreement_date")),
        "agreement_scope": _blank(form.get("agreement_scope")),
        "fields_of_cooperation": list(dict.fromkeys(fields)),
        "region": _blank(form.get("region")),
        "languages": languages,
        "website": _blank(form.get("website")),
        "location": {"latitude": latitude, "longitude": longitude}
        if latitude or longitude
        else None,
        # Thousands written as people write them (1,960,000; 1.960.000; 1 960 000): the
        # separators between groups of three digits go, anything else is left to refuse.
        "population": _blank(
            re.sub(r"(?<=\d)[\s,.，、_'](?=\d{3}(?:\D|$))", "", form.get("population", ""))
        ),
    }


def partner_form(partner: PartnerCity) -> dict[str, str]:
    """A registered partner city as the form shows it to edit."""
    location = partner.location or {}
    return {
        **texts_form("names", partner.names),
        "country": partner.country,
        "kind": partner.kind,
        "status": partner.status,
        "timezone": partner.timezone,
        "agreement_date": partner.agreement_date.isoformat() if partner.agreement_date else "",
        "agreement_scope": partner.agreement_scope or "",
        "region": partner.region or "",
        "languages": ", ".join(partner.languages),
        "website": partner.website or "",
        "latitude": str(location.get("latitude", "")),
        "longitude": str(location.get("longitude", "")),
        "population": str(partner.population) if partner.population else "",
    }


def _partner_context(
    request: Request,
    form: Mapping[str, str],
    fields: list[str],
    *,
    partner: PartnerCity | PartnerCityRead | None = None,
    errors: Mapping[str, LazyProxy] | None = None,
    duplicates: Sequence[PartnerCity] = (),
) -> dict[str, Any]:
    standard = [field.value for field in ExchangeField]
    return {
        "form": form,
        "errors": errors or {},
        "partner": partner,
        "duplicates": duplicates,
        "countries": country_choices(page_language(request)),
        "zones": zone_choices(),
        "kinds": list(PartnerKind),
        "statuses": list(PartnerStatus),
        "standard_fields": standard,
        # a field recorded before (or through the API) that is not one of the list's
        "other_fields": [f for f in fields if f not in standard],
        "chosen_fields": fields,
    }


@router.get("/partners/new", response_class=HTMLResponse)
async def new_partner_form(request: Request, user: User) -> HTMLResponse:
    require_staff(user)
    context = _partner_context(request, {"status": PartnerStatus.ACTIVE.value}, [])
    return render(request, "partner_form.html", context, user=user)


@router.post("/partners/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def register_partner(request: Request, user: User, db_session: DbSession) -> Response:
    """Register a partner city; one whose name matches a registered one's comes back with a
    warning linking it, and is registered only once the user confirms."""
    require_staff(user)
    form = await form_of(request)
    fields = await form_list(request, "fields_of_cooperation")
    try:
        data = PartnerCityCreate.model_validate(partner_command(form, fields))
    except ValidationError as refused:
        errors = field_errors(refused, PARTNER_FIELD_MESSAGES, PARTNER_FIELD_OF_LOCATION)
        context = _partner_context(request, form, fields, errors=errors)
        return render(request, "partner_form.html", context, user=user, status_code=422)
    if form.get("confirm_duplicate") != "yes":
        everyone = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
        duplicates = similar_partners(data.names, data.country, everyone)
        if duplicates:
            context = _partner_context(request, form, fields, duplicates=duplicates)
            return render(request, "partner_form.html", context, user=user, status_code=409)
    event = await crm.register_partner(db_session=db_session, data=data, actor=user.actor)
    target = f"/ui/partners/{event.aggregate_id}/saved"
    return await committed(request, db_session, target, event.event_id)


@router.get("/partners/{partner_id}/edit", response_class=HTMLResponse)
async def edit_partner_form(
    request: Request, partner_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    partner = await crm.get_partner(db_session=db_session, partner_id=partner_id)
    if partner is None:
        not_found("partner city", partner_id)
    fields = list(partner.fields_of_cooperation)
    context = _partner_context(request, partner_form(partner), fields, partner=partner)
    return render(request, "partner_form.html", context, user=user)


@router.post("/partners/{partner_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm])
async def update_partner(
    request: Request, partner_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    partner = await crm.get_partner(db_session=db_session, partner_id=partner_id)
    if partner is None:
        not_found("partner city", partner_id)
    form = await form_of(request)
    fields = await form_list(request, "fields_of_cooperation")
    partner_view = PartnerCityRead.model_validate(partner)  # the record, readable after a rollback
    current = partner_view.model_dump(mode="json")
    try:
        return await save_changes(
            request,
            db_session,
            PartnerCityUpdate,
            partner_command(form, fields),
            current,
            lambda data: crm.update_partner(
                db_session=db_session, partner_id=partner_id, data=data, actor=user.actor
            ),
            page=f"/ui/partners/{partner_id}",
            saved=f"/ui/partners/{partner_id}/saved",
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, PARTNER_FIELD_MESSAGES, PARTNER_FIELD_OF_LOCATION)
        context = _partner_context(request, form, fields, partner=partner_view, errors=errors)
        return render(request, "partner_form.html", context, user=user, status_code=422)


@router.get("/partners/{partner_id}/saved", response_class=HTMLResponse)
async def partner_saved(
    request: Request,
    partner_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> Response:
    """Where a partner form leads: the partner's page once the change is applied; until then,
    a page that says it is being saved (and turns into the partner's page by itself)."""
    state = await change_state(db_session, event)
    if state is None or state.status == "applied":
        return RedirectResponse(f"/ui/partners/{partner_id}", status_code=303)
    context = {"pending": state, "event_id": event, "partner_id": partner_id}
    return render(request, "partner_saved.html", context, user=user)


# --- foreign missions --------------------------------------------------------------------------


@router.get("/missions", response_class=HTMLResponse)
async def mission_list(
    request: Request,
    user: User,
    db_session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Search by name in any language, a page at a time."""
    everyone = await crm.list_missions(db_session=db_session, query=MissionFilter(limit=500))
    language = page_language(request)
    found = [m for m in everyone if _name_matches(m.names.values(), q)]
    found.sort(key=lambda m: (localized(m.names, language) or "").casefold())
    context = {
        **paged(found, page, "/ui/missions", {"q": q}),
        "filters": {"q": q},
        "kind_labels": MISSION_KIND_LABELS,
    }
    return render(request, "missions.html", context, user=user)


def mission_command(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "names": texts_of(form, "names", supported_locales()),
        "country": _blank(form.get("country")),
        "kind": _blank(form.get("kind")),
        "address": texts_of(form, "address", supported_locales()),
        "website": _blank(form.get("website")),
    }


def _mission_context(
    request: Request,
    form: Mapping[str, str],
    *,
    mission: ForeignMission | ForeignMissionRead | None = None,
    errors: Mapping[str, LazyProxy] | None = None,
) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors or {},
        "mission": mission,
        "countries": country_choices(page_language(request)),
        "kinds": [(kind.value, label(kind)) for kind in MissionKind],
    }


@router.get("/missions/new", response_class=HTMLResponse)
async def new_mission_form(request: Request, user: User) -> HTMLResponse:
    require_staff(user)
    return render(request, "mission_form.html", _mission_context(request, {}), user=user)


@router.post("/missions/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def register_mission(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    try:
        data = ForeignMissionCreate.model_validate(mission_command(form))
    except ValidationError as refused:
        errors = field_errors(refused, MISSION_FIELD_MESSAGES, MISSION_FIELD_OF_LOCATION)
        context = _mission_context(request, form, errors=errors)
        return render(request, "mission_form.html", context, user=user, status_code=422)
    event = await crm.register_mission(db_session=db_session, data=data, actor=user.actor)
    return await committed(
        request, db_session, f"/ui/missions/{event.aggregate_id}", event.event_id
    )


@router.get("/missions/{mission_id}", response_class=HTMLResponse)
async def mission_page(
    request: Request,
    mission_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    mission, state = await read_after_change(
        db_session, event, lambda: crm.get_mission(db_session=db_session, mission_id=mission_id)
    )
    if mission is None and state is None:
        not_found("foreign mission", mission_id)
    staff = user.role.includes(Role.staff)
    contacts = (
        await crm.list_contacts(db_session=db_session, query=ContactFilter(mission_id=mission_id))
        if staff and mission is not None
        else []
    )
    context = {
        "mission": mission,
        "mission_id": mission_id,
        "contacts": contacts,
        **change_context(state, event),
        "kind_labels": MISSION_KIND_LABELS,
        "figures": await stats.mission_stats(db_session, mission) if mission else None,
        "exchanges": await exchanges.list_exchanges(
            db_session=db_session, query=ExchangeFilter(mission_id=mission_id, limit=20)
        )
        if mission
        else [],
    }
    return render(request, "mission.html", context, user=user)


@router.get("/missions/{mission_id}/edit", response_class=HTMLResponse)
async def edit_mission_form(
    request: Request, mission_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    mission = await crm.get_mission(db_session=db_session, mission_id=mission_id)
    if mission is None:
        not_found("foreign mission", mission_id)
    form = {
        **texts_form("names", mission.names),
        **texts_form("address", mission.address),
        "country": mission.country,
        "kind": mission.kind,
        "website": mission.website or "",
    }
    context = _mission_context(request, form, mission=mission)
    return render(request, "mission_form.html", context, user=user)


@router.post("/missions/{mission_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm])
async def update_mission(
    request: Request, mission_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    mission = await crm.get_mission(db_session=db_session, mission_id=mission_id)
    if mission is None:
        not_found("foreign mission", mission_id)
    form = await form_of(request)
    mission_view = ForeignMissionRead.model_validate(mission)
    current = mission_view.model_dump(mode="json")
    try:
        return await save_changes(
            request,
            db_session,
            ForeignMissionUpdate,
            mission_command(form),
            current,
            lambda data: crm.update_mission(
                db_session=db_session, mission_id=mission_id, data=data, actor=user.actor
            ),
            page=f"/ui/missions/{mission_id}",
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, MISSION_FIELD_MESSAGES, MISSION_FIELD_OF_LOCATION)
        context = _mission_context(request, form, mission=mission_view, errors=errors)
        return render(request, "mission_form.html", context, user=user, status_code=422)


# --- contacts (personal data: staff only) -------------------------------------------------------


def _contact_matches(contact: Contact, search: str) -> bool:
    fields = (contact.name, contact.title, contact.organisation, contact.email, contact.phone)
    return _name_matches([f for f in fields if f], search)


@router.get("/contacts", response_class=HTMLResponse)
async def contact_list(
    request: Request,
    user: User,
    db_session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    partner_id: Annotated[str, Query(max_length=100)] = "",
    mission_id: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """Search by name, title, organisation, email or phone; of one partner city or mission."""
    require_staff(user)
    query = ContactFilter(partner_id=partner_id or None, mission_id=mission_id or None, limit=500)
    everyone, state = await read_after_change(
        db_session, event, lambda: crm.list_contacts(db_session=db_session, query=query)
    )
    found = [c for c in everyone if _contact_matches(c, q)]
    filters = {"q": q, "partner_id": partner_id, "mission_id": mission_id}
    context = {
        **paged(found, page, "/ui/contacts", filters),
        "filters": filters,
        "partner_names": await partner_names(db_session),
        "mission_names": await _mission_names(db_session),
        **change_context(state, event),
    }
    return render(request, "contacts.html", context, user=user)


def contact_command(form: Mapping[str, str], *, new: bool) -> dict[str, Any]:
    command: dict[str, Any] = {
        name: _blank(form.get(name))
        for name in ("name", "title", "organisation", "email", "phone", "preferred_language")
    }
    if new:
        kind, _, record_id = form.get("belongs_to", "").partition(":")
        command["partner_id"] = record_id if kind == "partner" and record_id else None
        command["mission_id"] = record_id if kind == "mission" and record_id else None
    return command


async def _contact_context(
    request: Request,
    db_session: DbSession,
    form: Mapping[str, str],
    *,
    contact: Contact | ContactRead | None = None,
    errors: Mapping[str, LazyProxy] | None = None,
) -> dict[str, Any]:
    language = page_language(request)
    return {
        "form": form,
        "errors": errors or {},
        "contact": contact,
        "partners": by_name(await partner_names(db_session), language),
        "missions": by_name(await _mission_names(db_session), language),
        "belongs": await _belongs_to(db_session, contact) if contact else None,
        "language_choices": [
            (code, language_name(code, locale=code)) for code in supported_locales()
        ],
    }


async def _belongs_to(
    db_session: DbSession, contact: Contact | ContactRead
) -> tuple[str, dict[str, str]]:
    """The page and the names of the partner city or mission a contact works for."""
    if contact.partner_id is not None:
        partner = await crm.get_partner(db_session=db_session, partner_id=contact.partner_id)
        return f"/ui/partners/{contact.partner_id}", partner.names if partner else {}
    mission_id = contact.mission_id or ""
    mission = await crm.get_mission(db_session=db_session, mission_id=mission_id)
    return f"/ui/missions/{mission_id}", mission.names if mission else {}


@router.get("/contacts/new", response_class=HTMLResponse)
async def new_contact_form(
    request: Request,
    user: User,
    db_session: DbSession,
    partner_id: Annotated[str, Query(max_length=100)] = "",
    mission_id: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    require_staff(user)
    chosen = (
        f"partner:{partner_id}" if partner_id else f"mission:{mission_id}" if mission_id else ""
    )
    context = await _contact_context(request, db_session, {"belongs_to": chosen})
    return render(request, "contact_form.html", context, user=user)


@router.post("/contacts/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def register_contact(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    try:
        data = ContactCreate.model_validate(contact_command(form, new=True))
        event = await crm.register_contact(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField, NotFound) as refused:
        await db_session.rollback()
        errors = (
            {"belongs_to": CONTACT_FIELD_MESSAGES["belongs_to"]}
            if isinstance(refused, NotFound)
            else field_errors(refused, CONTACT_FIELD_MESSAGES, CONTACT_FIELD_OF_LOCATION)
        )
        context = await _contact_context(request, db_session, form, errors=errors)
        return render(request, "contact_form.html", context, user=user, status_code=422)
    return await committed(
        request, db_session, f"/ui/contacts/{event.aggregate_id}", event.event_id
    )


async def _contact(
    db_session: DbSession, contact_id: str, state: EventState | None = None
) -> Contact | None:
    """The contact, once its earlier changes are applied (an erased contact is gone); while a
    change of it is on its way, as the read model has it now (the page says it is saving)."""
    if pending_of(state) is not None:
        return await db_session.get(Contact, contact_id)
    return await crm.get_contact(db_session=db_session, contact_id=contact_id)


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
async def contact_page(
    request: Request,
    contact_id: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    require_staff(user)
    state = await change_state(db_session, event)
    contact = await _contact(db_session, contact_id, state)
    if contact is None and pending_of(state) is None:
        not_found("contact", contact_id)
    context = {
        "contact": contact,
        "belongs": await _belongs_to(db_session, contact) if contact else None,
        **change_context(state, event),
    }
    return render(request, "contact.html", context, user=user)


@router.get("/contacts/{contact_id}/edit", response_class=HTMLResponse)
async def edit_contact_form(
    request: Request, contact_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    contact = await _contact(db_session, contact_id)
    if contact is None:
        not_found("contact", contact_id)
    fields = ("name", "title", "organisation", "email", "phone", "preferred_language")
    form = {name: getattr(contact, name) or "" for name in fields}
    context = await _contact_context(request, db_session, form, contact=contact)
    return render(request, "contact_form.html", context, user=user)


@router.post("/contacts/{contact_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm])
async def update_contact(
    request: Request, contact_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    contact = await _contact(db_session, contact_id)
    if contact is None:
        not_found("contact", contact_id)
    form = await form_of(request)
    contact_view = ContactRead.model_validate(contact)
    current = contact_view.model_dump(mode="json")
    try:
        return await save_changes(
            request,
            db_session,
            ContactUpdate,
            contact_command(form, new=False),
            current,
            lambda data: crm.update_contact(
                db_session=db_session, contact_id=contact_id, data=data, actor=user.actor
            ),
            page=f"/ui/contacts/{contact_id}",
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, CONTACT_FIELD_MESSAGES, CONTACT_FIELD_OF_LOCATION)
        context = await _contact_context(
            request, db_session, form, contact=contact_view, errors=errors
        )
        return render(request, "contact_form.html", context, user=user, status_code=422)


@router.get("/contacts/{contact_id}/erase", response_class=HTMLResponse)
async def erase_contact_form(
    request: Request, contact_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    """Ask before erasing: it cannot be undone."""
    require_staff(user)
    contact = await _contact(db_session, contact_id)
    if contact is None:
        not_found("contact", contact_id)
    context = {"contact": contact, "belongs": await _belongs_to(db_session, contact)}
    return render(request, "contact_erase.html", context, user=user)


@router.post("/contacts/{contact_id}/erase", dependencies=[CheckedForm])
async def erase_contact(
    request: Request, contact_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    try:
        event = await crm.erase_contact(
            db_session=db_session, contact_id=contact_id, actor=user.actor
        )
    except NotFound:
        await db_session.rollback()
        not_found("contact", contact_id)
    return await committed(request, db_session, "/ui/contacts", event.event_id)


# --- export: the lists as files, a contact's data ----------------------------------------------

#: The list pages' simple filters that an export honours (see `twinning.export`).
EXPORT_FILTERS = frozenset(
    {"q", "kind", "status", "partner", "field", "year", "partner_id", "mission_id"}
)


@router.get("/export/{kind}.{fmt}")
async def export_list(
    request: Request, kind: str, fmt: str, user: User, db_session: DbSession
) -> Response:
    """A list page's records (its simple filters kept) as CSV or XLSX, headers and country
    names in the page's language; contacts for staff only."""
    if kind not in export.KINDS or fmt not in export.FORMATS:
        not_found("export", f"{kind}.{fmt}")
    if kind in export.PERSONAL_KINDS:
        require_staff(user)
    filters = {
        key: value[:200] for key, value in request.query_params.items() if key in EXPORT_FILTERS
    }
    found = await export.table(db_session, kind, language=page_language(request), filters=filters)
    return Response(
        export.encode(found, fmt),
        media_type=export.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename(kind, fmt)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/contacts/{contact_id}/data.json")
async def contact_data(
    request: Request, contact_id: str, user: User, db_session: DbSession
) -> Response:
    """Every item of personal data held about the contact (a data subject's request for
    access), as one JSON document; 404 when nothing is held (unknown, or erased)."""
    require_staff(user)
    document = await export.person_data(db_session, contact_id)
    if document is None:
        not_found("contact", contact_id)
    return person_download(document, "contact", contact_id)
