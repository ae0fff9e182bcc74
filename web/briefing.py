"""A visit's briefing documents in the web app: the downloads on the visit's page (the
officials' briefing book and the delegation's programme, in each language the publicity
consumer rendered them in) and the form of the visit's talking points. Staff only: a viewer
neither sees the section nor gets a document (403)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.api.common import serve_version
from twinning.api.deps import DbSession
from twinning.api.routes.briefing import DOCUMENT_KEYS
from twinning.i18n import L_, negotiate
from twinning.publicity import briefing
from twinning.publicity import service as versions
from twinning.refusals import NotFound
from twinning.visits import service as visits
from twinning.visits.models import Visit
from twinning.visits.schemas import TalkingPointsRequest
from twinning.web.pages import (
    CheckedForm,
    User,
    committed,
    form_of,
    not_found,
    page_language,
    refused_to,
    require_staff,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

TOO_LONG = L_("Enter the talking points in at most 4000 characters, or leave them empty")


async def briefing_context(db_session: AsyncSession, visit: Visit | None) -> dict[str, Any]:
    """What the visit page's briefing section shows: the languages of each document."""
    if visit is None:
        return {"briefing": None}
    return {
        "briefing": {
            kind: await briefing.rendered_locales(db_session, key(visit.id))
            for kind, key in DOCUMENT_KEYS.items()
        },
        "briefed": visit.status in briefing.BRIEFED,
    }


@router.get("/visits/{visit_id}/{kind}", response_class=Response)
async def briefing_document(
    request: Request,
    visit_id: str,
    kind: Literal["briefing-book", "delegation-programme"],
    user: User,
    db_session: DbSession,
    lang: Annotated[str, Query(max_length=35)] = "",
    format: Literal["html", "pdf"] = "pdf",
) -> Response:
    """The latest version of the document in `lang` (else the page's language)."""
    require_staff(user)
    if await visits.get_visit(db_session=db_session, visit_id=visit_id) is None:
        not_found("visit", visit_id)
    locale = negotiate(None, lang) if lang else page_language(request)
    version = await versions.latest_version_for_a_reader(
        db_session=db_session, document=DOCUMENT_KEYS[kind](visit_id), locale=locale
    )
    if version is None:
        not_found(kind.replace("-", " "), f"{visit_id} ({locale})")
    return serve_version(version, format, kind=kind)


@router.post("/visits/{visit_id}/talking-points", dependencies=[CheckedForm])
async def write_talking_points(
    request: Request, visit_id: str, user: User, db_session: DbSession
) -> Response:
    require_staff(user)
    typed = (await form_of(request)).get("talking_points", "").strip() or None
    target = f"/ui/visits/{visit_id}"
    try:
        data = TalkingPointsRequest(talking_points=typed)
        event = await visits.write_talking_points(
            db_session=db_session,
            visit_id=visit_id,
            talking_points=data.talking_points,
            actor=user.actor,
        )
    except ValidationError:
        return refused_to(request, target, TOO_LONG)
    except NotFound as refusal:
        await db_session.rollback()
        return refused_to(request, target, refusal)
    return await committed(request, db_session, target, event.event_id)
