"""Partner cities: register and update them (commands), read the CRM and its figures (queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from twinning.api.common import Accepted, CountryFilter, Limit, Offset, accept
from twinning.api.deps import AppSettings, Clock, DbSession, OutboxDoorbell, StaffActor
from twinning.api.language import Language
from twinning.crm import service, stats
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import (
    PartnerCityCreate,
    PartnerCityRead,
    PartnerCityUpdate,
    PartnerStats,
    PartnerStatsOverview,
)
from twinning.streams.events import PartnerKind, PartnerStatus

router = APIRouter(prefix="/partners", tags=["partners"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def register_partner(
    data: PartnerCityCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    event = service.record(db_session=db_session, data=data, actor=actor)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/partners/{event.aggregate_id}",
    )


@router.patch("/{partner_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_partner(
    partner_id: str,
    data: PartnerCityUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    if not await service.partner_exists(db_session=db_session, partner_id=partner_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner city {partner_id} not found")
    event = service.record(db_session=db_session, data=data, actor=actor, aggregate_id=partner_id)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/partners/{partner_id}",
    )


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


async def _partner(db_session: DbSession, partner_id: str) -> PartnerCity:
    partner = await service.get_partner(db_session=db_session, partner_id=partner_id)
    if partner is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner city {partner_id} not found")
    return partner


@router.get("/{partner_id}/stats", response_model=PartnerStats)
async def get_partner_stats(
    partner_id: str, db_session: DbSession, settings: AppSettings, clock: Clock
) -> PartnerStats:
    [figures] = await stats.stats_of(
        db_session=db_session,
        partners=[await _partner(db_session, partner_id)],
        today=clock().date(),
        dormant_after_months=settings.dormant_after_months,
    )
    return figures


@router.get("/{partner_id}", response_model=PartnerCityRead)
async def get_partner(
    partner_id: str, db_session: DbSession, language: Language
) -> PartnerCityRead:
    partner = await _partner(db_session, partner_id)
    return PartnerCityRead.model_validate(partner).in_language(language)


@router.get("", response_model=list[PartnerCityRead])
async def list_partners(
    db_session: DbSession,
    language: Language,
    kind: PartnerKind | None = None,
    country: CountryFilter = None,
    status: PartnerStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PartnerCityRead]:
    partners = await service.list_partners(
        db_session=db_session,
        kind=kind,
        country=country,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [PartnerCityRead.model_validate(p).in_language(language) for p in partners]
