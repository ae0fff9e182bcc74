"""The progress reports as published documents: versioned like the leaflets, kept current by the
publicity consumer (`twinning.publicity.refresh`), and rendered again only when a figure they
show changes.

Each plan has five: the year's report and one per quarter (`report:<plan>:year`,
`report:<plan>:q1` ... `q4`), in the office's language and English. The plans projector marks
a plan's reports stale when its plan, spending or KPI values change, or when an event writes a
fact of a measure one of its KPIs counts; the refresher then gathers the figures as of today and
compares their hash with the latest version's. The hash leaves out the as-of date (a version
says the date it was made; its figures stay true until a new version) and the drill-down's
events, so a new day, or an event that counts for no KPI of the plan, renders nothing.

A report of a quarter that has not begun yet has no version. Reports as of another date, in
another language, or as CSV and XLSX are made on request (`twinning.plans.report`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.i18n import DEFAULT_LOCALE
from twinning.plans.kpis import Period, PlanProgress, progress, quarter_bounds
from twinning.plans.models import Plan, PlanKpi

REPORT_PREFIX = "report:"
#: The periods of a plan's reports: the year, then each quarter.
PERIODS = ("year", "q1", "q2", "q3", "q4")
#: The languages the reports are published in (others are rendered on request).
REPORT_LOCALES = (DEFAULT_LOCALE, "en")


def report_document(plan_id: str, period: str) -> str:
    """The document key of a plan's report of `period` (`year`, `q1`...)."""
    return f"{REPORT_PREFIX}{plan_id}:{period}"


def documents_of(plan_id: str) -> list[str]:
    return [report_document(plan_id, period) for period in PERIODS]


def quarter_of(period: str) -> int | None:
    return None if period == "year" else int(period[1])


def period_of(quarter: int | None) -> str:
    return f"q{quarter}" if quarter else "year"


def report_of(document: str) -> tuple[str, int | None] | None:
    """The plan and quarter (None: the year) of a report's document key."""
    if not document.startswith(REPORT_PREFIX):
        return None
    plan_id, _, period = document.removeprefix(REPORT_PREFIX).rpartition(":")
    if not plan_id or period not in PERIODS:
        return None
    return plan_id, quarter_of(period)


@dataclass(frozen=True)
class ProgressReport:
    """What a published report shows: the plan's figures as of the day it was gathered."""

    document: str
    locale: str
    progress: PlanProgress
    office: dict[str, str]

    def shown(self) -> dict[str, Any]:
        """What its content hash covers: every figure, not the as-of date or the drill-down."""
        figures = asdict(self.progress)
        del figures["period"]["as_of"]
        for goal in figures["goals"]:
            for item in goal["work_items"]:
                for kpi in item["kpis"]:
                    del kpi["events"]
        return {"locale": self.locale, "office": self.office, "figures": figures}


async def gather(
    session: AsyncSession, *, document: str, locale: str, now: datetime, settings: Settings
) -> ProgressReport | None:
    """The report's figures as of `now`'s day (office time); None when there is none to publish
    (not a report, not a published language, no such plan, a quarter not begun)."""
    found = report_of(document)
    if found is None or locale not in REPORT_LOCALES:
        return None
    plan_id, quarter = found
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    zone = settings.office_timezone
    today = now.astimezone(ZoneInfo(zone)).date()
    first = quarter_bounds(plan.year, quarter)[0] if quarter else date(plan.year, 1, 1)
    if today < first:
        return None
    figures = await progress(
        session, plan=plan, period=Period(plan.year, quarter, today), zone=zone
    )
    return ProgressReport(document, locale, figures, dict(settings.office_name))


async def expected_documents(session: AsyncSession) -> set[str]:
    """Every plan's reports (for the refresher's first look)."""
    return {d for plan_id in await session.scalars(select(Plan.id)) for d in documents_of(plan_id)}


async def plans_counting(session: AsyncSession, measure: str) -> list[str]:
    """The plans with a KPI computed from `measure`."""
    rows = await session.execute(select(PlanKpi.plan_id, PlanKpi.computed))
    return sorted(
        {plan_id for plan_id, computed in rows if (computed or {}).get("measure") == measure}
    )
