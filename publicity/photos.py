"""Photos for the leaflet and the brochures: of our city, a partner city, an exchange or a
visit, each with a caption and alt text per language. The commands (attach, describe,
remove: one event each, `PhotoAttached`, `PhotoDescribed`, `PhotoRemoved`), the store of
the cleaned bytes (`PhotoImage`, written by the API before the event that names them), and
the queries of the pages and the documents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Exchange
from twinning.crm.service import partner_exists
from twinning.db import insert_once
from twinning.photos import CleanPhoto, cleaned, document_copy
from twinning.publicity.models import Photo, PhotoImage
from twinning.refusals import NotFound
from twinning.streams import outbox
from twinning.streams.events import (
    CITY_PROFILE,
    EntityId,
    Event,
    PhotoAlts,
    PhotoAttached,
    PhotoCaptions,
    PhotoDescribed,
    PhotoFile,
    PhotoRemoved,
    PhotoSubjectKind,
    event_type_name,
)
from twinning.streams.store import OutboxEvent
from twinning.visits.models import Visit

#: The photos one subject keeps at most (a brochure prints a few of them).
PER_SUBJECT = 12

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PhotoAttach(BaseModel):
    """Attach a photo uploaded before (`POST /photos/images`) to our city (`subject_kind`
    `city`, `subject_id` `city-profile`), a partner city, an exchange or a visit."""

    model_config = ConfigDict(extra="forbid")

    subject_kind: PhotoSubjectKind
    subject_id: EntityId
    sha256: Sha256 = Field(description="The uploaded image's name, as the upload returned it.")
    caption: PhotoCaptions = Field(default_factory=dict)
    alt: PhotoAlts


class PhotoDescription(BaseModel):
    """A photo's caption and alt text, replacing the ones before (both, whole)."""

    model_config = ConfigDict(extra="forbid")

    caption: PhotoCaptions = Field(default_factory=dict)
    alt: PhotoAlts


class ImageStored(BaseModel):
    """An uploaded image as kept (metadata removed, resized): attach it by its `sha256`."""

    sha256: str
    media_type: str
    size: int
    width: int
    height: int


class PhotoRead(BaseModel):
    id: str
    subject_kind: PhotoSubjectKind
    subject_id: str
    partner_ids: list[str] = Field(description="The partner cities whose brochures show it.")
    file: PhotoFile
    caption: dict[str, str]
    alt: dict[str, str]
    image_url: str
    attached_at: datetime
    attached_by: str


def read(photo: Photo) -> PhotoRead:
    return PhotoRead(
        id=photo.id,
        subject_kind=PhotoSubjectKind(photo.subject_kind),
        subject_id=photo.subject_id,
        partner_ids=photo.partner_ids,
        file=PhotoFile.model_validate(photo.file),
        caption=photo.caption,
        alt=photo.alt,
        image_url=f"/photos/images/{photo.file['sha256']}",
        attached_at=photo.attached_at,
        attached_by=photo.attached_by,
    )


# --- the bytes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    photo: CleanPhoto
    document_jpeg: bytes


def prepare(data: bytes, *, max_bytes: int) -> Prepared:
    """An upload cleaned and resized, and its copy for documents (CPU work: run it off the
    event loop); `twinning.photos.PhotoRefused` if it is not a photo kept."""
    photo = cleaned(data, max_bytes=max_bytes)
    return Prepared(photo, document_copy(photo.data))


async def store_image(*, db_session: AsyncSession, prepared: Prepared) -> str:
    """Keep a prepared photo and return its `sha256` (once: the same bytes are the same photo,
    and of two uploads of them at once, the second finds the first's); the caller commits."""
    photo = prepared.photo
    row = {
        "sha256": photo.sha256,
        "media_type": photo.media_type,
        "width": photo.width,
        "height": photo.height,
        "data": photo.data,
        "document_jpeg": prepared.document_jpeg,
        "stored_at": datetime.now(UTC),
    }
    await insert_once(db_session, PhotoImage, row)
    return photo.sha256


def image_stored(prepared: Prepared) -> ImageStored:
    photo = prepared.photo
    return ImageStored(
        sha256=photo.sha256,
        media_type=photo.media_type,
        size=len(photo.data),
        width=photo.width,
        height=photo.height,
    )


async def get_image(*, db_session: AsyncSession, sha256: str) -> PhotoImage | None:
    return await db_session.get(PhotoImage, sha256)


# --- the commands ------------------------------------------------------------------------------


async def subject_partners(
    *, db_session: AsyncSession, kind: PhotoSubjectKind, subject_id: str
) -> list[str]:
    """The partner cities whose brochures show a photo of this subject (none for our city);
    `NotFound` for a subject that does not exist."""
    if kind is PhotoSubjectKind.CITY:
        if subject_id != CITY_PROFILE:
            raise NotFound("city", subject_id)
        return []
    if kind is PhotoSubjectKind.PARTNER:
        if not await partner_exists(db_session=db_session, partner_id=subject_id):
            raise NotFound("partner city", subject_id)
        return [subject_id]
    if kind is PhotoSubjectKind.EXCHANGE:
        exchange = await db_session.get(Exchange, subject_id)
        if exchange is None:
            raise NotFound("exchange", subject_id)
        return sorted(exchange.partner_ids)
    visit = await db_session.get(Visit, subject_id)
    if visit is None:
        raise NotFound("visit", subject_id)
    return [visit.partner_id] if visit.partner_id else []


async def attach_photo(*, db_session: AsyncSession, data: PhotoAttach, actor: str) -> Event:
    partner_ids = await subject_partners(
        db_session=db_session, kind=data.subject_kind, subject_id=data.subject_id
    )
    image = await get_image(db_session=db_session, sha256=data.sha256)
    if image is None:
        raise NotFound("photo image", data.sha256)
    payload = PhotoAttached(
        subject_kind=data.subject_kind,
        subject_id=data.subject_id,
        partner_ids=partner_ids,
        file=PhotoFile(
            sha256=image.sha256,
            media_type=image.media_type,  # type: ignore[arg-type]
            size=len(image.data),
            width=image.width,
            height=image.height,
        ),
        caption=data.caption,
        alt=data.alt,
    )
    return outbox.record(db_session, payload, aggregate_id=str(uuid.uuid4()), actor=actor)


async def describe_photo(
    *, db_session: AsyncSession, photo_id: str, data: PhotoDescription, actor: str
) -> Event:
    await _existing(db_session, photo_id)
    payload = PhotoDescribed(caption=data.caption, alt=data.alt)
    return outbox.record(db_session, payload, aggregate_id=photo_id, actor=actor)


async def remove_photo(*, db_session: AsyncSession, photo_id: str, actor: str) -> Event:
    await _existing(db_session, photo_id)
    return outbox.record(db_session, PhotoRemoved(), aggregate_id=photo_id, actor=actor)


async def _existing(db_session: AsyncSession, photo_id: str) -> None:
    """The photo is attached: known to the read model, or attached by a command the worker
    has not applied yet."""
    if await get_photo(db_session=db_session, photo_id=photo_id) is not None:
        return
    kinds = await db_session.scalars(
        select(OutboxEvent.type).where(
            OutboxEvent.aggregate_id == photo_id,
            OutboxEvent.type.in_([event_type_name(PhotoAttached), event_type_name(PhotoRemoved)]),
        )
    )
    if set(kinds) != {event_type_name(PhotoAttached)}:
        raise NotFound("photo", photo_id)


# --- the queries -------------------------------------------------------------------------------


async def get_photo(*, db_session: AsyncSession, photo_id: str) -> Photo | None:
    return await db_session.get(Photo, photo_id, populate_existing=True)


async def photos_of(
    *, db_session: AsyncSession, kind: PhotoSubjectKind, subject_id: str
) -> Sequence[Photo]:
    """The photos of a subject, in the order they were attached."""
    return (
        await db_session.scalars(
            select(Photo)
            .where(Photo.subject_kind == kind.value, Photo.subject_id == subject_id)
            .order_by(Photo.attached_at, Photo.id)
        )
    ).all()
