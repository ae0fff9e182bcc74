"""The plans projector: keeps the plan tables from `twinning.plans`, and the KPI facts (one row
per applied event that a computed KPI may count) from the other topics.

A fact is written once, when its event is applied, from the event and the read models the
domain projectors before this one have just updated (a visit's partner, a partner's kind); it
never changes after. Figures are counted from the facts at read time (`twinning.plans.kpis`),
so the projector keeps no counters: one event at a time and any batch give the same rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, insert, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from twinning.crm.models import PartnerCity
from twinning.invitations.models import CityEvent, Invitation
from twinning.plans import documents as reports
from twinning.plans.models import (
    KpiFact,
    Plan,
    PlanGoal,
    PlanKpi,
    PlanKpiValue,
    PlanSpending,
    PlanWorkItem,
)
from twinning.press.models import PressItem
from twinning.publicity.projector import mark_stale_at
from twinning.streams.events import (
    CityEventCompleted,
    Event,
    ExchangeRecorded,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    KpiMeasure,
    KpiValueEntered,
    PartnerCityRegistered,
    PartnerCityUpdated,
    PlanAdopted,
    PressItemRecorded,
    PressItemUpdated,
    RsvpRecorded,
    SpendingRecorded,
    TripCompleted,
    VisitCompleted,
)
from twinning.streams.projection import Park, current
from twinning.streams.projection import Projector as _Projector
from twinning.trips.models import Trip, TripLeg
from twinning.visits.models import ItineraryItem, Venue, Visit

projector = _Projector(
    "plans",
    tables=[Plan, PlanGoal, PlanWorkItem, PlanKpi, PlanSpending, PlanKpiValue, KpiFact],
)


def ntd(thousands: Decimal) -> int:
    """NT$ thousand (the plan's unit) as whole NT$ (what is stored)."""
    return int(thousands * 1000)


# --- the plan ------------------------------------------------------------------------------


@projector.on(PlanAdopted)
async def plan_adopted(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PlanAdopted)
    facts, plan_id = event.payload, event.aggregate_id
    plan = await session.get(Plan, plan_id)
    if plan is None:
        plan = Plan(id=plan_id, adopted_at=event.occurred_at, version=0)
        session.add(plan)
    plan.year = facts.year
    plan.title = dict(facts.title)
    plan.updated_at = event.occurred_at
    plan.version += 1
    session.info.pop(COUNTING_IN_TRANSACTION, None)  # its KPIs change: asked for again
    for model in (PlanGoal, PlanWorkItem, PlanKpi):
        await session.execute(delete(model).where(model.plan_id == plan_id))
    for g, goal in enumerate(facts.goals):
        session.add(PlanGoal(plan_id=plan_id, key=goal.key, position=g, title=dict(goal.title)))
        for w, item in enumerate(goal.work_items):
            session.add(
                PlanWorkItem(
                    plan_id=plan_id,
                    key=item.key,
                    goal_key=goal.key,
                    position=w,
                    title=dict(item.title),
                    description=dict(item.description) if item.description else None,
                    section=item.section,
                    budget_ntd=ntd(item.budget),
                )
            )
            for k, kpi in enumerate(item.kpis):
                session.add(
                    PlanKpi(
                        plan_id=plan_id,
                        key=kpi.key,
                        work_item_key=item.key,
                        position=k,
                        name=dict(kpi.name),
                        unit=dict(kpi.unit) if kpi.unit else None,
                        target=kpi.target,
                        computed=kpi.computed.stored() if kpi.computed else None,
                    )
                )
    await _mark_reports(session, event.occurred_at, [plan_id])


async def _known_plan(session: AsyncSession, event: Event) -> Plan:
    plan = await session.get(Plan, event.aggregate_id)
    if plan is None:
        raise Park(event.aggregate_id, f"plan {event.aggregate_id} is not adopted yet")
    plan.updated_at = max(plan.updated_at, event.occurred_at)
    plan.version += 1
    await _mark_reports(session, event.occurred_at, [plan.id])
    return plan


@projector.on(SpendingRecorded)
async def spending_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, SpendingRecorded)
    facts = event.payload
    plan = await _known_plan(session, event)
    session.add(
        PlanSpending(
            event_id=event.event_id,
            plan_id=plan.id,
            work_item_key=facts.work_item,
            date=facts.date,
            amount_ntd=ntd(facts.amount),
            purpose=facts.purpose,
            recorded_at=event.occurred_at,
            recorded_by=event.envelope.actor,
        )
    )


@projector.on(KpiValueEntered)
async def kpi_value_entered(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, KpiValueEntered)
    facts = event.payload
    plan = await _known_plan(session, event)
    session.add(
        PlanKpiValue(
            event_id=event.event_id,
            plan_id=plan.id,
            kpi_key=facts.kpi,
            date=facts.date,
            value=facts.value,
            source=facts.source,
            recorded_at=event.occurred_at,
            recorded_by=event.envelope.actor,
        )
    )


# --- the facts computed KPIs count ---------------------------------------------------------


def _fact(
    event: Event,
    measure: KpiMeasure,
    *,
    subject: str,
    attributes: dict[str, Any],
    label: dict[str, str],
    link: str | None,
    day: Any = None,
    value: float | None = None,
) -> dict[str, Any]:
    """A `KpiFact` row."""
    return {
        "event_id": event.event_id,
        "measure": measure.value,
        "subject": subject,
        "day": day,
        "occurred_at": event.occurred_at,
        "value": value,
        "attributes": attributes,
        "label": dict(label),
        "link": link,
    }


#: session.info: the computed KPIs' measures as this transaction has them, (plan id, measure)
#: pairs, asked for once. A query per counted event would cost a round trip and, before it, a
#: flush of everything the batch has written so far (most of a batch's time, in the benchmark's
#: mix of itinerary items). A plan adopted in the transaction drops them (`plan_adopted`).
COUNTING_IN_TRANSACTION = "twinning.plans.counting"


async def _plans_counting(session: AsyncSession, measure: str) -> list[str]:
    """The plans with a KPI computed from `measure` (`reports.plans_counting`), as this
    transaction has them."""
    counting: list[tuple[str, str | None]] | None = session.info.get(COUNTING_IN_TRANSACTION)
    if counting is None:
        rows = await session.execute(select(PlanKpi.plan_id, PlanKpi.computed))
        counting = [(plan_id, (computed or {}).get("measure")) for plan_id, computed in rows]
        session.info[COUNTING_IN_TRANSACTION] = counting
    return sorted({plan_id for plan_id, counted in counting if counted == measure})


#: session.info: the facts of this transaction, written when it commits in one statement (no
#: projector reads them back in the transaction; the figures are counted at read time).
FACTS_IN_TRANSACTION = "twinning.plans.facts"


async def _count(session: AsyncSession, fact: dict[str, Any]) -> None:
    """Keep the fact, and mark stale the reports of the plans that count its measure."""
    facts: list[dict[str, Any]] | None = session.info.get(FACTS_IN_TRANSACTION)
    if facts is None:
        facts = session.info[FACTS_IN_TRANSACTION] = []
        sqlalchemy_event.listen(session.sync_session, "before_commit", _write_facts, once=True)
    facts.append(fact)
    plans = await _plans_counting(session, fact["measure"])
    await _mark_reports(session, fact["occurred_at"], plans)


def _write_facts(session: Session) -> None:
    facts = session.info.pop(FACTS_IN_TRANSACTION, None)
    if facts:
        session.execute(insert(cast(Table, KpiFact.__table__)), facts)


async def _mark_reports(session: AsyncSession, at: datetime, plan_ids: list[str]) -> None:
    await mark_stale_at(session, at, [d for p in plan_ids for d in reports.documents_of(p)])


async def _partner_kind(session: AsyncSession, partner_id: str | None) -> str | None:
    if partner_id is None:
        return None
    partner = await current(session, PartnerCity, partner_id)
    return partner.kind if partner is not None else None


@projector.on(VisitCompleted)
async def visit_completed(session: AsyncSession, event: Event) -> None:
    visit = await current(session, Visit, event.aggregate_id)
    if visit is None:  # the visits projector parks it first: not reached
        return
    delegation = (
        "partner" if visit.partner_id else "mission" if visit.mission_id else "organisation"
    )
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.VISITS_COMPLETED,
            subject=visit.id,
            attributes={
                "delegation": delegation,
                "partner_kind": await _partner_kind(session, visit.partner_id),
                "direction": "inbound",
            },
            label=visit.purpose,
            link=f"/ui/visits/{visit.id}",
        ),
    )


@projector.on(ExchangeRecorded)
async def exchange_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, ExchangeRecorded)
    facts = event.payload
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.EXCHANGES,
            subject=event.aggregate_id,
            day=facts.date,
            value=facts.participants,
            attributes={
                "field": facts.field.value,
                "direction": facts.direction.value,
                "source": facts.source.kind if facts.source else "recorded",
                "counterpart": [
                    kind
                    for kind, given in (
                        ("partner", facts.partner_ids),
                        ("mission", facts.mission_ids),
                        ("organisation", facts.organisations),
                    )
                    if given
                ],
            },
            label=facts.summary,
            link=f"/ui/exchanges/{event.aggregate_id}",
        ),
    )


@projector.on(CityEventCompleted)
async def city_event_completed(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventCompleted)
    city_event = await current(session, CityEvent, event.aggregate_id)
    if city_event is None:
        return
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.CITY_EVENTS_HELD,
            subject=city_event.id,
            day=city_event.start_date,
            value=event.payload.participants,
            attributes={"kind": city_event.kind},
            label=city_event.title,
            link=f"/ui/city-events/{city_event.id}",
        ),
    )


@projector.on(RsvpRecorded)
async def rsvp_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, RsvpRecorded)
    facts = event.payload
    invitation = await current(session, Invitation, facts.invitation_id)
    city_event = await current(session, CityEvent, event.aggregate_id)
    if invitation is None or city_event is None:
        return
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.INVITATION_ANSWERS,
            subject=facts.invitation_id,
            value=facts.delegates,
            attributes={"answer": facts.answer.value, "invitee_kind": invitation.invitee_kind},
            label=city_event.title,
            link=f"/ui/city-events/{city_event.id}",
        ),
    )


@projector.on(TripCompleted)
async def trip_completed(session: AsyncSession, event: Event) -> None:
    trip = await current(session, Trip, event.aggregate_id)
    if trip is None:
        return
    link = f"/ui/trips/{trip.id}"
    await _count(
        session,
        _fact(event, KpiMeasure.TRIPS_COMPLETED, subject=trip.id, attributes={},
              label=trip.title, link=link),
    )  # fmt: skip
    # Each partner city the trip visited: a visit completed, outbound.
    legs = await session.scalars(select(TripLeg.partner_ids).where(TripLeg.trip_id == trip.id))
    for partner_id in sorted({p for ids in legs for p in ids}):
        attributes = {
            "delegation": "partner",
            "partner_kind": await _partner_kind(session, partner_id),
            "direction": "outbound",
        }
        await _count(
            session,
            _fact(event, KpiMeasure.VISITS_COMPLETED, subject=f"{trip.id}:{partner_id}",
                  attributes=attributes, label=trip.title, link=link),
        )  # fmt: skip


@projector.on(PartnerCityRegistered, PartnerCityUpdated)
async def agreement(session: AsyncSession, event: Event) -> None:
    """An agreement signed (a partner registered with its date) or renewed (a new date)."""
    facts = event.payload
    assert isinstance(facts, PartnerCityRegistered | PartnerCityUpdated)
    if facts.agreement_date is None:
        return
    partner = await current(session, PartnerCity, event.aggregate_id)
    if partner is None:
        return
    step = "signed" if isinstance(facts, PartnerCityRegistered) else "renewed"
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.AGREEMENTS,
            subject=f"{partner.id}:{facts.agreement_date.isoformat()}",
            day=facts.agreement_date,
            attributes={"partner_kind": partner.kind, "step": step},
            label=partner.names,
            link=f"/ui/partners/{partner.id}",
        ),
    )


@projector.on(ItineraryItemAdded, ItineraryItemChanged, ItineraryItemRemoved)
async def press_item(session: AsyncSession, event: Event) -> None:
    """A programme item open to the press (a press item), dated on its day where it takes
    place; one changed to closed, or removed, no longer counts (`counts` false)."""
    payload = event.payload
    assert isinstance(payload, ItineraryItemAdded | ItineraryItemChanged | ItineraryItemRemoved)
    touched = {"press", "starts_at", "titles", "venue_id", "place"}
    if isinstance(payload, ItineraryItemChanged) and not touched & payload.model_fields_set:
        return  # nothing a press item's fact shows
    item = await current(session, ItineraryItem, payload.item_id)
    if item is None:
        return
    unpressed = (
        isinstance(payload, ItineraryItemChanged) and "press" not in payload.model_fields_set
    )
    if unpressed and not item.press:
        return  # not open to the press before the change nor after it: never counted
    zone = item.place["timezone"] if item.place else None
    if zone is None and item.venue_id is not None:
        venue = await current(session, Venue, item.venue_id)
        zone = venue.timezone if venue is not None else None
    counts = item.press and not item.removed
    if isinstance(payload, ItineraryItemAdded) and not counts:
        return
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.PRESS_ITEMS,
            subject=item.id,
            day=item.starts_at.astimezone(ZoneInfo(zone or "UTC")).date(),
            attributes={"counts": counts},
            label=item.titles,
            link=f"/ui/visits/{item.visit_id}",
        ),
    )


@projector.on(PressItemRecorded, PressItemUpdated)
async def press_coverage(session: AsyncSession, event: Event) -> None:
    """A press item of the press register (a release, interview, article or broadcast), dated
    on its date; an update that moves its date or changes its kind is its latest fact. (The
    press projector runs after this one: an update is merged with the item as it was.)"""
    facts = event.payload
    assert isinstance(facts, PressItemRecorded | PressItemUpdated)
    if isinstance(facts, PressItemUpdated):
        if not {"kind", "date", "title"} & facts.model_fields_set:
            return  # nothing the fact shows
        item = await current(session, PressItem, event.aggregate_id)
        if item is None:  # the press projector parks it
            return
        kind = facts.kind.value if facts.kind is not None else item.kind
        day = facts.date or item.date
        title = {**item.title, **(facts.title or {})}
    else:
        kind, day, title = facts.kind.value, facts.date, dict(facts.title)
    await _count(
        session,
        _fact(
            event,
            KpiMeasure.PRESS_COVERAGE,
            subject=event.aggregate_id,
            day=day,
            attributes={"press_kind": kind},
            label=title,
            link="/ui/press",
        ),
    )
