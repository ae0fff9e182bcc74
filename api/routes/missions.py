"""Foreign missions in the host country: register and update them, read them."""

from __future__ import annotations

from fastapi import APIRouter
from twinning.api.common import READ_ONE, Register, register_routes
from twinning.api.deps import DbSession
from twinning.crm import service, stats
from twinning.crm.models import ForeignMission
from twinning.crm.schemas import (
    ForeignMissionCreate,
    ForeignMissionRead,
    ForeignMissionUpdate,
    MissionFilter,
    MissionStats,
)
from twinning.refusals import NotFound

router = APIRouter(prefix="/missions", tags=["missions"])


def _localized(mission: ForeignMission, language: str) -> ForeignMissionRead:
    return ForeignMissionRead.model_validate(mission).in_language(language)


@router.get("/{mission_id}/stats", response_model=MissionStats, **READ_ONE)
async def get_mission_stats(mission_id: str, db_session: DbSession) -> MissionStats:
    """The mission's own figures: the exchanges it took part in, by field and year."""
    mission = await service.get_mission(db_session=db_session, mission_id=mission_id)
    if mission is None:
        raise NotFound("foreign mission", mission_id)
    return await stats.mission_stats(db_session, mission)


MISSIONS = Register(ForeignMissionCreate, ForeignMissionUpdate, ForeignMissionRead, MissionFilter)
register_routes(router, service, MISSIONS, kind="foreign mission", localized_view=_localized)
