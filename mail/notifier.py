"""Which messages an event causes: run by the worker's notify agents on the event topics
(`twinning.streams.worker`), each message queued in the mail outbox at most once; and a
contact's erasure, which takes their address and messages out of the outbox too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Contact
from twinning.mail import service, visit_mail
from twinning.mail.models import MailKind
from twinning.streams.events import (
    ContactErased,
    Event,
    InvitationSent,
    InviteeKind,
    NotifiableStep,
    VisitRequested,
    VisitSource,
)
from twinning.visits.models import Visit


async def contacts_of(db_session: AsyncSession, kind: str, invitee_id: str) -> list[Contact]:
    """The contacts of a partner city or a foreign mission who have an email address."""
    column = Contact.partner_id if kind == InviteeKind.PARTNER else Contact.mission_id
    found = select(Contact).where(column == invitee_id, Contact.email.is_not(None))
    return list((await db_session.scalars(found.order_by(Contact.id))).all())


def concerns(event: Event) -> bool:
    """Whether `event` may cause mail or change the outbox (the others need no transaction)."""
    payload = event.payload
    if isinstance(payload, VisitRequested):
        return payload.received_via == VisitSource.FORM
    if isinstance(payload, NotifiableStep):
        return payload.notify_contact
    return isinstance(payload, InvitationSent | ContactErased)


async def notify_visit_contact(db_session: AsyncSession, event: Event, *, now: datetime) -> int:
    """The acknowledgement of a request sent through the public form (its contact is in the
    event), or a step staff chose to tell the contact of (the contact is the visit's)."""
    payload = event.payload
    if isinstance(payload, VisitRequested):
        contact = payload.contact.model_dump() if payload.contact else None
        kind = visit_mail.ACKNOWLEDGEMENT
    else:
        visit = await db_session.get(Visit, event.aggregate_id)
        contact = visit.contact if visit is not None else None
        kind = visit_mail.STEP_KINDS[event.type]
    if not contact or not contact.get("email"):
        return 0
    return int(
        await service.queue_to(
            db_session=db_session,
            kind=kind,
            cause_event_id=event.event_id,
            about_id=event.aggregate_id,
            recipient_id=visit_mail.recipient_id(event.aggregate_id),
            to_address=str(contact["email"]),
            language=visit_mail.contact_language(contact),
            now=now,
        )
    )


async def notify(db_session: AsyncSession, event: Event, *, now: datetime) -> int:
    """Queue the messages `event` causes; how many were new."""
    payload = event.payload
    if isinstance(payload, VisitRequested | NotifiableStep):
        return await notify_visit_contact(db_session, event, now=now) if concerns(event) else 0
    if isinstance(payload, ContactErased):
        await service.erase_recipient(db_session=db_session, contact_id=event.aggregate_id, now=now)
        return 0
    if not isinstance(payload, InvitationSent):
        return 0
    queued = 0
    for contact in await contacts_of(db_session, payload.invitee_kind, payload.invitee_id):
        queued += await service.queue(
            db_session=db_session,
            kind=MailKind.INVITATION,
            cause_event_id=event.event_id,
            about_id=payload.invitation_id,
            recipient=contact,
            now=now,
        )
    return queued
