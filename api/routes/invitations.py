"""Invitations to city events: read one, withdraw it, record its answer (RSVP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Response, status
from twinning.api.deps import Clock, DbSession, OutboxDoorbell, PersonalDataAccess, StaffActor
from twinning.api.routes.city_events import AnswersRefusals, commit
from twinning.api.routes.partners import Accepted
from twinning.invitations import service
from twinning.invitations.schemas import InvitationRead, InvitationWithdraw, RsvpCreate

router = APIRouter(prefix="/invitations", tags=["invitations"], route_class=AnswersRefusals)


@router.get("/{invitation_id}", response_model=InvitationRead)
async def get_invitation(
    invitation_id: str, db_session: DbSession, personal_data: PersonalDataAccess
) -> InvitationRead:
    invitation = await service.get_invitation(db_session=db_session, invitation_id=invitation_id)
    if invitation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"invitation {invitation_id} not found")
    return InvitationRead.of(invitation, personal_data=personal_data)


@router.post(
    "/{invitation_id}/withdraw", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def withdraw_invitation(
    invitation_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
    data: Annotated[InvitationWithdraw | None, Body()] = None,
) -> Accepted:
    event = await service.withdraw_invitation(
        db_session=db_session,
        invitation_id=invitation_id,
        data=data or InvitationWithdraw(),
        actor=actor,
    )
    await commit(db_session, doorbell, response, f"/invitations/{invitation_id}")
    return Accepted(id=invitation_id, event_id=event.event_id)


@router.post("/{invitation_id}/rsvp", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def record_rsvp(
    invitation_id: str,
    data: RsvpCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    clock: Clock,
    response: Response,
) -> Accepted:
    """Record an answer as it arrived (portal, letter, email, phone); a new answer replaces
    the previous one until the city event starts."""
    event = await service.record_rsvp(
        db_session=db_session, invitation_id=invitation_id, data=data, actor=actor, now=clock()
    )
    await commit(db_session, doorbell, response, f"/invitations/{invitation_id}")
    return Accepted(id=invitation_id, event_id=event.event_id)
