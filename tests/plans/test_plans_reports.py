"""The progress reports are published documents like the leaflets: the publicity consumer
renders the year's and each begun quarter's report in zh-TW and en, and renders one again only
when a figure it shows changes; every version is kept, listed and downloadable by API."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from conftest import InlineApi, Projection, command
from plan_support import small_plan
from pypdf import PdfReader
from twinning.plans.documents import ProgressReport
from twinning.publicity.render import render_document
from twinning.streams.events import ContactRegistered, PlanAdopted

sys.path.insert(0, str(Path(__file__).parent.parent / "publicity"))
from publicity_support import SAPPORO, event, exchange, partner, refresh

BEGUN = ("year", "q1", "q2", "q3", "q4")
Rendered = Counter[tuple[str, str]]  # (period, locale)


class Renders:
    """Stands in for the renderer (what matters here is whether a report is rendered)."""

    def __init__(self) -> None:
        self.calls: Rendered = Counter()

    def __call__(self, document: Any, font_dir: str | None) -> tuple[str, bytes]:
        if isinstance(document, ProgressReport):
            self.calls[document.document.rpartition(":")[2], document.locale] += 1
        return "<html></html>", b"%PDF-1.7 stand-in"


def later() -> datetime:
    """The refresher's clock: after the events just applied (a report counts what was recorded
    by its day), and after 2025, whose year and quarters have all begun. Read at each refresh,
    never once per module: a run that crosses midnight would have its events recorded on a day
    after the clock's, and the reports would not count them."""
    return datetime.now(UTC) + timedelta(minutes=1)


def rendered_after(projection: Projection, *events: Any, now: datetime | None = None) -> Rendered:
    if events:
        assert set(projection.apply(*events)) == {"applied"}
    renders = Renders()
    refresh(projection.settings, render=renders, now=now or later())
    return renders.calls


def reports(*periods: str) -> Rendered:
    return Counter({(period, locale): 1 for period in periods for locale in ("zh-TW", "en")})


@pytest.fixture
def published(projection: Projection) -> str:
    """A 2025 plan and its partner city, every report published once; the partner's id."""
    sapporo = partner(SAPPORO)
    plan = event(PlanAdopted.model_validate(small_plan(2025)), aggregate_id="2025")
    assert rendered_after(projection, plan, sapporo) == reports(*BEGUN)
    return sapporo.aggregate_id


def test_each_begun_period_is_published_once_in_zh_tw_and_en(
    projection: Projection, published: str
) -> None:
    assert rendered_after(projection) == Counter()  # nothing changed: nothing rendered


def test_an_event_no_report_counts_renders_nothing(projection: Projection, published: str) -> None:
    contact = event(ContactRegistered(partner_id=published, name="A. Person"))
    assert rendered_after(projection, contact) == Counter()


def test_an_exchange_renders_only_the_reports_whose_figures_it_moves(
    projection: Projection, published: str
) -> None:
    # May: the year's, and the quarters' from the second on (each shows the year to date
    # through its end); not the first quarter's.
    may = exchange([published], date(2025, 5, 2), "culture", {"en": "Snow festival"})
    assert rendered_after(projection, may) == reports("year", "q2", "q3", "q4")
    # An exchange of an earlier year is counted in no figure of this plan: nothing rendered.
    earlier = exchange([published], date(2023, 5, 2), "culture", {"en": "Old exchange"})
    assert rendered_after(projection, earlier) == Counter()


def test_a_new_day_renders_nothing_a_new_year_its_begun_reports(projection: Projection) -> None:
    now = later()
    plan = event(
        PlanAdopted.model_validate(small_plan(now.year + 1)), aggregate_id=f"{now.year + 1}"
    )
    assert rendered_after(projection, plan, now=now) == Counter()  # its year has not begun
    assert rendered_after(projection, now=now + timedelta(days=1)) == Counter()
    new_year = datetime(now.year + 1, 1, 2, tzinfo=UTC)
    assert rendered_after(projection, now=new_year) == reports("year", "q1")
    assert rendered_after(projection, now=new_year + timedelta(days=1)) == Counter()


def test_spending_renders_the_reports_of_its_plan(projection: Projection, published: str) -> None:
    from twinning.streams.events import SpendingRecorded

    spent = SpendingRecorded.model_validate(
        {"work_item": "exchanges", "date": "2025-02-10", "amount": "120", "purpose": "Gifts"}
    )
    assert rendered_after(projection, event(spent, aggregate_id="2025")) == reports(*BEGUN)


def render_years_only(document: Any, font_dir: str | None) -> tuple[str, bytes]:
    """The year's report for real (HTML and PDF), the quarters' stood in for (speed)."""
    if isinstance(document, ProgressReport) and document.document.endswith(":year"):
        return render_document(document, font_dir)
    return "<html></html>", b"%PDF-1.7 stand-in"


def test_versions_are_listed_and_downloaded_by_api(inline_api: InlineApi) -> None:
    command(inline_api, "POST", "/plans", json=small_plan(2025))
    sapporo = partner(SAPPORO)
    inline_api.apply(sapporo)
    refresh(inline_api.settings, render=render_years_only, now=later())
    inline_api.apply(exchange([sapporo.aggregate_id], date(2025, 5, 2), "culture", {"en": "X"}))
    refresh(inline_api.settings, render=render_years_only, now=later())

    published = inline_api.get("/plans/2025/reports").json()
    assert [r["period"] for r in published["reports"]] == list(BEGUN)
    year = published["reports"][0]["languages"]
    assert [(lang["language"], lang["latest"]) for lang in year] == [("zh-TW", 2), ("en", 2)]

    listed = inline_api.get("/plans/2025/reports/year/versions?lang=en").json()
    assert [v["number"] for v in listed["versions"]] == [2, 1]  # newest first
    assert listed["versions"][0]["content_hash"] != listed["versions"][1]["content_hash"]
    first = inline_api.get(listed["versions"][1]["pdf_url"])
    latest = inline_api.get("/plans/2025/reports/year?lang=en")
    assert first.headers["content-type"] == latest.headers["content-type"] == "application/pdf"
    texts = [
        " ".join(page.extract_text() for page in PdfReader(BytesIO(r.content)).pages)
        for r in (first, latest)
    ]
    assert all("International affairs plan 2025" in t for t in texts)
    assert texts[0] != texts[1]  # the exchange moved the figures of the second version
    html = inline_api.get("/plans/2025/reports/year/versions/1?lang=zh-TW&format=html")
    assert html.status_code == 200 and "2025年度國際事務計畫" in html.text

    assert inline_api.get("/plans/2025/reports/year/versions/9?lang=en").status_code == 404
    not_in_japanese = inline_api.get("/plans/2025/reports/q4?lang=ja")
    assert not_in_japanese.status_code == 404
    assert "/plans/{plan_id}/reports" in not_in_japanese.json()["detail"]
    assert inline_api.get("/plans/1999/reports").status_code == 404
    assert inline_api.get("/plans/2025/reports/q5/versions").status_code == 422
