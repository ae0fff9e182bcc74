"""What publicity stores: which documents are stale, and every rendered version.

`PublicityDocument` is the publicity projector's read model (rebuilt from the events like any
other): one row per (document, locale) that some event has affected, with a counter the
projector bumps. The renderer records how far it has checked; a row is due while the counter
is ahead, or when it was last checked on an earlier day (the leaflet's upcoming events and a
brochure's anniversaries move with the date).

`PublicityVersion` is not a read model: versions are what was published, kept across
`twinning rebuild`, numbered per (document, locale) from 1.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime, utcnow
from twinning.streams.store import Sequence

LEAFLET = "leaflet"
BROCHURE_PREFIX = "brochure:"


def brochure(partner_id: str) -> str:
    """The document key of a partner city's brochure."""
    return f"{BROCHURE_PREFIX}{partner_id}"


def brochure_partner(document: str) -> str | None:
    return document.removeprefix(BROCHURE_PREFIX) if document.startswith(BROCHURE_PREFIX) else None


class PublicityDocument(Base):
    __tablename__ = "publicity_documents"

    document: Mapped[str] = mapped_column(String(120), primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    #: Bumped by the projector for every event that affects the document.
    generation: Mapped[int] = mapped_column(Integer)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The generation the renderer last compared with the latest version (renderer-owned).
    checked_generation: Mapped[int] = mapped_column(Integer, default=0)
    checked_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: Until when a renderer has it (renderer-owned): another one leaves it alone till then.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: When a reader asked for the document while it waited to be looked at (set by the API,
    #: cleared by the renderer's look): such a document is looked at before the others.
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class PublicityVersion(Base):
    __tablename__ = "publicity_versions"

    id: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    document: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(35))
    number: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of what the document shows (its content, templates and catalog), not of its bytes.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        # Two renderers racing for the same version: one insert wins, the other is refused.
        UniqueConstraint("document", "locale", "number", name="uq_publicity_versions_number"),
        Index("ix_publicity_versions_document", "document", "locale"),
    )


class CityProfile(Base):
    """Our city's profile (one row, `CITY_PROFILE`), kept by the publicity projector from
    `CityProfileSet`: the paragraph by language, and the key figures as the event has them
    (`{"label": {language: text}, "value": text}`)."""

    __tablename__ = "city_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    about: Mapped[dict[str, str]] = mapped_column(JsonType)
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


class Photo(Base):
    """A photo attached to our city, a partner city, an exchange or a visit, kept by the
    publicity projector from `PhotoAttached`, `PhotoDescribed` and `PhotoRemoved` (a removed
    photo's row is deleted). `file` is the event's `PhotoFile`; the bytes are `PhotoImage`'s."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(100))
    #: The partner cities whose brochures show the photo.
    partner_ids: Mapped[list[str]] = mapped_column(JsonType)
    file: Mapped[dict[str, Any]] = mapped_column(JsonType)
    caption: Mapped[dict[str, str]] = mapped_column(JsonType)
    alt: Mapped[dict[str, str]] = mapped_column(JsonType)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attached_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_photos_subject", "subject_kind", "subject_id"),)


class PhotoImage(Base):
    """A photo's bytes as cleaned on upload (`data`, at most `twinning.photos.PRINT_EDGE`
    pixels long) and the smaller JPEG a document embeds (`document_jpeg`), named by the
    SHA-256 of `data`. Not a read model (events carry only its name): the API writes it
    before the event that names it, and a rebuild leaves it alone."""

    __tablename__ = "photo_images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    document_jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
