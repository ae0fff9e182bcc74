"""KPI figures and budget use of a plan, as of any date, counted from the KPI facts.

As of a date means as the office knew it at the end of that day (office time): only facts of
events that occurred by then, dated by then, count, and only values and spending recorded by
then; so a report for 30 June gives the same figures whenever it is asked for. A subject (a
visit, an exchange, an invitation) counts once, by its latest fact as of the date: an answer
changed from in person to declined no longer counts as attending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.i18n import force_locale, gettext, supported_locales
from twinning.plans.models import (
    KpiFact,
    Plan,
    PlanGoal,
    PlanKpi,
    PlanKpiValue,
    PlanSpending,
    PlanWorkItem,
)
from twinning.publicity.models import BROCHURE_PREFIX, LEAFLET, PublicityVersion, brochure_partner
from twinning.streams.events import KpiMeasure


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    last = (
        date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)
    )
    return first, last


@dataclass(frozen=True)
class Period:
    """What a report covers: a year, or one of its quarters; figures as of `as_of`."""

    year: int
    quarter: int | None
    as_of: date

    @property
    def first(self) -> date:
        return quarter_bounds(self.year, self.quarter)[0] if self.quarter else date(self.year, 1, 1)

    @property
    def last(self) -> date:
        """The period's last day counted: its end, or the as-of date if earlier."""
        end = (
            quarter_bounds(self.year, self.quarter)[1] if self.quarter else date(self.year, 12, 31)
        )
        return min(end, self.as_of)

    def cutoff(self, zone: str) -> datetime:
        """The end of the as-of day in the office's time zone, in UTC."""
        midnight = datetime.combine(self.as_of + timedelta(days=1), time(), ZoneInfo(zone))
        return midnight.astimezone(UTC)


@dataclass
class Contribution:
    """An event that makes a figure: what the drill-down lists."""

    event_id: str
    day: date
    value: float
    label: dict[str, str]
    link: str | None


@dataclass
class KpiFigure:
    key: str
    name: dict[str, str]
    unit: dict[str, str] | None
    target: float
    computed: dict[str, Any] | None
    #: The year to date, as of the period's as-of date.
    value: float = 0.0
    #: Within the period (a quarter; the year for an annual report).
    period_value: float = 0.0
    #: Per month and per quarter of the year (counted or summed in each; an entered KPI: its
    #: latest value by each month's or quarter's end).
    months: list[float] = field(default_factory=lambda: [0.0] * 12)
    quarters: list[float] = field(default_factory=lambda: [0.0] * 4)
    events: list[Contribution] = field(default_factory=list)

    @property
    def progress(self) -> float | None:
        """The share of the target reached (1.0 = reached), None without a target."""
        return self.value / self.target if self.target else None


@dataclass
class WorkItemProgress:
    key: str
    title: dict[str, str]
    description: dict[str, str] | None
    section: str
    budget: Decimal
    spent: Decimal
    spent_in_period: Decimal
    kpis: list[KpiFigure]

    @property
    def budget_used(self) -> float | None:
        return float(self.spent / self.budget) if self.budget else None


@dataclass
class GoalProgress:
    key: str
    title: dict[str, str]
    work_items: list[WorkItemProgress]


@dataclass
class PlanProgress:
    plan_id: str
    year: int
    title: dict[str, str]
    period: Period
    goals: list[GoalProgress]

    @property
    def budget(self) -> Decimal:
        return sum((w.budget for g in self.goals for w in g.work_items), Decimal(0))

    @property
    def spent(self) -> Decimal:
        return sum((w.spent for g in self.goals for w in g.work_items), Decimal(0))

    def work_items(self) -> Iterable[WorkItemProgress]:
        return (w for g in self.goals for w in g.work_items)

    def kpis(self) -> Iterable[tuple[WorkItemProgress, KpiFigure]]:
        return ((w, k) for w in self.work_items() for k in w.kpis)


def thousands(ntd: int) -> Decimal:
    return Decimal(ntd) / 1000


def _fact_day(fact: KpiFact, zone: ZoneInfo) -> date:
    return fact.day if fact.day is not None else fact.occurred_at.astimezone(zone).date()


def _passes(fact: KpiFact, filters: dict[str, list[str]]) -> bool:
    """Each filter passes the fact's value, or one of its values (an exchange's counterparts)."""
    for name, values in filters.items():
        found = fact.attributes.get(name)
        if not (set(found) & set(values) if isinstance(found, list) else found in values):
            return False
    return True


def _version_label(kind: str, locale: str, number: int) -> dict[str, str]:
    """ "Leaflet, ja, version 3" in every shipped language."""
    label = {}
    for language in supported_locales():
        with force_locale(language):
            text = (
                gettext("Leaflet, %(language)s, version %(number)s", language=locale, number=number)
                if kind == "leaflet"
                else gettext(
                    "Brochure, %(language)s, version %(number)s", language=locale, number=number
                )
            )
        label[language] = text
    return label


async def version_facts(db_session: AsyncSession, cutoff: datetime) -> list[KpiFact]:
    """The versions of the leaflet and the brochures published by `cutoff`, as the facts of
    `publicity-versions` (not stored: versions are kept across a rebuild, never changed, and
    dated when they were published, so they count the same whenever asked for)."""
    rows = await db_session.execute(
        select(PublicityVersion.id, PublicityVersion.document, PublicityVersion.locale,
               PublicityVersion.number, PublicityVersion.created_at)
        .where(
            or_(PublicityVersion.document == LEAFLET,
                PublicityVersion.document.startswith(BROCHURE_PREFIX)),
            PublicityVersion.created_at < cutoff,
        )
    )  # fmt: skip
    facts = []
    for id_, document, locale, number, created_at in rows:
        partner_id = brochure_partner(document)
        kind = "leaflet" if partner_id is None else "brochure"
        base = "/publicity/leaflet" if partner_id is None else f"/partners/{partner_id}/brochure"
        facts.append(
            KpiFact(
                event_id=f"version-{id_}",
                measure=KpiMeasure.PUBLICITY_VERSIONS.value,
                subject=f"{document}:{locale}:{number}",
                day=None,
                occurred_at=created_at,
                value=None,
                attributes={"document": kind},
                label=_version_label(kind, locale, number),
                link=f"{base}/versions/{number}?lang={locale}&format=pdf",
            )
        )
    return facts


def computed_figure(
    figure: KpiFigure, facts: Sequence[KpiFact], period: Period, zone: ZoneInfo
) -> None:
    """Fill `figure` from the facts of its measure (those recorded by the as-of cutoff)."""
    assert figure.computed is not None
    latest: dict[str, KpiFact] = {}
    for fact in sorted(facts, key=lambda f: (f.occurred_at, f.event_id)):
        latest[fact.subject] = fact
    summing = figure.computed.get("aggregate") == "sum"
    filters = figure.computed.get("filters") or {}
    year_start = date(period.year, 1, 1)
    for fact in latest.values():
        day = _fact_day(fact, zone)
        if fact.attributes.get("counts") is False:  # its latest fact says it no longer counts
            continue
        if not (year_start <= day <= period.last) or not _passes(fact, filters):
            continue
        amount = float(fact.value or 0) if summing else 1.0
        figure.value += amount
        figure.months[day.month - 1] += amount
        figure.quarters[quarter_of(day) - 1] += amount
        if day >= period.first:
            figure.period_value += amount
        figure.events.append(Contribution(fact.event_id, day, amount, fact.label, fact.link))
    figure.events.sort(key=lambda c: (c.day, c.event_id))


def entered_figure(figure: KpiFigure, values: Sequence[PlanKpiValue], period: Period) -> None:
    """Fill `figure` from the values entered (those recorded by the as-of cutoff)."""
    dated = sorted(
        (v for v in values if v.date <= period.last and v.date.year <= period.year),
        key=lambda v: (v.date, v.recorded_at, v.event_id),
    )

    def by(day: date) -> float:
        found = [v.value for v in dated if v.date <= day]
        return found[-1] if found else 0.0

    figure.value = by(period.last)
    figure.period_value = figure.value
    for month in range(12):
        end = date(period.year, month + 2, 1) if month < 11 else date(period.year + 1, 1, 1)
        figure.months[month] = by(min(end - timedelta(days=1), period.last))
    for quarter in range(4):
        figure.quarters[quarter] = by(min(quarter_bounds(period.year, quarter + 1)[1], period.last))
    figure.events = [
        Contribution(v.event_id, v.date, v.value, {"und": v.source}, None)
        for v in dated
        if v.date.year == period.year
    ]


async def progress(
    db_session: AsyncSession, *, plan: Plan, period: Period, zone: str
) -> PlanProgress:
    """Every figure of the plan as of `period.as_of`: KPIs, budget and spending."""
    cutoff = period.cutoff(zone)
    office = ZoneInfo(zone)
    goals = (
        await db_session.scalars(
            select(PlanGoal).where(PlanGoal.plan_id == plan.id).order_by(PlanGoal.position)
        )
    ).all()
    items = (
        await db_session.scalars(
            select(PlanWorkItem)
            .where(PlanWorkItem.plan_id == plan.id)
            .order_by(PlanWorkItem.position)
        )
    ).all()
    kpis = (
        await db_session.scalars(
            select(PlanKpi).where(PlanKpi.plan_id == plan.id).order_by(PlanKpi.position)
        )
    ).all()
    spending = (
        await db_session.scalars(
            select(PlanSpending).where(
                PlanSpending.plan_id == plan.id, PlanSpending.recorded_at < cutoff
            )
        )
    ).all()
    values = (
        await db_session.scalars(
            select(PlanKpiValue).where(
                PlanKpiValue.plan_id == plan.id, PlanKpiValue.recorded_at < cutoff
            )
        )
    ).all()
    measures = {k.computed["measure"] for k in kpis if k.computed}
    facts_by_measure: dict[str, list[KpiFact]] = {m: [] for m in measures}
    if measures:
        for fact in await db_session.scalars(
            select(KpiFact).where(KpiFact.measure.in_(measures), KpiFact.occurred_at < cutoff)
        ):
            facts_by_measure[fact.measure].append(fact)
    if KpiMeasure.PUBLICITY_VERSIONS.value in measures:
        facts_by_measure[KpiMeasure.PUBLICITY_VERSIONS] = await version_facts(db_session, cutoff)

    def figure(kpi: PlanKpi) -> KpiFigure:
        result = KpiFigure(kpi.key, kpi.name, kpi.unit, kpi.target, kpi.computed)
        if kpi.computed:
            computed_figure(result, facts_by_measure[kpi.computed["measure"]], period, office)
        else:
            entered_figure(result, [v for v in values if v.kpi_key == kpi.key], period)
        return result

    def work_item(item: PlanWorkItem) -> WorkItemProgress:
        spent = [
            s
            for s in spending
            if s.work_item_key == item.key and s.date <= period.last and s.date.year == period.year
        ]
        return WorkItemProgress(
            key=item.key,
            title=item.title,
            description=item.description,
            section=item.section,
            budget=thousands(item.budget_ntd),
            spent=thousands(sum(s.amount_ntd for s in spent)),
            spent_in_period=thousands(sum(s.amount_ntd for s in spent if s.date >= period.first)),
            kpis=[figure(k) for k in kpis if k.work_item_key == item.key],
        )

    return PlanProgress(
        plan_id=plan.id,
        year=plan.year,
        title=plan.title,
        period=period,
        goals=[
            GoalProgress(
                goal.key,
                goal.title,
                [work_item(i) for i in items if i.goal_key == goal.key],
            )
            for goal in goals
        ],
    )
