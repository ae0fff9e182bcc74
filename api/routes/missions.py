"""Foreign missions in the host country: register and update them, read them."""

from __future__ import annotations

from fastapi import APIRouter
from twinning.api.common import Register, register_routes
from twinning.crm import service
from twinning.crm.models import ForeignMission
from twinning.crm.schemas import (
    ForeignMissionCreate,
    ForeignMissionRead,
    ForeignMissionUpdate,
    MissionFilter,
)

router = APIRouter(prefix="/missions", tags=["missions"])


def _localized(mission: ForeignMission, language: str) -> ForeignMissionRead:
    return ForeignMissionRead.model_validate(mission).in_language(language)


MISSIONS = Register(ForeignMissionCreate, ForeignMissionUpdate, ForeignMissionRead, MissionFilter)
register_routes(router, service, MISSIONS, kind="foreign mission", localized_view=_localized)
