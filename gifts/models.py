"""The gifts read model, kept by the gifts projector; and the photo store, kept by the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class Gift(Base):
    __tablename__ = "gifts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), index=True)
    description: Mapped[dict[str, str]] = mapped_column(JsonType)
    category: Mapped[str] = mapped_column(String(20))
    date: Mapped[date] = mapped_column(Date, index=True)
    giver: Mapped[dict[str, Any]] = mapped_column(JsonType)
    recipient: Mapped[dict[str, Any]] = mapped_column(JsonType)
    #: The partner city or mission on the other side, if registered (for "given to them before").
    counterpart_kind: Mapped[str | None] = mapped_column(String(10))
    counterpart_id: Mapped[str | None] = mapped_column(String(100), index=True)
    occasion_kind: Mapped[str | None] = mapped_column(String(20))
    occasion_id: Mapped[str | None] = mapped_column(String(100), index=True)
    #: A decimal as text (exact on SQLite and PostgreSQL alike), e.g. "12000.00".
    estimated_value: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str | None] = mapped_column(String(3))
    location: Mapped[str] = mapped_column(String(20), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approval_note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class GiftPhotoFile(Base):
    """A gift's photo, as cleaned on upload, named by the SHA-256 of these bytes. Not a read
    model (events carry only its name, the bytes are too big for a topic): the API writes it
    before the event that names it, and a rebuild leaves it alone."""

    __tablename__ = "gift_photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
