"""The gifts register: record, change and approve gifts, upload their photos, and export a
year's register (CSV, PDF) for audit. Staff only: a viewer's token gets 403 on every route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool
from twinning.api.common import (
    COMMAND,
    READ_ONE,
    STAFF_ONLY,
    Accepted,
    Command,
    image_response,
)
from twinning.api.deps import AppSettings, DbSession, require_role
from twinning.api.language import Language
from twinning.auth.schemas import Role
from twinning.gifts import register, service
from twinning.gifts.schemas import (
    GiftApproval,
    GiftCreate,
    GiftFilter,
    GiftRead,
    GiftUpdate,
    PhotoStored,
)
from twinning.photos import PhotoRefused, cleaned
from twinning.refusals import InvalidField, NotFound, problem_responses

router = APIRouter(
    prefix="/gifts",
    tags=["gifts"],
    dependencies=[Depends(require_role(Role.staff))],
    responses=STAFF_ONLY,
)
Year = Annotated[int, Path(ge=1900, le=2200)]


@router.post("", **COMMAND)
async def record_gift(data: GiftCreate, command: Command) -> Accepted:
    event = await command.run(service.record_gift, data=data)
    return await command.accept(event, location=f"/gifts/{event.aggregate_id}")


@router.post(
    "/photos",
    status_code=status.HTTP_201_CREATED,
    response_model=PhotoStored,
    responses=problem_responses(422),
)
async def upload_photo(
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image.")],
    db_session: DbSession,
    settings: AppSettings,
    response: Response,
) -> PhotoStored:
    """Keep a photo of a gift, its metadata (EXIF, GPS position) removed; then name it as a
    gift's `photo` when recording or changing the gift."""
    try:
        photo = cleaned(await file.read(), max_bytes=settings.gift_photo_max_bytes)
    except PhotoRefused as refused:
        raise InvalidField("file", str(refused)) from None
    await service.store_photo(db_session=db_session, photo=photo)
    await db_session.commit()
    response.headers["Location"] = f"/gifts/photos/{photo.sha256}"
    return PhotoStored(sha256=photo.sha256, media_type=photo.media_type, size=len(photo.data))


@router.get("/photos/{sha256}", response_class=Response, **READ_ONE)
async def get_photo(sha256: Annotated[str, Path(max_length=64)], db_session: DbSession) -> Response:
    stored = await service.get_photo(db_session=db_session, sha256=sha256)
    if stored is None:
        raise NotFound("gift photo", sha256)
    return image_response(stored.data, stored.media_type)


@router.get("/register/{year}.csv", response_class=Response)
async def register_csv(
    year: Year, db_session: DbSession, settings: AppSettings, language: Language
) -> Response:
    """Every gift dated in `year`, oldest first: UTF-8 CSV (with a byte order mark), its header
    and labels in the caller's language."""
    gifts = await register.gifts_of_year(db_session, year, settings)
    found = register.table(gifts, await register.names(db_session), language, settings)
    return _download(register.register_csv(found), "text/csv; charset=utf-8", year, "csv")


@router.get("/register/{year}.pdf", response_class=Response)
async def register_pdf(
    year: Year, db_session: DbSession, settings: AppSettings, language: Language
) -> Response:
    """The same register as an A4 PDF, in the caller's language."""
    gifts = await register.gifts_of_year(db_session, year, settings)
    who = await register.names(db_session)
    today = datetime.now(UTC).date()
    html = register.register_html(gifts, who, year, language, settings, today)
    # Seconds of CPU the first time (the fonts are cut to the page): off the event loop.
    pdf = await run_in_threadpool(register.register_pdf, html, language, settings)
    return _download(pdf, "application/pdf", year, "pdf")


def _download(content: bytes, media_type: str, year: int, fmt: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="gifts-register-{year}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.patch("/{gift_id}", **COMMAND)
async def update_gift(gift_id: str, data: GiftUpdate, command: Command) -> Accepted:
    event = await command.run(service.update_gift, gift_id=gift_id, data=data)
    return await command.accept(event, location=f"/gifts/{gift_id}")


@router.post("/{gift_id}/approve", **COMMAND)
async def approve_gift(
    gift_id: str, command: Command, settings: AppSettings, data: GiftApproval | None = None
) -> Accepted:
    """Record the approval of a gift above the threshold (409 when it needs none, or has one)."""
    approval = data or GiftApproval()
    event = await command.run(
        service.approve_gift, gift_id=gift_id, data=approval, settings=settings
    )
    return await command.accept(event, location=f"/gifts/{gift_id}")


@router.get("/{gift_id}", response_model=GiftRead, **READ_ONE)
async def get_gift(gift_id: str, db_session: DbSession, settings: AppSettings) -> GiftRead:
    gift = await service.get_gift(db_session=db_session, gift_id=gift_id)
    if gift is None:
        raise NotFound("gift", gift_id)
    return service.gift_read(gift, settings)


@router.get("", response_model=list[GiftRead])
async def list_gifts(
    query: Annotated[GiftFilter, Query()], db_session: DbSession, settings: AppSettings
) -> list[GiftRead]:
    """Newest first."""
    found = await service.list_gifts(db_session=db_session, query=query, settings=settings)
    return [service.gift_read(g, settings) for g in found]
