"""A visit's briefing book (for the officials who receive the delegation: internal) and the
delegation's programme, as the publicity consumer rendered them: the latest version or any
earlier one, in HTML or PDF, in a language each was rendered in. Staff only: a viewer is
refused (403) and a caller without a token too (401); the answers are never cached by a
shared cache.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from twinning.api.common import DOCUMENT_RESPONSES, version_routes
from twinning.api.deps import DbSession, StaffUser, require_role
from twinning.auth.schemas import Role
from twinning.publicity import briefing
from twinning.refusals import NotFound, problem_responses
from twinning.visits import service as visits

router = APIRouter(prefix="/visits", tags=["briefing"])

Kind = Literal["briefing-book", "delegation-programme"]
DOCUMENT_KEYS = {
    "briefing-book": briefing.briefing_book,
    "delegation-programme": briefing.delegation_programme,
}
RESPONSES = {**DOCUMENT_RESPONSES, **problem_responses(403, 404)}


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
    async def document(visit_id: str, db_session: DbSession) -> str:
        return await _document(db_session, visit_id, kind)

    version_routes(
        router,
        path=f"/{{visit_id}}/{kind}",
        kind=kind,
        document=document,
        listed_at="/visits/{id}/briefing",
        dependencies=[Depends(require_role(Role.staff))],
        responses=RESPONSES,
    )


_routes("briefing-book")
_routes("delegation-programme")
