"""A visit's letters as PDFs (invitation, visa support, thank you) in a language, and the
versions of the letter templates. Staff only (a viewer is refused, 403): a letter names the
head of the delegation."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool
from twinning.api.deps import AppSettings, Clock, DbSession, StaffUser
from twinning.letters import service as letters
from twinning.letters.render import letter_html, letter_pdf
from twinning.letters.schemas import LetterKind, TemplateVersionRead
from twinning.refusals import problem_responses

router = APIRouter(tags=["letters"])

LETTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(403, 404),
    200: {"content": {"application/pdf": {}}, "description": "The letter, an A4 PDF."},
}
Locale = Annotated[
    str, Query(max_length=35, description="The letter's language (zh-TW, en, ja, ko, es).")
]


@router.get(
    "/visits/{visit_id}/letters/{kind}",
    response_class=Response,
    responses=LETTER_RESPONSES,
    summary="A visit's letter as a PDF",
)
async def visit_letter(
    visit_id: str,
    kind: LetterKind,
    db_session: DbSession,
    settings: AppSettings,
    clock: Clock,
    _user: StaffUser,
    lang: Locale = "zh-TW",
    signatory: Annotated[
        str | None,
        Query(max_length=100, description="The official who signs (else the first in precedence)."),
    ] = None,
) -> Response:
    """The letter filled from the visit, its partner and the office, from the template in
    use for this kind and language."""
    today = clock().astimezone(ZoneInfo(settings.office_timezone)).date()
    letter = await letters.visit_letter(
        db_session=db_session,
        settings=settings,
        visit_id=visit_id,
        kind=kind.value,
        locale=lang,
        signatory_id=signatory,
        today=today,
    )
    pdf = await run_in_threadpool(letter_pdf, letter_html(letter), letter.locale, settings)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Language": letter.locale,
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="{kind.value}-{letter.locale}.pdf"',
        },
    )


@router.get(
    "/letters/templates/{kind}/{locale}",
    response_model=list[TemplateVersionRead],
    responses=problem_responses(403, 404),
    summary="The versions of a letter template",
)
async def template_versions(
    kind: LetterKind, locale: str, db_session: DbSession, _user: StaffUser
) -> list[TemplateVersionRead]:
    """Every saved version, the newest (the one in use) first, and the shipped text (0) last."""
    return await letters.versions(db_session=db_session, kind=kind.value, locale=locale)
