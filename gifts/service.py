"""Gift commands and queries: record, change and approve gifts; store their photos; read the
register, and what the city gave a partner city or mission before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.db import insert_once
from twinning.gifts.models import Gift, GiftPhotoFile
from twinning.gifts.schemas import GiftApproval, GiftCreate, GiftFilter, GiftRead, GiftUpdate
from twinning.invitations.models import CityEvent
from twinning.photos import CleanPhoto
from twinning.refusals import Conflict, InvalidField, NotFound
from twinning.streams import outbox
from twinning.streams.events import (
    Event,
    GiftDirection,
    GiftOccasion,
    GiftParty,
    GiftPartyKind,
    GiftPhoto,
)
from twinning.streams.store import OutboxEvent
from twinning.trips.models import Trip
from twinning.visits.models import Official, Visit

#: What names a party or an occasion: its read model, and the event that registers it.
_REGISTERS: dict[str, tuple[type[Any], str]] = {
    GiftPartyKind.OFFICIAL: (Official, "OfficialRegistered"),
    GiftPartyKind.PARTNER: (PartnerCity, "PartnerCityRegistered"),
    GiftPartyKind.MISSION: (ForeignMission, "ForeignMissionRegistered"),
    GiftPartyKind.PERSON: (Contact, "ContactRegistered"),
    "visit": (Visit, "VisitRequested"),
    "trip": (Trip, "TripPlanned"),
    "city-event": (CityEvent, "CityEventScheduled"),
}


#: The kind a refusal names for each kind of party or occasion (`twinning.refusals.KINDS`).
_KINDS = {
    GiftPartyKind.OFFICIAL: "official",
    GiftPartyKind.PARTNER: "partner city",
    GiftPartyKind.MISSION: "foreign mission",
    GiftPartyKind.PERSON: "contact",
    "visit": "visit",
    "trip": "trip",
    "city-event": "city event",
}


async def _exists(db_session: AsyncSession, kind: str, record_id: str) -> bool:
    """Known to the read model, or registered by a command the worker has not applied yet."""
    model, registered_by = _REGISTERS[kind]
    if await db_session.get(model, record_id) is not None:
        return True
    registered = select(OutboxEvent.id).where(
        OutboxEvent.aggregate_id == record_id, OutboxEvent.type == registered_by
    )
    return await db_session.scalar(registered.limit(1)) is not None


async def _check_party(db_session: AsyncSession, field: str, party: GiftParty | None) -> None:
    if party is None or party.id is None:
        return
    if not await _exists(db_session, party.kind, party.id) or (
        party.kind is GiftPartyKind.PERSON and await _erased(db_session, party.id)
    ):
        raise NotFound(_KINDS[party.kind], party.id)


async def _erased(db_session: AsyncSession, contact_id: str) -> bool:
    """Whether the contact was erased (its registration stays in the outbox, redacted)."""
    erased = select(OutboxEvent.id).where(
        OutboxEvent.aggregate_id == contact_id, OutboxEvent.type == "ContactErased"
    )
    return await db_session.scalar(erased.limit(1)) is not None


async def _check_references(db_session: AsyncSession, data: GiftCreate | GiftUpdate) -> None:
    await _check_party(db_session, "giver", data.giver)
    await _check_party(db_session, "recipient", data.recipient)
    occasion: GiftOccasion | None = data.occasion
    if occasion is not None and not await _exists(db_session, occasion.kind, occasion.id):
        raise NotFound(_KINDS[occasion.kind], occasion.id)
    photo: GiftPhoto | None = data.photo
    if photo is not None and await db_session.get(GiftPhotoFile, photo.sha256) is None:
        raise NotFound("gift photo", photo.sha256)


async def record_gift(*, db_session: AsyncSession, data: GiftCreate, actor: str) -> Event:
    await _check_references(db_session, data)
    return outbox.record(db_session, data, actor=actor)


async def _current_gift(db_session: AsyncSession, gift_id: str) -> Gift:
    """The gift once its earlier changes are applied."""
    await outbox.settle(db_session, aggregate_ids=[gift_id])
    gift = await get_gift(db_session=db_session, gift_id=gift_id)
    if gift is None:
        raise NotFound("gift", gift_id)
    return gift


async def update_gift(
    *, db_session: AsyncSession, gift_id: str, data: GiftUpdate, actor: str
) -> Event:
    gift = await _current_gift(db_session, gift_id)
    await _check_references(db_session, data)
    value = data.estimated_value if "estimated_value" in data.model_fields_set else "unchanged"
    currency = data.currency if "currency" in data.model_fields_set else "unchanged"
    after_value = gift.estimated_value if value == "unchanged" else value
    after_currency = gift.currency if currency == "unchanged" else currency
    if (after_value is None) != (after_currency is None):
        raise InvalidField(
            "currency" if after_currency is None else "estimated_value",
            "give the estimated value and its currency together",
        )
    return outbox.record(db_session, data, aggregate_id=gift.id, actor=actor)


def value_in_threshold_currency(gift: Gift, settings: Settings) -> Decimal | None:
    """The gift's value in the approval threshold's currency; None when it has no value or no
    rate is known for its currency."""
    if gift.estimated_value is None or gift.currency is None:
        return None
    value = Decimal(gift.estimated_value)
    if gift.currency == settings.gift_approval_currency:
        return value
    rate = settings.gift_rates.get(gift.currency)
    return value * rate if rate is not None else None


def needs_approval(gift: Gift, settings: Settings) -> bool:
    """Worth more than the threshold; or of a value in a currency without a known rate."""
    if gift.estimated_value is None or Decimal(gift.estimated_value) == 0:
        return False
    converted = value_in_threshold_currency(gift, settings)
    return converted is None or converted > settings.gift_approval_threshold


async def approve_gift(
    *,
    db_session: AsyncSession,
    gift_id: str,
    data: GiftApproval,
    actor: str,
    settings: Settings,
) -> Event:
    gift = await _current_gift(db_session, gift_id)
    if gift.approved_at is not None:
        raise Conflict(
            "gift %(id)s is %(state)s already",
            current_state="approved",
            id=gift.id,
            state="approved",
        )
    if not needs_approval(gift, settings):
        raise Conflict(
            "gift %(id)s is worth %(value)s %(currency)s or less: it needs no approval",
            id=gift.id,
            value=settings.gift_approval_threshold,
            currency=settings.gift_approval_currency,
        )
    return outbox.record(db_session, data, aggregate_id=gift.id, actor=actor)


async def store_photo(*, db_session: AsyncSession, photo: CleanPhoto) -> None:
    """Keep a cleaned photo (once: the same bytes are the same photo, and of two uploads of
    them at once, the second finds the first's); the caller commits."""
    row = {
        "sha256": photo.sha256,
        "media_type": photo.media_type,
        "data": photo.data,
        "stored_at": datetime.now(UTC),
    }
    await insert_once(db_session, GiftPhotoFile, row)


async def get_photo(*, db_session: AsyncSession, sha256: str) -> GiftPhotoFile | None:
    return await db_session.get(GiftPhotoFile, sha256)


async def get_gift(*, db_session: AsyncSession, gift_id: str) -> Gift | None:
    return await db_session.get(Gift, gift_id, populate_existing=True)


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


async def list_gifts(
    *, db_session: AsyncSession, query: GiftFilter, settings: Settings | None = None
) -> Sequence[Gift]:
    """Newest first (then by id), as `query` filters them (`settings`: the approval threshold,
    needed to filter on `awaiting_approval`)."""
    found = select(Gift).order_by(Gift.date.desc(), Gift.id)
    if query.direction is not None:
        found = found.where(Gift.direction == query.direction.value)
    if query.category is not None:
        found = found.where(Gift.category == query.category.value)
    if query.location is not None:
        found = found.where(Gift.location == query.location.value)
    if query.year is not None:
        start, end = _year(query.year)
        found = found.where(Gift.date >= start, Gift.date < end)
    if query.counterpart_id is not None:
        found = found.where(Gift.counterpart_id == query.counterpart_id)
    if query.occasion_id is not None:
        found = found.where(Gift.occasion_id == query.occasion_id)
    if query.awaiting_approval is None:
        return (await db_session.scalars(query.of(found))).all()
    # Whether a gift needs approval depends on the settings: filtered here, then paged.
    if settings is None:
        raise ValueError("filtering on awaiting_approval needs the settings")
    every = (await db_session.scalars(found.where(Gift.approved_at.is_(None)))).all()
    awaiting = [g for g in every if needs_approval(g, settings) == query.awaiting_approval]
    return awaiting[query.offset : query.offset + query.limit]


async def given_before(
    *, db_session: AsyncSession, visit: Visit, limit: int = 20
) -> Sequence[Gift]:
    """What the city gave the visiting partner city or mission before (given to it, or given
    on one of its earlier visits), newest first."""
    counterpart = visit.partner_id or visit.mission_id
    if counterpart is None:
        return []
    same_party = Visit.partner_id if visit.partner_id else Visit.mission_id
    their_visits = select(Visit.id).where(same_party == counterpart, Visit.id != visit.id)
    found = (
        select(Gift)
        .where(
            Gift.direction == GiftDirection.GIVEN.value,
            or_(
                Gift.counterpart_id == counterpart,
                (Gift.occasion_kind == "visit") & Gift.occasion_id.in_(their_visits),
            ),
            or_(Gift.occasion_id.is_(None), Gift.occasion_id != visit.id),
        )
        .order_by(Gift.date.desc(), Gift.id)
        .limit(limit)
    )
    return (await db_session.scalars(found)).all()


def gift_read(gift: Gift, settings: Settings) -> GiftRead:
    return GiftRead.model_validate(
        {
            **{
                column: getattr(gift, column)
                for column in GiftRead.model_fields
                if column != "needs_approval"
            },
            "needs_approval": needs_approval(gift, settings),
        }
    )
