"""What the plans API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field
from twinning.plans.kpis import PlanProgress
from twinning.streams.events import KpiValueEntered, PlanAdopted, SpendingRecorded

# A command carries exactly what its event carries: one definition, validated once.
PlanCreate = PlanAdopted
SpendingCreate = SpendingRecorded
KpiValueCreate = KpiValueEntered


class ProgressQuery(BaseModel):
    """`as_of`: the figures as the office knew them at the end of that day (default: today,
    office time); `quarter`: a quarterly report (1-4) instead of the year's."""

    as_of: date | None = None
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None


class ContributionRead(BaseModel):
    event_id: str
    day: date
    value: float
    label: dict[str, str]
    link: str | None


class KpiRead(BaseModel):
    key: str
    name: dict[str, str]
    unit: dict[str, str] | None
    target: float
    computed: dict[str, Any] | None
    value: float
    period_value: float
    progress: float | None
    months: list[float]
    quarters: list[float]


class KpiDrillDown(KpiRead):
    events: list[ContributionRead]


class WorkItemRead(BaseModel):
    key: str
    title: dict[str, str]
    description: dict[str, str] | None
    section: str
    budget: Decimal = Field(description="Planned, NT$ thousand.")
    spent: Decimal = Field(description="Spent by the as-of date, NT$ thousand.")
    spent_in_period: Decimal
    budget_used: float | None
    kpis: list[KpiRead]


class GoalRead(BaseModel):
    key: str
    title: dict[str, str]
    work_items: list[WorkItemRead]


class PlanRead(BaseModel):
    """A plan with every figure as of `as_of`, for the year or one quarter."""

    id: str
    year: int
    title: dict[str, str]
    as_of: date
    quarter: int | None
    budget: Decimal
    spent: Decimal
    goals: list[GoalRead]

    @classmethod
    def of(cls, progress: PlanProgress) -> PlanRead:
        def kpi(figure: Any) -> KpiRead:
            return KpiRead(**{name: getattr(figure, name) for name in KpiRead.model_fields})

        return cls(
            id=progress.plan_id,
            year=progress.year,
            title=progress.title,
            as_of=progress.period.as_of,
            quarter=progress.period.quarter,
            budget=progress.budget,
            spent=progress.spent,
            goals=[
                GoalRead(
                    key=g.key,
                    title=g.title,
                    work_items=[
                        WorkItemRead(
                            key=w.key,
                            title=w.title,
                            description=w.description,
                            section=w.section,
                            budget=w.budget,
                            spent=w.spent,
                            spent_in_period=w.spent_in_period,
                            budget_used=w.budget_used,
                            kpis=[kpi(k) for k in w.kpis],
                        )
                        for w in g.work_items
                    ],
                )
                for g in progress.goals
            ],
        )


class PlanSummary(BaseModel):
    id: str
    year: int
    title: dict[str, str]
    version: int

    model_config = {"from_attributes": True}


class SpendingRead(BaseModel):
    """Money spent against a work item's budget line."""

    model_config = {"from_attributes": True}

    event_id: str
    work_item: str
    date: date
    amount: Decimal = Field(description="NT$ thousand.")
    purpose: str
    recorded_at: datetime
    recorded_by: str


class PublishedLanguage(BaseModel):
    language: str
    latest: int = Field(description="The number of the latest version.")
    url: str = Field(description="The latest version (PDF; `&format=html` for the page).")
    versions_url: str


class PublishedReport(BaseModel):
    period: str = Field(description="`year`, or a quarter: `q1` to `q4`.")
    languages: list[PublishedLanguage]


class PublishedReports(BaseModel):
    """The reports the publicity consumer publishes for the plan: the year's and each begun
    quarter's, in the office's language and English, each with every earlier version kept."""

    plan_id: str
    reports: list[PublishedReport]
