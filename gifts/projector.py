"""The gifts projector: keeps `gifts` from the events on `twinning.gifts`, and erases the name
of a contact named as a gift's giver or recipient when the contact is erased."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.gifts.models import Gift
from twinning.streams.events import (
    ContactErased,
    Event,
    GiftApproved,
    GiftDirection,
    GiftPartyKind,
    GiftRecorded,
    GiftUpdated,
)
from twinning.streams.projection import Park, Projector
from twinning.streams.redaction import redact, redaction_of

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


# --- erasure ----------------------------------------------------------------------------

#: What an erased person's name reads as (`crm.projector.ERASED`).
ERASED = "[erased]"
#: The gift events whose stored copies name the giver and the recipient.
PERSONAL = (GiftRecorded, GiftUpdated)


def _names_a_contact(party: Any) -> bool:
    return (
        isinstance(party, dict)
        and party.get("kind") == GiftPartyKind.PERSON.value
        and party.get("id") is not None
    )


def _without_contact_names(party: Any) -> Any:
    return {**party, "name": ERASED} if _names_a_contact(party) else party


@redaction_of(*PERSONAL)
def _erased(payload: dict[str, Any]) -> dict[str, Any]:
    """What a stored gift event keeps once a contact it names is erased: everything but the
    names of the persons who are contacts (the contact's id stays: it names nobody once the
    contact is gone). The read model does the same, so that a rebuild gives what live did."""
    return {
        key: _without_contact_names(value) if key in ("giver", "recipient") else value
        for key, value in payload.items()
    }


@projector.on(ContactErased)
async def contact_erased(session: AsyncSession, event: Event) -> None:
    """Right to erasure: a gift given or received by the erased contact keeps the gift, not
    their name, here and in the stored copies of the gift's events (archive, outbox, parked).
    The gifts register is small (hundreds of gifts a year): looked through whole."""
    contact_id = event.aggregate_id
    named: list[str] = []
    for gift in await session.scalars(select(Gift)):
        parties = (gift.giver, gift.recipient)
        if not any(_names_a_contact(p) and p["id"] == contact_id for p in parties):
            continue
        gift.giver = _without_contact_names(gift.giver)
        gift.recipient = _without_contact_names(gift.recipient)
        named.append(gift.id)
    await redact(session, named, PERSONAL, _erased)
