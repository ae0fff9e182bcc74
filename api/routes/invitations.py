"""Invitations to city events: read one, withdraw it, record its answer (RSVP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import Clock, DbSession, PersonalDataAccess
from twinning.invitations import service
from twinning.invitations.schemas import InvitationRead, InvitationWithdraw, RsvpCreate
from twinning.refusals import NotFound

router = APIRouter(prefix="/invitations", tags=["invitations"])


@router.get("/{invitation_id}", response_model=InvitationRead, **READ_ONE)
async def get_invitation(
    invitation_id: str, db_session: DbSession, personal_data: PersonalDataAccess
) -> InvitationRead:
    invitation = await service.get_invitation(db_session=db_session, invitation_id=invitation_id)
    if invitation is None:
        raise NotFound("invitation", invitation_id)
    return InvitationRead.of(invitation, personal_data=personal_data)


@router.post("/{invitation_id}/withdraw", **COMMAND)
async def withdraw_invitation(
    invitation_id: str, command: Command, data: Annotated[InvitationWithdraw | None, Body()] = None
) -> Accepted:
    withdrawal = data or InvitationWithdraw()
    event = await command.run(
        service.withdraw_invitation, invitation_id=invitation_id, data=withdrawal
    )
    return await command.accept(event, location=f"/invitations/{invitation_id}", id=invitation_id)


@router.post("/{invitation_id}/rsvp", **COMMAND)
async def record_rsvp(
    invitation_id: str, data: RsvpCreate, command: Command, clock: Clock
) -> Accepted:
    """Record an answer as it arrived (portal, letter, email, phone); a new answer replaces
    the previous one until the city event starts."""
    now = clock()
    event = await command.run(service.record_rsvp, invitation_id=invitation_id, data=data, now=now)
    return await command.accept(event, location=f"/invitations/{invitation_id}", id=invitation_id)
