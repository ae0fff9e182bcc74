"""What the CRM API accepts and returns: partner cities, foreign missions, contacts,
exchanges and the figures derived from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from babel import Locale
from fastapi import Query
from pydantic import BaseModel, ConfigDict
from twinning.streams.events import (
    ContactRegistered,
    ContactUpdated,
    ExchangeDirection,
    ExchangeField,
    ExchangeRecorded,
    ForeignMissionRegistered,
    ForeignMissionUpdated,
    LanguageTag,
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

DisplayLanguage = Annotated[
    LanguageTag, Query(description="Language of display names such as `country_name` (BCP 47).")
]


def country_name(code: str, language: str) -> str | None:
    """The country's name in `language`, from CLDR."""
    return Locale.parse(language, sep="-").territories.get(code)


class WithCountryName(BaseModel):
    country: str
    country_name: str | None = None

    def in_language(self, language: str) -> Self:
        return self.model_copy(update={"country_name": country_name(self.country, language)})


class PartnerCityRead(WithCountryName):
    model_config = ConfigDict(from_attributes=True)

    id: str
    names: dict[str, str]
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


class ForeignMissionRead(WithCountryName):
    model_config = ConfigDict(from_attributes=True)

    id: str
    names: dict[str, str]
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


class UpcomingAnniversary(Anniversary):
    partner_id: str
    names: dict[str, str]


class PartnerStatsOverview(BaseModel):
    as_of: date
    dormant_after_months: int
    partners: list[PartnerStats]
    dormant_partner_ids: list[str]
    upcoming_anniversaries: list[UpcomingAnniversary]
