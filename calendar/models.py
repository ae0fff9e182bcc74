"""The calendar read model: one entry per thing that happens (an itinerary item, a city event,
a leg of a trip, an agreement anniversary), who sees it, and the secret links to the feeds.

An entry keeps what its feeds show in every language (`facts`, multilingual texts as they came)
and is never deleted: a cancelled or removed source keeps its entry as cancelled, and an
audience that loses an entry (an official no longer attending) keeps its row with
`removed_at`, so that its feed can show the entry cancelled for a while.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from twinning.db import Base, JsonType, UTCDateTime


class EntryStatus(StrEnum):
    """RFC 5545 STATUS of an event, in lower case."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class CalendarEntry(Base):
    __tablename__ = "calendar_entries"
    __table_args__ = (Index("ix_calendar_entries_source", "kind", "source_id"),)

    #: The iCalendar UID: the same in every language, across changes and rebuilds.
    uid: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: What the entry comes from: itinerary, city-event, trip-leg, anniversary, exchange.
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The IANA zone the times are shown in; None for an all-day entry (whole local days).
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: RFC 5545 SEQUENCE: grows on every significant change (time, place, status, attendees).
    sequence: Mapped[int] = mapped_column(Integer)
    #: Grows on every change of what the entry shows: the key of the rendering cache.
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When its source last changed (the event's occurred_at): DTSTAMP and LAST-MODIFIED.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    facts: Mapped[dict[str, Any]] = mapped_column(JsonType)

    audiences: Mapped[list[CalendarAudience]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    references: Mapped[list[CalendarReference]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class CalendarAudience(Base):
    """Whose feed shows an entry: `office`, `official:<id>` or `partner:<id>`."""

    __tablename__ = "calendar_audiences"

    entry_uid: Mapped[str] = mapped_column(
        ForeignKey("calendar_entries.uid", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)
    #: The entry left this feed (an official no longer attends): shown cancelled for a while.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarReference(Base):
    """What an entry shows of other records (`official:<id>`, `venue:<id>`, `partner:<id>`,
    `mission:<id>`), so that renaming one of them refreshes the entries that name it."""

    __tablename__ = "calendar_references"

    entry_uid: Mapped[str] = mapped_column(
        ForeignKey("calendar_entries.uid", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)


class FeedVersion(Base):
    """A counter per audience that grows whenever its feed may have changed, so that the API
    serves a cached feed after one look at this row. Not part of the read model proper (a
    rebuild keeps counting from here, and a cached feed never matches a recycled number)."""

    __tablename__ = "calendar_feed_versions"

    audience: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class FeedLink(Base):
    """A secret subscription link to a private feed (an official's, the office's).

    Security data, not a domain event: written by the API directly, never on a topic, kept by
    `twinning rebuild`. Only the SHA-256 of the secret is stored; the URL is shown once, when
    the link is created or rotated.
    """

    __tablename__ = "calendar_feed_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    audience: Mapped[str] = mapped_column(String(120), index=True)
    language: Mapped[str] = mapped_column(String(35))
    label: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the secret, for staff to tell links apart.
    token_prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
