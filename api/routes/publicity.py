"""The leaflet and the partner brochures, as published: the latest version or any earlier one,
in HTML or PDF, in the language asked for (`?lang=` or Accept-Language). Public: no token.

A version never changes once rendered, so a numbered version is cacheable for good, and the
latest is served with an ETag to revalidate against.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import DbSession, get_settings
from twinning.api.language import Language
from twinning.crm import service as crm
from twinning.publicity import profile as publicity_profile
from twinning.publicity import service
from twinning.publicity.fonts import INSTALL_FONTS, missing_face
from twinning.publicity.models import LEAFLET, PublicityVersion, brochure
from twinning.publicity.render import BESIDE, bilingual_html, render_pdf, subset_cache
from twinning.publicity.schemas import CityProfileRead, VersionList, VersionRead
from twinning.refusals import NotFound
from twinning.streams.events import CITY_PROFILE, CityProfileSet

router = APIRouter(tags=["publicity"])

Format = Annotated[
    Literal["html", "pdf", "print"],
    Query(
        description="`html` (one self-contained page), `pdf` (A4, tagged for accessibility: "
        "PDF/UA-1) or `print` (the PDF for a print shop: PDF/X-4, 3 mm bleed, crop marks, the "
        "leaflet's panels in folding order)."
    ),
]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "print": "application/pdf",
}
#: Print variants made on request (from the version's HTML), kept per process: a version
#: never changes, so neither does its print variant.
_PRINTED: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
_PRINTED_KEEP = 16
#: The HTML pages carry no script and load nothing: a browser should let them do neither.
HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCUMENT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The document."},
    304: {"description": "Not modified (If-None-Match)."},
    503: {
        "description": "Not rendered yet: retry after `Retry-After`. Or a PDF in zh-TW, ja or "
        "ko on a server without Noto Sans CJK (the detail says what to install). Or the "
        "database is unavailable."
    },
}
#: What may be unknown: the partner city, the version.
NO_PARTNER: dict[int | str, dict[str, object]] = {404: {"description": "No such partner city."}}
NO_VERSION: dict[int | str, dict[str, object]] = {404: {"description": "No such version."}}
NO_PARTNER_OR_VERSION: dict[int | str, dict[str, object]] = {
    404: {"description": "No such partner city, or no such version."}
}


async def _serve(
    request: Request, version: PublicityVersion, format: str, *, name: str, latest: bool
) -> Response:
    etag = f'"{version.content_hash[:32]}-{version.number}-{format}"'
    headers = {
        "ETag": etag,
        "Content-Language": version.locale,
        "Vary": "Accept-Language",
        "Cache-Control": "no-cache" if latest else "public, max-age=31536000, immutable",
    }
    if_none_match = request.headers.get("if-none-match", "")
    if if_none_match.strip() == "*" or etag in if_none_match:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    headers["Content-Disposition"] = (
        f'inline; filename="{name}-{version.locale}-v{version.number}.{format}"'
        if format != "print"
        else f'attachment; filename="{name}-{version.locale}-v{version.number}-print.pdf"'
    )
    if format == "html":
        headers["Content-Security-Policy"] = HTML_POLICY
        body = version.html.encode()
    elif format == "print":
        _refuse_unreadable_pdf(version.locale)
        body = await _print_variant(request, version)
    else:
        _refuse_unreadable_pdf(version.locale)
        body = version.pdf
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


async def _print_variant(request: Request, version: PublicityVersion) -> bytes:
    key = (version.document, version.locale, version.number)
    if key not in _PRINTED:
        settings = get_settings(request)
        fonts = subset_cache(str(settings.data_dir.resolve() / "publicity" / "fonts"))
        _PRINTED[key] = await run_in_threadpool(
            partial(render_pdf, version.html, version.locale, fonts, for_print=True)
        )
        while len(_PRINTED) > _PRINTED_KEEP:
            _PRINTED.popitem(last=False)
    _PRINTED.move_to_end(key)
    return _PRINTED[key]


def _refuse_unreadable_pdf(locale: str) -> None:
    """A PDF in Chinese, Japanese or Korean made without Noto Sans CJK shows empty boxes:
    answer 503 with what to install rather than a document nobody can read."""
    family = missing_face(locale)
    if family is not None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"PDFs in {locale} need the font {family}, which this server lacks: {INSTALL_FONTS}",
        )


def _not_rendered_yet(what: str, locale: str) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"the {what} in {locale} is being rendered; retry shortly",
        headers={"Retry-After": "2"},
    )


def _no_such_version(what: str, locale: str, number: int) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"the {what} in {locale} has no version {number}"
    )


async def _versions(db_session: DbSession, document: str, locale: str, base: str) -> VersionList:
    versions = await service.list_versions(db_session=db_session, document=document, locale=locale)
    return VersionList(
        document=document,
        locale=locale,
        versions=[
            VersionRead(
                **v.model_dump(),
                html_url=f"{base}/versions/{v.number}?lang={locale}&format=html",
                pdf_url=f"{base}/versions/{v.number}?lang={locale}&format=pdf",
                print_url=f"{base}/versions/{v.number}?lang={locale}&format=print",
            )
            for v in versions
        ],
    )


# --- the city-diplomacy leaflet ---------------------------------------------------------------


@router.get("/publicity/leaflet", response_class=Response, responses=DOCUMENT_RESPONSES)
async def get_leaflet(
    request: Request, db_session: DbSession, language: Language, format: Format = "html"
) -> Response:
    """The latest city-diplomacy leaflet in the language asked for."""
    version = await service.latest_version_for_a_reader(
        db_session=db_session, document=LEAFLET, locale=language
    )
    if version is None:
        raise _not_rendered_yet("leaflet", language)
    return await _serve(request, version, format, name="leaflet", latest=True)


@router.get("/publicity/leaflet/versions", response_model=VersionList)
async def list_leaflet_versions(db_session: DbSession, language: Language) -> VersionList:
    """Every version of the leaflet in the language asked for, newest first."""
    return await _versions(db_session, LEAFLET, language, "/publicity/leaflet")


@router.get(
    "/publicity/leaflet/versions/{number}",
    response_class=Response,
    responses={**DOCUMENT_RESPONSES, **NO_VERSION},
)
async def get_leaflet_version(
    number: VersionNumber,
    request: Request,
    db_session: DbSession,
    language: Language,
    format: Format = "html",
) -> Response:
    version = await service.get_version(
        db_session=db_session, document=LEAFLET, locale=language, number=number
    )
    if version is None:
        raise _no_such_version("leaflet", language, number)
    return await _serve(request, version, format, name="leaflet", latest=False)


# --- a partner city's brochure ----------------------------------------------------------------


async def _known_partner(db_session: DbSession, partner_id: str) -> str:
    if not await crm.partner_exists(db_session=db_session, partner_id=partner_id):
        raise NotFound("partner city", partner_id)
    return brochure(partner_id)


Bilingual = Annotated[
    bool,
    Query(
        description="The brochure in two languages, one page each: the language asked for "
        "(for zh-TW, the partner's first shipped language, else English), then Traditional "
        "Chinese, as twin cities print them."
    ),
]


@router.get(
    "/partners/{partner_id}/brochure",
    response_class=Response,
    responses={**DOCUMENT_RESPONSES, **NO_PARTNER},
)
async def get_brochure(
    partner_id: str,
    request: Request,
    db_session: DbSession,
    language: Language,
    format: Format = "html",
    bilingual: Bilingual = False,
) -> Response:
    """The latest brochure of a partner city in the language asked for (or in two)."""
    document = await _known_partner(db_session, partner_id)
    if bilingual:
        return await _bilingual(request, db_session, partner_id, language, format)
    version = await service.latest_version_for_a_reader(
        db_session=db_session, document=document, locale=language
    )
    if version is None:
        raise _not_rendered_yet("brochure", language)
    return await _serve(request, version, format, name="brochure", latest=True)


#: Bilingual brochures made on request, kept per process like the print variants.
_BILINGUAL: OrderedDict[tuple[str, int, str, int, str], bytes] = OrderedDict()


async def _bilingual(
    request: Request, db_session: DbSession, partner_id: str, language: str, format: str
) -> Response:
    """The latest brochure in the partner's language and in Traditional Chinese, as one."""
    first_locale = await publicity_profile.partner_language(
        db_session=db_session, partner_id=partner_id, asked=language
    )
    document = brochure(partner_id)
    versions = []
    for locale in (first_locale, BESIDE):
        version = await service.latest_version_for_a_reader(
            db_session=db_session, document=document, locale=locale
        )
        if version is None:
            raise _not_rendered_yet("brochure", locale)
        versions.append(version)
    first, second = versions
    tag = f"{first.content_hash[:16]}{second.content_hash[:16]}-{first.number}-{second.number}"
    etag = f'"{tag}-{format}-bilingual"'
    headers = {
        "ETag": etag,
        "Content-Language": f"{first.locale}, {second.locale}",
        "Vary": "Accept-Language",
        "Cache-Control": "no-cache",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    html = bilingual_html(first.html, second.html, second.locale)
    name = f"brochure-{first.locale}-{second.locale}-v{first.number}-{second.number}"
    if format == "html":
        headers["Content-Security-Policy"] = HTML_POLICY
        headers["Content-Disposition"] = f'inline; filename="{name}.html"'
        return Response(html.encode(), media_type=MEDIA_TYPES["html"], headers=headers)
    for locale in (first.locale, second.locale):
        _refuse_unreadable_pdf(locale)
    key = (document, first.number, first.locale, second.number, format)
    if key not in _BILINGUAL:
        settings = get_settings(request)
        fonts = subset_cache(str(settings.data_dir.resolve() / "publicity" / "fonts"))
        _BILINGUAL[key] = await run_in_threadpool(
            partial(render_pdf, html, first.locale, fonts, for_print=format == "print")
        )
        while len(_BILINGUAL) > _PRINTED_KEEP:
            _BILINGUAL.popitem(last=False)
    _BILINGUAL.move_to_end(key)
    disposition = "attachment" if format == "print" else "inline"
    suffix = "-print.pdf" if format == "print" else ".pdf"
    headers["Content-Disposition"] = f'{disposition}; filename="{name}{suffix}"'
    return Response(_BILINGUAL[key], media_type=MEDIA_TYPES[format], headers=headers)


@router.get(
    "/partners/{partner_id}/brochure/versions",
    response_model=VersionList,
    responses=NO_PARTNER,
)
async def list_brochure_versions(
    partner_id: str, db_session: DbSession, language: Language
) -> VersionList:
    document = await _known_partner(db_session, partner_id)
    base = f"/partners/{quote(partner_id, safe='')}/brochure"
    return await _versions(db_session, document, language, base)


@router.get(
    "/partners/{partner_id}/brochure/versions/{number}",
    response_class=Response,
    responses={**DOCUMENT_RESPONSES, **NO_PARTNER_OR_VERSION},
)
async def get_brochure_version(
    partner_id: str,
    number: VersionNumber,
    request: Request,
    db_session: DbSession,
    language: Language,
    format: Format = "html",
) -> Response:
    document = await _known_partner(db_session, partner_id)
    version = await service.get_version(
        db_session=db_session, document=document, locale=language, number=number
    )
    if version is None:
        raise _no_such_version("brochure", language, number)
    return await _serve(request, version, format, name="brochure", latest=False)


# --- our city's profile (printed on the leaflet and the brochures) -------------------------

#: Behind a token, unlike the documents: reading it is for any role, setting it for staff.
profile_router = APIRouter(prefix="/publicity/profile", tags=["publicity"])


@profile_router.put("", **COMMAND)
async def set_city_profile(data: CityProfileSet, command: Command) -> Accepted:
    """Replace our city's profile (the paragraph by language, up to six key figures): the
    leaflet and every brochure are renewed with it."""
    event = await command.run(publicity_profile.set_profile, data=data)
    return await command.accept(event, location="/publicity/profile")


@profile_router.get("", response_model=CityProfileRead, **READ_ONE)
async def get_city_profile(db_session: DbSession) -> CityProfileRead:
    stored = await publicity_profile.get_profile(db_session=db_session)
    if stored is None:
        raise NotFound("city profile", CITY_PROFILE)
    return CityProfileRead.model_validate(stored, from_attributes=True)
