"""City events in the browser: one created through the form (refused with what to fix, then
accepted), partner cities and a foreign mission invited with the multi-select, an answer
recorded, the summary read on the page and through the API; the Today page's overdue
invitations; the axe scan, a viewer's limits and hostile text; in Traditional Chinese and in
English."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, Page, expect
from web_support import VIEWER, Office, accessibility_violations, csrf_of, office, text

__all__ = ["office"]  # a fixture

HOSTILE = '<script>alert("x")</script>\r\nInjected: \u202egnp.exe'


def command(office: Office, url: str, body: Any) -> Any:
    """A command through the JSON API, applied at once; its answer's body."""
    return accepted(office.call("POST", url, json=body))


def city_event(office: Office, title: dict[str, str], starts: str = "2030-05-03") -> str:
    body = {
        "kind": "festival",
        "title": title,
        "starts_at": f"{starts}T10:00:00+08:00",
        "ends_at": f"{starts}T18:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Taipei City Hall plaza"},
    }
    return str(command(office, "/city-events", body)["id"])


def submit(page: Page, label: str) -> None:
    page.get_by_role("button", name=label).click()


@in_two_languages
def test_a_city_event_is_created_its_invitees_invited_and_an_answer_recorded(
    office: Office, browser: Browser, locale: str
) -> None:
    mission = {"names": {"en": "Embassy of Ruritania"}, "country": "FR", "kind": "embassy"}
    command(office, "/missions", mission)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("City events", locale)).first.click()
    expect(page.locator("h1")).to_have_text(text("City events", locale))

    page.locator("#kind").select_option("forum")
    page.locator("#timezone").fill("Taipei")
    page.locator("#starts_at").fill("2030-05-03T10:00")
    page.locator("#ends_at").fill("2030-05-03T09:00")
    submit(page, text("Create the city event", locale))

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("There is a problem", locale))
    expect(summary).to_contain_text(
        text("Enter the event's title, in one language at least", locale)
    )
    expect(summary).to_contain_text(
        text("Enter when the event ends, as a date and a time after its start", locale)
    )
    expect(summary).to_contain_text(
        text("Enter the venue's time zone as a region and a city, such as Asia/Taipei", locale)
    )
    expect(page.locator("#title_en")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#starts_at")).to_have_value("2030-05-03T10:00")

    page.locator("#title_zh-TW").fill("國際城市論壇")
    page.locator("#title_en").fill("International cities forum")
    page.locator("#ends_at").fill("2030-05-03T17:30")
    page.locator("#timezone").fill("Asia/Taipei")
    page.locator("#place").fill("Taipei International Convention Center")
    submit(page, text("Create the city event", locale))

    heading = page.locator("h1")
    expect(heading).to_contain_text("國際城市論壇" if locale == "zh-TW" else "International")
    expect(heading).to_contain_text(text("scheduled", locale))
    expect(page.locator("dl.facts")).to_contain_text("Asia/Taipei")
    city_event_id = page.url.split("/ui/city-events/")[1].split("?")[0]

    invite = page.locator("#invitees")
    sapporo = "札幌市" if locale == "zh-TW" else "Sapporo"
    perth = "伯斯市" if locale == "zh-TW" else "Perth"
    invite.get_by_label(sapporo).check()
    invite.get_by_label(perth).check()
    invite.get_by_label("Embassy of Ruritania").check()
    submit(page, text("Send the invitations", locale))
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the day to answer by, on or before the event's first day", locale)
    )
    expect(invite.get_by_label(perth)).to_be_checked()

    page.locator("#answer_by").fill("2030-04-20")
    submit(page, text("Send the invitations", locale))
    rows = page.locator("table.invitations tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#invitees")).to_have_count(0)  # everyone is invited

    page.get_by_role(
        "link", name=text("Record the answer of %(invitee)s", locale, invitee=sapporo)
    ).click()
    expect(page.locator("#invitation option:checked")).to_have_text(sapporo)
    page.locator("#answer").select_option("accepted-in-person")
    page.locator("#received_via").select_option("email")
    submit(page, text("Record the answer", locale))
    expect(page.get_by_role("alert")).to_contain_text(
        text(
            "Enter how many delegates come in person, a whole number from 1; only when they "
            "come in person",
            locale,
        )
    )
    page.locator("#delegates").fill("4")
    submit(page, text("Record the answer", locale))

    counts = page.locator("table.answer-counts")
    accepted_row = counts.get_by_role("row", name=text("Accepted, in person", locale))
    expect(accepted_row).to_contain_text("1")
    expect(counts.get_by_role("row", name=text("No reply yet", locale))).to_contain_text("2")
    not_replied = page.locator("ul.not-replied")
    expect(not_replied).to_contain_text(perth)
    expect(not_replied).not_to_contain_text(sapporo)

    summary_read = office.call("GET", f"/city-events/{city_event_id}/invitations/summary").json()
    assert summary_read["counts"] == {
        "no-reply": 2,
        "accepted-in-person": 1,
        "accepted-by-video": 0,
        "declined": 0,
    }
    assert summary_read["delegates_in_person"] == 4
    read = office.call("GET", f"/city-events/{city_event_id}").json()
    assert read["title"] == {"zh-TW": "國際城市論壇", "en": "International cities forum"}
    assert (read["timezone"], read["starts_at"][:16]) == ("Asia/Taipei", "2030-05-03T02:00")


def test_overdue_invitations_on_today_accessible_pages_inert_text_and_viewers_only_read(
    office: Office, browser: Browser
) -> None:
    """The service accepts an answer-by date in the past (only one after the event's first day
    is refused): such an invitation is overdue from the start, and the Today page lists it."""
    soon = (date.today() + timedelta(days=30)).isoformat()
    festival = city_event(office, {"en": "Lantern festival"}, starts=soon)
    overdue = (date.today() - timedelta(days=3)).isoformat()
    perth = {"kind": "partner", "id": office.partners["Perth"]}
    invitations = f"/city-events/{festival}/invitations"
    command(office, invitations, {"answer_by": overdue, "invitees": [perth]})
    city_event_id = city_event(office, {"en": HOSTILE})
    sapporo = {"kind": "partner", "id": office.partners["Sapporo"]}
    invitations = f"/city-events/{city_event_id}/invitations"
    command(office, invitations, {"answer_by": "2030-04-01", "invitees": [sapporo]})
    page = office.page(browser, "en")
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    office.sign_in(page)

    table = page.locator("table.overdue-invitations")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Perth")
    table.get_by_role("link", name="Lantern festival").click()
    expect(page.locator("ul.not-replied")).to_contain_text("Perth")
    expect(page.locator("ul.not-replied")).to_contain_text("overdue")

    page.goto("/ui/city-events")
    expect(page.locator("table.city-events")).to_contain_text('<script>alert("x")</script>')
    assert accessibility_violations(page) == []
    page.goto(f"/ui/city-events/{city_event_id}")
    expect(page.locator("h1")).to_contain_text('<script>alert("x")</script>')
    expect(page.locator("#invitees")).to_be_visible()
    assert page.locator("main script").count() == 0
    assert accessibility_violations(page) == []

    page.locator("#reason").fill("the plaza is closed for works")
    submit(page, "Cancel the event")
    expect(page.locator("h1")).to_contain_text("cancelled")
    expect(page.locator("dl.facts")).to_contain_text("the plaza is closed for works")
    expect(page.locator("#invitees")).to_have_count(0)
    assert office.call("GET", f"/city-events/{city_event_id}").json()["status"] == "cancelled"

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    held = city_event(office, {"en": "Flag raising"}, starts=yesterday)
    page.goto(f"/ui/city-events/{held}")
    submit(page, "Record it as held")
    expect(page.get_by_role("alert")).to_contain_text("Choose the field of the exchange")
    page.locator("#field").select_option("culture")
    page.locator("#summary_en").fill("Flags of both cities raised")
    submit(page, "Record it as held")
    expect(page.locator("h1")).to_contain_text("completed")
    assert office.call("GET", f"/city-events/{held}").json()["completion"]["field"] == "culture"

    viewer = office.page(browser, "en")
    office.sign_in(viewer, VIEWER)
    viewer.goto("/ui/city-events")
    expect(viewer.locator("table.city-events").first).to_be_visible()
    assert viewer.locator("main form").count() == 0
    viewer.goto(f"/ui/city-events/{city_event_id}")
    expect(viewer.locator("table.invitations")).to_contain_text("Sapporo")
    assert viewer.locator("main form").count() == 0
    csrf = csrf_of(viewer)
    for url, form in [
        ("/ui/city-events", {"kind": "forum", "title_en": "Not allowed"}),
        (f"/ui/city-events/{city_event_id}/invite", {"answer_by": "2030-04-01"}),
        (f"/ui/city-events/{city_event_id}/cancel", {}),
    ]:
        response = viewer.request.post(url, form={**form, "csrf": csrf}, max_redirects=0)
        assert response.status == 403, url
