"""Photos for the leaflet and the brochures: upload an image (its metadata removed, resized),
attach it to our city, a partner city, an exchange or a visit with a caption and alt text per
language, change those, remove it. Reading is for any role; the commands are for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command, image_response
from twinning.api.deps import AppSettings, DbSession, require_role
from twinning.auth.schemas import Role
from twinning.photos import PhotoRefused
from twinning.publicity import photos
from twinning.publicity.photos import (
    ImageStored,
    PhotoAttach,
    PhotoDescription,
    PhotoRead,
)
from twinning.refusals import InvalidField, NotFound, problem_responses
from twinning.streams.events import PhotoSubjectKind

router = APIRouter(prefix="/photos", tags=["photos"])
PhotoId = Annotated[str, Path(max_length=100)]


@router.post(
    "/images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageStored,
    responses=problem_responses(403, 422),
    dependencies=[Depends(require_role(Role.staff))],
)
async def upload_image(
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image.")],
    db_session: DbSession,
    settings: AppSettings,
    response: Response,
) -> ImageStored:
    """Keep an image, its metadata (EXIF, GPS position) removed and its long edge brought
    down to 2400 pixels; then attach it by its `sha256` (`POST /photos`)."""
    data = await file.read()
    try:
        prepared = await run_in_threadpool(photos.prepare, data, max_bytes=settings.photo_max_bytes)
    except PhotoRefused as refused:
        raise InvalidField("file", str(refused)) from None
    await photos.store_image(db_session=db_session, prepared=prepared)
    await db_session.commit()
    response.headers["Location"] = f"/photos/images/{prepared.photo.sha256}"
    return photos.image_stored(prepared)


@router.get("/images/{sha256}", response_class=Response, **READ_ONE)
async def get_image(sha256: Annotated[str, Path(max_length=64)], db_session: DbSession) -> Response:
    stored = await photos.get_image(db_session=db_session, sha256=sha256)
    if stored is None:
        raise NotFound("photo image", sha256)
    return image_response(stored.data, stored.media_type)


@router.post("", **COMMAND)
async def attach_photo(data: PhotoAttach, command: Command) -> Accepted:
    """Attach an uploaded image: the leaflet shows our city's and the exchanges' photos (a
    few), a partner city's brochure the partner's, its exchanges' and its visits'."""
    event = await command.run(photos.attach_photo, data=data)
    return await command.accept(event, location=f"/photos/{event.aggregate_id}")


@router.get("", response_model=list[PhotoRead])
async def list_photos(
    db_session: DbSession,
    subject_kind: Annotated[PhotoSubjectKind, Query()],
    subject_id: Annotated[str, Query(max_length=100)],
) -> list[PhotoRead]:
    """The photos of one subject, in the order they were attached."""
    found = await photos.photos_of(db_session=db_session, kind=subject_kind, subject_id=subject_id)
    return [photos.read(photo) for photo in found]


@router.get("/{photo_id}", response_model=PhotoRead, **READ_ONE)
async def get_photo(photo_id: PhotoId, db_session: DbSession) -> PhotoRead:
    photo = await photos.get_photo(db_session=db_session, photo_id=photo_id)
    if photo is None:
        raise NotFound("photo", photo_id)
    return photos.read(photo)


@router.put("/{photo_id}/description", **COMMAND)
async def describe_photo(photo_id: PhotoId, data: PhotoDescription, command: Command) -> Accepted:
    """Replace the photo's caption and alt text (both, whole)."""
    event = await command.run(photos.describe_photo, photo_id=photo_id, data=data)
    return await command.accept(event, location=f"/photos/{photo_id}")


@router.delete("/{photo_id}", **COMMAND)
async def remove_photo(photo_id: PhotoId, command: Command) -> Accepted:
    """Take the photo away: the documents that showed it are renewed without it."""
    event = await command.run(photos.remove_photo, photo_id=photo_id)
    return await command.accept(event, location=f"/photos/{photo_id}")
