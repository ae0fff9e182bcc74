"""What the city events and invitations API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from twinning.db import Page, QueryDay
from twinning.invitations.models import CityEvent, CityEventStatus, Invitation, InvitationStatus
from twinning.streams.events import (
    CityEventCancelled,
    CityEventCompleted,
    CityEventCompletion,
    CityEventKind,
    CityEventScheduled,
    CityEventUpdated,
    CoHost,
    Delegate,
    EntityId,
    ExchangeField,
    InviteeKind,
    ReceivedVia,
    Rsvp,
    VenueRef,
    Withdrawal,
)

# A command carries exactly what its event carries (less the ids the server assigns).
CityEventCreate = CityEventScheduled
CityEventUpdate = CityEventUpdated
CityEventCancel = CityEventCancelled
CityEventComplete = CityEventCompletion
InvitationWithdraw = Withdrawal
RsvpCreate = Rsvp

AnswerState = Literal["no-reply", "accepted-in-person", "accepted-by-video", "declined"]


class CityEventFilter(Page):
    """City events that touch the days `from`..`to` (inclusive, each in its own zone),
    soonest first."""

    model_config = ConfigDict(populate_by_name=True)

    starts_from: QueryDay | None = Field(
        default=None, alias="from", description="Events on or after this day (in their own zone)."
    )
    until: QueryDay | None = Field(
        default=None, alias="to", description="Events on or before this day (in their own zone)."
    )
    status: CityEventStatus | None = None
    kind: CityEventKind | None = None

    @field_validator("until")
    @classmethod
    def _not_before_from(cls, until: date | None, info: ValidationInfo) -> date | None:
        starts_from = info.data.get("starts_from")
        if until is not None and starts_from is not None and until < starts_from:
            raise ValueError("must not be before 'from'")
        return until


class Invitee(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: InviteeKind
    id: EntityId


class InvitationsCreate(BaseModel):
    """Invite one or several partner cities or missions, all with the same answer-by date."""

    model_config = ConfigDict(extra="forbid")

    answer_by: date
    invitees: Annotated[list[Invitee], Field(min_length=1, max_length=200)]

    @field_validator("invitees")
    @classmethod
    def _each_invitee_once(cls, invitees: list[Invitee]) -> list[Invitee]:
        repeated = sorted({f"{i.kind.value} {i.id}" for i in invitees if invitees.count(i) > 1})
        if repeated:
            raise ValueError(f"invited more than once in this request: {', '.join(repeated)}")
        return invitees


class CityEventRead(BaseModel):
    id: str
    kind: CityEventKind
    title: dict[str, str]
    description: dict[str, str] | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    start_date: date = Field(description="First day of the event in its own time zone.")
    end_date: date = Field(description="Last day of the event in its own time zone.")
    venue: VenueRef | None
    video_link: str | None
    open_to_partners: bool
    official_ids: list[str] = Field(description="The city's officials who attend.")
    interpreter_ids: list[str] = Field(description="The interpreters booked for it.")
    status: CityEventStatus
    cancellation_reason: str | None
    completion: CityEventCompleted | None
    co_hosts: list[CoHost] = Field(
        default=[], description="Partner cities or foreign missions hosting it with the city."
    )
    scheduled_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, row: CityEvent) -> CityEventRead:
        venue = (
            VenueRef(venue_id=row.venue_id, place=row.venue_place)
            if row.venue_id or row.venue_place
            else None
        )
        completion = (
            CityEventCompleted(
                field=ExchangeField(row.exchange_field),
                summary=row.exchange_summary or {},
                participants=row.participants,
                exchange_id=row.exchange_id,
            )
            if row.exchange_field
            else None
        )
        columns = {c.key: getattr(row, c.key) for c in CityEvent.__table__.columns}
        return cls.model_validate(
            {
                **columns,
                "venue": venue,
                "completion": completion,
                "official_ids": row.official_ids,
                "interpreter_ids": row.interpreter_ids,
                "co_hosts": row.co_hosts or [],
            }
        )


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    city_event_id: str
    invitee_kind: InviteeKind
    invitee_id: str
    answer_by: date
    status: InvitationStatus
    withdrawal_reason: str | None
    answer: AnswerState
    delegates: int | None
    note: str | None = Field(description="Omitted for callers without access to personal data.")
    delegate_details: list[Delegate] | None = Field(
        default=None,
        description="Who comes in person; omitted for callers without access to personal data.",
    )
    received_via: ReceivedVia | None
    answered_at: datetime | None
    invited_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, row: Invitation, *, personal_data: bool) -> InvitationRead:
        read = cls.model_validate(row)
        if personal_data:
            return read
        return read.model_copy(update={"note": None, "delegate_details": None})


class UnansweredInvitation(BaseModel):
    invitation_id: str
    invitee_kind: InviteeKind
    invitee_id: str
    answer_by: date


class InvitationSummary(BaseModel):
    """Where the answers to one city event's invitations stand (withdrawn ones apart)."""

    city_event_id: str
    today: date = Field(description="Today in the event's time zone, the day overdue is judged on.")
    counts: dict[AnswerState, int]
    withdrawn: int
    delegates_in_person: int
    not_replied_after_answer_by: list[UnansweredInvitation]
