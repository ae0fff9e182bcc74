"""Contacts at partner cities and foreign missions. Personal data: every read needs
personal-data access (403 without it); no other resource shows a contact."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from twinning.api.common import COMMAND, Accepted, Command, Register, register_routes
from twinning.api.deps import PersonalDataAccess
from twinning.crm import service
from twinning.crm.schemas import ContactCreate, ContactFilter, ContactRead, ContactUpdate

router = APIRouter(prefix="/contacts", tags=["contacts"])


def require_personal_data_access(access: PersonalDataAccess) -> None:
    if not access:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "contacts are personal data")


CONTACTS = Register(ContactCreate, ContactUpdate, ContactRead, ContactFilter)
PERSONAL_DATA = [Depends(require_personal_data_access)]
register_routes(router, service, CONTACTS, kind="contact", read_dependencies=PERSONAL_DATA)


@router.delete("/{contact_id}", **COMMAND)
async def erase_contact(contact_id: str, command: Command) -> Accepted:
    """Erase the contact (right to erasure): see the erasure notes in the README."""
    event = await command.run(service.erase_contact, contact_id=contact_id)
    return await command.accept(event, location=f"/contacts/{contact_id}")
