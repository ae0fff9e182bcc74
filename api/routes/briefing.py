"""A visit's briefing book (for the officials who receive the delegation: internal) and the
delegation's programme, as the publicity consumer rendered them: the latest version or any
earlier one, in HTML or PDF, in a language each was rendered in. Staff only: a viewer is
refused (403) and a caller without a token too (401); the answers are never cached by a
shared cache.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field
from twinning.api.deps import DbSession, StaffUser
from twinning.api.language import Language
from twinning.publicity import briefing
from twinning.publicity import service as versions
from twinning.publicity.fonts import INSTALL_FONTS, missing_face
from twinning.publicity.models import PublicityVersion
from twinning.publicity.schemas import VersionList, VersionRead
from twinning.refusals import NotFound, problem_responses
from twinning.visits import service as visits

router = APIRouter(prefix="/visits", tags=["briefing"])

Kind = Literal["briefing-book", "delegation-programme"]
Format = Annotated[
    Literal["html", "pdf"],
    Query(description="`html` (one self-contained page) or `pdf` (print-ready A4)."),
]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
DOCUMENT_KEYS = {
    "briefing-book": briefing.briefing_book,
    "delegation-programme": briefing.delegation_programme,
}
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
#: The HTML pages carry no script and load nothing: a browser should let them do neither.
HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(403, 404),
    200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The document."},
    503: {
        "description": "A PDF in zh-TW, ja or ko on a server without Noto Sans CJK (the "
        "detail says what to install), or the database is unavailable."
    },
}


class BriefingDocuments(BaseModel):
    """The languages each document of the visit has been rendered in."""

    visit_id: str
    briefing_book: list[str] = Field(
        description="The book for the officials: the office's language and each attending "
        "official's (their calendar feed link's)."
    )
    delegation_programme: list[str] = Field(description="The delegation's languages.")


async def _document(db_session: DbSession, visit_id: str, kind: Kind) -> str:
    if await visits.get_visit(db_session=db_session, visit_id=visit_id) is None:
        raise NotFound("visit", visit_id)
    return DOCUMENT_KEYS[kind](visit_id)


def serve_version(version: PublicityVersion, format: str, *, kind: str) -> Response:
    """A stored version as a download: never kept by a shared cache (the book is internal)."""
    headers = {
        "Content-Language": version.locale,
        "Cache-Control": "private, no-store",
        "Content-Disposition": (
            f'inline; filename="{kind}-{version.locale}-v{version.number}.{format}"'
        ),
    }
    if format == "html":
        headers["Content-Security-Policy"] = HTML_POLICY
        return Response(version.html.encode(), media_type=MEDIA_TYPES[format], headers=headers)
    if (family := missing_face(version.locale)) is not None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"PDFs in {version.locale} need the font {family}, which this server lacks: "
            f"{INSTALL_FONTS}",
        )
    return Response(version.pdf, media_type=MEDIA_TYPES[format], headers=headers)


def _missing(kind: str, locale: str, number: int | None = None) -> HTTPException:
    which = f"version {number}" if number is not None else "version"
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"the {kind.replace('-', ' ')} has no {which} in {locale} (see /visits/{{id}}/briefing "
        "for the languages it has)",
    )


@router.get("/{visit_id}/briefing", response_model=BriefingDocuments, responses=RESPONSES)
async def briefing_documents(
    visit_id: str, db_session: DbSession, _user: StaffUser
) -> BriefingDocuments:
    """The languages the visit's briefing book and delegation programme exist in."""
    book = await _document(db_session, visit_id, "briefing-book")
    return BriefingDocuments(
        visit_id=visit_id,
        briefing_book=await briefing.rendered_locales(db_session, book),
        delegation_programme=await briefing.rendered_locales(
            db_session, briefing.delegation_programme(visit_id)
        ),
    )


def _routes(kind: Kind) -> None:
    """The three routes of one kind of document (the latest, its versions, one version)."""

    async def get_latest(
        visit_id: str,
        db_session: DbSession,
        language: Language,
        _user: StaffUser,
        format: Format = "pdf",
    ) -> Response:
        document = await _document(db_session, visit_id, kind)
        version = await versions.latest_version(
            db_session=db_session, document=document, locale=language
        )
        if version is None:
            raise _missing(kind, language)
        return serve_version(version, format, kind=kind)

    async def list_versions(
        visit_id: str, db_session: DbSession, language: Language, _user: StaffUser
    ) -> VersionList:
        document = await _document(db_session, visit_id, kind)
        found = await versions.list_versions(
            db_session=db_session, document=document, locale=language
        )
        base = f"/visits/{visit_id}/{kind}/versions"
        return VersionList(
            document=document,
            locale=language,
            versions=[
                VersionRead(
                    **v.model_dump(),
                    html_url=f"{base}/{v.number}?lang={language}&format=html",
                    pdf_url=f"{base}/{v.number}?lang={language}&format=pdf",
                )
                for v in found
            ],
        )

    async def get_version(
        visit_id: str,
        number: VersionNumber,
        db_session: DbSession,
        language: Language,
        _user: StaffUser,
        format: Format = "pdf",
    ) -> Response:
        document = await _document(db_session, visit_id, kind)
        version = await versions.get_version(
            db_session=db_session, document=document, locale=language, number=number
        )
        if version is None:
            raise _missing(kind, language, number)
        return serve_version(version, format, kind=kind)

    what = kind.replace("-", " ")
    name = kind.replace("-", "_")
    router.add_api_route(
        f"/{{visit_id}}/{kind}",
        get_latest,
        methods=["GET"],
        name=f"get_{name}",
        summary=f"The latest {what} in the language asked for",
        response_class=Response,
        responses=RESPONSES,
    )
    router.add_api_route(
        f"/{{visit_id}}/{kind}/versions",
        list_versions,
        methods=["GET"],
        name=f"list_{name}_versions",
        summary=f"Every version of the {what} in the language asked for, newest first",
        response_model=VersionList,
        responses=RESPONSES,
    )
    router.add_api_route(
        f"/{{visit_id}}/{kind}/versions/{{number}}",
        get_version,
        methods=["GET"],
        name=f"get_{name}_version",
        summary=f"One version of the {what}",
        response_class=Response,
        responses=RESPONSES,
    )


_routes("briefing-book")
_routes("delegation-programme")
