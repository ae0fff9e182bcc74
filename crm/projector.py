"""The CRM projector: partner cities, foreign missions, contacts, the exchange history and
the per-partner figures derived from it (exchange counts per field and year, last exchange).

Every handler is deterministic from its event (times come from `event.occurred_at`), so that
`twinning rebuild` reproduces the same read model. Figures that depend on today's date
(dormancy, upcoming anniversaries) are not stored: `twinning.crm.stats` computes them when read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from twinning.crm.models import (
    Contact,
    Exchange,
    ExchangePartner,
    ForeignMission,
    PartnerActivity,
    PartnerCity,
    PartnerExchangeCount,
)
from twinning.db import Base
from twinning.streams.events import Event, ExchangeRecorded
from twinning.streams.projection import Park, Projector, add, current, forget, load_and_hold
from twinning.streams.store import ArchivedEvent, OutboxEvent, ParkedEvent


async def _prefetch(session: AsyncSession, events: Sequence[Event]) -> None:
    """The partner cities, missions and contacts a batch registers or updates, and the partners
    it records exchanges with: one query per kind, and those not registered yet noted."""
    wanted: dict[type[Base], set[str]] = {}
    for event in events:
        model = REGISTERS.get(event.type)
        if model is not None:
            wanted.setdefault(model, set()).add(event.aggregate_id)
        if isinstance(event.payload, ExchangeRecorded):
            wanted.setdefault(PartnerCity, set()).update(event.payload.partner_ids)
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
        PartnerActivity,
        PartnerExchangeCount,
    ],
    prefetch=_prefetch,
)

#: The record each registration or update event is about.
REGISTERS: dict[str, type[Base]] = {
    f"{name}{change}": model
    for name, model in (
        ("PartnerCity", PartnerCity),
        ("ForeignMission", ForeignMission),
        ("Contact", Contact),
    )
    for change in ("Registered", "Updated")
}

# Multilingual fields: an update adds or replaces languages instead of replacing the whole text.
MULTILINGUAL = frozenset({"names", "address"})
DATES = frozenset({"agreement_date"})


def _value(key: str, value: Any) -> Any:
    return date.fromisoformat(value) if key in DATES and isinstance(value, str) else value


def _apply_facts(row: Base, facts: dict[str, Any], *, merge: bool) -> None:
    for key, value in facts.items():
        current = getattr(row, key, None)
        if merge and key in MULTILINGUAL and value is not None and current is not None:
            value = {**current, **value}
        setattr(row, key, _value(key, value))


async def _registered(session: AsyncSession, model: type[Any], event: Event) -> None:
    """A registration creates the record, or (sent again) restates all of its facts."""
    row = await current(session, model, event.aggregate_id)
    if row is None:
        row = add(session, model(id=event.aggregate_id, registered_at=event.occurred_at, version=0))
    _apply_facts(row, event.payload.to_json(), merge=False)
    row.updated_at = event.occurred_at
    row.version += 1


async def _updated(session: AsyncSession, model: type[Any], event: Event, what: str) -> None:
    row = await current(session, model, event.aggregate_id)
    if row is None:
        raise Park(event.aggregate_id, f"{what} {event.aggregate_id} is not registered yet")
    _apply_facts(row, event.payload.to_json(), merge=True)
    row.updated_at = max(row.updated_at, event.occurred_at)
    row.version += 1


@projector.on("PartnerCityRegistered")
async def partner_city_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, PartnerCity, event)


@projector.on("PartnerCityUpdated")
async def partner_city_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, PartnerCity, event, "partner city")


@projector.on("ForeignMissionRegistered")
async def foreign_mission_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, ForeignMission, event)


@projector.on("ForeignMissionUpdated")
async def foreign_mission_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, ForeignMission, event, "foreign mission")


@projector.on("ContactRegistered")
async def contact_registered(session: AsyncSession, event: Event) -> None:
    await _registered(session, Contact, event)


@projector.on("ContactUpdated")
async def contact_updated(session: AsyncSession, event: Event) -> None:
    await _updated(session, Contact, event, "contact")


# --- erasure ----------------------------------------------------------------------------

ERASED = "[erased]"


def _redacted(body: str) -> str:
    """The stored event without its personal data; it still decodes, so a rebuild replays it
    (and the erasure that follows removes what it creates)."""
    envelope = json.loads(body)
    kept = {
        key: envelope["payload"][key]
        for key in ("partner_id", "mission_id")
        if envelope["payload"].get(key) is not None
    }
    envelope["payload"] = {**kept, "name": ERASED}
    return json.dumps(envelope, ensure_ascii=False)


PERSONAL = ("ContactRegistered", "ContactUpdated")
ERASED_IN_TRANSACTION = "twinning.crm.erased_contacts"


def _redact_stored_copies(session: Session, contact_ids: Iterable[str]) -> None:
    ids = list(contact_ids)
    for table in (ArchivedEvent, OutboxEvent):
        rows = session.execute(
            select(table.event_id, table.body).where(
                table.aggregate_id.in_(ids), table.type.in_(PERSONAL)
            )
        )
        for event_id, body in rows.all():
            session.execute(
                update(table).where(table.event_id == event_id).values(body=_redacted(body))
            )


def _redact_before_commit(session: Session) -> None:
    _redact_stored_copies(session, session.info.pop(ERASED_IN_TRANSACTION, ()))


@projector.on("ContactErased")
async def contact_erased(session: AsyncSession, event: Event) -> None:
    """Right to erasure: the contact leaves the read model, and the copies of its earlier
    events kept in this database (archive, outbox, parked) lose their personal data."""
    contact_id = event.aggregate_id
    await session.execute(delete(Contact).where(Contact.id == contact_id))
    forget(session, Contact, contact_id)
    await session.execute(delete(ParkedEvent).where(ParkedEvent.waits_for == contact_id))
    await session.run_sync(_redact_stored_copies, [contact_id])
    # A batch's events are archived after all its handlers ran, so a registration erased in
    # the same batch is not in the archive yet: redact once more just before the commit.
    erased = session.info.setdefault(ERASED_IN_TRANSACTION, set())
    if not erased:
        sqlalchemy_event.listen(
            session.sync_session, "before_commit", _redact_before_commit, once=True
        )
    erased.add(contact_id)


# --- exchanges and the figures derived from them -----------------------------------------


@projector.on("ExchangeRecorded")
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
