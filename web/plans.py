"""The year's plan in the web app: the plan (goals -> work items -> KPIs with progress against
target, budget used), a work item (its spending and each KPI's figures and events), the forms
to record spending and enter a KPI value, and the progress report's downloads: rendered on
request for any date, and the published versions of the year's and each quarter's report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from twinning.api.common import serve_version
from twinning.api.deps import DbSession
from twinning.i18n import L_, format_number, localized, negotiate
from twinning.plans import documents, report, service
from twinning.plans.kpis import PlanProgress, WorkItemProgress
from twinning.plans.models import PlanSpending
from twinning.plans.schemas import KpiValueCreate, SpendingCreate
from twinning.publicity import service as versions
from twinning.publicity.fonts import missing_face
from twinning.refusals import InvalidField, NotFound
from twinning.web.pages import (
    CheckedForm,
    User,
    change_context,
    committed,
    field_errors,
    form_of,
    in_language,
    not_found,
    page_language,
    read_after_change,
    render,
    require_staff,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

SPENDING_MESSAGES: Mapping[str, LazyProxy] = {
    "date": L_("Enter the day of the spending, as a date in the plan's year"),
    "amount": L_("Enter the amount in NT$ thousand, a number above 0 such as 12.5"),
    "purpose": L_("Say what the money was spent on"),
}
SPENDING_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    ("date",): "date",
    ("amount",): "amount",
    ("purpose",): "purpose",
}
VALUE_MESSAGES: Mapping[str, LazyProxy] = {
    "date": L_("Enter the day the value was reached, as a date in the plan's year"),
    "value": L_("Enter the value, a number from 0"),
    "source": L_("Say where the value comes from"),
}
VALUE_OF_LOCATION: Mapping[tuple[str, ...], str] = {
    ("date",): "date",
    ("value",): "value",
    ("source",): "source",
}


def _quarter(value: str) -> int | None:
    return int(value) if value in ("1", "2", "3", "4") else None


def _as_of(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _progress(
    request: Request, db_session: DbSession, plan_id: str, quarter: str = "", as_of: str = ""
) -> PlanProgress | None:
    try:
        return await service.plan_progress(
            db_session=db_session,
            plan_id=plan_id,
            zone=request.app.state.settings.office_timezone,
            as_of=_as_of(as_of),
            quarter=_quarter(quarter),
        )
    except NotFound:
        return None


def figures(request: Request) -> dict[str, Any]:
    """How the pages write numbers, money (NT$ thousand) and shares: CLDR, the page's language."""
    language = page_language(request)
    return {
        "number": lambda value: format_number(value, locale=language),
        "money": lambda amount: report.thousands_text(amount, language),
        "percent": lambda share: report.percent_text(share, language),
        "period_name": report.period_name,
        "report_formats": ("html", "pdf", "csv", "xlsx"),
    }


def _item(progress: PlanProgress, key: str) -> WorkItemProgress | None:
    return next((w for w in progress.work_items() if w.key == key), None)


@router.get("/plans", response_class=HTMLResponse)
async def plan_list(request: Request, user: User, db_session: DbSession) -> HTMLResponse:
    plans = await service.list_plans(db_session=db_session)
    return render(request, "plans.html", {"plans": plans}, user=user)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
async def plan_page(
    request: Request,
    plan_id: str,
    user: User,
    db_session: DbSession,
    quarter: Annotated[str, Query(max_length=1)] = "",
    as_of: Annotated[str, Query(max_length=10)] = "",
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    progress, state = await read_after_change(
        db_session, event, lambda: _progress(request, db_session, plan_id, quarter, as_of)
    )
    if progress is None and state is None:
        not_found("plan", plan_id)
    query = {
        "quarter": quarter if _quarter(quarter) else "",
        "as_of": as_of if _as_of(as_of) else "",
    }
    context = {
        "p": progress,
        "plan_id": plan_id,
        "query": query,
        "published": await _published(db_session, plan_id, _quarter(quarter)),
        **figures(request),
        **change_context(state, event),
    }
    return render(request, "plan.html", context, user=user)


async def _published(db_session: DbSession, plan_id: str, quarter: int | None) -> dict[str, Any]:
    """The published versions of the period's report, per language, newest first."""
    period = documents.period_of(quarter)
    key = documents.report_document(plan_id, period)
    return {
        "period": period,
        "languages": {
            locale: await versions.list_versions(db_session=db_session, document=key, locale=locale)
            for locale in documents.REPORT_LOCALES
        },
    }


@router.get("/plans/{plan_id}/reports/{period}/versions/{number}", response_class=Response)
async def report_version(
    request: Request,
    plan_id: str,
    period: Literal["year", "q1", "q2", "q3", "q4"],
    number: int,
    user: User,
    db_session: DbSession,
    lang: Annotated[str, Query(max_length=35)] = "",
    format: Literal["html", "pdf"] = "pdf",
) -> Response:
    """One published version of a report (a signed-in user: as on the API)."""
    locale = negotiate(None, lang) if lang else page_language(request)
    version = await versions.get_version(
        db_session=db_session,
        document=documents.report_document(plan_id, period),
        locale=locale,
        number=number,
    )
    if version is None:
        not_found("report version", f"{plan_id} {period} {number} ({locale})")
    return serve_version(version, format, kind="progress-report")


async def _work_item_page(
    request: Request, user: Any, db_session: DbSession, plan_id: str, key: str, event: str
) -> HTMLResponse:
    progress, state = await read_after_change(
        db_session, event, lambda: _progress(request, db_session, plan_id)
    )
    item = _item(progress, key) if progress is not None else None
    if progress is None or item is None:
        if state is not None:  # the plan is on its way
            context = {"p": None, "plan_id": plan_id, "query": {}, **change_context(state, event)}
            return render(request, "plan.html", context, user=user)
        not_found("work item", key)
    spending = (
        await db_session.scalars(
            select(PlanSpending)
            .where(PlanSpending.plan_id == plan_id, PlanSpending.work_item_key == key)
            .order_by(PlanSpending.date, PlanSpending.recorded_at)
        )
    ).all()
    context = {
        "p": progress,
        "item": item,
        "spending": spending,
        **figures(request),
        **change_context(state, event),
    }
    return render(request, "plan_item.html", context, user=user)


@router.get("/plans/{plan_id}/items/{key}", response_class=HTMLResponse)
async def work_item_page(
    request: Request,
    plan_id: str,
    key: str,
    user: User,
    db_session: DbSession,
    event: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    return await _work_item_page(request, user, db_session, plan_id, key, event)


async def _plan_form(
    request: Request,
    user: Any,
    db_session: DbSession,
    plan_id: str,
    key: str,
    kpi_key: str | None,
    form: Mapping[str, str],
    errors: Mapping[str, LazyProxy],
    status_code: int = 200,
) -> HTMLResponse:
    progress = await _progress(request, db_session, plan_id)
    item = _item(progress, key) if progress is not None else None
    if progress is None or item is None:
        not_found("work item", key)
    kpi = None
    if kpi_key is not None:
        kpi = next((k for k in item.kpis if k.key == kpi_key and not k.computed), None)
        if kpi is None:
            not_found("KPI", kpi_key)
    heading = (
        in_language(
            L_(
                "Enter a value of %(kpi)s",
                kpi=localized(kpi.name, page_language(request)) or kpi.key,
            ),
            page_language(request),
        )
        if kpi is not None
        else in_language(L_("Record spending"), page_language(request))
    )
    context = {
        "p": progress,
        "item": item,
        "kpi": kpi,
        "heading": heading,
        "form": form,
        "errors": errors,
        **figures(request),
    }
    return render(request, "plan_form.html", context, user=user, status_code=status_code)


@router.get("/plans/{plan_id}/items/{key}/spending", response_class=HTMLResponse)
async def spending_form(
    request: Request, plan_id: str, key: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    return await _plan_form(request, user, db_session, plan_id, key, None, {}, {})


@router.post("/plans/{plan_id}/items/{key}/spending", response_class=HTMLResponse,
             dependencies=[CheckedForm])  # fmt: skip
async def record_spending(
    request: Request, plan_id: str, key: str, user: User, db_session: DbSession
) -> Response:
    return await _submit(request, plan_id, key, None, user, db_session)


@router.get("/plans/{plan_id}/items/{key}/kpis/{kpi}", response_class=HTMLResponse)
async def kpi_value_form(
    request: Request, plan_id: str, key: str, kpi: str, user: User, db_session: DbSession
) -> HTMLResponse:
    require_staff(user)
    return await _plan_form(request, user, db_session, plan_id, key, kpi, {}, {})


@router.post("/plans/{plan_id}/items/{key}/kpis/{kpi}", response_class=HTMLResponse,
             dependencies=[CheckedForm])  # fmt: skip
async def enter_kpi_value(
    request: Request, plan_id: str, key: str, kpi: str, user: User, db_session: DbSession
) -> Response:
    return await _submit(request, plan_id, key, kpi, user, db_session)


async def _submit(
    request: Request, plan_id: str, key: str, kpi: str | None, user: Any, db_session: DbSession
) -> Response:
    """Record spending on the work item `key` (no `kpi`), or enter a value of `kpi`: refused
    with what to fix on the form, else on to the work item's page."""
    require_staff(user)
    form = await form_of(request)

    def given(name: str, number: bool = False) -> str | None:
        typed = form.get(name, "").strip()
        return (typed.replace(",", "") if number else typed) or None

    try:
        if kpi is None:
            spending = SpendingCreate.model_validate(
                {"work_item": key, "date": given("date"), "amount": given("amount", True),
                 "purpose": given("purpose")}
            )  # fmt: skip
            event = await service.record_spending(
                db_session=db_session, plan_id=plan_id, data=spending, actor=user.actor
            )
        else:
            value = KpiValueCreate.model_validate(
                {"kpi": kpi, "date": given("date"), "value": given("value", True),
                 "source": given("source")}
            )  # fmt: skip
            event = await service.enter_kpi_value(
                db_session=db_session, plan_id=plan_id, data=value, actor=user.actor
            )
    except (ValidationError, InvalidField) as refused:
        await db_session.rollback()
        errors = (
            field_errors(refused, SPENDING_MESSAGES, SPENDING_OF_LOCATION)
            if kpi is None
            else field_errors(refused, VALUE_MESSAGES, VALUE_OF_LOCATION)
        )
        return await _plan_form(
            request, user, db_session, plan_id, key, kpi, form, errors, status_code=422
        )
    except NotFound:
        await db_session.rollback()
        not_found("plan", plan_id)
    return await committed(request, db_session, f"/ui/plans/{plan_id}/items/{key}", event.event_id)


@router.get("/plans/{plan_id}/report.{format}")
async def progress_report(
    request: Request,
    plan_id: str,
    format: str,
    user: User,
    db_session: DbSession,
    quarter: Annotated[str, Query(max_length=1)] = "",
    as_of: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The progress report in the page's language (the API's, for a signed-in user)."""
    progress = await _progress(request, db_session, plan_id, quarter, as_of)
    if progress is None or format not in report.FORMATS:
        not_found("plan", plan_id)
    language = page_language(request)
    if format == "pdf" and missing_face(language) is not None:
        return Response("fonts missing for this language", status_code=503)
    body = await report.render(progress, format, language, request.app.state.settings)
    headers = report.download_headers(progress, format, language)
    return Response(body, media_type=report.FORMATS[format], headers=headers)
