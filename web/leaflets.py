"""Publicity in the web app: the leaflet and brochures per language, preview, PDF, versions;
and our city's profile that they print (staff change it).

The documents themselves are the API's (`api/routes/publicity.py`, public, no token): these
pages link to its HTML preview and PDF, and list the versions with what led to each. A
version records no cause; its page names the changes applied between the version before it
and this one (of the event types the publicity projector marks documents for), and else says
that only the date (upcoming events, anniversaries) or the layout changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from babel.support import LazyProxy
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import DbSession
from twinning.auth.service import Principal
from twinning.crm import service as crm
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import PartnerFilter
from twinning.db import utcnow
from twinning.i18n import L_, localized, supported_locales
from twinning.publicity import profile
from twinning.publicity import service as publicity
from twinning.publicity.content import Brochure, Fallback, Leaflet, missing_translations
from twinning.publicity.models import LEAFLET, brochure
from twinning.publicity.projector import projector
from twinning.publicity.refresh import gather
from twinning.publicity.schemas import VersionSummary
from twinning.streams.events import CITY_PROFILE, CityProfileSet, PhotoSubjectKind
from twinning.streams.store import ArchivedEvent
from twinning.trips.models import TripLeg
from twinning.visits.models import Visit
from twinning.web import photos
from twinning.web.pages import (
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

router = APIRouter(prefix="/ui", include_in_schema=False)

#: The changes that lead to a new version, as the versions' page names them.
CHANGE_LABELS: Mapping[str, LazyProxy] = {
    "PartnerCityRegistered": L_("partner city registered"),
    "PartnerCityUpdated": L_("partner city changed"),
    "ExchangeRecorded": L_("exchange recorded"),
    "VisitCompleted": L_("visit completed"),
    "TripCompleted": L_("trip completed"),
    "CityEventScheduled": L_("city event scheduled"),
    "CityEventUpdated": L_("city event changed"),
    "CityEventCancelled": L_("city event cancelled"),
    "CityEventCompleted": L_("city event completed"),
    "VenueUpdated": L_("venue changed"),
    "InvitationSent": L_("partner city invited to an event"),
    "InvitationWithdrawn": L_("invitation withdrawn"),
    "CityProfileSet": L_("our city's profile changed"),
}
FIRST_VERSION = L_("First version")
CITY_LEAFLET = L_("City leaflet")
NO_RECORDED_CHANGE = L_(
    "No recorded change: the date moved on (upcoming events, anniversaries), or the layout or "
    "a translation changed"
)


@dataclass(frozen=True)
class Latest:
    """A document's latest version in one language, with the API's addresses of it."""

    locale: str
    version: VersionSummary | None
    html_url: str
    pdf_url: str
    print_url: str
    versions_url: str
    #: A brochure's PDF in this language beside Traditional Chinese (none for the leaflet).
    bilingual_url: str | None = None


@dataclass
class VersionLine:
    version: VersionSummary
    html_url: str
    pdf_url: str
    first: bool = False
    changes: list[tuple[LazyProxy, int]] = field(default_factory=list)


def _api_base(document: str, partner_id: str | None) -> str:
    if partner_id is None:
        return "/publicity/leaflet"
    return f"/partners/{quote(partner_id, safe='')}/brochure"


def _ui_base(partner_id: str | None) -> str:
    if partner_id is None:
        return "/ui/publicity/leaflet"
    return f"/ui/publicity/brochures/{quote(partner_id, safe='')}"


async def _latest(db_session: AsyncSession, document: str, partner_id: str | None) -> list[Latest]:
    found = []
    api, ui = _api_base(document, partner_id), _ui_base(partner_id)
    for locale in supported_locales():
        versions = await publicity.list_versions(
            db_session=db_session, document=document, locale=locale
        )
        found.append(
            Latest(
                locale=locale,
                version=versions[0] if versions else None,
                html_url=f"{api}?lang={locale}&format=html",
                pdf_url=f"{api}?lang={locale}&format=pdf",
                print_url=f"{api}?lang={locale}&format=print",
                versions_url=f"{ui}/{locale}",
                bilingual_url=f"{api}?lang={locale}&format=pdf&bilingual=true"
                if partner_id is not None
                else None,
            )
        )
    return found


@router.get("/publicity", response_class=HTMLResponse)
async def publicity_page(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    """The leaflet in every language, and each partner city's brochure (no personal data:
    viewers read it too)."""
    partners = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
    language = page_language(request)
    ordered = sorted(partners, key=lambda p: (localized(p.names, language) or p.id).casefold())
    brochures = [
        (partner, await _latest(db_session, brochure(partner.id), partner.id))
        for partner in ordered
    ]
    context = {
        "leaflet": await _latest(db_session, LEAFLET, None),
        "brochures": brochures,
        "locales": supported_locales(),
        **await _gathered_notices(request, db_session, ordered, language),
    }
    return render(request, "publicity.html", context, user=user)


@dataclass(frozen=True)
class MissingLine:
    """What one document shows in another language: staff add the translations."""

    document: str
    locale: str
    fallbacks: tuple[Fallback, ...]


async def _gathered_notices(
    request: Request, db_session: AsyncSession, partners: Sequence[PartnerCity], language: str
) -> dict[str, Any]:
    """What staff are told of the documents, from their content gathered once per document
    and language: the names and texts each falls back to another language for (`missing`),
    and how many more photos the leaflet has room for (`photo_room`)."""
    from twinning.publicity.render import leaflet_photo_room

    settings = request.app.state.settings
    now = utcnow()
    documents = [(LEAFLET, str(CITY_LEAFLET))] + [
        (brochure(p.id), localized(p.names, language) or p.id) for p in partners
    ]
    missing, photo_room = [], 0
    for document, title in documents:
        for locale in supported_locales():
            shown = await gather(
                db_session, document=document, locale=locale, now=now, settings=settings
            )
            fallbacks = missing_translations(shown) if isinstance(shown, Leaflet | Brochure) else ()
            if fallbacks:
                missing.append(MissingLine(title, locale, fallbacks))
            if document == LEAFLET and locale == language and isinstance(shown, Leaflet):
                photo_room = leaflet_photo_room(shown)
    return {"missing": missing, "photo_room": photo_room}


async def _changes_between(
    db_session: AsyncSession, partner_id: str | None, after: datetime, until: datetime
) -> list[tuple[LazyProxy, int]]:
    """The applied changes a document shows, between two of its versions (counted by kind)."""
    query = select(ArchivedEvent.type).where(
        ArchivedEvent.type.in_(list(projector.handlers)),
        ArchivedEvent.applied_at > after,
        ArchivedEvent.applied_at <= until,
    )
    if partner_id is not None:
        visits = select(Visit.id).where(Visit.partner_id == partner_id)
        legs = await db_session.execute(select(TripLeg.trip_id, TripLeg.partner_ids))
        trips = {trip_id for trip_id, ids in legs if partner_id in (ids or [])}
        query = query.where(
            or_(
                ArchivedEvent.aggregate_id == partner_id,
                ArchivedEvent.body.contains(partner_id),
                ArchivedEvent.aggregate_id.in_(visits),
                ArchivedEvent.aggregate_id.in_(sorted(trips)),
            )
        )
    counted = Counter((await db_session.scalars(query.limit(10_000))).all())
    return [
        (CHANGE_LABELS[kind], count) for kind, count in counted.items() if kind in CHANGE_LABELS
    ]


async def _version_lines(
    db_session: AsyncSession, document: str, partner_id: str | None, locale: str
) -> list[VersionLine]:
    versions: Sequence[VersionSummary] = await publicity.list_versions(
        db_session=db_session, document=document, locale=locale
    )
    api = _api_base(document, partner_id)
    lines = []
    for index, version in enumerate(versions):
        line = VersionLine(
            version,
            html_url=f"{api}/versions/{version.number}?lang={locale}&format=html",
            pdf_url=f"{api}/versions/{version.number}?lang={locale}&format=pdf",
        )
        earlier = versions[index + 1] if index + 1 < len(versions) else None
        if earlier is None:
            line.first = True
        else:
            line.changes = await _changes_between(
                db_session, partner_id, earlier.created_at, version.created_at
            )
        lines.append(line)
    return lines


async def _versions_page(
    request: Request,
    user: User,
    db_session: AsyncSession,
    *,
    document: str,
    partner_id: str | None,
    names: Mapping[str, str] | None,
    locale: str,
) -> HTMLResponse:
    if locale not in supported_locales():
        not_found("language", locale[:35])
    context = {
        "partner_id": partner_id,
        "names": names,
        "locale": locale,
        "locales": supported_locales(),
        "ui_base": _ui_base(partner_id),
        "lines": await _version_lines(db_session, document, partner_id, locale),
        "first_version": FIRST_VERSION,
        "no_recorded_change": NO_RECORDED_CHANGE,
    }
    return render(request, "publicity_versions.html", context, user=user)


@router.get("/publicity/leaflet/{locale}", response_class=HTMLResponse)
async def leaflet_versions(
    request: Request, locale: str, user: User, db_session: DbSession
) -> HTMLResponse:
    return await _versions_page(
        request, user, db_session, document=LEAFLET, partner_id=None, names=None, locale=locale
    )


@router.get("/publicity/brochures/{partner_id}/{locale}", response_class=HTMLResponse)
async def brochure_versions(
    request: Request, partner_id: str, locale: str, user: User, db_session: DbSession
) -> HTMLResponse:
    partner = await crm.get_partner(db_session=db_session, partner_id=partner_id[:100])
    if partner is None:
        not_found("partner city", partner_id[:100])
    return await _versions_page(
        request,
        user,
        db_session,
        document=brochure(partner.id),
        partner_id=partner.id,
        names=partner.names,
        locale=locale,
    )


# --- our city's profile --------------------------------------------------------------------

#: The rows of key figures the form offers (the most a profile holds).
FIGURE_ROWS = 6
PROFILE_MESSAGES: dict[str, LazyProxy] = {
    "about": L_("Write the paragraph in at most 600 characters in each language"),
    **{
        name: message
        for row in range(1, FIGURE_ROWS + 1)
        for name, message in (
            (f"figure{row}_value", L_("Enter the figure as it is printed, up to 30 characters")),
            (
                f"figure{row}_label",
                L_("Name the figure in one language at least, up to 60 characters each"),
            ),
        )
    },
}


def profile_form(profile: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields from the stored profile (each figure in its row)."""
    form = {f"about_{code}": text for code, text in profile["about"].items()}
    for row, figure in enumerate(profile["figures"], start=1):
        form[f"figure{row}_value"] = figure["value"]
        form |= {f"figure{row}_label_{code}": text for code, text in figure["label"].items()}
    return form


def profile_command(
    form: Mapping[str, str],
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The command the form asks for (its blank figure rows left out), and where each of its
    parts is shown on the form when it is refused."""
    locales = supported_locales()
    locations: dict[tuple[str, ...], str] = {("about",): "about", (): "about"}
    figures: list[dict[str, Any]] = []
    for row in range(1, FIGURE_ROWS + 1):
        value = form.get(f"figure{row}_value", "").strip()
        label = texts_of(form, f"figure{row}_label", locales) or {}
        if not value and not label:
            continue
        index = str(len(figures))
        locations[("figures", index, "value")] = f"figure{row}_value"
        locations[("figures", index)] = locations[("figures", index, "label")] = (
            f"figure{row}_label"
        )
        figures.append({"label": label, "value": value})
    about = texts_of(form, "about", locales) or {}
    return {"about": about, "figures": figures}, locations


def _profile_page(
    request: Request,
    user: Principal,
    form: Mapping[str, str],
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context = {
        "form": form,
        "errors": {},
        "rows": range(1, FIGURE_ROWS + 1),
        "locales": supported_locales(),
        **context,
    }
    return render(request, "publicity_profile.html", context, user=user, status_code=status_code)


@router.get("/publicity/profile", response_class=HTMLResponse)
async def profile_page(
    request: Request, user: User, db_session: DbSession, event: str = ""
) -> HTMLResponse:
    """Our city's profile as the leaflet and the brochures print it; staff change it here."""
    require_staff(user)
    stored, state = await read_after_change(
        db_session, event[:100], lambda: profile.get_profile(db_session=db_session)
    )
    form = profile_form(profile.as_command(stored))
    shown = await photos.photos_context(db_session, PhotoSubjectKind.CITY, CITY_PROFILE)
    return _profile_page(request, user, form, **change_context(state, event[:100]), **shown)


@router.post("/publicity/profile", response_class=HTMLResponse, dependencies=[CheckedForm])
async def set_profile(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    command, locations = profile_command(form)
    try:
        data = CityProfileSet.model_validate(command)
    except ValidationError as refused:
        errors = field_errors(refused, PROFILE_MESSAGES, locations)
        shown = await photos.photos_context(db_session, PhotoSubjectKind.CITY, CITY_PROFILE)
        return _profile_page(request, user, form, status_code=422, errors=errors, **shown)
    event = await profile.set_profile(db_session=db_session, data=data, actor=user.actor)
    return await committed(request, db_session, "/ui/publicity/profile", event.event_id)
