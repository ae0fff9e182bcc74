"""Which messages an event causes: run by the worker after each batch of events is applied
(`mail_notifier` in `twinning.streams.worker`), so it reads the read models with the batch's
changes; each message queued in the mail outbox at most once; and a contact's erasure, which
takes their address and messages out of the outbox too.

An invitation goes to the invitee's contacts with an address when it is sent, and to a contact
who gets an address later (registered afterwards, or an address added or corrected) while the
invitation is still open: not answered, not withdrawn, its event not begun."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Contact
from twinning.invitations.models import NO_REPLY, CityEvent, Invitation, InvitationStatus
from twinning.mail import service, visit_mail
from twinning.mail.models import MailKind, MailMessage, MailState
from twinning.streams.events import (
    ContactErased,
    ContactRegistered,
    ContactUpdated,
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
    if isinstance(payload, ContactRegistered | ContactUpdated):
        return payload.email is not None
    return isinstance(payload, InvitationSent | ContactErased)


async def open_invitations(
    db_session: AsyncSession, kind: str, invitee_id: str, *, now: datetime
) -> list[Invitation]:
    """The invitee's invitations still waiting for an answer, for an event not yet begun."""
    found = (
        select(Invitation)
        .join(CityEvent, CityEvent.id == Invitation.city_event_id)
        .where(Invitation.invitee_kind == kind, Invitation.invitee_id == invitee_id)
        .where(Invitation.status == InvitationStatus.INVITED, Invitation.answer == NO_REPLY)
        .where(CityEvent.status == "scheduled", CityEvent.starts_at > now)
    )
    return list((await db_session.scalars(found.order_by(Invitation.id))).all())


async def closed(db_session: AsyncSession, invitation_id: str, *, now: datetime) -> bool:
    """Whether the invitation was answered or withdrawn, or its event has begun or is
    cancelled (an invitation not yet projected is open: its events may be in another topic's
    batch, applied after this one)."""
    found = await db_session.execute(
        select(Invitation, CityEvent)
        .join(CityEvent, CityEvent.id == Invitation.city_event_id)
        .where(Invitation.id == invitation_id)
    )
    row = found.first()
    if row is None:
        return False
    invitation, city_event = row
    return (
        invitation.status != InvitationStatus.INVITED
        or invitation.answer != NO_REPLY
        or city_event.status != "scheduled"
        or city_event.starts_at <= now
    )


async def invite_late_contact(db_session: AsyncSession, event: Event, *, now: datetime) -> int:
    """A contact who has an address now, registered or given one after their city's or
    mission's invitations went out: each open invitation not already mailed to them (a bounced
    or failed one goes again, to the new address)."""
    payload = event.payload
    if isinstance(payload, ContactRegistered):
        # The contact as this event tells it (a later event of the batch may have changed it
        # since: that one is notified on its own).
        contact = Contact(
            id=event.aggregate_id,
            partner_id=payload.partner_id,
            mission_id=payload.mission_id,
            email=str(payload.email),
            preferred_language=payload.preferred_language,
        )
    else:
        assert isinstance(payload, ContactUpdated)
        known = await db_session.get(Contact, event.aggregate_id)
        if known is None:
            return 0
        contact = Contact(
            id=known.id,
            partner_id=known.partner_id,
            mission_id=known.mission_id,
            email=str(payload.email),
            preferred_language=payload.preferred_language or known.preferred_language,
        )
    if contact.partner_id is not None:
        kind, invitee_id = InviteeKind.PARTNER.value, contact.partner_id
    elif contact.mission_id is not None:
        kind, invitee_id = InviteeKind.MISSION.value, contact.mission_id
    else:
        return 0
    queued = 0
    for invitation in await open_invitations(db_session, kind, invitee_id, now=now):
        queued += await invite(db_session, event, invitation.id, contact, now=now)
    return queued


async def invite(
    db_session: AsyncSession, event: Event, invitation_id: str, contact: Contact, *, now: datetime
) -> bool:
    """Queue the invitation to `contact`, unless it went to them already (a failed or bounced
    one goes again, to a new address): keyed by the invitation, the contact and the address,
    whichever event (the invitation sent, the contact given an address) comes first."""
    if not contact.email:
        return False
    mailed = await db_session.scalar(
        select(MailMessage.id)
        .where(MailMessage.kind == MailKind.INVITATION, MailMessage.about_id == invitation_id)
        .where(MailMessage.recipient_id == contact.id)
        .where(MailMessage.state.not_in([MailState.FAILED, MailState.BOUNCED]))
        .limit(1)
    )
    if mailed is not None:
        return False
    return await service.queue(
        db_session=db_session,
        kind=MailKind.INVITATION,
        cause_event_id=event.event_id,
        about_id=invitation_id,
        recipient=contact,
        now=now,
        key=service.idempotency_key(invitation_id, contact.id, MailKind.INVITATION, contact.email),
    )


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
    if isinstance(payload, ContactRegistered | ContactUpdated):
        return await invite_late_contact(db_session, event, now=now) if concerns(event) else 0
    if not isinstance(payload, InvitationSent):
        return 0
    if await closed(db_session, payload.invitation_id, now=now):
        return 0
    queued = 0
    for contact in await contacts_of(db_session, payload.invitee_kind, payload.invitee_id):
        queued += await invite(db_session, event, payload.invitation_id, contact, now=now)
    return queued
