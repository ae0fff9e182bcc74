"""The mail outbox (admins): each message an event caused, with its state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from twinning.api.common import READ_ONE
from twinning.api.deps import DbSession, require_role
from twinning.auth.schemas import Role
from twinning.mail import service
from twinning.mail.schemas import MailFilter, MailMessageRead
from twinning.refusals import NotFound, problem_responses

router = APIRouter(
    prefix="/mail",
    tags=["mail"],
    dependencies=[Depends(require_role(Role.admin))],
    responses=problem_responses(403),
)


@router.get("/messages", response_model=list[MailMessageRead])
async def list_messages(
    db_session: DbSession, query: Annotated[MailFilter, Query()]
) -> list[MailMessageRead]:
    """Newest first; `?cause_event_id=` gives the messages an event caused."""
    found = await service.list_messages(db_session=db_session, query=query)
    return [MailMessageRead.model_validate(row) for row in found]


@router.get("/messages/{message_id}", response_model=MailMessageRead, **READ_ONE)
async def get_message(message_id: str, db_session: DbSession) -> MailMessageRead:
    row = await service.get_message(db_session=db_session, message_id=message_id)
    if row is None:
        raise NotFound("mail message", message_id)
    return MailMessageRead.model_validate(row)
