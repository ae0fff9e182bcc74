"""Imports: partner cities, foreign missions and contacts from a CSV or XLSX file laid out as
the export's, with a dry run (staff only: an import registers records, and contacts are
personal data)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile, status
from twinning import imports
from twinning.api.common import REFUSALS, Command
from twinning.api.language import Language

router = APIRouter(prefix="/imports", tags=["imports"])


#: A dry run answers 200; an import, once its new rows are registered, 202 (the same report).
REGISTERED: dict[int | str, dict[str, Any]] = {
    202: {"model": imports.ImportReport, "description": "The new rows are registered."}
}


@router.post("/{kind}", response_model=imports.ImportReport, responses={**REFUSALS, **REGISTERED})
async def import_file(
    kind: Literal["partners", "missions", "contacts"],
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX, the export's columns.")],
    command: Command,
    language: Language,
    dry_run: Annotated[
        bool, Form(description="Report only: nothing is registered (the default).")
    ] = True,
    format: Annotated[
        Literal["csv", "xlsx"] | None,
        Form(description="The file's format, when its name does not end in .csv or .xlsx."),
    ] = None,
) -> imports.ImportReport:
    """Report each row of the file: `new` (a dry run) or `created`, `duplicate` (a likely
    second copy of a record, or of an earlier row: not imported) or `invalid` (each column and
    the reason, in the caller's language: not imported). Without `dry_run`, the new rows are
    registered as `POST /partners` (`/missions`, `/contacts`) registers one: an event each,
    the caller as its actor; the answer is then 202."""
    report = await imports.import_file(
        db_session=command.db_session,
        kind=kind,
        content=await file.read(),
        fmt=imports.format_of(file.filename or "", format),
        dry_run=dry_run,
        actor=command.actor,
        language=language,
    )
    if not dry_run:
        await command.commit(f"/{kind}")
        command.response.status_code = status.HTTP_202_ACCEPTED
    return report
