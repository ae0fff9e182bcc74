"""The year's plan in the browser: the plan page shows goals, work items and KPIs with their
progress against target and the budget used; staff record spending on a work item (refused
with what to fix, then accepted) and enter a KPI value, and the page shows the new figures;
the progress report downloads in the page's language. In Traditional Chinese and in English;
each result is checked through the API."""

from __future__ import annotations

import io
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from web_support import Office, accessibility_violations, office, text

sys.path.insert(0, str(Path(__file__).parent.parent / "plans"))
from plan_support import small_plan

__all__ = ["office"]  # a fixture

TITLES = {"zh-TW": "國際事務計畫", "en": "International affairs plan"}
LEAFLETS = {"zh-TW": "宣傳摺頁", "en": "Leaflets"}
EDITIONS = {"zh-TW": "刊物版次", "en": "Editions published"}


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_staff_follow_the_plan_record_spending_and_enter_a_kpi_value(
    office: Office, browser: Browser, locale: str
) -> None:
    year = date.today().year
    assert office.call("POST", "/plans", json=small_plan(year)).status_code == 202
    page = office.page(browser, locale, bypass_csp=True)
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
    page.locator("#date").fill(f"{year}-01-15")
    page.locator("#amount").fill("500")
    page.locator("#purpose").fill("摺頁印製")
    page.get_by_role("button", name=text("Record the spending", locale)).click()
    spending = page.get_by_role("row").filter(has_text="摺頁印製")
    expect(spending).to_contain_text("500")
    expect(page.locator("dl.facts")).to_contain_text("25%")  # 500 of 2,000

    page.get_by_role(
        "link", name=text("Enter a value of %(kpi)s", locale, kpi=EDITIONS[locale])
    ).click()
    page.locator("#date").fill(f"{year}-01-20")
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
