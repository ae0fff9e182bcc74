"""The year's plan: adopt or revise it, record spending against a work item's budget line,
enter a KPI value (commands); read it with its KPI figures and budget use as of any date, drill
down from a figure to its events, and download the progress report (queries)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command, version_routes
from twinning.api.deps import AppSettings, DbSession
from twinning.api.language import Language
from twinning.plans import documents, report, service
from twinning.plans.kpis import PlanProgress
from twinning.plans.schemas import (
    ContributionRead,
    KpiDrillDown,
    KpiValueCreate,
    PlanCreate,
    PlanRead,
    PlanSummary,
    ProgressQuery,
    PublishedReports,
    SpendingCreate,
    SpendingRead,
)
from twinning.publicity.fonts import INSTALL_FONTS, missing_face
from twinning.refusals import NotFound

router = APIRouter(prefix="/plans", tags=["plans"])

PlanId = Annotated[str, Path(max_length=100)]


@router.post("", **COMMAND)
async def adopt_plan(data: PlanCreate, command: Command) -> Accepted:
    """Adopt a year's plan; adopting one for a year that has a plan revises it (its goals,
    work items and KPIs are replaced; spending and values entered stay with their keys)."""
    event = await command.run(service.adopt_plan, data=data)
    return await command.accept(event, location=f"/plans/{event.aggregate_id}")


@router.post("/{plan_id}/spending", **COMMAND)
async def record_spending(plan_id: PlanId, data: SpendingCreate, command: Command) -> Accepted:
    event = await command.run(service.record_spending, plan_id=plan_id, data=data)
    return await command.accept(event, location=f"/plans/{plan_id}")


@router.post("/{plan_id}/kpi-values", **COMMAND)
async def enter_kpi_value(plan_id: PlanId, data: KpiValueCreate, command: Command) -> Accepted:
    event = await command.run(service.enter_kpi_value, plan_id=plan_id, data=data)
    return await command.accept(event, location=f"/plans/{plan_id}/kpis/{data.kpi}")


@router.get("", response_model=list[PlanSummary])
async def list_plans(db_session: DbSession) -> list[PlanSummary]:
    """Newest year first."""
    return [PlanSummary.model_validate(p) for p in await service.list_plans(db_session=db_session)]


async def _progress(
    plan_id: PlanId,
    query: Annotated[ProgressQuery, Query()],
    db_session: DbSession,
    settings: AppSettings,
) -> PlanProgress:
    return await service.plan_progress(
        db_session=db_session,
        plan_id=plan_id,
        zone=settings.office_timezone,
        as_of=query.as_of,
        quarter=query.quarter,
    )


#: The plan's figures as of `?as_of=`, of the year or `?quarter=` (404 for an unknown plan).
Progress = Annotated[PlanProgress, Depends(_progress)]


@router.get("/{plan_id}", response_model=PlanRead, **READ_ONE)
async def get_plan(progress: Progress) -> PlanRead:
    """The plan with every figure as of `as_of` (default today, office time)."""
    return PlanRead.of(progress)


@router.get("/{plan_id}/spending", response_model=list[SpendingRead], **READ_ONE)
async def list_spending(plan_id: PlanId, db_session: DbSession) -> list[SpendingRead]:
    """The spending recorded against the plan's budget lines, by date."""
    found = await service.list_spending(db_session=db_session, plan_id=plan_id)
    return [SpendingRead.model_validate(s) for s in found]


@router.get("/{plan_id}/document", **READ_ONE)
async def plan_document(plan_id: PlanId, db_session: DbSession) -> dict[str, object]:
    """The plan as `POST /plans` and `twinning plan import` take it."""
    return await service.plan_document(db_session=db_session, plan_id=plan_id)


@router.get("/{plan_id}/kpis/{kpi_key}", response_model=KpiDrillDown, **READ_ONE)
async def kpi_drill_down(
    kpi_key: Annotated[str, Path(max_length=40)], progress: Progress
) -> KpiDrillDown:
    """One KPI's figure as of `as_of`, with the events that make it."""
    for _item, figure in progress.kpis():
        if figure.key == kpi_key:
            read = PlanRead.of(progress)  # the same conversion as the plan's
            base = next(
                k for g in read.goals for w in g.work_items for k in w.kpis if k.key == kpi_key
            )
            return KpiDrillDown(
                **base.model_dump(),
                events=[ContributionRead(**vars(c)) for c in figure.events],
            )
    raise NotFound("KPI", kpi_key)


ReportFormat = Literal["html", "pdf", "csv", "xlsx"]


@router.get(
    "/{plan_id}/report.{format}",
    responses={
        200: {"content": {media: {} for media in report.FORMATS.values()}},
        404: {"description": "No such plan."},
        503: {"description": "A PDF in a CJK language on a server without Noto Sans CJK."},
    },
    response_class=Response,
)
async def progress_report(
    format: ReportFormat, progress: Progress, language: Language, settings: AppSettings
) -> Response:
    """The progress report of the year, or of `quarter`, as of `as_of`, in the language asked
    (`?lang=`): HTML, A4 PDF with charts, or every figure as CSV or XLSX. Rendered on request
    (the published versions: `/plans/{plan_id}/reports`)."""
    if format == "pdf" and (family := missing_face(language)) is not None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"PDFs in {language} need the font {family}, which this server lacks: {INSTALL_FONTS}",
        )
    body = await report.render(progress, format, language, settings)
    headers = report.download_headers(progress, format, language)
    return Response(body, media_type=report.FORMATS[format], headers=headers)


# --- the published reports: versions the publicity consumer rendered -----------------------

Period = Annotated[
    Literal["year", "q1", "q2", "q3", "q4"],
    Path(description="`year`, or a quarter: `q1` to `q4`."),
]


@router.get("/{plan_id}/reports", response_model=PublishedReports, **READ_ONE)
async def published_reports(plan_id: PlanId, db_session: DbSession) -> PublishedReports:
    """The plan's published reports (the year's and each begun quarter's) and the languages
    each has versions in; each is rendered again only when a figure it shows changes."""
    return await service.published_reports(db_session=db_session, plan_id=plan_id)


async def _report_document(plan_id: PlanId, period: Period, db_session: DbSession) -> str:
    if await service.get_plan(db_session=db_session, plan_id=plan_id) is None:
        raise NotFound("plan", plan_id)
    return documents.report_document(plan_id, period)


version_routes(
    router,
    path="/{plan_id}/reports/{period}",
    kind="progress-report",
    document=_report_document,
    listed_at="/plans/{plan_id}/reports",
)
