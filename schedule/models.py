"""The interpreter roster and the booking overrides of city events and trips (an itinerary
item keeps its own), kept by the schedule projector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class Interpreter(Base):
    """An interpreter the office books; the contact is personal data (staff with access only)."""

    __tablename__ = "interpreters"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: [{"source": "zh-TW", "target": "ja"}, ...]: the directions they work in.
    language_pairs: Mapped[list[dict[str, str]]] = mapped_column(JsonType)
    engagement: Mapped[str] = mapped_column(String(20))
    contact: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    contact_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class BookingOverride(Base):
    """A city event or trip booked in spite of conflicts: who, when, why, and which."""

    __tablename__ = "booking_overrides"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(100), index=True)
    reason: Mapped[str] = mapped_column(Text)
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
