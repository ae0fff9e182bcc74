"""Partner cities: register and update them (commands), read the CRM and its figures (queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from twinning.api.common import READ_ONE, Register, register_routes
from twinning.api.deps import AppSettings, Clock, DbSession
from twinning.crm import service, stats
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import (
    PartnerCityCreate,
    PartnerCityRead,
    PartnerCityUpdate,
    PartnerFilter,
    PartnerStats,
    PartnerStatsOverview,
)
from twinning.refusals import NotFound

router = APIRouter(prefix="/partners", tags=["partners"])


@router.get("/stats", response_model=PartnerStatsOverview)
async def partner_stats_overview(
    db_session: DbSession,
    settings: AppSettings,
    clock: Clock,
    within_days: Annotated[
        int, Query(ge=1, le=3660, description="Anniversaries up to this many days ahead.")
    ] = 365,
) -> PartnerStatsOverview:
    return await stats.overview(
        db_session=db_session,
        today=clock().date(),
        dormant_after_months=settings.dormant_after_months,
        within_days=within_days,
    )


@router.get("/{partner_id}/stats", response_model=PartnerStats, **READ_ONE)
async def get_partner_stats(
    partner_id: str, db_session: DbSession, settings: AppSettings, clock: Clock
) -> PartnerStats:
    partner = await service.get_partner(db_session=db_session, partner_id=partner_id)
    if partner is None:
        raise NotFound("partner city", partner_id)
    [figures] = await stats.stats_of(
        db_session=db_session,
        partners=[partner],
        today=clock().date(),
        dormant_after_months=settings.dormant_after_months,
    )
    return figures


def _localized(partner: PartnerCity, language: str) -> PartnerCityRead:
    return PartnerCityRead.model_validate(partner).in_language(language)


PARTNERS = Register(PartnerCityCreate, PartnerCityUpdate, PartnerCityRead, PartnerFilter)
register_routes(router, service, PARTNERS, kind="partner city", localized_view=_localized)
