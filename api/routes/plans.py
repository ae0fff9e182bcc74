"""The year's plan: adopt or revise it, record spending against a work item's budget line,
enter a KPI value (commands); read it with its KPI figures and budget use as of any date, drill
down from a figure to its events, and download the progress report (queries)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import AppSettings, DbSession
from twinning.api.language import Language
from twinning.plans import report, service
from twinning.plans.schemas import (
    ContributionRead,
    KpiDrillDown,
    KpiValueCreate,
    PlanCreate,
    PlanRead,
    PlanSummary,
    ProgressQuery,
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


@router.get("/{plan_id}", response_model=PlanRead, **READ_ONE)
async def get_plan(
    plan_id: PlanId,
    query: Annotated[ProgressQuery, Query()],
    db_session: DbSession,
    settings: AppSettings,
) -> PlanRead:
    """The plan with every figure as of `as_of` (default today, office time)."""
    progress = await service.plan_progress(
        db_session=db_session,
        plan_id=plan_id,
        zone=settings.office_timezone,
        as_of=query.as_of,
        quarter=query.quarter,
    )
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
    plan_id: PlanId,
    kpi_key: Annotated[str, Path(max_length=40)],
    query: Annotated[ProgressQuery, Query()],
    db_session: DbSession,
    settings: AppSettings,
) -> KpiDrillDown:
    """One KPI's figure as of `as_of`, with the events that make it."""
    progress = await service.plan_progress(
        db_session=db_session,
        plan_id=plan_id,
        zone=settings.office_timezone,
        as_of=query.as_of,
        quarter=query.quarter,
    )
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
    plan_id: PlanId,
    format: ReportFormat,
    query: Annotated[ProgressQuery, Query()],
    language: Language,
    db_session: DbSession,
    settings: AppSettings,
) -> Response:
    """The progress report of the year, or of `quarter`, as of `as_of`, in the language asked
    (`?lang=`): HTML, A4 PDF with charts, or every figure as CSV or XLSX. Rendered on request."""
    progress = await service.plan_progress(
        db_session=db_session,
        plan_id=plan_id,
        zone=settings.office_timezone,
        as_of=query.as_of,
        quarter=query.quarter,
    )
    name = f"plan-{progress.year}" + (f"-q{query.quarter}" if query.quarter else "")
    headers = {
        "Content-Language": language,
        "Content-Disposition": f'inline; filename="{name}-{language}.{format}"',
        "Cache-Control": "no-cache",
    }
    office = settings.office_name
    body: bytes | str
    if format == "html":
        body = report.render_html(progress, language, office)
    elif format == "pdf":
        if (family := missing_face(language)) is not None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"PDFs in {language} need the font {family}, which this server lacks: "
                f"{INSTALL_FONTS}",
            )
        font_dir = str(settings.data_dir.resolve() / "publicity" / "fonts")
        body = await run_in_threadpool(
            report.render_report_pdf, progress, language, office, font_dir
        )
    elif format == "csv":
        body = report.render_csv(progress, language)
    else:
        body = await run_in_threadpool(report.render_xlsx, progress, language)
    return Response(body, media_type=report.FORMATS[format], headers=headers)
