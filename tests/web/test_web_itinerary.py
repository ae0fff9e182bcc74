"""A visit's itinerary in the browser: the scheduling walk-through through the pages alone
(approve, an item, a second one that conflicts and is refused with the conflict linked, booked
anyway with a reason, schedule, complete with the exchange), the day's programme, printable;
and what a viewer sees of it. In Traditional Chinese and in English."""

from __future__ import annotations

import io
from typing import Any

from conftest import accepted, in_two_languages, sample_visit
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from web_support import VIEWER, Office, accessibility_violations, csrf_of, office, text

__all__ = ["office"]  # a fixture

MAYOR = {
    "names": {"zh-TW": "蔣萬安", "en": "Chiang Wan-an"},
    "title": {"zh-TW": "市長", "en": "Mayor"},
    "protocol_rank": 1,
}
HALL = {
    "names": {"zh-TW": "市政大樓第一會議室", "en": "City Hall Room 1"},
    "capacity": 40,
    "timezone": "Asia/Taipei",
    "address": {"zh-TW": "市府路1號", "en": "1 City Hall Road"},
}


def registered(office: Office) -> tuple[str, str]:
    """The mayor and a hall of City Hall, registered through the API (and applied)."""
    mayor = accepted(office.call("POST", "/officials", json=MAYOR))["id"]
    hall = accepted(office.call("POST", "/venues", json=HALL))["id"]
    return mayor, hall


def sapporo_visit(office: Office) -> str:
    body = sample_visit(
        delegation={"partner_id": office.partners["Sapporo"]},
        requested_from="2027-05-03",
        requested_to="2027-05-05",
    )
    return str(accepted(office.call("POST", "/visits", json=body))["id"])


def item(mayor: str, hall: str, **overrides: Any) -> dict[str, Any]:
    return {
        "titles": {"zh-TW": "市長接見", "en": "Courtesy call on the mayor"},
        "starts_at": "2027-05-03T10:00:00+08:00",
        "ends_at": "2027-05-03T11:00:00+08:00",
        "venue_id": hall,
        "official_ids": [mayor],
        **overrides,
    }


def fill_item(page: Page, title: str, starts: str, ends: str) -> None:
    page.locator("#titles_en").fill(title)
    page.locator("#starts_at").fill(starts)
    page.locator("#ends_at").fill(ends)


@in_two_languages
def test_the_scheduling_walk_through_books_a_conflict_with_a_reason_and_records_the_exchange(
    office: Office, browser: Browser, locale: str
) -> None:
    mayor, hall = registered(office)
    visit_id = sapporo_visit(office)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/visits/{visit_id}")
    heading = page.locator("h1")
    page.get_by_role("button", name=text("Approve", locale)).click()
    expect(heading).to_contain_text(text("approved", locale))

    # The first item, at the city's hall with the mayor; refused first with what to write.
    page.get_by_role("link", name=text("Add an item", locale)).click()
    page.get_by_role("button", name=text("Add the item", locale)).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(
        text("Enter what the item is, in one language at least", locale)
    )
    expect(page.locator("#starts_at")).to_have_attribute("aria-invalid", "true")
    fill_item(page, "Courtesy call on the mayor", "2027-05-03T10:00", "2027-05-03T09:00")
    page.locator("#venue_id").select_option(hall)
    page.get_by_label(f"{MAYOR['names'][locale]}, {MAYOR['title'][locale]}").check()
    page.get_by_role("button", name=text("Add the item", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter when the item ends, as a date and a time after the start", locale)
    )
    expect(page.locator("#titles_en")).to_have_value("Courtesy call on the mayor")
    page.locator("#ends_at").fill("2027-05-03T11:00")
    page.get_by_role("button", name=text("Add the item", locale)).click()
    table = page.locator("table.itinerary")
    expect(table).to_contain_text("Courtesy call on the mayor")
    [first] = office.call("GET", f"/visits/{visit_id}/itinerary").json()
    assert (first["venue_id"], first["official_ids"]) == (hall, [mayor])
    assert first["local_starts_at"] == "2027-05-03T10:00:00+08:00"

    # A second item, outside, with the mayor at an overlapping time: refused, the first linked.
    page.get_by_role("link", name=text("Add an item", locale)).click()
    fill_item(page, "Visit to the science park", "2027-05-03T10:30", "2027-05-03T12:00")
    page.locator("#place_name_en").fill("Nangang Software Park")
    page.locator("#place_zone").select_option("Asia/Taipei")
    page.get_by_label(f"{MAYOR['names'][locale]}, {MAYOR['title'][locale]}").check()
    page.locator("#press").check()
    page.get_by_role("button", name=text("Add the item", locale)).click()
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text(text("The item was not booked", locale))
    link = conflict.get_by_role("link", name="Courtesy call on the mayor")
    expect(link).to_have_attribute("href", f"/ui/visits/{visit_id}#item-{first['id']}")
    expect(conflict).to_contain_text(MAYOR["names"][locale])
    if locale == "en":
        assert accessibility_violations(page) == []
    assert len(office.call("GET", f"/visits/{visit_id}/itinerary").json()) == 1

    # Booked anyway: the reason is asked for, then recorded with the conflict it overrides.
    page.get_by_role("button", name=text("Override with this reason", locale)).click()
    expect(page.get_by_role("alert").first).to_contain_text(
        text("Enter why the item is booked in spite of the conflict", locale)
    )
    page.get_by_label(text("Reason for the override", locale)).fill("the mayor leaves at 10:45")
    page.get_by_role("button", name=text("Override with this reason", locale)).click()
    expect(table).to_contain_text("Visit to the science park")
    expect(table).to_contain_text("the mayor leaves at 10:45")
    items = office.call("GET", f"/visits/{visit_id}/itinerary").json()
    second = next(i for i in items if i["id"] != first["id"])
    [override] = second["overrides"]
    assert override["reason"] == "the mayor leaves at 10:45"
    assert [c["item_id"] for c in override["conflicts"]] == [first["id"]]
    assert second["place"]["names"] == {"en": "Nangang Software Park"}
    assert second["press"] is True

    if locale == "en":
        assert accessibility_violations(page) == []
        # The link's target, opened directly: a live update of the section (the worker applying
        # the override's event) may replace the link under a click on a loaded machine.
        link = page.get_by_role("link", name="The day's programme (printable)")
        expect(link).to_have_attribute("href", f"/ui/visits/{visit_id}/programme")
        page.goto(f"/ui/visits/{visit_id}/programme")
        expect(page.locator("h1")).to_contain_text("Programme")
        expect(page.locator(".programme-day")).to_have_count(1)
        expect(page.locator(".timeline")).to_contain_text("10:30")
        expect(page.locator(".timeline")).to_contain_text("Asia/Taipei")
        assert accessibility_violations(page) == []
        page.go_back()

    page.get_by_role("button", name=text("Schedule", locale)).click()
    expect(heading).to_contain_text(text("scheduled", locale))

    # Completed, with the exchange it records with Sapporo.
    page.get_by_role("link", name=text("Complete the visit", locale)).click()
    page.get_by_role("button", name=text("Complete the visit", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Choose the field of the exchange", locale)
    )
    page.locator("#exchange_field").select_option("technology")
    page.locator("#summary_zh-TW").fill("智慧城市交流")
    page.get_by_role("button", name=text("Complete the visit", locale)).click()
    expect(heading).to_contain_text(text("completed", locale))
    expect(page.locator("#exchange-heading ~ dl")).to_contain_text("智慧城市交流")
    expect(page.get_by_role("link", name=text("Add an item", locale))).to_have_count(0)
    visit = office.call("GET", f"/visits/{visit_id}").json()
    assert visit["status"] == "completed" and visit["exchange_id"]
    [exchange] = [
        e for e in office.call("GET", "/exchanges").json() if e["id"] == visit["exchange_id"]
    ]
    assert exchange["field"] == "technology"
    assert exchange["summary"] == {"zh-TW": "智慧城市交流"}
    assert exchange["partner_ids"] == [office.partners["Sapporo"]]
    assert exchange["date"] == "2027-05-03"


def test_an_item_is_changed_and_removed_and_the_programme_prints_a_page_per_day(
    office: Office, browser: Browser
) -> None:
    mayor, hall = registered(office)
    visit_id = sapporo_visit(office)
    first = accepted(office.call("POST", f"/visits/{visit_id}/itinerary", json=item(mayor, hall)))
    day_two = item(
        mayor,
        hall,
        titles={"en": "Farewell lunch <script>alert(1)</script>"},
        gift_exchange="\u202egnp.exe",  # a right-to-left override, kept in its own <bdi>
        starts_at="2027-05-04T12:00:00+08:00",
        ends_at="2027-05-04T13:30:00+08:00",
    )
    accepted(office.call("POST", f"/visits/{visit_id}/itinerary", json=day_two))
    page = office.page(browser, "en")
    office.sign_in(page)
    page.goto(f"/ui/visits/{visit_id}")
    table = page.locator("table.itinerary")
    expect(table).to_contain_text("Farewell lunch <script>alert(1)</script>")
    expect(table.locator("bdi", has_text="\u202egnp.exe")).to_have_count(1)

    # Changed: one hour later, and an interpreter named.
    page.get_by_role("link", name="Change or remove Courtesy call on the mayor").click()
    expect(page.locator("#starts_at")).to_have_value("2027-05-03T10:00")
    page.locator("#starts_at").fill("2027-05-03T11:00")
    page.locator("#ends_at").fill("2027-05-03T12:00")
    page.locator("#interpreter").fill("Mei-ling Lee")
    page.get_by_role("button", name="Save the item").click()
    expect(table).to_contain_text("Interpreter: Mei-ling Lee")
    changed = office.call("GET", f"/visits/{visit_id}/itinerary/{first['id']}").json()
    assert changed["local_starts_at"] == "2027-05-03T11:00:00+08:00"
    assert changed["interpreter"] == "Mei-ling Lee"

    page.get_by_role("link", name="The day's programme (printable)").click()
    expect(page.locator(".programme-day")).to_have_count(2)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the visit")).to_be_hidden()
    printed = PdfReader(io.BytesIO(page.pdf(format="A4"))).pages
    assert [round(float(p.mediabox.width)) for p in printed] == [596, 596]  # A4, a page a day
    first_day, second_day = (p.extract_text() for p in printed)
    assert "Courtesy call on the mayor" in first_day and "Farewell lunch" not in first_day
    assert "Farewell lunch <script>alert(1)</script>" in second_day
    assert "Sign out" not in first_day + second_day
    page.emulate_media(media="screen")

    # Removed, with a reason: gone from the page, kept as removed for the calendars.
    page.goto(f"/ui/visits/{visit_id}/itinerary/{first['id']}")
    page.locator("#remove_reason").fill("the mayor is abroad")
    page.get_by_role("button", name="Remove the item").last.click()
    expect(table).not_to_contain_text("Courtesy call on the mayor")
    expect(table).to_contain_text("Farewell lunch")
    removed = office.call("GET", f"/visits/{visit_id}/itinerary/{first['id']}").json()
    assert (removed["removed"], removed["removal_reason"]) == (True, "the mayor is abroad")


def test_a_viewer_sees_the_itinerary_but_cannot_change_it(office: Office, browser: Browser) -> None:
    mayor, hall = registered(office)
    visit_id = sapporo_visit(office)
    first = accepted(office.call("POST", f"/visits/{visit_id}/itinerary", json=item(mayor, hall)))
    page = office.page(browser, "en")
    office.sign_in(page, VIEWER)
    page.goto(f"/ui/visits/{visit_id}")

    expect(page.locator("table.itinerary")).to_contain_text("Courtesy call on the mayor")
    expect(page.get_by_role("link", name="Add an item")).to_have_count(0)
    expect(
        page.get_by_role("link", name="Change or remove Courtesy call on the mayor")
    ).to_have_count(0)
    page.get_by_role("link", name="The day's programme (printable)").click()
    expect(page.locator(".timeline")).to_contain_text("Courtesy call on the mayor")
    csrf = csrf_of(page)
    for path, form in [
        (f"/ui/visits/{visit_id}/itinerary/new", {"titles_en": "x"}),
        (f"/ui/visits/{visit_id}/itinerary/{first['id']}/remove", {}),
        (f"/ui/visits/{visit_id}/complete", {}),
    ]:
        response = page.request.post(path, form={"csrf": csrf, **form}, max_redirects=0)
        assert response.status == 403, path
    assert page.goto(f"/ui/visits/{visit_id}/itinerary/new").status == 403  # type: ignore[union-attr]
    assert len(office.call("GET", f"/visits/{visit_id}/itinerary").json()) == 1
