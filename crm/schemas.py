"""What the CRM API accepts and returns for partner cities."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
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
    name: str | None = Field(
        default=None,
        description="The name in the answer's language, by the fallback chain (ja -> en -> zh-TW).",
    )
    country: str
    country_name: str | None = Field(
        default=None, description="CLDR's name of the country in the answer's language."
    )
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
