"""Photos for the leaflet and the brochures in the web app: the photos of a partner city, an
exchange, a visit or our city (a section of their pages, `photos_context`), the form that
adds one (a file, a caption and alt text per language), the form that changes its caption
and alt text or removes it, and the image itself for signed-in users. Staff only change them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.support import LazyProxy
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from twinning.api.deps import DbSession
from twinning.auth.service import Principal
from twinning.i18n import L_, supported_locales
from twinning.photos import PhotoRefused
from twinning.publicity import photos
from twinning.publicity.photos import PhotoAttach, PhotoDescription
from twinning.refusals import InvalidField, NotFound
from twinning.streams.events import PhotoSubjectKind
from twinning.web.pages import (
    CheckedForm,
    User,
    committed,
    field_errors,
    form_of,
    not_found,
    render,
    require_staff,
    texts_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

PHOTO_MESSAGES: Mapping[str, LazyProxy] = {
    "file": L_("Choose a JPEG, PNG or WebP photo smaller than 8 MB"),
    "caption": L_("Write the caption in plain text, up to 200 characters in each language"),
    "alt": L_(
        "Describe what the photo shows for readers who cannot see it, in one language at"
        " least, up to 300 characters each"
    ),
}
LOCATIONS: Mapping[tuple[str, ...], str] = {
    ("file",): "file",
    ("sha256",): "file",
    ("caption",): "caption",
    ("alt",): "alt",
    (): "alt",
}


def subject_page(kind: str, subject_id: str) -> str:
    """The page a subject's photos are listed on."""
    return {
        PhotoSubjectKind.CITY.value: "/ui/publicity/profile",
        PhotoSubjectKind.PARTNER.value: f"/ui/partners/{subject_id}",
        PhotoSubjectKind.EXCHANGE.value: f"/ui/exchanges/{subject_id}",
        PhotoSubjectKind.VISIT.value: f"/ui/visits/{subject_id}",
    }[kind]


async def photos_context(
    db_session: AsyncSession, kind: PhotoSubjectKind, subject_id: str
) -> dict[str, Any]:
    """What a page's photo section shows (`photos_section.html`)."""
    return {
        "photos": await photos.photos_of(db_session=db_session, kind=kind, subject_id=subject_id),
        "photo_subject": {"kind": kind.value, "id": subject_id},
    }


def _kind(value: str) -> PhotoSubjectKind:
    try:
        return PhotoSubjectKind(value)
    except ValueError:
        not_found("photo subject", value[:20])


async def _check_subject(db_session: AsyncSession, kind: PhotoSubjectKind, subject_id: str) -> None:
    try:
        await photos.subject_partners(db_session=db_session, kind=kind, subject_id=subject_id)
    except NotFound:
        not_found(kind.value, subject_id)


def _form_page(
    request: Request,
    user: Principal,
    template: str,
    form: Mapping[str, str],
    errors: Mapping[str, Any],
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context = {"form": form, "errors": errors, "locales": supported_locales(), **context}
    return render(request, template, context, user=user, status_code=status_code)


def _texts(form: Mapping[str, str]) -> dict[str, Any]:
    locales = supported_locales()
    return {
        "caption": texts_of(form, "caption", locales) or {},
        "alt": texts_of(form, "alt", locales) or {},
    }


# --- adding a photo ---------------------------------------------------------------------------


@router.get("/photos/new", response_class=HTMLResponse)
async def new_photo_form(
    request: Request,
    user: User,
    db_session: DbSession,
    subject_kind: str = "",
    subject_id: str = "",
) -> HTMLResponse:
    require_staff(user)
    kind = _kind(subject_kind)
    await _check_subject(db_session, kind, subject_id[:100])
    form = {"subject_kind": kind.value, "subject_id": subject_id[:100]}
    return _form_page(
        request,
        user,
        "photo_form.html",
        form,
        {},
        back=subject_page(kind.value, form["subject_id"]),
    )


@router.post("/photos/new", response_class=HTMLResponse, dependencies=[CheckedForm])
async def add_photo(request: Request, user: User, db_session: DbSession) -> Response:
    require_staff(user)
    form = await form_of(request)
    kind = _kind(form.get("subject_kind", ""))
    subject_id = form.get("subject_id", "")[:100]
    await _check_subject(db_session, kind, subject_id)
    settings = request.app.state.settings
    errors: dict[str, LazyProxy] = {}
    sha256 = ""
    upload = (await request.form()).get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        try:
            prepared = await run_in_threadpool(
                photos.prepare, await upload.read(), max_bytes=settings.photo_max_bytes
            )
            sha256 = await photos.store_image(db_session=db_session, prepared=prepared)
        except PhotoRefused:
            errors["file"] = PHOTO_MESSAGES["file"]
    else:
        errors["file"] = PHOTO_MESSAGES["file"]
    try:
        data = PhotoAttach.model_validate(
            {"subject_kind": kind.value, "subject_id": subject_id, **_texts(form),
             "sha256": sha256 or "0" * 64}
        )  # fmt: skip
        if errors:
            raise InvalidField("file", "the photo is refused")
        event = await photos.attach_photo(db_session=db_session, data=data, actor=user.actor)
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        found = {**field_errors(refused, PHOTO_MESSAGES, LOCATIONS), **errors}
        ordered = {name: found[name] for name in PHOTO_MESSAGES if name in found}
        back = subject_page(kind.value, subject_id)
        return _form_page(
            request, user, "photo_form.html", form, ordered, status_code=422, back=back
        )
    return await committed(
        request, db_session, subject_page(kind.value, subject_id), event.event_id
    )


# --- changing or removing one -------------------------------------------------------------------


async def _photo(db_session: AsyncSession, photo_id: str) -> Any:
    found = await photos.get_photo(db_session=db_session, photo_id=photo_id[:100])
    if found is None:
        not_found("photo", photo_id[:100])
    return found


def _described(photo: Any) -> dict[str, str]:
    form = {f"caption_{code}": text for code, text in photo.caption.items()}
    return form | {f"alt_{code}": text for code, text in photo.alt.items()}


@router.get("/photos/{photo_id}", response_class=HTMLResponse)
async def photo_page(
    request: Request, photo_id: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    photo = await _photo(db_session, photo_id)
    back = subject_page(photo.subject_kind, photo.subject_id)
    return _form_page(request, user, "photo.html", _described(photo), {}, photo=photo, back=back)


@router.post("/photos/{photo_id}", response_class=HTMLResponse, dependencies=[CheckedForm])
async def describe_photo(
    request: Request, photo_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    photo = await _photo(db_session, photo_id)
    form = await form_of(request)
    back = subject_page(photo.subject_kind, photo.subject_id)
    try:
        data = PhotoDescription.model_validate(_texts(form))
    except ValidationError as refused:
        errors = field_errors(refused, PHOTO_MESSAGES, LOCATIONS)
        return _form_page(
            request, user, "photo.html", form, errors, status_code=422, photo=photo, back=back
        )
    event = await photos.describe_photo(
        db_session=db_session, photo_id=photo.id, data=data, actor=user.actor
    )
    return await committed(request, db_session, back, event.event_id)


@router.post("/photos/{photo_id}/remove", dependencies=[CheckedForm])
async def remove_photo(
    request: Request, photo_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    photo = await _photo(db_session, photo_id)
    event = await photos.remove_photo(db_session=db_session, photo_id=photo.id, actor=user.actor)
    return await committed(
        request, db_session, subject_page(photo.subject_kind, photo.subject_id), event.event_id
    )


@router.get("/photos/images/{sha256}")
async def photo_image(sha256: str, user: User, db_session: DbSession) -> Response:
    """The image, for signed-in users (the documents embed their own copy)."""
    stored = await photos.get_image(db_session=db_session, sha256=sha256[:64])
    if stored is None:
        not_found("photo image", sha256[:64])
    return Response(
        stored.data,
        media_type=stored.media_type,
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )
