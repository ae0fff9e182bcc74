"""The invitations projector: keeps `city_events` and `invitations` from `twinning.invitations`.

Events are facts: the projector records them as they come (the API has validated its own
commands; an external producer is trusted the same way) and only parks an event whose city
event or invitation it has not seen yet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.invitations.models import (
    NO_REPLY,
    CityEvent,
    CityEventAttendance,
    CityEventInterpreter,
    CityEventStatus,
    Invitation,
    InvitationStatus,
)
from twinning.streams.events import (
    CityEventCancelled,
    CityEventCompleted,
    CityEventScheduled,
    CityEventUpdated,
    Event,
    InvitationSent,
    InvitationWithdrawn,
    RsvpRecorded,
)
from twinning.streams.projection import Park, Projector

projector = Projector(
    "invitations", tables=[Invitation, CityEventAttendance, CityEventInterpreter, CityEvent]
)


def local_days(starts_at: datetime, ends_at: datetime, timezone: str) -> tuple[date, date]:
    """The first and last calendar day an event covers in its own zone (an event that ends
    at midnight does not cover the next day)."""
    zone = ZoneInfo(timezone)
    last_instant = ends_at - timedelta(microseconds=1)
    return starts_at.astimezone(zone).date(), max(starts_at, last_instant).astimezone(zone).date()


def _set_facts(city_event: CityEvent, facts: dict[str, Any], *, merge_languages: bool) -> None:
    """Copy the facts of a scheduled or updated city event onto its row; absent facts stay."""
    for key in ("kind", "timezone", "video_link", "open_to_partners", "co_hosts"):
        if key in facts:
            setattr(city_event, key, facts[key])
    for key in ("title", "description"):
        if key in facts:
            value, current = facts[key], getattr(city_event, key)
            if merge_languages and value and current:
                value = {**current, **value}  # an update adds or replaces languages
            setattr(city_event, key, value)
    for key in ("starts_at", "ends_at"):
        if key in facts:
            setattr(city_event, key, datetime.fromisoformat(facts[key]))
    if "official_ids" in facts:
        city_event.attendance = [CityEventAttendance(official_id=o) for o in facts["official_ids"]]
    if "interpreter_ids" in facts:
        city_event.interpreting = [
            CityEventInterpreter(interpreter_id=i) for i in facts["interpreter_ids"]
        ]
    if "venue" in facts:
        venue = facts["venue"] or {}
        city_event.venue_id = venue.get("venue_id")
        city_event.venue_place = venue.get("place")
    city_event.start_date, city_event.end_date = local_days(
        city_event.starts_at, city_event.ends_at, city_event.timezone
    )


async def _city_event(session: AsyncSession, event: Event) -> CityEvent:
    city_event = await session.get(CityEvent, event.aggregate_id)
    if city_event is None:
        raise Park(event.aggregate_id, f"city event {event.aggregate_id} is not scheduled yet")
    return city_event


def _touch(row: CityEvent | Invitation, event: Event) -> None:
    row.updated_at = max(row.updated_at, event.occurred_at)
    row.version += 1


@projector.on(CityEventScheduled)
async def city_event_scheduled(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventScheduled)
    city_event = await session.get(CityEvent, event.aggregate_id)
    if city_event is None:
        city_event = CityEvent(
            id=event.aggregate_id,
            status=CityEventStatus.SCHEDULED.value,
            scheduled_at=event.occurred_at,
            updated_at=event.occurred_at,
            version=0,
            attendance=[],
            interpreting=[],
        )
        session.add(city_event)
    city_event.co_hosts = []  # unless the event names some
    _set_facts(city_event, event.payload.to_json(), merge_languages=False)
    _touch(city_event, event)


@projector.on(CityEventUpdated)
async def city_event_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventUpdated)
    city_event = await _city_event(session, event)
    _set_facts(city_event, event.payload.to_json(), merge_languages=True)
    _touch(city_event, event)


@projector.on(CityEventCancelled)
async def city_event_cancelled(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventCancelled)
    city_event = await _city_event(session, event)
    city_event.status = CityEventStatus.CANCELLED.value
    city_event.cancellation_reason = event.payload.reason
    _touch(city_event, event)


@projector.on(CityEventCompleted)
async def city_event_completed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventCompleted)
    city_event = await _city_event(session, event)
    city_event.status = CityEventStatus.COMPLETED.value
    city_event.exchange_field = event.payload.field.value
    city_event.exchange_summary = dict(event.payload.summary)
    city_event.participants = event.payload.participants
    city_event.exchange_id = event.payload.exchange_id
    _touch(city_event, event)


@projector.on(InvitationSent)
async def invitation_sent(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, InvitationSent)
    city_event = await _city_event(session, event)
    invitation = await session.get(Invitation, payload.invitation_id)
    if invitation is not None:
        _require_same_city_event(invitation, event)
    else:
        invitation = Invitation(
            id=payload.invitation_id,
            city_event_id=city_event.id,
            status=InvitationStatus.INVITED.value,
            answer=NO_REPLY,
            invited_at=event.occurred_at,
            updated_at=event.occurred_at,
            version=0,
        )
        session.add(invitation)
    invitation.invitee_kind = payload.invitee_kind.value
    invitation.invitee_id = payload.invitee_id
    invitation.answer_by = payload.answer_by
    _touch(invitation, event)


def _require_same_city_event(invitation: Invitation, event: Event) -> None:
    """Invitation ids are unique across city events; another producer may get that wrong."""
    if invitation.city_event_id != event.aggregate_id:
        raise ValueError(
            f"invitation {invitation.id} belongs to city event {invitation.city_event_id},"
            f" not to {event.aggregate_id}"
        )


async def _invitation(session: AsyncSession, event: Event, invitation_id: str) -> Invitation:
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None:
        raise Park(event.aggregate_id, f"invitation {invitation_id} has not been sent yet")
    _require_same_city_event(invitation, event)
    return invitation


@projector.on(InvitationWithdrawn)
async def invitation_withdrawn(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, InvitationWithdrawn)
    invitation = await _invitation(session, event, event.payload.invitation_id)
    invitation.status = InvitationStatus.WITHDRAWN.value
    invitation.withdrawal_reason = event.payload.reason
    _touch(invitation, event)


@projector.on(RsvpRecorded)
async def rsvp_recorded(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, RsvpRecorded)
    invitation = await _invitation(session, event, payload.invitation_id)
    invitation.answer = payload.answer.value
    invitation.delegates = payload.delegates
    invitation.note = payload.note
    invitation.delegate_details = [
        d.model_dump(mode="json", exclude_none=True) for d in payload.delegate_details
    ] or None
    invitation.received_via = payload.received_via.value
    invitation.answered_at = event.occurred_at
    _touch(invitation, event)
