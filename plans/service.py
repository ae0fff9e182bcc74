"""Plan commands and queries: adopt (or revise) a year's plan, record spending against a work
item's budget line, enter a KPI value; read the plan with its figures as of a date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.plans import documents
from twinning.plans.kpis import Period, PlanProgress, progress, thousands
from twinning.plans.models import Plan, PlanGoal, PlanKpi, PlanSpending, PlanWorkItem
from twinning.plans.schemas import (
    KpiValueCreate,
    PlanCreate,
    PublishedLanguage,
    PublishedReport,
    PublishedReports,
    SpendingCreate,
)
from twinning.publicity.models import PublicityVersion
from twinning.refusals import InvalidField, NotFound
from twinning.streams import outbox
from twinning.streams.events import Event, PlanAdopted


def plan_id_of(year: int) -> str:
    """A plan's id is its year: one plan a year, and a second adoption revises it."""
    return str(year)


async def adopt_plan(*, db_session: AsyncSession, data: PlanCreate, actor: str) -> Event:
    return outbox.record(db_session, data, aggregate_id=plan_id_of(data.year), actor=actor)


async def _adopted(db_session: AsyncSession, plan_id: str) -> Plan:
    await outbox.settle(db_session, aggregate_ids=[plan_id])
    plan = await get_plan(db_session=db_session, plan_id=plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    return plan


def _in_year(plan: Plan, day: date) -> None:
    if day.year != plan.year:
        raise InvalidField("date", "enter a date in %(year)s, the plan's year", year=plan.year)


async def record_spending(
    *, db_session: AsyncSession, plan_id: str, data: SpendingCreate, actor: str
) -> Event:
    plan = await _adopted(db_session, plan_id)
    if await db_session.get(PlanWorkItem, (plan.id, data.work_item)) is None:
        raise InvalidField("work_item", "the plan has no work item %(key)s", key=data.work_item)
    _in_year(plan, data.date)
    return outbox.record(db_session, data, aggregate_id=plan.id, actor=actor)


async def enter_kpi_value(
    *, db_session: AsyncSession, plan_id: str, data: KpiValueCreate, actor: str
) -> Event:
    plan = await _adopted(db_session, plan_id)
    kpi = await db_session.get(PlanKpi, (plan.id, data.kpi))
    if kpi is None:
        raise InvalidField("kpi", "the plan has no KPI %(key)s", key=data.kpi)
    if kpi.computed is not None:
        raise InvalidField(
            "kpi", "the KPI %(key)s is computed from the events: it takes no values", key=data.kpi
        )
    _in_year(plan, data.date)
    return outbox.record(db_session, data, aggregate_id=plan.id, actor=actor)


async def get_plan(*, db_session: AsyncSession, plan_id: str) -> Plan | None:
    return await db_session.get(Plan, plan_id, populate_existing=True)


async def list_plans(*, db_session: AsyncSession) -> Sequence[Plan]:
    return (await db_session.scalars(select(Plan).order_by(Plan.year.desc()))).all()


async def list_spending(*, db_session: AsyncSession, plan_id: str) -> list[dict[str, Any]]:
    """The spending recorded against the plan's budget lines, by date."""
    if await get_plan(db_session=db_session, plan_id=plan_id) is None:
        raise NotFound("plan", plan_id)
    found = select(PlanSpending).where(PlanSpending.plan_id == plan_id)
    rows = await db_session.scalars(found.order_by(PlanSpending.date, PlanSpending.recorded_at))
    return [
        {
            "event_id": s.event_id,
            "work_item": s.work_item_key,
            "date": s.date,
            "amount": thousands(s.amount_ntd),
            "purpose": s.purpose,
            "recorded_at": s.recorded_at,
            "recorded_by": s.recorded_by,
        }
        for s in rows
    ]


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


async def plan_progress(
    *,
    db_session: AsyncSession,
    plan_id: str,
    zone: str,
    as_of: date | None = None,
    quarter: int | None = None,
) -> PlanProgress:
    """The plan with every figure as of `as_of` (default: today, office time)."""
    plan = await get_plan(db_session=db_session, plan_id=plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    period = Period(plan.year, quarter, as_of or today_in(zone))
    return await progress(db_session, plan=plan, period=period, zone=zone)


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


async def plan_document(*, db_session: AsyncSession, plan_id: str) -> dict[str, Any]:
    """The plan as `twinning plan import` takes it (its structure; not spending or values)."""
    plan = await get_plan(db_session=db_session, plan_id=plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)

    async def rows(model: Any) -> Sequence[Any]:
        found = select(model).where(model.plan_id == plan_id).order_by(model.position)
        return (await db_session.scalars(found)).all()

    goals: Sequence[PlanGoal] = await rows(PlanGoal)
    items: Sequence[PlanWorkItem] = await rows(PlanWorkItem)
    kpis: Sequence[PlanKpi] = await rows(PlanKpi)
    document = {
        "year": plan.year,
        "title": plan.title,
        "goals": [
            {
                "key": goal.key,
                "title": goal.title,
                "work_items": [
                    _drop_none(
                        {
                            "key": item.key,
                            "title": item.title,
                            "description": item.description,
                            "section": item.section,
                            "budget": thousands(item.budget_ntd),
                            "kpis": [
                                _drop_none(
                                    {
                                        "key": kpi.key,
                                        "name": kpi.name,
                                        "unit": kpi.unit,
                                        "target": kpi.target,
                                        "computed": kpi.computed,
                                    }
                                )
                                for kpi in kpis
                                if kpi.work_item_key == item.key
                            ],
                        }
                    )
                    for item in items
                    if item.goal_key == goal.key
                ],
            }
            for goal in goals
        ],
    }
    # Through the contract: what is exported is what import takes (without what is not given).
    return PlanAdopted.model_validate(document).model_dump(mode="json", exclude_none=True)


def _published_first(tag: str) -> tuple[int, str]:
    order = documents.REPORT_LOCALES
    return (order.index(tag) if tag in order else len(order), tag)


async def published_reports(*, db_session: AsyncSession, plan_id: str) -> PublishedReports:
    """The plan's published reports and the languages each has versions in."""
    if await get_plan(db_session=db_session, plan_id=plan_id) is None:
        raise NotFound("plan", plan_id)
    rows = await db_session.execute(
        select(
            PublicityVersion.document, PublicityVersion.locale, func.max(PublicityVersion.number)
        )
        .where(PublicityVersion.document.in_(documents.documents_of(plan_id)))
        .group_by(PublicityVersion.document, PublicityVersion.locale)
    )
    latest = {(document, locale): number for document, locale, number in rows}
    reports = []
    for period in documents.PERIODS:
        key = documents.report_document(plan_id, period)
        base = f"/plans/{plan_id}/reports/{period}"
        languages = [
            PublishedLanguage(
                language=locale,
                latest=latest[key, locale],
                url=f"{base}?lang={locale}",
                versions_url=f"{base}/versions?lang={locale}",
            )
            for locale in sorted(
                (locale for document, locale in latest if document == key),
                key=_published_first,
            )
        ]
        if languages:
            reports.append(PublishedReport(period=period, languages=languages))
    return PublishedReports(plan_id=plan_id, reports=reports)
