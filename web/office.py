"""The office's overview pages: today, and the partner cities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from twinning.api.deps import Clock, DbSession
from twinning.auth.schemas import Role
from twinning.config import Settings
from twinning.crm import exchanges, stats
from twinning.crm import service as crm
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import ContactFilter, ExchangeFilter, PartnerFilter
from twinning.i18n import localized
from twinning.streams.events import PartnerKind, PartnerStatus, PhotoSubjectKind
from twinning.visits import service as visits
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.schemas import VisitFilter
from twinning.web import admin, city_events, photos, schedule
from twinning.web.pages import (
    User,
    change_context,
    not_found,
    office_today,
    page_language,
    paged,
    read_after_change,
    render,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


# --- today ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def today(request: Request, user: User, db_session: DbSession, clock: Clock) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    now = clock()
    today = office_today(request, now)
    awaiting = await visits.list_visits(
        db_session=db_session, query=VisitFilter(status=VisitStatus.REQUESTED, limit=50)
    )
    overview = await stats.overview(
        db_session=db_session,
        today=today,
        dormant_after_months=settings.dormant_after_months,
        within_days=180,
    )
    names = {s.partner_id: s.names for s in overview.partners}
    context = {
        "today": today,
        "awaiting": awaiting,
        "anniversaries": overview.upcoming_anniversaries,
        "dormant": [(pid, names[pid]) for pid in overview.dormant_partner_ids],
        "partner_names": names,
    }
    for part in (schedule, city_events, admin):
        context.update(await part.today_context(request, user, db_session, today, now))
    return render(request, "today.html", context, user=user)


# --- partners ------------------------------------------------------------------------------


def _matches(partner: PartnerCity, search: str) -> bool:
    wanted = search.casefold()
    return any(wanted in name.casefold() for name in partner.names.values())


@router.get("/partners", response_class=HTMLResponse)
async def partners(
    request: Request,
    user: User,
    db_session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Search by name in any language, filter by kind and status (a form's empty choice is
    "any"; an unknown value too), a page at a time."""
    chosen_kind = PartnerKind(kind) if kind in set(PartnerKind) else None
    chosen_status = PartnerStatus(status) if status in set(PartnerStatus) else None
    everyone = await crm.list_partners(
        db_session=db_session,
        query=PartnerFilter(kind=chosen_kind, status=chosen_status, limit=500),
    )
    found = [p for p in everyone if _matches(p, q.strip())] if q.strip() else list(everyone)
    language = page_language(request)
    found.sort(key=lambda p: (localized(p.names, language) or "").casefold())
    filters = {
        "q": q,
        "kind": chosen_kind.value if chosen_kind else "",
        "status": chosen_status.value if chosen_status else "",
    }
    context = {
        **paged(found, page, "/ui/partners", filters),
        "filters": filters,
        "kinds": list(PartnerKind),
        "statuses": list(PartnerStatus),
    }
    return render(request, "partners.html", context, user=user)


@router.get("/partners/{partner_id}", response_class=HTMLResponse)
async def partner(
    request: Request,
    partner_id: str,
    user: User,
    db_session: DbSession,
    clock: Clock,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """A partner city: its facts, exchanges, documents, photos and (for staff) contacts; after
    a change of its photos (`?event=`), waiting until it is applied."""
    shown, state = await read_after_change(
        db_session,
        event,
        lambda: photos.photos_context(db_session, PhotoSubjectKind.PARTNER, partner_id),
    )
    found = await crm.get_partner(db_session=db_session, partner_id=partner_id)
    if found is None:
        not_found("partner city", partner_id)
    settings: Settings = request.app.state.settings
    [figures] = await stats.stats_of(
        db_session=db_session,
        partners=[found],
        today=clock().date(),
        dormant_after_months=settings.dormant_after_months,
    )
    history = await exchanges.list_exchanges(
        db_session=db_session, query=ExchangeFilter(partner_id=partner_id, limit=50)
    )
    contacts = (
        await crm.list_contacts(db_session=db_session, query=ContactFilter(partner_id=partner_id))
        if user.role.includes(Role.staff)
        else []
    )
    context = {
        "partner": found,
        "figures": figures,
        "history": history,
        "contacts": contacts,
        **shown,
        **change_context(state, event),
    }
    return render(request, "partner.html", context, user=user)
