"""The progress report of a plan (a year, or one quarter) per locale: self-contained HTML, an
A4 PDF (WeasyPrint with the subset CJK fonts of `twinning.publicity.fonts`), and every figure as
CSV and XLSX for the council's spreadsheets. Numbers, dates and money are CLDR-formatted in the
HTML and PDF; the spreadsheets keep numbers as numbers.

Rendered with the publicity documents' one environment and PDF pipeline
(`twinning.publicity.render`, the template `publicity/templates/report.html`). The publicity
consumer publishes the year's and each quarter's report as versions (`twinning.plans.documents`);
a report as of another date is rendered on request from the figures as of that date
(`kpis.progress`), which do not change once that day is over: the same request gives the same
figures next year.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from twinning.config import Settings
from twinning.i18n import (
    force_locale,
    format_date,
    format_number,
    gettext,
    localized,
)
from twinning.i18n.formatting import _cldr
from twinning.plans.kpis import KpiFigure, PlanProgress, WorkItemProgress
from twinning.publicity.fonts import FACES, document_face
from twinning.publicity.render import environment, render_pdf, subset_cache

FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def thousands_text(amount: Decimal, locale: str) -> str:
    """An amount in NT$ thousand as the plan writes it (10,900), CLDR-grouped."""
    return format_number(amount, locale=locale)


def percent_text(share: float | None, locale: str) -> str:
    from babel.numbers import format_percent

    return "—" if share is None else format_percent(share, locale=_cldr(locale))


def period_name(progress: PlanProgress) -> str:
    if progress.period.quarter:
        return gettext(
            "%(year)s, quarter %(quarter)s",
            year=progress.year,
            quarter=progress.period.quarter,
        )
    return gettext("%(year)s, the whole year", year=progress.year)


# --- charts (inline SVG: vector in the PDF too) --------------------------------------------

BAR_WIDTH = 360
LABEL_WIDTH = 250
ROW = 22


def _bars(rows: list[tuple[str, float | None, str]], locale: str, title: str) -> Markup:
    """Horizontal bars of shares (1.0 = the target or the budget), the full width at 100 %;
    a bar past the target is drawn to the edge in a darker colour."""
    face = FACES[document_face(locale)]
    height = ROW * len(rows) + 24
    width = LABEL_WIDTH + BAR_WIDTH + 70
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "role": "img",
            "aria-label": title,
            "class": f"f-{face.key}",
            "font-family": face.css_stack(),
            "font-size": "11",
        },
    )
    ET.SubElement(svg, "title").text = title
    for index, (label, share, shown) in enumerate(rows):
        y = 8 + index * ROW
        text = ET.SubElement(svg, "text", {"x": "0", "y": f"{y + 13}"})
        text.text = label if len(label) <= 28 else label[:27] + "…"
        ET.SubElement(
            svg,
            "rect",
            {"x": str(LABEL_WIDTH), "y": str(y), "width": str(BAR_WIDTH), "height": "16",
             "fill": "#e3e8ef"},
        )  # fmt: skip
        if share:
            ET.SubElement(
                svg,
                "rect",
                {"x": str(LABEL_WIDTH), "y": str(y),
                 "width": f"{BAR_WIDTH * min(share, 1.0):.1f}", "height": "16",
                 "fill": "#0b4f7c" if share >= 1 else "#2f7fb8"},
            )  # fmt: skip
        value = ET.SubElement(
            svg, "text", {"x": str(LABEL_WIDTH + BAR_WIDTH + 6), "y": f"{y + 13}"}
        )
        value.text = shown
    target_x = LABEL_WIDTH + BAR_WIDTH
    ET.SubElement(
        svg,
        "line",
        {"x1": str(target_x), "x2": str(target_x), "y1": "4", "y2": str(height - 14),
         "stroke": "#1d2330", "stroke-dasharray": "3 2"},
    )  # fmt: skip
    return Markup(ET.tostring(svg, encoding="unicode"))


def kpi_chart(progress: PlanProgress, locale: str) -> Markup:
    rows = [
        (localized(k.name, locale) or k.key, k.progress, percent_text(k.progress, locale))
        for _w, k in progress.kpis()
    ]
    return _bars(rows, locale, gettext("KPI progress against target"))


def budget_chart(progress: PlanProgress, locale: str) -> Markup:
    rows = [
        (localized(w.title, locale) or w.key, w.budget_used, percent_text(w.budget_used, locale))
        for w in progress.work_items()
    ]
    return _bars(rows, locale, gettext("Budget used"))


# --- the formats ---------------------------------------------------------------------------


def render_html(progress: PlanProgress, locale: str, office: dict[str, str]) -> str:
    with force_locale(locale):
        return (
            environment()
            .get_template("report.html")
            .render(
                p=progress,
                locale=locale,
                office=localized(office, locale) or "",
                period=period_name(progress),
                as_of=format_date(progress.period.as_of, format="long", locale=locale),
                text=lambda texts: (localized(texts, locale) or "") if texts else "",
                number=lambda value: format_number(value, locale=locale),
                money=lambda amount: thousands_text(amount, locale),
                percent=lambda share: percent_text(share, locale),
                kpi_chart=kpi_chart(progress, locale),
                budget_chart=budget_chart(progress, locale),
            )
        )


def render_report_pdf(progress: PlanProgress, locale: str, office: dict[str, str],
                      font_dir: str | None) -> bytes:  # fmt: skip
    return render_pdf(render_html(progress, locale, office), locale, subset_cache(font_dir))


def _headers() -> list[str]:
    return [
        gettext("Goal"),
        gettext("Work item"),
        gettext("Section"),
        gettext("KPI"),
        gettext("Target"),
        gettext("Year to date"),
        gettext("In the period"),
        gettext("Progress"),
        *(gettext("Q%(quarter)s", quarter=q) for q in range(1, 5)),
        *(format_date(_month(m), format="MMM", locale=None) for m in range(1, 13)),
        gettext("Budget (NT$ thousand)"),
        gettext("Spent (NT$ thousand)"),
        gettext("Spent in the period (NT$ thousand)"),
        gettext("Budget used"),
    ]


def _month(month: int) -> Any:
    from datetime import date

    return date(2000, month, 1)


def rows(progress: PlanProgress, locale: str) -> Iterator[list[Any]]:
    """Every figure of the report, one row per KPI (a work item without KPIs: one row with its
    budget only); numbers as numbers."""
    for goal in progress.goals:
        for item in goal.work_items:
            figures: list[KpiFigure | None] = list(item.kpis) or [None]
            for figure in figures:
                yield [
                    localized(goal.title, locale),
                    localized(item.title, locale),
                    item.section,
                    *_kpi_cells(figure, locale),
                    *_budget_cells(item),
                ]


def _kpi_cells(figure: KpiFigure | None, locale: str) -> list[Any]:
    if figure is None:
        return [None] * 20
    return [
        localized(figure.name, locale),
        figure.target,
        figure.value,
        figure.period_value,
        round(figure.progress, 4) if figure.progress is not None else None,
        *figure.quarters,
        *figure.months,
    ]


def _budget_cells(item: WorkItemProgress) -> list[Any]:
    used = item.budget_used
    return [item.budget, item.spent, item.spent_in_period, round(used, 4) if used else used]


def render_csv(progress: PlanProgress, locale: str) -> str:
    with force_locale(locale):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(_headers())
        writer.writerows(rows(progress, locale))
        return out.getvalue()


def render_xlsx(progress: PlanProgress, locale: str) -> bytes:
    # Imported here, as the export and the import do: a fifth of a second the API's start
    # would otherwise spend for a download few ask for.
    from openpyxl import Workbook  # type: ignore[import-untyped]

    with force_locale(locale):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = str(progress.year) + (
            f" Q{progress.period.quarter}" if progress.period.quarter else ""
        )
        sheet.append(_headers())
        for row in rows(progress, locale):
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for cells in sheet.iter_cols(min_col=8, max_col=8, min_row=2):
            for cell in cells:
                cell.number_format = "0.0%"
        for cells in sheet.iter_cols(min_col=len(_headers()), min_row=2):
            for cell in cells:
                cell.number_format = "0.0%"
        sheet.freeze_panes = "A2"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


async def render(
    progress: PlanProgress, format: str, locale: str, settings: Settings
) -> str | bytes:
    """The report in `format` (one of `FORMATS`), the PDF and the workbook off the event loop:
    what the API and the web app answer a download with."""
    if format == "html":
        return render_html(progress, locale, settings.office_name)
    if format == "pdf":
        font_dir = str(settings.data_dir.resolve() / "publicity" / "fonts")
        return await run_in_threadpool(
            render_report_pdf, progress, locale, settings.office_name, font_dir
        )
    if format == "csv":
        return render_csv(progress, locale)
    return await run_in_threadpool(render_xlsx, progress, locale)


def download_headers(progress: PlanProgress, format: str, locale: str) -> dict[str, str]:
    name = f"plan-{progress.year}" + (
        f"-q{progress.period.quarter}" if progress.period.quarter else ""
    )
    return {
        "Content-Language": locale,
        "Content-Disposition": f'inline; filename="{name}-{locale}.{format}"',
        "Cache-Control": "no-store",
    }
