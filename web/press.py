"""Press items in the web app: a year's counts per month and per partner city, and the items
with what each covers (recorded through the API: `POST /press`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from twinning.api.deps import Clock, DbSession
from twinning.press import service
from twinning.press.labels import COVERED_LABELS, KIND_LABELS
from twinning.press.schemas import PressFilter
from twinning.streams.events import PressItemKind
from twinning.web.pages import User, render, templates

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
) -> HTMLResponse:
    chosen = int(year) if year.isdigit() and 1900 <= int(year) <= 2200 else clock().year
    counts = await service.press_counts(db_session=db_session, year=chosen)
    items = await service.list_press_items(
        db_session=db_session, query=PressFilter(year=chosen, limit=500)
    )
    context = {"year": chosen, "counts": counts, "items": items, "covered_paths": COVERED_PATHS}
    return render(request, "press.html", context, user=user)
