"""City event and invitation commands and queries for the API.

Commands settle the city event's aggregate first (`outbox.settle`), so that they validate
against the state every earlier command produced, then record their events in the outbox.
A refused command raises a `CommandRefused` that the API turns into 404, 409 or 422.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.service import partner_exists
from twinning.invitations.models import (
    NO_REPLY,
    CityEvent,
    CityEventStatus,
    Invitation,
    InvitationStatus,
)
from twinning.invitations.schemas import (
    CityEventCancel,
    CityEventComplete,
    CityEventCreate,
    CityEventUpdate,
    InvitationsCreate,
    InvitationSummary,
    InvitationWithdraw,
    RsvpCreate,
    UnansweredInvitation,
)
from twinning.streams import outbox
from twinning.streams.events import (
    INVITATIONS,
    CityEventCompleted,
    CityEventKind,
    Event,
    ExchangeDirection,
    ExchangeRecorded,
    ExchangeSource,
    InvitationSent,
    InvitationWithdrawn,
    InviteeKind,
    Payload,
    RsvpAnswer,
    RsvpRecorded,
    new_event,
)

ACCEPTED = (RsvpAnswer.ACCEPTED_IN_PERSON.value, RsvpAnswer.ACCEPTED_BY_VIDEO.value)


class CommandRefused(Exception):
    """A command that cannot be carried out; `message` says why, for the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CommandRefused):
    pass


class Conflict(CommandRefused):
    """The command does not fit the current state; `details` name that state."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class InvalidInput(CommandRefused):
    """The input is wrong given the current state (e.g. an end before the stored start)."""

    def __init__(self, field: str, message: str, value: Any) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


# --- commands ----------------------------------------------------------------------------


def _record(db_session: AsyncSession, payload: Payload, *, aggregate_id: str, actor: str) -> Event:
    event = new_event(payload, aggregate_id=aggregate_id, actor=actor)
    outbox.record(db_session, event)
    return event


async def _current_city_event(db_session: AsyncSession, city_event_id: str) -> CityEvent:
    await outbox.settle(db_session, aggregate_ids=[city_event_id])
    city_event = await db_session.get(CityEvent, city_event_id)
    if city_event is None:
        raise NotFound(f"city event {city_event_id} not found")
    return city_event


def _require_scheduled(city_event: CityEvent, step: str) -> None:
    if city_event.status != CityEventStatus.SCHEDULED:
        raise Conflict(
            f"city event {city_event.id} is {city_event.status}: {step} is not possible",
            current_status=city_event.status,
        )


def _require_not_started(city_event: CityEvent, now: datetime, step: str) -> None:
    if now >= city_event.starts_at:
        raise Conflict(
            f"city event {city_event.id} started at {city_event.starts_at.isoformat()}:"
            f" {step} is no longer possible",
            starts_at=city_event.starts_at,
        )


async def schedule_city_event(
    *, db_session: AsyncSession, data: CityEventCreate, actor: str
) -> Event:
    return _record(db_session, data, aggregate_id=str(uuid.uuid4()), actor=actor)


async def update_city_event(
    *, db_session: AsyncSession, city_event_id: str, data: CityEventUpdate, actor: str
) -> Event:
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, "changing it")
    if data.starts_at is not None and data.ends_at is None and data.starts_at >= city_event.ends_at:
        raise InvalidInput(
            "starts_at",
            f"must be before the event's end, {city_event.ends_at.isoformat()}",
            data.starts_at,
        )
    if data.ends_at is not None and data.starts_at is None and data.ends_at <= city_event.starts_at:
        raise InvalidInput(
            "ends_at",
            f"must be after the event's start, {city_event.starts_at.isoformat()}",
            data.ends_at,
        )
    return _record(db_session, data, aggregate_id=city_event_id, actor=actor)


async def cancel_city_event(
    *, db_session: AsyncSession, city_event_id: str, data: CityEventCancel, actor: str
) -> Event:
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, "cancelling it")
    return _record(db_session, data, aggregate_id=city_event_id, actor=actor)


async def complete_city_event(
    *,
    db_session: AsyncSession,
    city_event_id: str,
    data: CityEventComplete,
    actor: str,
    now: datetime,
) -> list[Event]:
    """Close a city event that has started; if partner cities accepted their invitations,
    record the exchange with them in the same transaction."""
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, "completing it")
    if now < city_event.starts_at:
        raise Conflict(
            f"city event {city_event_id} has not started yet (it starts at"
            f" {city_event.starts_at.isoformat()})",
            starts_at=city_event.starts_at,
        )
    attending = [
        i
        for i in await _active_invitations(db_session, city_event_id)
        if i.invitee_kind == InviteeKind.PARTNER and i.answer in ACCEPTED
    ]
    exchange_id = str(uuid.uuid4()) if attending else None
    completed = CityEventCompleted(**data.model_dump(), exchange_id=exchange_id)
    events = [_record(db_session, completed, aggregate_id=city_event_id, actor=actor)]
    if exchange_id is not None:
        by_video = all(i.answer == RsvpAnswer.ACCEPTED_BY_VIDEO for i in attending)
        exchange = ExchangeRecorded(
            partner_ids=sorted({i.invitee_id for i in attending}),
            date=city_event.start_date,
            field=data.field,
            direction=ExchangeDirection.VIRTUAL if by_video else ExchangeDirection.INBOUND,
            summary=data.summary,
            participants=data.participants,
            source=ExchangeSource(kind="city-event", id=city_event_id),
        )
        events.append(_record(db_session, exchange, aggregate_id=exchange_id, actor=actor))
    return events


async def send_invitations(
    *,
    db_session: AsyncSession,
    city_event_id: str,
    data: InvitationsCreate,
    actor: str,
    now: datetime,
) -> list[Event]:
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, "inviting to it")
    _require_not_started(city_event, now, "inviting to it")
    if data.answer_by > city_event.start_date:
        raise InvalidInput(
            "answer_by",
            f"must be on or before the event's first day, {city_event.start_date.isoformat()}",
            data.answer_by,
        )
    unknown = [
        i.id
        for i in data.invitees
        if i.kind is InviteeKind.PARTNER
        and not await partner_exists(db_session=db_session, partner_id=i.id)
    ]
    if unknown:
        raise NotFound(f"partner cities not found: {', '.join(unknown)}")
    wanted = {(i.kind.value, i.id) for i in data.invitees}
    already = [
        i
        for i in await _active_invitations(db_session, city_event_id)
        if (i.invitee_kind, i.invitee_id) in wanted
    ]
    if already:
        raise Conflict(
            "already invited to this city event: "
            + ", ".join(f"{i.invitee_kind} {i.invitee_id} (invitation {i.id})" for i in already),
            existing=[
                {"invitation_id": i.id, "invitee_kind": i.invitee_kind, "invitee_id": i.invitee_id}
                for i in already
            ],
        )
    return [
        _record(
            db_session,
            InvitationSent(
                invitation_id=str(uuid.uuid4()),
                invitee_kind=invitee.kind,
                invitee_id=invitee.id,
                answer_by=data.answer_by,
            ),
            aggregate_id=city_event_id,
            actor=actor,
        )
        for invitee in data.invitees
    ]


async def _current_invitation(
    db_session: AsyncSession, invitation_id: str
) -> tuple[Invitation, CityEvent]:
    """The invitation and its city event, after every earlier change to that event."""
    of_event = select(Invitation.city_event_id).where(Invitation.id == invitation_id)
    city_event_id = await db_session.scalar(of_event)
    if city_event_id is None:
        # It may have been sent by a command the worker has not applied yet.
        await outbox.settle(db_session, topic=INVITATIONS)
        city_event_id = await db_session.scalar(of_event)
        if city_event_id is None:
            raise NotFound(f"invitation {invitation_id} not found")
    city_event = await _current_city_event(db_session, city_event_id)
    invitation = await db_session.get(Invitation, invitation_id)
    assert invitation is not None  # invitations are never deleted
    return invitation, city_event


def _require_invited(invitation: Invitation) -> None:
    if invitation.status != InvitationStatus.INVITED:
        raise Conflict(
            f"invitation {invitation.id} is {invitation.status}", current_status=invitation.status
        )


async def withdraw_invitation(
    *, db_session: AsyncSession, invitation_id: str, data: InvitationWithdraw, actor: str
) -> Event:
    invitation, city_event = await _current_invitation(db_session, invitation_id)
    _require_scheduled(city_event, "withdrawing its invitations")
    _require_invited(invitation)
    withdrawn = InvitationWithdrawn(invitation_id=invitation_id, reason=data.reason)
    return _record(db_session, withdrawn, aggregate_id=city_event.id, actor=actor)


async def record_rsvp(
    *,
    db_session: AsyncSession,
    invitation_id: str,
    data: RsvpCreate,
    actor: str,
    now: datetime,
) -> Event:
    """Record an invitee's answer, or change it; possible until the city event starts."""
    invitation, city_event = await _current_invitation(db_session, invitation_id)
    _require_scheduled(city_event, "answering its invitations")
    _require_not_started(city_event, now, "answering its invitations")
    _require_invited(invitation)
    answered = RsvpRecorded(**data.model_dump(), invitation_id=invitation_id)
    return _record(db_session, answered, aggregate_id=city_event.id, actor=actor)


# --- queries -----------------------------------------------------------------------------


async def get_city_event(*, db_session: AsyncSession, city_event_id: str) -> CityEvent | None:
    return await db_session.get(CityEvent, city_event_id)


async def list_city_events(
    *,
    db_session: AsyncSession,
    starts_from: date | None = None,
    until: date | None = None,
    status: CityEventStatus | None = None,
    kind: CityEventKind | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[CityEvent]:
    """City events that touch the days `starts_from`..`until` (inclusive, in each event's own
    time zone), soonest first."""
    query = select(CityEvent).order_by(CityEvent.starts_at, CityEvent.id)
    if starts_from is not None:
        query = query.where(CityEvent.end_date >= starts_from)
    if until is not None:
        query = query.where(CityEvent.start_date <= until)
    if status is not None:
        query = query.where(CityEvent.status == status.value)
    if kind is not None:
        query = query.where(CityEvent.kind == kind.value)
    return (await db_session.scalars(query.limit(limit).offset(offset))).all()


async def get_invitation(*, db_session: AsyncSession, invitation_id: str) -> Invitation | None:
    return await db_session.get(Invitation, invitation_id)


async def list_invitations(
    *, db_session: AsyncSession, city_event_id: str, answer: str | None = None
) -> Sequence[Invitation]:
    query = (
        select(Invitation)
        .where(Invitation.city_event_id == city_event_id)
        .order_by(Invitation.invited_at, Invitation.id)
    )
    if answer is not None:
        query = query.where(Invitation.answer == answer)
    return (await db_session.scalars(query)).all()


async def _active_invitations(db_session: AsyncSession, city_event_id: str) -> list[Invitation]:
    return [
        i
        for i in await list_invitations(db_session=db_session, city_event_id=city_event_id)
        if i.status == InvitationStatus.INVITED
    ]


async def invitation_summary(
    *, db_session: AsyncSession, city_event_id: str, now: datetime
) -> InvitationSummary | None:
    """Counts by answer, delegates coming in person, and who has not replied although their
    answer-by date has passed (judged on today's date in the event's time zone)."""
    city_event = await db_session.get(CityEvent, city_event_id)
    if city_event is None:
        return None
    invitations = await list_invitations(db_session=db_session, city_event_id=city_event_id)
    active = [i for i in invitations if i.status == InvitationStatus.INVITED]
    today = now.astimezone(ZoneInfo(city_event.timezone)).date()
    answers = Counter(i.answer for i in active)
    return InvitationSummary(
        city_event_id=city_event_id,
        today=today,
        counts={state: answers[state] for state in (NO_REPLY, *(a.value for a in RsvpAnswer))},
        withdrawn=len(invitations) - len(active),
        delegates_in_person=sum(i.delegates or 0 for i in active),
        not_replied_after_answer_by=[
            UnansweredInvitation(
                invitation_id=i.id,
                invitee_kind=InviteeKind(i.invitee_kind),
                invitee_id=i.invitee_id,
                answer_by=i.answer_by,
            )
            for i in active
            if i.answer == NO_REPLY and i.answer_by < today
        ],
    )
