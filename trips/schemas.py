"""What the trips API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, computed_field
from twinning.db import Page
from twinning.streams.events import (
    ExchangeField,
    MultilingualText,
    TripCancelled,
    TripPlanned,
    TripUpdated,
)


class TripStatus(StrEnum):
    PLANNED = "planned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A command carries exactly what its event carries: one definition, validated once.
TripCreate = TripPlanned
TripUpdate = TripUpdated
TripCancellation = TripCancelled


class TripFilter(Page):
    """In order of departure; `year` is the year the trip starts (UTC)."""

    status: TripStatus | None = None
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None


class TripCompletion(BaseModel):
    """How the exchange that a completed trip records with the partners visited is described."""

    model_config = ConfigDict(extra="forbid")

    field: ExchangeField = ExchangeField.GOVERNMENT
    summary: MultilingualText | None = Field(default=None, description="Default: the trip's title.")
    participants: Annotated[int, Field(ge=0, le=100000)] | None = Field(
        default=None, description="Default: the number of officials on the trip."
    )


class TripLegRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    city: dict[str, str]
    country: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    partner_ids: list[str]
    itinerary: dict[str, str] | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def starts_local(self) -> datetime:
        """The start in the destination's own time zone."""
        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ends_local(self) -> datetime:
        return self.ends_at.astimezone(ZoneInfo(self.timezone))


class TripRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: dict[str, str]
    officials: list[dict[str, Any]]
    international_event: dict[str, str] | None
    status: TripStatus
    starts_at: datetime
    ends_at: datetime
    legs: list[TripLegRead]
    planned_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    exchange_id: str | None
    version: int
