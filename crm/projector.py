"""The CRM projector: partner cities, foreign missions, contacts, the exchange history and
the per-partner figures derived from it (exchange counts per field and year, last exchange).

Every handler is deterministic from its event (times come from `event.occurred_at`), so that
`twinning rebuild` reproduces the same read model. Figures that depend on today's date
(dormancy, upcoming anniversaries) are not stored: `twinning.crm.stats` computes them when read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import Enum
from typing import Any

from pydantic import AnyUrl
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import (
    Contact,
    Exchange,
    ExchangeMission,
    ExchangePartner,
    ForeignMission,
    PartnerActivity,
    PartnerCity,
    PartnerExchangeCount,
)
from twinning.db import Base
from twinning.streams.events import (
    ContactErased,
    ContactRegistered,
    ContactUpdated,
    Event,
    ExchangeRecorded,
    ForeignMissionRegistered,
    ForeignMissionUpdated,
    PartnerCityRegistered,
    PartnerCityUpdated,
    Payload,
)
from twinning.streams.projection import Park, Projector, add, current, forget, load_and_hold
from twinning.streams.redaction import redact, redaction_of


async def _prefetch(session: AsyncSession, events: Sequence[Event]) -> None:
    """The partner cities, missions and contacts a batch registers or updates, and the partners
    it records exchanges with: one query per kind, and those not registered yet noted."""
    wanted: dict[type[Base], set[str]] = {}
    for event in events:
        model = REGISTERS.get(type(event.payload))
        if model is not None:
            wanted.setdefault(model, set()).add(event.aggregate_id)
        if isinstance(event.payload, ExchangeRecorded):
            wanted.setdefault(PartnerCity, set()).update(event.payload.partner_ids)
            wanted.setdefault(ForeignMission, set()).update(event.payload.mission_ids)
    for model, ids in wanted.items():
        await load_and_hold(session, model, ids)


projector = Projector(
    "crm",
    tables=[
        PartnerCity,
        ForeignMission,
        Contact,
        Exchange,
        ExchangePartner,
        ExchangeMission,
        PartnerActivity,
        PartnerExchangeCount,
    ],
    prefetch=_prefetch,
)

#: The record each registration or update is about.
REGISTERS: dict[type[Payload], type[Base]] = {
    PartnerCityRegistered: PartnerCity,
    PartnerCityUpdated: PartnerCity,
    ForeignMissionRegistered: ForeignMission,
    ForeignMissionUpdated: ForeignMission,
    ContactRegistered: Contact,
    ContactUpdated: Contact,
}

# Multilingual fields: an update adds or replaces languages instead of replacing the whole text.
MULTILINGUAL = frozenset({"names", "address"})


def _column_value(value: Any) -> Any:
    """A payload's value as its column holds it: a URL as text, a kind or status as its
    value; dates, text, lists and mappings as they are (`model_dump` makes a nested model,
    the location, a mapping)."""
    if isinstance(value, AnyUrl):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _apply_facts(row: Base, payload: Payload, *, merge: bool) -> None:
    """Copy the facts of a registration (all of them, defaults included) or of an update (the
    fields it names) onto the row."""
    for key, fact in payload.model_dump(exclude_unset=payload.partial).items():
        value, current = _column_value(fact), getattr(row, key, None)
        if merge and key in MULTILINGUAL and value is not None and current is not None:
            value = {**current, **value}
        setattr(row, key, value)


async def _registered(session: AsyncSession, model: type[Any], event: Event) -> None:
    """A registration creates the record, or (sent again) restates all of its facts."""
    row = await current(session, model, event.aggregate_id)
    if row is None:
        row = add(session, model(id=event.aggregate_id, registered_at=event.occurred_at, version=0))
    _apply_facts(row, event.payload, merge=False)
    row.updated_at = event.occurred_at
    row.version += 1


async def _updated(session: AsyncSession, model: type[Any], event: Event, what: str) -> None:
    row = await current(session, model, event.aggregate_id)
    if row is None:
        raise Park(event.aggregate_id, f"{what} {event.aggregate_id} is not registered yet")
    _apply_facts(row, event.payload, merge=True)
    row.updated_at = max(row.updated_at, event.occurred_at)
    row.version += 1


@projector.on(PartnerCityRegistered)
async def partner_city_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, PartnerCity, event)


@projector.on(PartnerCityUpdated)
async def partner_city_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, PartnerCity, event, "partner city")


@projector.on(ForeignMissionRegistered)
async def foreign_mission_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, ForeignMission, event)


@projector.on(ForeignMissionUpdated)
async def foreign_mission_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, ForeignMission, event, "foreign mission")


@projector.on(ContactRegistered)
async def contact_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, Contact, event)


@projector.on(ContactUpdated)
async def contact_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, Contact, event, "contact")


# --- erasure ----------------------------------------------------------------------------

ERASED = "[erased]"
#: The contact events whose stored copies carry personal data.
PERSONAL = (ContactRegistered, ContactUpdated)


@redaction_of(*PERSONAL)
def _erased(payload: dict[str, Any]) -> dict[str, Any]:
    """What a stored contact event keeps: the partner or mission it belongs to and a name
    that says it was erased (a valid payload still: a rebuild replays it, and the erasure
    that follows removes what it creates)."""
    kept = {
        key: payload[key] for key in ("partner_id", "mission_id") if payload.get(key) is not None
    }
    return {**kept, "name": ERASED}


@projector.on(ContactErased)
async def contact_erased(session: AsyncSession, event: Event) -> None:
    """Right to erasure: the contact leaves the read model, and the copies of its earlier
    events kept in this database (archive, outbox, parked) lose their personal data."""
    contact_id = event.aggregate_id
    await session.execute(delete(Contact).where(Contact.id == contact_id))
    forget(session, Contact, contact_id)
    await redact(session, [contact_id], PERSONAL, _erased)


# --- exchanges and the figures derived from them -----------------------------------------


@projector.on(ExchangeRecorded)
async def exchange_recorded(session: AsyncSession, event: Event) -> None:
    """Add the exchange to the history (a second record of the same exchange replaces the
    first) and recount the figures of every partner it touches."""
    assert isinstance(event.payload, ExchangeRecorded)
    facts = event.payload
    partner_ids = list(dict.fromkeys(facts.partner_ids))
    for partner_id in partner_ids:
        if await current(session, PartnerCity, partner_id) is None:
            raise Park(
                partner_id,
                f"exchange {event.aggregate_id} waits for partner city {partner_id}",
            )
    mission_ids = list(dict.fromkeys(facts.mission_ids))
    for mission_id in mission_ids:
        if await current(session, ForeignMission, mission_id) is None:
            raise Park(
                mission_id,
                f"exchange {event.aggregate_id} waits for foreign mission {mission_id}",
            )
    exchange = await session.get(Exchange, event.aggregate_id)
    touched = set(partner_ids)
    if exchange is None:
        exchange = Exchange(id=event.aggregate_id, recorded_at=event.occurred_at)
        session.add(exchange)
    else:
        touched.update(exchange.partner_ids)
        await session.execute(
            delete(ExchangePartner).where(ExchangePartner.exchange_id == exchange.id)
        )
        await session.execute(
            delete(ExchangeMission).where(ExchangeMission.exchange_id == exchange.id)
        )
    exchange.date = facts.date
    exchange.field = facts.field.value
    exchange.direction = facts.direction.value
    exchange.summary = dict(facts.summary)
    exchange.partner_ids = partner_ids
    exchange.participants = facts.participants
    exchange.source_kind = facts.source.kind if facts.source else None
    exchange.source_id = facts.source.id if facts.source else None
    session.add_all(
        ExchangePartner(
            exchange_id=exchange.id, partner_id=partner_id, date=facts.date, field=exchange.field
        )
        for partner_id in partner_ids
    )
    exchange.mission_ids = mission_ids
    exchange.organisations = [dict(names) for names in facts.organisations]
    session.add_all(
        ExchangeMission(
            exchange_id=exchange.id, mission_id=mission_id, date=facts.date, field=exchange.field
        )
        for mission_id in mission_ids
    )
    await session.flush()
    for partner_id in sorted(touched):
        await _recount(session, partner_id)


async def _recount(session: AsyncSession, partner_id: str) -> None:
    """Derive a partner's figures again from its exchanges (few per partner: cheap, and
    always equal to what a rebuild computes)."""
    exchanges = (
        await session.execute(
            select(ExchangePartner.date, ExchangePartner.field).where(
                ExchangePartner.partner_id == partner_id
            )
        )
    ).all()
    counts = Counter((day.year, field) for day, field in exchanges)
    stored = {
        (row.year, row.field): row
        for row in await session.scalars(
            select(PartnerExchangeCount).where(PartnerExchangeCount.partner_id == partner_id)
        )
    }
    for (year, field), count in counts.items():
        row = stored.pop((year, field), None)
        if row is None:
            session.add(
                PartnerExchangeCount(partner_id=partner_id, year=year, field=field, count=count)
            )
        else:
            row.count = count
    for row in stored.values():
        await session.delete(row)

    activity = await session.get(PartnerActivity, partner_id)
    if not exchanges:
        if activity is not None:
            await session.delete(activity)
        return
    if activity is None:
        activity = PartnerActivity(partner_id=partner_id)
        session.add(activity)
    activity.exchanges = len(exchanges)
    activity.last_exchange_date = max(day for day, _ in exchanges)
