"""Press commands and queries: record and change press items; list them; count them per
month and per partner city."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Exchange, PartnerCity
from twinning.invitations.models import CityEvent, Invitation
from twinning.press.models import PressItem
from twinning.press.schemas import (
    MonthCount,
    PartnerCount,
    PressCounts,
    PressFilter,
    PressItemCreate,
    PressItemUpdate,
)
from twinning.refusals import NotFound
from twinning.streams import outbox
from twinning.streams.events import Event, PressCoverage
from twinning.streams.store import OutboxEvent
from twinning.trips.models import Trip, TripLeg
from twinning.visits.models import Visit

#: What a press item may cover: its read model, and the event that creates it.
_COVERED: dict[str, tuple[type[Any], str]] = {
    "visit": (Visit, "VisitRequested"),
    "city-event": (CityEvent, "CityEventScheduled"),
    "trip": (Trip, "TripPlanned"),
    "exchange": (Exchange, "ExchangeRecorded"),
}


async def _check_covers(db_session: AsyncSession, covers: Sequence[PressCoverage] | None) -> None:
    for covered in covers or []:
        model, created_by = _COVERED[covered.kind]
        if await db_session.get(model, covered.id) is not None:
            continue
        pending = select(OutboxEvent.id).where(
            OutboxEvent.aggregate_id == covered.id, OutboxEvent.type == created_by
        )
        if await db_session.scalar(pending.limit(1)) is None:
            raise NotFound(covered.kind.replace("-", " "), covered.id)


async def record_press_item(
    *, db_session: AsyncSession, data: PressItemCreate, actor: str
) -> Event:
    await _check_covers(db_session, data.covers)
    return outbox.record(db_session, data, actor=actor)


async def update_press_item(
    *, db_session: AsyncSession, press_item_id: str, data: PressItemUpdate, actor: str
) -> Event:
    await outbox.settle(db_session, aggregate_ids=[press_item_id])
    if await get_press_item(db_session=db_session, press_item_id=press_item_id) is None:
        raise NotFound("press item", press_item_id)
    await _check_covers(db_session, data.covers)
    return outbox.record(db_session, data, aggregate_id=press_item_id, actor=actor)


async def get_press_item(*, db_session: AsyncSession, press_item_id: str) -> PressItem | None:
    return await db_session.get(PressItem, press_item_id, populate_existing=True)


def _in_year(year: int) -> tuple[Any, Any]:
    return PressItem.date >= date(year, 1, 1), PressItem.date < date(year + 1, 1, 1)


async def list_press_items(*, db_session: AsyncSession, query: PressFilter) -> Sequence[PressItem]:
    """Newest first."""
    found = select(PressItem).order_by(PressItem.date.desc(), PressItem.id)
    if query.kind is not None:
        found = found.where(PressItem.kind == query.kind.value)
    if query.year is not None:
        found = found.where(*_in_year(query.year))
    if query.covers is None:
        return (await db_session.scalars(query.of(found))).all()
    every = (await db_session.scalars(found)).all()
    covering = [i for i in every if any(c["id"] == query.covers for c in i.covers)]
    return covering[query.offset : query.offset + query.limit]


async def _partners_of(
    db_session: AsyncSession, covers: set[tuple[str, str]]
) -> dict[tuple[str, str], set[str]]:
    """The partner cities each covered record concerns: a visit's delegation, a trip's legs,
    an exchange's partners, a city event's co-hosts and invited partner cities."""
    ids = {kind: {i for k, i in covers if k == kind} for kind in _COVERED}
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for visit in await db_session.scalars(select(Visit).where(Visit.id.in_(ids["visit"]))):
        if visit.partner_id:
            found["visit", visit.id].add(visit.partner_id)
    for leg in await db_session.scalars(select(TripLeg).where(TripLeg.trip_id.in_(ids["trip"]))):
        found["trip", leg.trip_id].update(leg.partner_ids)
    exchanges = select(Exchange).where(Exchange.id.in_(ids["exchange"]))
    for exchange in await db_session.scalars(exchanges):
        found["exchange", exchange.id].update(exchange.partner_ids)
    events = select(CityEvent).where(CityEvent.id.in_(ids["city-event"]))
    for event in await db_session.scalars(events):
        hosts = {h["id"] for h in event.co_hosts or [] if h["kind"] == "partner"}
        found["city-event", event.id].update(hosts)
    invited = select(Invitation.city_event_id, Invitation.invitee_id).where(
        Invitation.city_event_id.in_(ids["city-event"]), Invitation.invitee_kind == "partner"
    )
    for event_id, partner_id in (await db_session.execute(invited)).all():
        found["city-event", event_id].add(partner_id)
    return found


async def press_counts(*, db_session: AsyncSession, year: int) -> PressCounts:
    items = (await db_session.scalars(select(PressItem).where(*_in_year(year)))).all()
    months: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        months[item.date.strftime("%Y-%m")][item.kind] += 1
    covers = {(c["kind"], c["id"]) for item in items for c in item.covers}
    partners_of = await _partners_of(db_session, covers) if covers else {}
    per_partner: Counter[str] = Counter()
    for item in items:
        concerned = set().union(
            *(partners_of.get((c["kind"], c["id"]), set()) for c in item.covers)
        )
        per_partner.update(concerned)
    names = {
        p.id: p.names
        for p in await db_session.scalars(
            select(PartnerCity).where(PartnerCity.id.in_(per_partner))
        )
    }
    return PressCounts(
        year=year,
        total=len(items),
        by_month=[
            MonthCount(month=month, count=sum(kinds.values()), by_kind=dict(sorted(kinds.items())))
            for month, kinds in sorted(months.items())
        ],
        by_partner=[
            PartnerCount(partner_id=partner, names=names.get(partner, {}), count=count)
            for partner, count in sorted(per_partner.items(), key=lambda p: (-p[1], p[0]))
        ],
    )
