"""The trips read model, kept by the trips projector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship
from twinning.db import Base, JsonType, UTCDateTime


class Trip(Base):
    __tablename__ = "trips"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    officials: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    international_event: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(20), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    exchange_id: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)

    # Read-only and loaded on request (`selectinload`): the projector writes legs itself.
    legs: Mapped[list[TripLeg]] = relationship(
        primaryjoin=lambda: Trip.id == foreign(TripLeg.trip_id),
        order_by=lambda: TripLeg.position,
        viewonly=True,
        lazy="raise",
    )


class TripLeg(Base):
    """One destination of a trip; start and end stored in UTC, shown in `timezone`."""

    __tablename__ = "trip_legs"

    trip_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[dict[str, str]] = mapped_column(JsonType)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    partner_ids: Mapped[list[str]] = mapped_column(JsonType)
    itinerary: Mapped[dict[str, str] | None] = mapped_column(JsonType)
