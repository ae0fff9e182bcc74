"""What the press API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from twinning.db import Page
from twinning.streams.events import PressItemKind, PressItemRecorded, PressItemUpdated

# A command carries exactly what its event carries: one definition, validated once.
PressItemCreate = PressItemRecorded
PressItemUpdate = PressItemUpdated


class PressFilter(Page):
    """Newest first; `year` is the year of the item's date; `covers` one record it covers."""

    kind: PressItemKind | None = None
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    covers: Annotated[str, Field(max_length=100)] | None = None


class PressItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: PressItemKind
    outlet: str
    date: date
    language: str
    title: dict[str, str]
    link: str | None
    covers: list[dict[str, Any]]
    recorded_at: datetime
    updated_at: datetime
    version: int


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM")
    count: int
    by_kind: dict[str, int]


class PartnerCount(BaseModel):
    partner_id: str
    names: dict[str, str]
    count: int


class PressCounts(BaseModel):
    """How many press items, per month and per partner city (an item counts once for each
    partner city that a visit, city event, trip or exchange it covers concerns)."""

    year: int
    total: int
    by_month: list[MonthCount]
    by_partner: list[PartnerCount]
