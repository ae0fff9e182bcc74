"""The gifts projector: keeps `gifts` from the events on `twinning.gifts`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.gifts.models import Gift
from twinning.streams.events import (
    Event,
    GiftApproved,
    GiftDirection,
    GiftPartyKind,
    GiftRecorded,
    GiftUpdated,
)
from twinning.streams.projection import Park, Projector

projector = Projector("gifts", tables=[Gift])

#: The facts an update may change, copied as they come (the rest are shaped below).
_PLAIN = ("direction", "category", "date", "location", "notes", "currency")


def _counterpart(gift: Gift) -> None:
    """The registered partner city or mission on the other side of the gift, if any."""
    other = gift.recipient if gift.direction == GiftDirection.GIVEN.value else gift.giver
    if other.get("kind") in (GiftPartyKind.PARTNER.value, GiftPartyKind.MISSION.value):
        gift.counterpart_kind, gift.counterpart_id = other["kind"], other["id"]
    else:
        gift.counterpart_kind = gift.counterpart_id = None


def _apply(gift: Gift, facts: GiftRecorded | GiftUpdated, changed: set[str]) -> None:
    values: dict[str, Any] = facts.model_dump(mode="json")
    for name in _PLAIN:
        if name in changed:
            value = getattr(facts, name)
            setattr(gift, name, value.value if isinstance(value, StrEnum) else value)
    if "description" in changed:
        gift.description = {**(gift.description or {}), **values["description"]}
    if "giver" in changed:
        gift.giver = values["giver"]
    if "recipient" in changed:
        gift.recipient = values["recipient"]
    if "occasion" in changed:
        occasion = values["occasion"]
        gift.occasion_kind = occasion["kind"] if occasion else None
        gift.occasion_id = occasion["id"] if occasion else None
    if "estimated_value" in changed:
        value = facts.estimated_value
        gift.estimated_value = f"{value:.2f}" if value is not None else None
    if "photo" in changed:
        gift.photo = values["photo"]
    _counterpart(gift)


@projector.on(GiftRecorded)
async def gift_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, GiftRecorded)
    gift = await session.get(Gift, event.aggregate_id)
    if gift is None:
        gift = Gift(id=event.aggregate_id, version=0, description={})
        session.add(gift)
    gift.recorded_at = gift.updated_at = event.occurred_at
    gift.recorded_by = event.envelope.actor
    gift.approved_at = gift.approved_by = gift.approval_note = None
    gift.version += 1
    _apply(gift, event.payload, set(GiftRecorded.model_fields))


@projector.on(GiftUpdated)
async def gift_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, GiftUpdated)
    gift = await _known_gift(session, event)
    changed = set(event.payload.model_fields_set)
    before = (gift.estimated_value, gift.currency)
    _apply(gift, event.payload, changed)
    if (gift.estimated_value, gift.currency) != before:
        # Approved at the value it had then: a new value needs a new approval.
        gift.approved_at = gift.approved_by = gift.approval_note = None


@projector.on(GiftApproved)
async def gift_approved(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, GiftApproved)
    gift = await _known_gift(session, event)
    gift.approved_at = event.occurred_at
    gift.approved_by = event.envelope.actor
    gift.approval_note = event.payload.note


async def _known_gift(session: AsyncSession, event: Event) -> Gift:
    gift = await session.get(Gift, event.aggregate_id)
    if gift is None:
        raise Park(event.aggregate_id, f"gift {event.aggregate_id} is not recorded yet")
    gift.updated_at = max(gift.updated_at, event.occurred_at)
    gift.version += 1
    return gift
