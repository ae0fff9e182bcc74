"""Foreign missions in the host country: register and update them, read them."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from twinning.api.common import Accepted, CountryFilter, Limit, Offset, accept
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.api.language import Language
from twinning.crm import service
from twinning.crm.schemas import (
    ForeignMissionCreate,
    ForeignMissionRead,
    ForeignMissionUpdate,
)
from twinning.streams.events import MissionKind

router = APIRouter(prefix="/missions", tags=["missions"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def register_mission(
    data: ForeignMissionCreate,
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
        location=f"/missions/{event.aggregate_id}",
    )


@router.patch("/{mission_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_mission(
    mission_id: str,
    data: ForeignMissionUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    if not await service.mission_exists(db_session=db_session, mission_id=mission_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"foreign mission {mission_id} not found")
    event = service.record(db_session=db_session, data=data, actor=actor, aggregate_id=mission_id)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/missions/{mission_id}",
    )


@router.get("/{mission_id}", response_model=ForeignMissionRead)
async def get_mission(
    mission_id: str, db_session: DbSession, language: Language
) -> ForeignMissionRead:
    mission = await service.get_mission(db_session=db_session, mission_id=mission_id)
    if mission is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"foreign mission {mission_id} not found")
    return ForeignMissionRead.model_validate(mission).in_language(language)


@router.get("", response_model=list[ForeignMissionRead])
async def list_missions(
    db_session: DbSession,
    language: Language,
    kind: MissionKind | None = None,
    country: CountryFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ForeignMissionRead]:
    missions = await service.list_missions(
        db_session=db_session, kind=kind, country=country, limit=limit, offset=offset
    )
    return [ForeignMissionRead.model_validate(m).in_language(language) for m in missions]
