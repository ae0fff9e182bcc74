"""What the CRM API accepts and returns for partner cities."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from twinning.streams.events import (
    PartnerCityRegistered,
    PartnerCityUpdated,
    PartnerKind,
    PartnerStatus,
)

# A command carries exactly what its event carries: one definition, validated once.
PartnerCityCreate = PartnerCityRegistered
PartnerCityUpdate = PartnerCityUpdated


class PartnerCityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    names: dict[str, str]
    country: str
    kind: PartnerKind
    timezone: str
    agreement_date: date | None
    agreement_scope: str | None
    region: str | None
    status: PartnerStatus
    languages: list[str]
    website: str | None
    fields_of_cooperation: list[str]
    registered_at: datetime
    updated_at: datetime
    version: int
