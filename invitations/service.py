"""City event and invitation commands and queries for the API.

Commands settle the city event's aggregate first (`outbox.settle`), so that they validate
against the state every earlier command produced, then record their events in the outbox.
A refused command raises a `twinning.refusals.Refusal` (404, 409 or 422).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm import service as crm
from twinning.crm.service import require_partners
from twinning.i18n import L_
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
    CityEventFilter,
    CityEventUpdate,
    InvitationsCreate,
    InvitationSummary,
    InvitationWithdraw,
    RsvpCreate,
    UnansweredInvitation,
)
from twinning.refusals import Conflict, ConflictingItem, InvalidField, NotFound
from twinning.schedule.conflicts import (
    Booking,
    TravelTimes,
    check_booking,
    place_key,
    settle_schedule,
)
from twinning.streams import outbox
from twinning.streams.events import (
    INVITATIONS,
    BookedKind,
    CityEventCompleted,
    CoHost,
    Event,
    ExchangeDirection,
    ExchangeRecorded,
    ExchangeSource,
    InvitationSent,
    InvitationWithdrawn,
    InviteeKind,
    RsvpAnswer,
    RsvpRecorded,
)
from twinning.visits.models import Official

ACCEPTED = (RsvpAnswer.ACCEPTED_IN_PERSON.value, RsvpAnswer.ACCEPTED_BY_VIDEO.value)


# --- commands ----------------------------------------------------------------------------


async def _current_city_event(db_session: AsyncSession, city_event_id: str) -> CityEvent:
    await outbox.settle(db_session, aggregate_ids=[city_event_id])
    city_event = await db_session.get(CityEvent, city_event_id)
    if city_event is None:
        raise NotFound("city event", city_event_id)
    return city_event


def _require_scheduled(city_event: CityEvent, step: LazyProxy) -> None:
    if city_event.status != CityEventStatus.SCHEDULED:
        raise Conflict(
            "city event %(id)s is %(state)s: %(step)s is not possible",
            current_state=city_event.status,
            id=city_event.id,
            state=city_event.status,
            step=step,
        )


def _require_not_started(city_event: CityEvent, now: datetime, step: LazyProxy) -> None:
    if now >= city_event.starts_at:
        raise Conflict(
            "city event %(id)s started at %(starts_at)s: %(step)s is no longer possible",
            current_state="started",
            id=city_event.id,
            starts_at=city_event.starts_at.isoformat(),
            step=step,
        )


def _booking(facts: dict[str, Any], city_event_id: str | None = None) -> Booking:
    venue = facts["venue"] or {}
    return Booking(
        starts_at=facts["starts_at"],
        ends_at=facts["ends_at"],
        venue_id=venue.get("venue_id"),
        place=place_key(venue.get("venue_id"), venue.get("place")),
        official_ids=facts["official_ids"],
        interpreter_ids=facts["interpreter_ids"],
        itself=(BookedKind.CITY_EVENT, city_event_id) if city_event_id is not None else None,
    )


async def _check_officials(db_session: AsyncSession, official_ids: list[str] | None) -> None:
    named = set(official_ids or ())
    known = set(await db_session.scalars(select(Official.id).where(Official.id.in_(named))))
    if named - known:
        raise InvalidField("official_ids", "unknown officials %(ids)s", ids=sorted(named - known))


#: The facts of a city event that book someone or something.
BOOKED = frozenset({"starts_at", "ends_at", "venue", "official_ids", "interpreter_ids"})


async def _require_co_hosts(db_session: AsyncSession, co_hosts: Sequence[CoHost] | None) -> None:
    """Refuse (404) a partner city or mission that is not registered."""
    for host in co_hosts or []:
        known = (
            await crm.partner_exists(db_session=db_session, partner_id=host.id)
            if host.kind == "partner"
            else await crm.mission_exists(db_session=db_session, mission_id=host.id)
        )
        if not known:
            raise NotFound("partner city" if host.kind == "partner" else "foreign mission", host.id)


async def schedule_city_event(
    *,
    db_session: AsyncSession,
    data: CityEventCreate,
    actor: str,
    travel: TravelTimes | None = None,
) -> Event:
    """Schedule a city event; the venue, the officials attending and the interpreters are
    checked against the whole schedule (409, unless `override` gives a reason)."""
    await settle_schedule(db_session)
    await _check_officials(db_session, data.official_ids)
    await _require_co_hosts(db_session, data.co_hosts)
    override = await check_booking(
        db_session=db_session,
        booking=_booking(data.model_dump()),
        override_reason=data.override.reason if data.override is not None else None,
        travel=travel,
    )
    return outbox.record(db_session, data.model_copy(update={"override": override}), actor=actor)


async def update_city_event(
    *,
    db_session: AsyncSession,
    city_event_id: str,
    data: CityEventUpdate,
    actor: str,
    travel: TravelTimes | None = None,
) -> Event:
    await settle_schedule(db_session, [city_event_id])
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, L_("changing it"))
    await _require_co_hosts(db_session, data.co_hosts)
    if data.starts_at is not None and data.ends_at is None and data.starts_at >= city_event.ends_at:
        raise InvalidField(
            "starts_at",
            "must be before the event's end, %(ends_at)s",
            ends_at=city_event.ends_at.isoformat(),
        )
    if data.ends_at is not None and data.starts_at is None and data.ends_at <= city_event.starts_at:
        raise InvalidField(
            "ends_at",
            "must be after the event's start, %(starts_at)s",
            starts_at=city_event.starts_at.isoformat(),
        )
    changes = data.model_dump(exclude_unset=True, exclude={"override"})
    override = None
    if BOOKED & changes.keys():
        await _check_officials(db_session, changes.get("official_ids"))
        venue = {"venue_id": city_event.venue_id, "place": city_event.venue_place}
        after = {
            "starts_at": city_event.starts_at,
            "ends_at": city_event.ends_at,
            "venue": venue,
            "official_ids": city_event.official_ids,
            "interpreter_ids": city_event.interpreter_ids,
            **changes,
        }
        override = await check_booking(
            db_session=db_session,
            booking=_booking(after, city_event_id),
            override_reason=data.override.reason if data.override is not None else None,
            travel=travel,
        )
    recorded = data.model_copy(update={"override": override})
    if override is None:  # not a field the event carries then
        recorded.model_fields_set.discard("override")
    return outbox.record(db_session, recorded, aggregate_id=city_event_id, actor=actor)


async def cancel_city_event(
    *, db_session: AsyncSession, city_event_id: str, data: CityEventCancel, actor: str
) -> Event:
    city_event = await _current_city_event(db_session, city_event_id)
    _require_scheduled(city_event, L_("cancelling it"))
    return outbox.record(db_session, data, aggregate_id=city_event_id, actor=actor)


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
    _require_scheduled(city_event, L_("completing it"))
    if now < city_event.starts_at:
        raise Conflict(
            "city event %(id)s has not started yet (it starts at %(starts_at)s)",
            current_state=city_event.status,
            id=city_event_id,
            starts_at=city_event.starts_at.isoformat(),
        )
    attending = [
        i
        for i in await _active_invitations(db_session, city_event_id)
        if i.invitee_kind == InviteeKind.PARTNER and i.answer in ACCEPTED
    ]
    exchange_id = str(uuid.uuid4()) if attending else None
    completed = CityEventCompleted(**data.model_dump(), exchange_id=exchange_id)
    events = [outbox.record(db_session, completed, aggregate_id=city_event_id, actor=actor)]
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
        events.append(outbox.record(db_session, exchange, aggregate_id=exchange_id, actor=actor))
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
    _require_scheduled(city_event, L_("inviting to it"))
    _require_not_started(city_event, now, L_("inviting to it"))
    if data.answer_by > city_event.start_date:
        raise InvalidField(
            "answer_by",
            "must be on or before the event's first day, %(day)s",
            day=city_event.start_date.isoformat(),
        )
    await require_partners(
        db_session=db_session,
        partner_ids=[i.id for i in data.invitees if i.kind is InviteeKind.PARTNER],
    )
    wanted = {(i.kind.value, i.id) for i in data.invitees}
    already = [
        i
        for i in await _active_invitations(db_session, city_event_id)
        if (i.invitee_kind, i.invitee_id) in wanted
    ]
    if already:
        raise Conflict(
            "already invited to this city event: %(invited)s",
            conflicts=[
                ConflictingItem(
                    kind="invitation",
                    id=i.id,
                    href=f"/invitations/{i.id}",
                    invitee_kind=i.invitee_kind,
                    invitee_id=i.invitee_id,
                )
                for i in already
            ],
            invited=[f"{i.invitee_kind} {i.invitee_id} ({i.id})" for i in already],
        )
    return [
        outbox.record(
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
            raise NotFound("invitation", invitation_id)
    city_event = await _current_city_event(db_session, city_event_id)
    invitation = await db_session.get(Invitation, invitation_id)
    assert invitation is not None  # invitations are never deleted
    return invitation, city_event


def _require_invited(invitation: Invitation) -> None:
    if invitation.status != InvitationStatus.INVITED:
        raise Conflict(
            "invitation %(id)s is %(state)s",
            current_state=invitation.status,
            id=invitation.id,
            state=invitation.status,
        )


async def withdraw_invitation(
    *, db_session: AsyncSession, invitation_id: str, data: InvitationWithdraw, actor: str
) -> Event:
    invitation, city_event = await _current_invitation(db_session, invitation_id)
    _require_scheduled(city_event, L_("withdrawing its invitations"))
    _require_invited(invitation)
    withdrawn = InvitationWithdrawn(invitation_id=invitation_id, reason=data.reason)
    return outbox.record(db_session, withdrawn, aggregate_id=city_event.id, actor=actor)


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
    _require_scheduled(city_event, L_("answering its invitations"))
    _require_not_started(city_event, now, L_("answering its invitations"))
    _require_invited(invitation)
    answered = RsvpRecorded(**data.model_dump(), invitation_id=invitation_id)
    return outbox.record(db_session, answered, aggregate_id=city_event.id, actor=actor)


# --- queries -----------------------------------------------------------------------------


async def get_city_event(*, db_session: AsyncSession, city_event_id: str) -> CityEvent | None:
    return await db_session.get(CityEvent, city_event_id)


async def list_city_events(
    *, db_session: AsyncSession, query: CityEventFilter
) -> Sequence[CityEvent]:
    """City events that touch the days `starts_from`..`until` (inclusive, in each event's own
    time zone), soonest first."""
    found = select(CityEvent).order_by(CityEvent.starts_at, CityEvent.id)
    if query.starts_from is not None:
        found = found.where(CityEvent.end_date >= query.starts_from)
    if query.until is not None:
        found = found.where(CityEvent.start_date <= query.until)
    if query.status is not None:
        found = found.where(CityEvent.status == query.status.value)
    if query.kind is not None:
        found = found.where(CityEvent.kind == query.kind.value)
    return (await db_session.scalars(query.of(found))).all()


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
