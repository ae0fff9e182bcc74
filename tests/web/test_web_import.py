"""Importing partner cities in the browser: from the list, a file is checked (refused without
one), the dry run's report shows each row (new, a likely duplicate linked to the record it
repeats, invalid with the column and the reason) and changes nothing, and the confirmation
imports the new row only; in Traditional Chinese and in English. Each result is checked
through the API."""

from __future__ import annotations

import csv
import io

from conftest import in_two_languages
from playwright.sync_api import Browser, expect
from web_support import Office, accessibility_violations, office, shot, text

__all__ = ["office"]  # a fixture


def _file(locale: str) -> bytes:
    """A partner list as the export writes it in `locale`'s headers: one new city, one that
    repeats Sapporo (registered), one with a country that does not exist."""
    header = [
        text("Name (%(language)s)", locale, language="zh-TW"),
        text("Name (%(language)s)", locale, language="en"),
        text("Country code", locale),
        text("Kind", locale),
        text("Time zone", locale),
    ]
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            header,
            ["臺南市", "Tainan", "TW", "sister", "Asia/Taipei"],
            ["札幌市", "Sapporo City", "JP", "friendly", "Asia/Tokyo"],
            ["甲市", "Atlantis", "XX", "sister", "Asia/Tokyo"],
        ]
    )
    return out.getvalue().encode("utf-8-sig")


def _partner_names(office: Office) -> list[str]:
    return sorted(p["names"]["en"] for p in office.call("GET", "/partners").json())


@in_two_languages
def test_a_partner_list_is_checked_then_imported_from_a_file(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto("/ui/partners")
    shot(page, f"import-link-{locale}")
    page.get_by_role("link", name=text("Import from a file", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Import partner cities", locale))
    assert accessibility_violations(page) == []

    check = page.get_by_role("button", name=text("Check the file", locale))
    check.click()
    expect(page.get_by_role("alert")).to_contain_text(text("Choose a CSV or XLSX file", locale))
    assert page.title().startswith(text("Error:", locale))
    shot(page, f"import-refused-{locale}", full_page=True)

    page.get_by_label(text("The file", locale)).set_input_files(
        {"name": "partners.csv", "mimeType": "text/csv", "buffer": _file(locale)}
    )
    check.click()

    table = page.get_by_role("table")
    expect(table).to_contain_text(text("What each row would do", locale))
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(text("New", locale))
    tainan = "臺南市" if locale == "zh-TW" else "Tainan"
    expect(rows.nth(0)).to_contain_text(tainan)
    duplicate = rows.nth(1)
    expect(duplicate).to_contain_text(text("Likely duplicate", locale))
    sapporo = duplicate.get_by_role("link")
    expect(sapporo).to_contain_text("札幌市" if locale == "zh-TW" else "Sapporo")
    assert sapporo.get_attribute("href") == f"/ui/partners/{office.partners['Sapporo']}"
    invalid = rows.nth(2)
    expect(invalid).to_contain_text(text("Invalid", locale))
    expect(invalid).to_contain_text(text("Country code", locale))
    expect(invalid).to_contain_text(
        text("Write the country as its two-letter ISO code, such as JP", locale)
    )
    assert accessibility_violations(page) == []
    shot(page, f"import-report-{locale}", full_page=True)
    assert _partner_names(office) == ["Perth", "Sapporo"]  # the dry run changed nothing

    page.get_by_role("button", name=text("Import %(num)s new record", locale, num=1)).click()

    expect(page.get_by_role("status").first).to_contain_text("partners.csv")
    result = page.get_by_role("table")
    expect(result).to_contain_text(text("What each row did", locale))
    expect(result.locator("tbody tr").nth(0)).to_contain_text(text("Imported", locale))
    expect(result.locator("tbody tr").nth(1)).to_contain_text(text("Likely duplicate", locale))
    shot(page, f"import-result-{locale}", full_page=True)
    result.get_by_role("link", name=tainan).click()
    expect(page.locator("h1")).to_contain_text(tainan)

    assert _partner_names(office) == ["Perth", "Sapporo", "Tainan"]
    [imported] = [p for p in office.call("GET", "/partners").json() if p["names"]["en"] == "Tainan"]
    assert (imported["country"], imported["kind"], imported["timezone"]) == (
        "TW",
        "sister",
        "Asia/Taipei",
    )


def test_viewers_see_no_import_and_are_refused(office: Office, browser: Browser) -> None:
    from web_support import VIEWER

    page = office.page(browser, "en")
    office.sign_in(page, VIEWER)
    page.goto("/ui/partners")
    expect(page.locator("h1")).to_have_text("Partner cities")
    expect(page.get_by_role("link", name="Import from a file")).to_have_count(0)
    assert page.goto("/ui/import/partners").status == 403  # type: ignore[union-attr]
