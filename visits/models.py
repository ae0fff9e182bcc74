"""The visits read model, kept by the visits projector from the events on `twinning.visits`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from twinning.db import Base, JsonType, UTCDateTime


class Official(Base):
    __tablename__ = "officials"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonType)
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    protocol_rank: Mapped[int] = mapped_column(Integer, index=True)
    #: Where notices of late changes to the official's schedule go, and in which language.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    #: How the official is addressed, per language (`visits/precedence.py` `form_of_address`).
    forms_of_address: Mapped[dict[str, str] | None] = mapped_column(JsonType, default=None)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class Venue(Base):
    __tablename__ = "venues"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonType)
    capacity: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    address: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class Visit(Base):
    """A visit request and where it stands; the notes and the contact are personal data."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    partner_id: Mapped[str | None] = mapped_column(String(100), index=True)
    mission_id: Mapped[str | None] = mapped_column(String(100), index=True)
    organisation: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    head_of_delegation: Mapped[dict[str, Any]] = mapped_column(JsonType)
    members: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[dict[str, str]] = mapped_column(JsonType)
    requested_from: Mapped[date] = mapped_column(Date, index=True)
    requested_to: Mapped[date] = mapped_column(Date)
    languages: Mapped[list[str]] = mapped_column(JsonType)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean)
    dietary_notes: Mapped[str | None] = mapped_column(Text)
    accessibility_notes: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    #: The members besides the head (`VisitDelegationMembersListed`): personal data.
    delegation_members: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType, default=None)
    #: Internal (staff and the officials' briefing book only).
    talking_points: Mapped[str | None] = mapped_column(Text, default=None)
    exchange_id: Mapped[str | None] = mapped_column(String(100))
    #: `staff`, or `form` (the public visit-request form): flagged until staff accept it.
    received_via: Mapped[str] = mapped_column(String(10), default="staff", server_default="staff")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    accepted_by: Mapped[str | None] = mapped_column(String(200), default=None)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    history: Mapped[list[VisitStatusChange]] = relationship(
        order_by="VisitStatusChange.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def flagged(self) -> bool:
        """Sent through the public form and not yet accepted by staff."""
        return self.received_via == "form" and self.accepted_at is None

    @property
    def delegation(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "mission_id": self.mission_id,
            "organisation": self.organisation,
        }


class VisitStatusChange(Base):
    """One step of a visit's lifecycle: who moved it where, when, and why."""

    __tablename__ = "visit_status_changes"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    #: The visit's version after this step: orders steps that share a timestamp.
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItineraryItem(Base):
    """One item of a visit's programme; a removed item stays, so calendars can cancel it."""

    __tablename__ = "itinerary_items"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    #: Never loaded (set `visit_id`): it tells the unit of work that a visit is written
    #: before its items when both are pending in one flush.
    visit: Mapped[Visit] = relationship(lazy="raise")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue_id: Mapped[str | None] = mapped_column(String(100), index=True)
    place: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    interpreter: Mapped[bool | str] = mapped_column(JsonType)
    gift_exchange: Mapped[str | None] = mapped_column(Text)
    press: Mapped[bool] = mapped_column(Boolean)
    titles: Mapped[dict[str, str]] = mapped_column(JsonType)
    notes_shared: Mapped[str | None] = mapped_column(Text)
    #: Internal (staff and the officials' briefing book only), never in a calendar.
    talking_points: Mapped[str | None] = mapped_column(Text, default=None)
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    removed: Mapped[bool] = mapped_column(Boolean)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Bumped by every change and the removal: the SEQUENCE a calendar entry needs.
    sequence: Mapped[int] = mapped_column(Integer)

    attendance: Mapped[list[ItineraryAttendance]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    interpreting: Mapped[list[ItineraryInterpreter]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def official_ids(self) -> list[str]:
        return [a.official_id for a in self.attendance]

    @property
    def interpreter_ids(self) -> list[str]:
        return [i.interpreter_id for i in self.interpreting]


class ItineraryAttendance(Base):
    """An official who attends an itinerary item (one row each, for conflict checks and feeds)."""

    __tablename__ = "itinerary_attendance"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("itinerary_items.id", ondelete="CASCADE"), primary_key=True
    )
    official_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class ItineraryInterpreter(Base):
    """An interpreter of the roster booked for an itinerary item."""

    __tablename__ = "itinerary_interpreters"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("itinerary_items.id", ondelete="CASCADE"), primary_key=True
    )
    interpreter_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class FormSubmission(Base):
    """One visit request sent through the public form, kept to limit how many come from one
    address or for one email address an hour; both as sha256 digests, never in clear."""

    __tablename__ = "visit_form_submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(64), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
