"""What the CRM API accepts and returns: partner cities, foreign missions, contacts,
exchanges and the figures derived from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator
from twinning.db import Page
from twinning.i18n import country_name, localized
from twinning.streams.events import (
    ContactRegistered,
    ContactUpdated,
    ExchangeDirection,
    ExchangeField,
    ExchangeRecorded,
    ForeignMissionRegistered,
    ForeignMissionUpdated,
    GeoPoint,
    MissionKind,
    PartnerCityRegistered,
    PartnerCityUpdated,
    PartnerKind,
    PartnerStatus,
)

# A command carries exactly what its event carries: one definition, validated once.
PartnerCityCreate = PartnerCityRegistered
PartnerCityUpdate = PartnerCityUpdated
ForeignMissionCreate = ForeignMissionRegistered
ForeignMissionUpdate = ForeignMissionUpdated
ContactCreate = ContactRegistered
ContactUpdate = ContactUpdated
ExchangeCreate = ExchangeRecorded

CountryFilter = Annotated[str | None, Field(pattern="^[A-Za-z]{2}$", description="ISO 3166 code")]
IdFilter = Annotated[str | None, Field(max_length=100)]
Year = Annotated[int, Field(ge=1900, le=2200)]


class PartnerFilter(Page):
    kind: PartnerKind | None = None
    country: CountryFilter = None
    status: PartnerStatus | None = None


class MissionFilter(Page):
    kind: MissionKind | None = None
    country: CountryFilter = None


class ContactFilter(Page):
    partner_id: IdFilter = None
    mission_id: IdFilter = None


class ExchangeFilter(Page):
    """Newest first."""

    partner_id: IdFilter = None
    mission_id: IdFilter = None
    field: ExchangeField | None = None
    year: Year | None = None


class LocalizedNames(BaseModel):
    """Multilingual names and a country, with both shown in the reader's language."""

    names: dict[str, str]
    name: str | None = Field(
        default=None,
        description="The name in the answer's language, by the fallback chain (ja -> en -> zh-TW).",
    )
    country: str
    country_name: str | None = Field(
        default=None, description="CLDR's name of the country in the answer's language."
    )

    def in_language(self, language: str) -> Self:
        return self.model_copy(
            update={
                "name": localized(self.names, language),
                "country_name": country_name(self.country, locale=language),
            }
        )


class PartnerCityRead(LocalizedNames):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: PartnerKind
    timezone: str
    agreement_date: date | None
    agreement_scope: str | None
    region: str | None
    status: PartnerStatus
    languages: list[str]
    website: str | None
    fields_of_cooperation: list[str]
    location: GeoPoint | None = None
    population: int | None = None
    registered_at: datetime
    updated_at: datetime
    version: int


class ForeignMissionRead(LocalizedNames):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: MissionKind
    address: dict[str, str] | None
    website: str | None
    registered_at: datetime
    updated_at: datetime
    version: int


class ContactRead(BaseModel):
    """Personal data: served only to callers with personal-data access."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    partner_id: str | None
    mission_id: str | None
    name: str
    title: str | None
    organisation: str | None
    email: str | None
    phone: str | None
    preferred_language: str | None
    registered_at: datetime
    updated_at: datetime
    version: int


class ExchangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    date: date
    field: ExchangeField
    direction: ExchangeDirection
    summary: dict[str, str]
    partner_ids: list[str]
    participants: int | None
    source_kind: str | None
    source_id: str | None
    recorded_at: datetime
    mission_ids: list[str] = []
    organisations: list[dict[str, str]] = []

    @field_validator("mission_ids", "organisations", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        """Exchanges recorded before missions and organisations could be named: none."""
        return [] if value is None else value


# --- derived figures ---------------------------------------------------------------------


class Anniversary(BaseModel):
    years: int
    date: date


class ExchangeCount(BaseModel):
    year: int
    field: ExchangeField
    count: int


class PartnerStats(BaseModel):
    """A partner's figures; `dormant` and `next_anniversary` are as of `as_of`."""

    partner_id: str
    names: dict[str, str]
    status: PartnerStatus
    agreement_date: date | None
    as_of: date
    exchanges: int
    last_exchange_date: date | None
    exchanges_by_field_and_year: list[ExchangeCount]
    next_anniversary: Anniversary | None
    dormant: bool
    dormant_since: date | None


class MissionStats(BaseModel):
    """A foreign mission's own figures: the exchanges it took part in."""

    mission_id: str
    names: dict[str, str]
    exchanges: int
    last_exchange_date: date | None
    exchanges_by_field_and_year: list[ExchangeCount]


class UpcomingAnniversary(Anniversary):
    partner_id: str
    names: dict[str, str]


class PartnerStatsOverview(BaseModel):
    as_of: date
    dormant_after_months: int
    partners: list[PartnerStats]
    dormant_partner_ids: list[str]
    upcoming_anniversaries: list[UpcomingAnniversary]
