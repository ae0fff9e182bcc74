"""Press items in the web app: a year's counts per month and per partner city, the items
with what each covers, and the forms that record and change an item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.deps import Clock, DbSession
from twinning.crm.exchanges import list_exchanges
from twinning.crm.schemas import ExchangeFilter
from twinning.i18n import L_, language_name, localized, supported_locales
from twinning.press import service
from twinning.press.labels import COVERED_LABELS, KIND_LABELS
from twinning.press.schemas import PressFilter, PressItemCreate, PressItemRead, PressItemUpdate
from twinning.refusals import InvalidField
from twinning.streams.events import PressItemKind
from twinning.web.gifts import occasion_choices
from twinning.web.pages import (
    TWO_LANGUAGES,
    CheckedForm,
    User,
    change_context,
    committed,
    field_errors,
    form_list,
    form_of,
    not_found,
    page_language,
    read_after_change,
    render,
    require_staff,
    templates,
    texts_of,
)
from twinning.web.registers import save_changes, texts_form

router = APIRouter(prefix="/ui", include_in_schema=False)
templates.globals["press_kind_label"] = lambda kind: str(KIND_LABELS[PressItemKind(kind)])
templates.globals["press_covered_label"] = lambda kind: str(COVERED_LABELS[kind])

COVERED_PATHS = {
    "visit": "visits",
    "city-event": "city-events",
    "trip": "trips",
    "exchange": "exchanges",
}


@router.get("/press", response_class=HTMLResponse)
async def press_page(
    request: Request,
    user: User,
    db_session: DbSession,
    clock: Clock,
    year: Annotated[str, Query(max_length=4)] = "",
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    chosen = int(year) if year.isdigit() and 1900 <= int(year) <= 2200 else clock().year
    items, state = await read_after_change(
        db_session,
        event,
        lambda: service.list_press_items(
            db_session=db_session, query=PressFilter(year=chosen, limit=500)
        ),
    )
    counts = await service.press_counts(db_session=db_session, year=chosen)
    context = {
        "year": chosen,
        "counts": counts,
        "items": items,
        "covered_paths": COVERED_PATHS,
        **change_context(state, event),
    }
    return render(request, "press.html", context, user=user)


# --- recording and changing an item ------------------------------------------------------------

FIELD_MESSAGES: Mapping[str, LazyProxy] = {
    "kind": L_("Choose the kind of press item"),
    "outlet": L_("Enter the outlet: the newspaper, station or site, up to 200 characters"),
    "date": L_("Enter the day it appeared, as a date"),
    "item_language": L_("Choose the language it appeared in"),
    "title": L_("Enter the title in one language at least"),
    "link": L_("Enter the item's full address, starting with https://"),
    "covers": L_("Choose visits, city events, trips or exchanges that are registered"),
}
FIELD_OF_LOCATION: dict[tuple[str, ...], str] = {
    **{(name,): name for name in FIELD_MESSAGES},
    ("language",): "item_language",  # `language` is the page's language switcher
}


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def press_command(form: Mapping[str, str], covers: Sequence[str]) -> dict[str, Any]:
    return {
        "kind": _blank(form.get("kind")),
        "outlet": _blank(form.get("outlet")),
        "date": _blank(form.get("date")),
        "language": _blank(form.get("item_language")),
        "title": texts_of(form, "title", TWO_LANGUAGES),
        "link": _blank(form.get("link")),
        "covers": [
            {"kind": kind, "id": record_id}
            for kind, _, record_id in (chosen.partition(":") for chosen in covers)
        ],
    }


async def _cover_choices(
    db_session: AsyncSession, language: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    """What an item may cover: visits, trips, city events and exchanges (value `kind:id`)."""
    found = await list_exchanges(db_session=db_session, query=ExchangeFilter(limit=300))
    exchanges = [
        (f"exchange:{e.id}", f"{localized(e.summary, language) or e.id} ({e.date.isoformat()})")
        for e in found
    ]
    return [
        *await occasion_choices(db_session, language),
        (str(COVERED_LABELS["exchange"]), exchanges),
    ]


async def _form(
    request: Request,
    user: User,
    db_session: DbSession,
    form: Mapping[str, Any],
    errors: Mapping[str, LazyProxy],
    *,
    item: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    context = {
        "form": form,
        "errors": errors,
        "item": item,
        "kinds": [(kind.value, str(KIND_LABELS[kind])) for kind in PressItemKind],
        "press_languages": [(code, language_name(code)) for code in supported_locales()],
        "cover_choices": await _cover_choices(db_session, language),
    }
    return render(request, "press_form.html", context, user=user, status_code=status_code)


@router.get("/press/new", response_class=HTMLResponse)
async def new_press_item_form(
    request: Request, user: User, db_session: DbSession, clock: Clock
) -> HTMLResponse:
    require_staff(user)
    form = {"date": clock().date().isoformat(), "item_language": "zh-TW", "covers": []}
    return await _form(request, user, db_session, form, {})


@router.post("/press/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def record_press_item(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form: dict[str, Any] = await form_of(request)
    form["covers"] = await form_list(request, "covers")
    try:
        data = PressItemCreate.model_validate(press_command(form, form["covers"]))
        event = await service.record_press_item(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _form(request, user, db_session, form, errors, status_code=422)
    return await _to_year(request, db_session, data.date.year, event.event_id)


async def _to_year(request: Request, db_session: DbSession, year: int, event_id: str) -> Response:
    """The year's press page, which waits for the change (`committed`)."""
    response = await committed(request, db_session, "/ui/press", event_id)
    response.headers["location"] = f"/ui/press?year={year}&event={event_id}"
    return response


@router.get("/press/{press_item_id}/edit", response_class=HTMLResponse)
async def edit_press_item_form(
    request: Request, press_item_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    item = await service.get_press_item(db_session=db_session, press_item_id=press_item_id)
    if item is None:
        not_found("press item", press_item_id)
    form = {
        **texts_form("title", item.title),
        "kind": item.kind,
        "outlet": item.outlet,
        "date": item.date.isoformat(),
        "item_language": item.language,
        "link": item.link or "",
        "covers": [f"{c['kind']}:{c['id']}" for c in item.covers],
    }
    return await _form(request, user, db_session, form, {}, item=item)


@router.post("/press/{press_item_id}/edit", response_class=HTMLResponse, dependencies=[CheckedForm])
async def update_press_item(
    request: Request, press_item_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    item = await service.get_press_item(db_session=db_session, press_item_id=press_item_id)
    if item is None:
        not_found("press item", press_item_id)
    current = PressItemRead.model_validate(item).model_dump(mode="json")
    form: dict[str, Any] = await form_of(request)
    form["covers"] = await form_list(request, "covers")
    wanted = press_command(form, form["covers"])
    try:
        return await save_changes(
            request,
            db_session,
            PressItemUpdate,
            wanted,
            current,
            lambda data: service.update_press_item(
                db_session=db_session, press_item_id=press_item_id, data=data, actor=user.actor
            ),
            page=f"/ui/press?year={(wanted['date'] or current['date'])[:4]}",
            saved="/ui/press",
        )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = field_errors(refused, FIELD_MESSAGES, FIELD_OF_LOCATION)
        return await _form(request, user, db_session, form, errors, item=item, status_code=422)
