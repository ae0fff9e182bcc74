"""The city events and invitations read model, kept by the invitations projector."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from twinning.db import Base, JsonType, UTCDateTime

#: The answer of an invitation nobody has answered yet (the others are `RsvpAnswer` values).
NO_REPLY = "no-reply"


class CityEventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class InvitationStatus(StrEnum):
    INVITED = "invited"
    WITHDRAWN = "withdrawn"


class CityEvent(Base):
    __tablename__ = "city_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    description: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    # The calendar days the event covers in its own time zone, for date-range filters.
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    venue_id: Mapped[str | None] = mapped_column(String(100))
    venue_place: Mapped[str | None] = mapped_column(Text)
    video_link: Mapped[str | None] = mapped_column(String(2048))
    open_to_partners: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), index=True)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    exchange_field: Mapped[str | None] = mapped_column(String(30))
    exchange_summary: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    participants: Mapped[int | None] = mapped_column(Integer)
    exchange_id: Mapped[str | None] = mapped_column(String(100))
    #: `[{"kind": "partner" | "mission", "id": ...}]` (column added by 0014_gifts).
    co_hosts: Mapped[list[dict[str, str]] | None] = mapped_column(JsonType)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    attendance: Mapped[list[CityEventAttendance]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    interpreting: Mapped[list[CityEventInterpreter]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def official_ids(self) -> list[str]:
        return [a.official_id for a in self.attendance]

    @property
    def interpreter_ids(self) -> list[str]:
        return [i.interpreter_id for i in self.interpreting]


class CityEventAttendance(Base):
    """An official of the city who attends a city event (one row each: conflicts and feeds)."""

    __tablename__ = "city_event_attendance"

    city_event_id: Mapped[str] = mapped_column(
        ForeignKey("city_events.id", ondelete="CASCADE"), primary_key=True
    )
    official_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class CityEventInterpreter(Base):
    """An interpreter of the roster booked for a city event."""

    __tablename__ = "city_event_interpreters"

    city_event_id: Mapped[str] = mapped_column(
        ForeignKey("city_events.id", ondelete="CASCADE"), primary_key=True
    )
    interpreter_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    city_event_id: Mapped[str] = mapped_column(ForeignKey("city_events.id"), index=True)
    #: Never loaded (set `city_event_id`): it tells the unit of work that an event is written
    #: before its invitations when both are pending in one flush.
    city_event: Mapped[CityEvent] = relationship(lazy="raise")
    invitee_kind: Mapped[str] = mapped_column(String(20))
    invitee_id: Mapped[str] = mapped_column(String(100), index=True)
    answer_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(String(30))
    delegates: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    #: Who comes in person: `[{"name", "title"?, "needs"?}]`, personal data (0019_letters).
    delegate_details: Mapped[list[dict[str, str]] | None] = mapped_column(JsonType)
    received_via: Mapped[str | None] = mapped_column(String(20))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
