"""Importing partner cities, foreign missions and contacts in the web app (staff only): upload
a file, read the dry run's report, confirm, read what was imported.

Between the report and the confirmation the file travels with the page: the confirmation form
carries it (base64, in a hidden field) and the import reads it again from the start, against
what is there then; no copy waits on the server, so any API process can take the second step
and nothing is left behind when the reader walks away. The file's size is capped so that the
confirmation fits in a request (`TWINNING_MAX_BODY_BYTES`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile
from twinning import imports
from twinning.api.deps import DbSession
from twinning.config import Settings
from twinning.i18n import L_
from twinning.refusals import InvalidField
from twinning.streams import outbox
from twinning.web.pages import CheckedForm, User, not_found, page_language, render, require_staff

router = APIRouter(prefix="/ui", include_in_schema=False)

#: What each import page is about, and the list it comes from.
TITLES = {
    "partners": L_("Import partner cities"),
    "missions": L_("Import foreign missions"),
    "contacts": L_("Import contacts"),
}
LISTS = {"partners": "/ui/partners", "missions": "/ui/missions", "contacts": "/ui/contacts"}
#: Where a record is read (a new one: with its event, until the worker has applied it).
RECORD_PAGES = {
    "partners": ("/ui/partners/{id}", "/ui/partners/{id}/saved?event={event_id}"),
    "missions": ("/ui/missions/{id}", "/ui/missions/{id}?event={event_id}"),
    "contacts": ("/ui/contacts/{id}", "/ui/contacts/{id}?event={event_id}"),
}
#: Room left in a request for the confirmation form's other fields.
FORM_ROOM = 16 * 1024


def largest_file(settings: Settings) -> int:
    """The largest file the page takes: its base64 must fit in the confirmation's request."""
    return (settings.max_body_bytes - FORM_ROOM) * 3 // 4


def _context(kind: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": TITLES[kind],
        "list_href": LISTS[kind],
        "record_pages": RECORD_PAGES[kind],
        "status_labels": imports.STATUS_LABELS,
        "duplicate_text": imports.duplicate_text,
        **more,
    }


@router.get("/import/{kind}", response_class=HTMLResponse)
async def import_form(request: Request, kind: str, user: User) -> Response:
    require_staff(user)
    if kind not in imports.KINDS:
        not_found("import", kind)
    return render(request, "import_upload.html", _context(kind, errors={}), user=user)


@router.post("/import/{kind}", response_class=HTMLResponse, dependencies=[CheckedForm])
async def check_file(request: Request, kind: str, user: User, db_session: DbSession) -> Response:
    """The dry run: what each row of the uploaded file would do."""
    require_staff(user)
    if kind not in imports.KINDS:
        not_found("import", kind)
    upload = (await request.form()).get("file")
    filename = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    largest = largest_file(request.app.state.settings)
    try:
        if not filename and not content:
            raise InvalidField("file", "Choose a CSV or XLSX file")
        if len(content) > largest:
            raise InvalidField(
                "file", "The file is larger than %(size)s kB: split it", size=largest // 1024
            )
        report = await _run(request, db_session, user.actor, kind, content, filename, True)
    except InvalidField as refused:
        errors = {"file": refused.text(page_language(request))}
        context = _context(kind, errors=errors)
        return render(request, "import_upload.html", context, user=user, status_code=422)
    context = _context(
        kind,
        report=report,
        filename=filename,
        carried=base64.b64encode(content).decode("ascii"),
    )
    return render(request, "import_report.html", context, user=user)


@router.post("/import/{kind}/confirm", response_class=HTMLResponse, dependencies=[CheckedForm])
async def import_confirmed(
    request: Request, kind: str, user: User, db_session: DbSession
) -> Response:
    """The import of the file the report was about, read again: its result."""
    require_staff(user)
    if kind not in imports.KINDS:
        not_found("import", kind)
    form = await request.form()
    filename, carried = str(form.get("filename") or ""), str(form.get("carried") or "")
    try:
        content = base64.b64decode(carried, validate=True)
        report = await _run(request, db_session, user.actor, kind, content, filename, False)
    except (binascii.Error, InvalidField):
        errors = {"file": L_("Choose the file again: it did not come back whole")}
        context = _context(kind, errors=errors)
        return render(request, "import_upload.html", context, user=user, status_code=422)
    await outbox.commit(db_session, request.app.state.outbox_signal)
    context = _context(kind, report=report, filename=filename)
    return render(request, "import_report.html", context, user=user)


async def _run(
    request: Request,
    db_session: DbSession,
    actor: str,
    kind: str,
    content: bytes,
    filename: str,
    dry_run: bool,
) -> imports.ImportReport:
    return await imports.import_file(
        db_session=db_session,
        kind=kind,
        content=content,
        fmt=imports.format_of(filename),
        dry_run=dry_run,
        actor=actor,
        language=page_language(request),
    )
