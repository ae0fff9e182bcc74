"""The year's plan in the browser: the plan page shows goals, work items and KPIs with their
progress against target and the budget used; staff record spending on a work item (refused
with what to fix, then accepted) and enter a KPI value, and the page shows the new figures;
the progress report downloads in the page's language, and the published versions of the
report are listed and open. In Traditional Chinese and in English; each result is checked
through the API."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from conftest import in_two_languages
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.plans.documents import ProgressReport
from twinning.publicity.refresh import Refresher
from twinning.publicity.render import render_html
from web_support import Office, accessibility_violations, in_thread, office, shot, text

sys.path.insert(0, str(Path(__file__).parent.parent / "plans"))
from plan_support import small_plan

__all__ = ["office"]  # a fixture

TITLES = {"zh-TW": "國際事務計畫", "en": "International affairs plan"}
LEAFLETS = {"zh-TW": "宣傳摺頁", "en": "Leaflets"}
EDITIONS = {"zh-TW": "刊物版次", "en": "Editions published"}


@in_two_languages
def test_staff_follow_the_plan_record_spending_and_enter_a_kpi_value(
    office: Office, browser: Browser, locale: str
) -> None:
    # The figures count what happened by today: the spending and the value are dated today
    # (a day fixed in January would be in the future for part of every year).
    today = date.today()
    year = today.year
    assert office.call("POST", "/plans", json=small_plan(year)).status_code == 202
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Plan", locale), exact=True).click()
    page.get_by_role("link", name=TITLES[locale], exact=False).click()
    expect(page.locator("h1")).to_contain_text(TITLES[locale])
    expect(page.locator("h2").first).to_have_text(
        {"zh-TW": "推展城市外交", "en": "City diplomacy"}[locale]
    )
    kpi_row = page.get_by_role("row").filter(has_text=EDITIONS[locale])
    expect(kpi_row.get_by_role("progressbar")).to_have_attribute("value", "0")
    assert accessibility_violations(page) == []

    page.get_by_role("link", name=LEAFLETS[locale], exact=True).click()
    page.get_by_role("link", name=text("Record spending", locale)).click()
    page.get_by_role("button", name=text("Record the spending", locale)).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(
        text("Enter the amount in NT$ thousand, a number above 0 such as 12.5", locale)
    )
    expect(summary).to_contain_text(text("Say what the money was spent on", locale))
    assert page.title().startswith(text("Error:", locale))
    assert accessibility_violations(page) == []
    page.locator("#date").fill(today.isoformat())
    page.locator("#amount").fill("500")
    page.locator("#purpose").fill("摺頁印製")
    page.get_by_role("button", name=text("Record the spending", locale)).click()
    spending = page.get_by_role("row").filter(has_text="摺頁印製")
    expect(spending).to_contain_text("500")
    expect(page.locator("dl.facts")).to_contain_text("25%")  # 500 of 2,000

    page.get_by_role(
        "link", name=text("Enter a value of %(kpi)s", locale, kpi=EDITIONS[locale])
    ).click()
    page.locator("#date").fill(today.isoformat())
    page.locator("#value").fill("2")
    page.locator("#source").fill("Print shop invoice")
    page.get_by_role("button", name=text("Enter the value", locale)).click()
    expect(page.locator("#kpi-editions + p")).to_contain_text("2 / 4")
    assert accessibility_violations(page) == []

    plan = office.call("GET", f"/plans/{year}").json()
    item = plan["goals"][1]["work_items"][0]
    assert Decimal(item["spent"]) == 500
    assert item["kpis"][1]["value"] == 2

    page.get_by_role("link", name=TITLES[locale], exact=False).first.click()
    xlsx = page.request.get(f"/ui/plans/{year}/report.xlsx?lang={locale}")
    assert xlsx.ok
    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == text("Goal", locale)
    assert next(r for r in rows if r[3] == EDITIONS[locale])[5] == 2


def publish(office: Office) -> None:
    """The publicity consumer's pass over what is due: the reports' HTML for real, their PDF
    (and every other document) stood in for: this test is about the page."""

    def render(document: object, font_dir: str | None) -> tuple[str, bytes]:
        if isinstance(document, ProgressReport):
            return render_html(document), b"%PDF-1.7 stand-in"
        return "<html></html>", b"%PDF-1.7 stand-in"

    async def run() -> None:
        engine = make_async_engine(office.api.settings.async_database_url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            clock = datetime.now(UTC) + timedelta(minutes=1)  # after the plan's adoption
            await Refresher(
                sessions, office.api.settings, render=render, clock=lambda: clock
            ).refresh()
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(run()))


@in_two_languages
def test_the_plan_page_lists_the_published_reports_and_opens_them(
    office: Office, browser: Browser, locale: str
) -> None:
    # The figures count what happened by today: the spending and the value are dated today
    # (a day fixed in January would be in the future for part of every year).
    today = date.today()
    year = today.year
    assert office.call("POST", "/plans", json=small_plan(year)).status_code == 202
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/plans/{year}")
    published = page.locator("section", has=page.locator("#published-reports"))
    expect(published).to_contain_text(text("Not published yet", locale))

    publish(office)
    page.reload()
    rows = published.get_by_role("row")
    expect(rows).to_have_count(3)  # the header, zh-TW and en: version 1 each
    expect(rows.nth(1)).to_contain_text("中文")
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_text("1")
    assert accessibility_violations(page) == []
    shot(page, f"plan-reports-{locale}", full_page=True)
    assert (
        office.call("GET", f"/plans/{year}/reports").json()["reports"][0]["languages"][0]["latest"]
        == 1
    )

    pdf = page.request.get(
        published.get_by_role("link", name="PDF").first.get_attribute("href") or ""
    )
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    published.get_by_role("link", name="HTML").last.click()  # the English version
    expect(page.locator("h1")).to_have_text(TITLES["en"] + f" {year}")
    shot(page, f"plan-report-version-{locale}", full_page=True)
