"""The mail module's API: queue a message of a kind for a recipient because of an event (at
most once per cause, recipient and kind), and read the outbox.

    await mail.queue(db_session=..., kind=MailKind.INVITATION, cause_event_id=event.event_id,
                     about_id=invitation_id, recipient=contact, now=now)

The mailer (`twinning.mail.sender`) renders and delivers what is queued."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Contact, PartnerCity
from twinning.db import insert_once
from twinning.i18n import DEFAULT_LOCALE, resolve
from twinning.mail.models import MailMessage, MailState
from twinning.mail.schemas import MailFilter


def idempotency_key(cause_event_id: str, recipient_id: str, kind: str, *more: str) -> str:
    """The outbox's key: (cause, recipient, kind), and `more` where that is not enough."""
    return "|".join((cause_event_id, recipient_id, kind, *more))


async def correspondence_language(db_session: AsyncSession, contact: Contact) -> str:
    """The contact's preferred language, else the first of their partner city's languages,
    else the office's default; each only if the catalogs have it (a mission's contact without
    a preferred language gets the office's)."""
    wishes: list[str] = [contact.preferred_language] if contact.preferred_language else []
    if contact.partner_id is not None:
        partner = await db_session.get(PartnerCity, contact.partner_id)
        wishes += list(partner.languages) if partner is not None else []
    for wish in wishes:
        if (locale := resolve(wish)) is not None:
            return locale
    return DEFAULT_LOCALE


async def queue(
    *,
    db_session: AsyncSession,
    kind: str,
    cause_event_id: str,
    about_id: str,
    recipient: Contact,
    now: datetime,
    key: str | None = None,
) -> bool:
    """Queue one message to a contact of the CRM; False when this (cause, recipient, kind) was
    queued before (the outbox keeps the first; `key`: see `queue_to`). Commits with the
    caller's transaction."""
    if not recipient.email:
        return False
    return await queue_to(
        db_session=db_session,
        kind=kind,
        cause_event_id=cause_event_id,
        about_id=about_id,
        recipient_id=recipient.id,
        to_address=recipient.email,
        language=await correspondence_language(db_session, recipient),
        now=now,
        key=key,
    )


async def queue_to(
    *,
    db_session: AsyncSession,
    kind: str,
    cause_event_id: str,
    about_id: str,
    recipient_id: str,
    to_address: str,
    language: str,
    now: datetime,
    facts: dict[str, Any] | None = None,
    key: str | None = None,
) -> bool:
    """Queue one message to someone who is not a contact of the CRM (a visit's contact, an
    official), under a `recipient_id` of its own; like `queue`, at most once per `key`: by
    default (cause, recipient, kind); one with what it is about too for a cause that tells one
    recipient of several things (an event that cancels three of an official's bookings).
    `facts`: the subject as it is now, kept on the message (see `MailMessage`)."""
    row = {
        "id": str(uuid.uuid4()),
        "key": key or idempotency_key(cause_event_id, recipient_id, kind),
        "kind": kind,
        "cause_event_id": cause_event_id,
        "about_id": about_id,
        "recipient_id": recipient_id,
        "to_address": to_address,
        "language": language,
        "state": MailState.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now,
        "queued_at": now,
        "updated_at": now,
        "facts": facts,
    }
    return await insert_once(db_session, MailMessage, row)


async def erase_recipient(*, db_session: AsyncSession, contact_id: str, now: datetime) -> None:
    """A contact erased: their address and the copies of their messages go; what was sent to
    them stays recorded (when, which kind, why), and what was not sent yet is cancelled."""
    for row in await db_session.scalars(
        select(MailMessage).where(MailMessage.recipient_id == contact_id)
    ):
        row.to_address, row.rendered, row.updated_at = "", None, now
        if row.state in (MailState.QUEUED, MailState.SENDING):
            row.state, row.reason = MailState.CANCELLED, "the contact was erased"


async def list_messages(*, db_session: AsyncSession, query: MailFilter) -> Sequence[MailMessage]:
    """The newest messages first."""
    found = select(MailMessage).order_by(MailMessage.queued_at.desc(), MailMessage.id)
    if query.state is not None:
        found = found.where(MailMessage.state == query.state.value)
    if query.cause_event_id is not None:
        found = found.where(MailMessage.cause_event_id == query.cause_event_id)
    return (await db_session.scalars(query.of(found))).all()


async def count_by_state(*, db_session: AsyncSession) -> dict[str, int]:
    found = await db_session.execute(
        select(MailMessage.state, func.count()).group_by(MailMessage.state)
    )
    return {state: count for state, count in found}


async def get_message(*, db_session: AsyncSession, message_id: str) -> MailMessage | None:
    return await db_session.get(MailMessage, message_id)


async def messages_caused_by(*, db_session: AsyncSession, event_id: str) -> Sequence[MailMessage]:
    found = select(MailMessage).where(MailMessage.cause_event_id == event_id)
    return (await db_session.scalars(found.order_by(MailMessage.queued_at))).all()
