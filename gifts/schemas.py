"""What the gifts API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from twinning.db import Page
from twinning.streams.events import (
    GiftApproved,
    GiftCategory,
    GiftDirection,
    GiftLocation,
    GiftRecorded,
    GiftUpdated,
)

# A command carries exactly what its event carries: one definition, validated once.
GiftCreate = GiftRecorded
GiftUpdate = GiftUpdated
GiftApproval = GiftApproved


class GiftFilter(Page):
    """Newest first; `year` is the year of the gift's date; `counterpart_id` a partner city
    or foreign mission on the other side; `occasion_id` a visit, trip or city event."""

    direction: GiftDirection | None = None
    category: GiftCategory | None = None
    location: GiftLocation | None = None
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    counterpart_id: Annotated[str, Field(max_length=100)] | None = None
    occasion_id: Annotated[str, Field(max_length=100)] | None = None
    awaiting_approval: bool | None = Field(
        default=None, description="Only the gifts above the threshold not approved yet."
    )


class GiftRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    direction: GiftDirection
    description: dict[str, str]
    category: GiftCategory
    date: date
    giver: dict[str, Any]
    recipient: dict[str, Any]
    occasion_kind: str | None
    occasion_id: str | None
    estimated_value: Decimal | None
    currency: str | None
    location: GiftLocation
    notes: str | None
    photo: dict[str, Any] | None
    needs_approval: bool = Field(
        description="Its value is above the approval threshold (or in a currency the office has"
        " no rate for)."
    )
    approved_at: datetime | None
    approved_by: str | None
    approval_note: str | None
    recorded_at: datetime
    recorded_by: str
    updated_at: datetime
    version: int


class PhotoStored(BaseModel):
    """A photo as stored (EXIF and other metadata removed): name it as a gift's `photo`."""

    sha256: str
    media_type: str
    size: int
