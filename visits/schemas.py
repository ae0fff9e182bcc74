"""What the visits API accepts and returns: officials, venues, visits and itinerary items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from twinning.db import Page
from twinning.i18n.locales import DEFAULT_LOCALE
from twinning.streams.events import (
    ExchangeDirection,
    ExchangeField,
    ItineraryItemChanges,
    ItineraryItemFacts,
    MultilingualText,
    OfficialRegistered,
    OfficialUpdated,
    Payload,
    TalkingPoints,
    Text,
    VenueRegistered,
    VenueUpdated,
    VisitDelegationMembersListed,
    VisitRequested,
    VisitSource,
)
from twinning.visits.lifecycle import VisitStatus
from twinning.visits.models import ItineraryItem, Visit
from twinning.visits.precedence import by_precedence

# A command carries exactly what its event carries: one definition, validated once.
OfficialCreate = OfficialRegistered
OfficialUpdate = OfficialUpdated
VenueCreate = VenueRegistered
VenueUpdate = VenueUpdated
VisitCreate = VisitRequested

#: Personal data of a visit, left out of every answer to a caller without access to it.
PERSONAL_FIELDS = frozenset(
    {"dietary_notes", "accessibility_notes", "contact", "delegation_members"}
)
#: Internal notes of a visit or an itinerary item, likewise left out for such a caller.
INTERNAL_FIELDS = frozenset({"talking_points"})


class VisitFilter(Page):
    """Newest first (by the first day asked for)."""

    status: VisitStatus | None = None
    partner_id: Annotated[str | None, Field(max_length=100)] = None


class StepRequest(Payload):
    """The optional body of a lifecycle step or a removal."""

    reason: Text | None = None


class NotifyingStepRequest(StepRequest):
    """The optional body of an approval, a decline or a scheduling."""

    notify_contact: bool = Field(
        default=False,
        description="Mail the delegation's contact about this step, in the contact's language "
        "(refused when the visit's contact has no email address).",
    )


DelegationMembersRequest = VisitDelegationMembersListed


class TalkingPointsRequest(Payload):
    """The visit's talking points for the officials' briefing book; null clears them."""

    talking_points: TalkingPoints | None


class OverrideRequest(Payload):
    """Book in spite of conflicts; the reason is recorded with the conflicts it overrides."""

    reason: Text


class ItineraryItemCreate(ItineraryItemFacts):
    override: OverrideRequest | None = None


class ItineraryItemUpdate(ItineraryItemChanges):
    override: OverrideRequest | None = None


ExchangeDay = Annotated[
    date,
    Field(
        description="Defaults to the local day the itinerary starts, else the first requested day."
    ),
]


class ExchangeRequest(Payload):
    """The exchange a completed visit records (with its partner city)."""

    field: ExchangeField
    direction: ExchangeDirection = ExchangeDirection.INBOUND
    summary: MultilingualText
    participants: Annotated[int, Field(ge=0, le=100000)] | None = Field(
        default=None, description="Defaults to the number of delegation members."
    )
    date: ExchangeDay | None = None


class CompleteRequest(StepRequest):
    exchange: ExchangeRequest | None = Field(
        default=None, description="Required when the visiting delegation is a partner city."
    )


class OfficialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    names: dict[str, str]
    title: dict[str, str]
    protocol_rank: int
    email: str | None = None
    language: str | None = None
    forms_of_address: dict[str, str] | None = None
    registered_at: datetime
    updated_at: datetime
    version: int


class VenueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    names: dict[str, str]
    capacity: int
    timezone: str
    address: dict[str, str] | None
    registered_at: datetime
    updated_at: datetime
    version: int


class DelegationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    partner_id: str | None
    mission_id: str | None
    organisation: dict[str, str] | None


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: VisitStatus
    actor: str
    reason: str | None
    occurred_at: datetime


class VisitRead(BaseModel):
    """A visit; `dietary_notes`, `accessibility_notes`, `contact`, `delegation_members` and
    the internal `talking_points` are absent for callers without access to personal data."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: VisitStatus
    delegation: DelegationRead
    head_of_delegation: dict[str, Any]
    members: int
    purpose: dict[str, str]
    requested_from: date
    requested_to: date
    languages: list[str]
    interpreter_needed: bool
    dietary_notes: str | None = None
    accessibility_notes: str | None = None
    contact: dict[str, Any] | None = None
    delegation_members: list[dict[str, Any]] | None = Field(
        default=None,
        description="The members besides the head, in order of precedence (personal data).",
    )
    talking_points: str | None = None
    exchange_id: str | None
    received_via: VisitSource = Field(
        default=VisitSource.STAFF,
        description="`form`: sent through the public visit-request form.",
    )
    accepted_at: datetime | None = Field(
        default=None, description="When staff accepted a request sent through the form."
    )
    accepted_by: str | None = None
    requested_at: datetime
    updated_at: datetime
    version: int
    history: list[StatusChangeRead]


class ItineraryItemRead(BaseModel):
    """An itinerary item: times in UTC, and again in `timezone` (the venue's, or the outside
    place's) as `local_starts_at` and `local_ends_at`."""

    id: str
    visit_id: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    local_starts_at: datetime
    local_ends_at: datetime
    venue_id: str | None
    place: dict[str, Any] | None
    official_ids: list[str]
    interpreter_ids: list[str] = Field(description="Interpreters of the roster booked for it.")
    interpreter: bool | str
    gift_exchange: str | None
    press: bool
    titles: dict[str, str]
    notes_shared: str | None
    talking_points: str | None = Field(
        default=None, description="Internal: absent for callers without access to personal data."
    )
    overrides: list[dict[str, Any]]
    removed: bool
    removal_reason: str | None
    sequence: int
    added_at: datetime
    updated_at: datetime


def visit_view(
    visit: Visit, *, personal_data: bool, titles: Mapping[str, int] | None = None
) -> VisitRead:
    """The visit as a caller may see it; without access, the personal fields are left unset
    (routes answer with `response_model_exclude_unset`, so they are absent, not null). The
    delegation's members in order of precedence (`titles`: TWINNING_PRECEDENCE_TITLES)."""
    view = VisitRead.model_validate(visit)
    if personal_data:
        members = view.delegation_members
        if members:
            ordered = by_precedence(members, DEFAULT_LOCALE, titles or {})
            view = view.model_copy(update={"delegation_members": ordered})
        return view
    return VisitRead.model_validate(view.model_dump(exclude=set(PERSONAL_FIELDS | INTERNAL_FIELDS)))


def item_view(item: ItineraryItem, *, timezone: str, internal: bool = False) -> ItineraryItemRead:
    """The item in `timezone`; its internal fields only when `internal` (routes answer with
    `response_model_exclude_unset`, so they are absent, not null)."""
    zone = ZoneInfo(timezone)
    hidden = frozenset() if internal else INTERNAL_FIELDS
    return ItineraryItemRead(
        **{
            c.key: getattr(item, c.key)
            for c in ItineraryItem.__table__.columns
            if c.key not in hidden
        },
        official_ids=item.official_ids,
        interpreter_ids=item.interpreter_ids,
        timezone=timezone,
        local_starts_at=item.starts_at.astimezone(zone),
        local_ends_at=item.ends_at.astimezone(zone),
    )
