"""Contacts at partner cities and foreign missions. Personal data: every read needs
personal-data access (403 without it); no other resource shows a contact."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response, status
from twinning.api.common import Accepted, Limit, Offset, accept
from twinning.api.deps import DbSession, OutboxDoorbell, PersonalDataAccess, StaffActor
from twinning.crm import service
from twinning.crm.models import Contact
from twinning.crm.schemas import ContactCreate, ContactRead, ContactUpdate

router = APIRouter(prefix="/contacts", tags=["contacts"])


def require_personal_data_access(access: PersonalDataAccess) -> None:
    if not access:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "contacts are personal data")


PersonalDataReader = Depends(require_personal_data_access)


async def _contact(db_session: DbSession, contact_id: str) -> Contact:
    contact = await service.get_contact(db_session=db_session, contact_id=contact_id)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"contact {contact_id} not found")
    return contact


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def register_contact(
    data: ContactCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    if data.partner_id is not None and not await service.partner_exists(
        db_session=db_session, partner_id=data.partner_id
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner city {data.partner_id} not found")
    if data.mission_id is not None and not await service.mission_exists(
        db_session=db_session, mission_id=data.mission_id
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"foreign mission {data.mission_id} not found"
        )
    event = service.record(db_session=db_session, data=data, actor=actor)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/contacts/{event.aggregate_id}",
    )


@router.patch("/{contact_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_contact(
    contact_id: str,
    data: ContactUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    await _contact(db_session, contact_id)
    event = service.record(db_session=db_session, data=data, actor=actor, aggregate_id=contact_id)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/contacts/{contact_id}",
    )


@router.delete("/{contact_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def erase_contact(
    contact_id: str,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    """Erase the contact (right to erasure): see the erasure notes in the README."""
    await _contact(db_session, contact_id)
    event = service.erase_contact(db_session=db_session, contact_id=contact_id, actor=actor)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/contacts/{contact_id}",
    )


@router.get("/{contact_id}", response_model=ContactRead, dependencies=[PersonalDataReader])
async def get_contact(contact_id: str, db_session: DbSession) -> ContactRead:
    return ContactRead.model_validate(await _contact(db_session, contact_id))


@router.get("", response_model=list[ContactRead], dependencies=[PersonalDataReader])
async def list_contacts(
    db_session: DbSession,
    partner_id: str | None = None,
    mission_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ContactRead]:
    contacts = await service.list_contacts(
        db_session=db_session,
        partner_id=partner_id,
        mission_id=mission_id,
        limit=limit,
        offset=offset,
    )
    return [ContactRead.model_validate(c) for c in contacts]
