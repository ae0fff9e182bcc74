"""Exchanges and trips abroad in the browser: an exchange with a partner city recorded through
its form (refused with what to fix, then accepted) and found in the history; a trip planned
with legs across time zones (refused with the leg that ends before it starts, then accepted),
shown in each leg's own time, and completed; in Traditional Chinese and in English. Each
result is checked through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from conftest import accepted, in_two_languages, wait_for
from playwright.sync_api import Browser, Page, expect
from twinning.i18n import format_datetime
from web_support import STAFF, VIEWER, Office, accessibility_violations, office, text

__all__ = ["office"]  # a fixture

HOSTILE = "<script>document.title='owned'</script>\u202eevil\r\nline"
SAPPORO = {"zh-TW": "札幌市", "en": "Sapporo"}


def submit(page: Page, name: str, locale: str) -> None:
    page.get_by_role("button", name=text(name, locale), exact=True).click()


@in_two_languages
def test_an_exchange_with_a_partner_city_is_recorded_through_the_form(
    office: Office, browser: Browser, locale: str
) -> None:
    # The policy is bypassed only to add the accessibility scanner: hostile text is then inert
    # because it is escaped, not because scripts are blocked.
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Exchanges", locale), exact=True).click()
    expect(page.locator("h1")).to_have_text(text("Exchanges", locale))
    assert accessibility_violations(page) == []
    page.get_by_role("link", name=text("Record an exchange", locale)).click()

    submit(page, "Record the exchange", locale)

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("Choose at least one partner city", locale))
    expect(summary).to_contain_text(text("Describe the exchange, in one language at least", locale))
    expect(page.locator("#date")).to_have_attribute("aria-invalid", "true")
    assert accessibility_violations(page) == []

    page.get_by_role("checkbox", name=SAPPORO[locale]).check()
    page.locator("#date").fill("2026-11-20")
    page.get_by_label(text("Field of cooperation", locale)).select_option("culture")
    page.get_by_label(text("How it took place", locale)).select_option("outbound")
    page.locator("#summary_zh-TW").fill("雪祭文化交流")
    page.locator("#summary_en").fill(HOSTILE)
    typed = page.locator("#summary_en").input_value()
    page.locator("#participants").fill("many")
    submit(page, "Record the exchange", locale)

    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter how many people took part, a whole number from 0, or leave it empty", locale)
    )
    expect(page.locator("#summary_en")).to_have_value(typed)  # kept, as typed
    expect(page.get_by_role("checkbox", name=SAPPORO[locale])).to_be_checked()

    page.locator("#participants").fill("12")
    submit(page, "Record the exchange", locale)

    heading = page.locator("h1")
    expect(heading).to_contain_text(SAPPORO[locale])
    expect(page.locator("dl.facts").first).to_contain_text(text("Culture", locale))
    expect(page.locator("dl.facts").first).to_contain_text(text("Visit abroad", locale))
    page.get_by_role("link", name=text("All exchanges", locale)).click()
    page.get_by_label(text("Field of cooperation", locale)).select_option("culture")
    page.get_by_role("button", name=text("Search", locale)).click()
    row = page.get_by_role("row").filter(has_text=SAPPORO[locale])
    expect(row).to_have_count(1)
    expect(row).to_contain_text(text("Culture", locale))
    assert page.title() != "owned"
    assert page.locator("main script").count() == 0

    found = office.call("GET", f"/exchanges?partner_id={office.partners['Sapporo']}").json()
    assert [(e["date"], e["field"], e["direction"], e["participants"]) for e in found] == [
        ("2026-11-20", "culture", "outbound", 12)
    ]
    assert found[0]["summary"]["zh-TW"] == "雪祭文化交流"
    assert found[0]["summary"]["en"] == typed


def local(moment: datetime, zone: str, locale: str) -> str:
    return format_datetime(moment, zone, format="short", locale=locale)


@in_two_languages
def test_a_trip_is_planned_with_legs_in_their_own_time_zones_and_completed(
    office: Office, browser: Browser, locale: str
) -> None:
    mayor = {
        "names": {"zh-TW": "林市長", "en": "Mayor Lin"},
        "title": {"zh-TW": "市長", "en": "Mayor"},
        "protocol_rank": 1,
    }
    mayor_id = accepted(office.call("POST", "/officials", json=mayor))["id"]
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Trips", locale), exact=True).click()
    expect(page.locator("h1")).to_have_text(text("Trips abroad", locale))
    page.get_by_role("link", name=text("Plan a trip", locale)).click()

    page.locator("#title_zh-TW").fill("市長訪問札幌與巴黎")
    page.locator("#title_en").fill("The mayor in Sapporo and Paris")
    page.get_by_role("checkbox", name=re.compile(mayor["names"][locale])).check()
    page.locator("#leg1_city_en").fill("Sapporo")
    page.locator("#leg1_country").select_option("JP")
    page.locator("#leg1_timezone").fill("Asia/Tokyo")
    page.locator("#leg1_start").fill("2027-02-05T09:00")
    page.locator("#leg1_end").fill("2027-02-08T18:00")
    page.locator("#leg1_partner").select_option(office.partners["Sapporo"])
    page.get_by_role("button", name=text("Add another leg", locale)).click()

    expect(page.locator("#leg4_city_en")).to_be_visible()
    expect(page.locator("#leg1_start")).to_have_value("2027-02-05T09:00")
    page.locator("#leg2_city_en").fill("Paris")
    page.locator("#leg2_country").select_option("FR")
    page.locator("#leg2_timezone").fill("Europe/Paris")
    page.locator("#leg2_start").fill("2027-02-09T10:00")
    page.locator("#leg2_end").fill("2027-02-09T08:00")  # before it starts
    submit(page, "Plan the trip", locale)

    wrong_leg = text("Leg %(number)s: enter when it ends, after it starts", locale, number=2)
    expect(page.get_by_role("alert")).to_contain_text(wrong_leg)
    expect(page.locator("#leg2_end")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#leg1_end")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#leg2_timezone")).to_have_value("Europe/Paris")
    assert accessibility_violations(page) == []

    page.locator("#leg2_end").fill("2027-02-12T16:00")
    submit(page, "Plan the trip", locale)

    heading = page.locator("h1")
    expect(heading).to_contain_text(text("planned", locale))
    rows = page.locator("table.legs tbody tr")
    expect(rows).to_have_count(2)
    tokyo, paris = "Asia/Tokyo", "Europe/Paris"
    expect(rows.nth(0)).to_contain_text(local(datetime(2027, 2, 5, 0, tzinfo=UTC), tokyo, locale))
    expect(rows.nth(0)).to_contain_text(tokyo)
    expect(rows.nth(1)).to_contain_text(local(datetime(2027, 2, 9, 9, tzinfo=UTC), paris, locale))
    expect(rows.nth(1)).to_contain_text(local(datetime(2027, 2, 12, 15, tzinfo=UTC), paris, locale))
    expect(rows.nth(1)).to_contain_text(paris)
    assert accessibility_violations(page) == []
    trip_id = page.url.split("/ui/trips/")[1].split("?")[0]

    trip = office.call("GET", f"/trips/{trip_id}").json()
    assert [o["official_id"] for o in trip["officials"]] == [mayor_id]
    legs = [
        (leg["timezone"], datetime.fromisoformat(leg["starts_at"]), leg["partner_ids"])
        for leg in trip["legs"]
    ]
    assert legs == [
        (tokyo, datetime(2027, 2, 5, 0, tzinfo=UTC), [office.partners["Sapporo"]]),
        (paris, datetime(2027, 2, 9, 9, tzinfo=UTC), []),
    ]

    page.get_by_role("link", name=text("Change the trip", locale)).click()
    expect(page.locator("#leg2_start")).to_have_value("2027-02-09T10:00")  # Paris's own clock
    expect(page.locator("#leg3_city_en")).to_have_value("")  # a row for another leg
    page.locator("#leg2_start").fill("2027-02-13T20:00")  # after the leg ends
    page.locator("#leg2_itinerary_en").fill("OECD forum")
    submit(page, "Save the changes", locale)

    expect(page.get_by_role("alert")).to_contain_text(wrong_leg)
    page.locator("#leg2_start").fill("2027-02-09T20:00")
    submit(page, "Save the changes", locale)

    expect(rows.nth(1)).to_contain_text("OECD forum")
    expect(rows.nth(1)).to_contain_text(local(datetime(2027, 2, 9, 19, tzinfo=UTC), paris, locale))
    changed = office.call("GET", f"/trips/{trip_id}").json()
    assert datetime.fromisoformat(changed["legs"][1]["starts_at"]) == datetime(
        2027, 2, 9, 19, tzinfo=UTC
    )
    assert changed["legs"][0]["partner_ids"] == [office.partners["Sapporo"]]

    page.get_by_role("link", name=text("All trips", locale)).click()
    upcoming = page.locator("#upcoming ~ table")
    expect(upcoming).to_contain_text(mayor["names"][locale])
    expect(upcoming).to_contain_text(tokyo)
    assert accessibility_violations(page) == []
    page.get_by_role("link", name=re.compile("札幌|Sapporo")).first.click()

    page.get_by_role("button", name=text("The trip took place", locale)).click()

    expect(heading).to_contain_text(text("completed", locale))
    completed = office.call("GET", f"/trips/{trip_id}").json()
    assert completed["status"] == "completed" and completed["exchange_id"]
    exchange = wait_for(
        lambda: (
            (r := office.call("GET", f"/exchanges/{completed['exchange_id']}")).status_code == 200
            and r.json()
        ),
        what="the trip's exchange",
    )
    assert (exchange["partner_ids"], exchange["direction"]) == (
        [office.partners["Sapporo"]],
        "outbound",
    )


def test_a_viewer_reads_exchanges_and_trips_but_sees_no_form_and_cannot_post(
    office: Office,
) -> None:
    with office.signed_in(VIEWER) as (client, csrf):
        exchanges, trips = client.get("/ui/exchanges"), client.get("/ui/trips")
        assert (exchanges.status_code, trips.status_code) == (200, 200)
        assert "/ui/exchanges/new" not in exchanges.text
        assert "/ui/trips/new" not in trips.text
        assert client.get("/ui/exchanges/new").status_code == 403
        assert client.get("/ui/trips/new").status_code == 403
        assert client.get("/ui/trips/any/edit").status_code == 403
        exchange = {
            "csrf": csrf,
            "partner_ids": office.partners["Perth"],
            "date": "2026-10-01",
            "field": "sports",
            "direction": "inbound",
            "summary_en": "Not by a viewer",
        }
        assert client.post("/ui/exchanges/new", data=exchange).status_code == 403
        assert client.post("/ui/trips/new", data={"csrf": csrf}).status_code == 403
        assert client.post("/ui/trips/any/cancel", data={"csrf": csrf}).status_code == 403
    assert office.call("GET", "/exchanges").json() == []


def test_a_missing_exchange_or_trip_is_not_found_and_an_unknown_step_is_refused(
    office: Office,
) -> None:
    with office.signed_in(STAFF) as (client, csrf):
        assert client.get("/ui/exchanges/nowhere").status_code == 404
        assert client.get("/ui/trips/nowhere").status_code == 404
        assert client.post("/ui/trips/nowhere/delete", data={"csrf": csrf}).status_code == 403
        refused = client.post("/ui/trips/nowhere/cancel", data={"csrf": csrf})
        assert refused.status_code == 303 and "refused=" in refused.headers["location"]
