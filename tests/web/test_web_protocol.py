"""Protocol in the browser: the officials in order of precedence, an official registered
through the form (refused with what to fix, then accepted) with a form of address, which the
list shows; and the gifts given and received on a trip and on a city event, on their pages.
In Traditional Chinese and in English; each result checked through the API."""

from __future__ import annotations

from typing import Any

from conftest import accepted, in_two_languages, sample_visit
from playwright.sync_api import Browser, expect
from web_support import VIEWER, Office, accessibility_violations, office, text

__all__ = ["office"]  # a fixture


def official(office: Office, name: dict[str, str], title: dict[str, str], rank: int) -> str:
    body = {"names": name, "title": title, "protocol_rank": rank}
    return str(accepted(office.call("POST", "/officials", json=body))["id"])


@in_two_languages
def test_officials_are_listed_by_precedence_and_registered_with_a_form_of_address(
    office: Office, browser: Browser, locale: str
) -> None:
    # Same rank: the deputy mayor before the directors (the table of titles), then by name.
    official(office, {"zh-TW": "王局長", "en": "Adams"}, {"zh-TW": "局長", "en": "Director"}, 3)
    official(
        office, {"zh-TW": "吳副市長", "en": "Wu"}, {"zh-TW": "副市長", "en": "Deputy Mayor"}, 3
    )
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto("/ui/officials")
    page.get_by_role("link", name=text("Register an official", locale)).click()
    page.get_by_role("button", name=text("Register the official", locale)).click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(
        text("Enter the official's name in one language at least", locale)
    )
    expect(summary).to_contain_text(
        text("Enter a protocol rank, a whole number from 1 to 999", locale)
    )
    assert accessibility_violations(page) == []

    page.locator("#names_zh-TW").fill("蔣萬安")
    page.locator("#names_en").fill("Chiang Wan-an")
    page.locator("#title_zh-TW").fill("市長")
    page.locator("#title_en").fill("Mayor")
    page.locator("#protocol_rank").fill("1")
    page.locator("#forms_of_address_zh-TW").fill("市長閣下")
    page.locator("#forms_of_address_es").fill("Su Excelencia")
    page.get_by_role("button", name=text("Register the official", locale)).click()

    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three officials
    first = {"zh-TW": "市長閣下", "en": "Mayor Chiang Wan-an"}[locale]
    second, third = {"zh-TW": ("吳副市長", "王局長"), "en": ("Wu", "Adams")}[locale]
    expect(rows.nth(1)).to_contain_text(first)  # its form of address, or title and name
    expect(rows.nth(2)).to_contain_text(second)
    expect(rows.nth(3)).to_contain_text(third)
    assert accessibility_violations(page) == []

    mayor = next(o for o in office.call("GET", "/officials").json() if o["protocol_rank"] == 1)
    assert mayor["forms_of_address"] == {"zh-TW": "市長閣下", "es": "Su Excelencia"}

    rows.nth(1).get_by_role("link").click()
    expect(page.locator("#forms_of_address_zh-TW")).to_have_value("市長閣下")
    page.locator("#forms_of_address_zh-TW").fill("")
    page.locator("#forms_of_address_es").fill("")
    page.get_by_role("button", name=text("Save the changes", locale)).click()
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text(
        {"zh-TW": "蔣萬安市長", "en": "Mayor Chiang Wan-an"}[locale]
    )
    assert office.call("GET", f"/officials/{mayor['id']}").json()["forms_of_address"] is None


def test_viewers_read_the_officials_but_may_not_register_or_edit_them(office: Office) -> None:
    mayor = official(office, {"en": "Lin"}, {"en": "Mayor"}, 1)
    with office.signed_in(VIEWER) as (client, csrf):
        listed = client.get("/ui/officials")
        assert listed.status_code == 200 and "Lin" in listed.text
        assert "/ui/officials/new" not in listed.text
        assert client.get("/ui/officials/new").status_code == 403
        assert client.get(f"/ui/officials/{mayor}/edit").status_code == 403
        assert client.post("/ui/officials/new", data={"csrf": csrf}).status_code == 403
    assert len(office.call("GET", "/officials").json()) == 1


def _gift(office: Office, direction: str, what: str, occasion: dict[str, str]) -> None:
    mayor = office.call("GET", "/officials").json()[0]["id"]
    partner = {"kind": "partner", "id": office.partners["Sapporo"]}
    body: dict[str, Any] = {
        "direction": direction,
        "description": {"zh-TW": what, "en": what},
        "category": "craft",
        "date": "2026-10-10",
        "giver": {"kind": "official", "id": mayor} if direction == "given" else partner,
        "recipient": partner if direction == "given" else {"kind": "official", "id": mayor},
        "occasion": occasion,
        "location": "kept",
    }
    accepted(office.call("POST", "/gifts", json=body))


@in_two_languages
def test_a_trips_and_a_city_events_pages_show_the_gifts_given_and_received_on_them(
    office: Office, browser: Browser, locale: str
) -> None:
    official(office, {"zh-TW": "林市長", "en": "Mayor Lin"}, {"en": "Mayor"}, 1)
    trip = {
        "title": {"en": "Mayor's visit to Sapporo", "zh-TW": "市長訪問札幌"},
        "officials": [{"name": "Mayor Lin"}],
        "legs": [
            {
                "city": {"en": "Sapporo"},
                "country": "JP",
                "timezone": "Asia/Tokyo",
                "start": "2026-10-09T09:00:00+09:00",
                "end": "2026-10-11T18:00:00+09:00",
                "partner_ids": [office.partners["Sapporo"]],
            }
        ],
    }
    trip_id = accepted(office.call("POST", "/trips", json=trip))["id"]
    event = {
        "kind": "festival",
        "title": {"zh-TW": "國際文化節", "en": "International Culture Festival"},
        "starts_at": "2026-11-10T09:00:00+08:00",
        "ends_at": "2026-11-10T17:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Arts Plaza"},
    }
    event_id = accepted(office.call("POST", "/city-events", json=event))["id"]
    _gift(office, "given", "客家藍染桌旗", {"kind": "trip", "id": trip_id})
    _gift(office, "received", "雪祭木雕", {"kind": "trip", "id": trip_id})
    _gift(office, "received", "琉璃花瓶", {"kind": "city-event", "id": event_id})

    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/trips/{trip_id}")
    gifts = page.get_by_role("region", name=text("Gifts", locale))
    expect(gifts.get_by_role("table", name=text("Gifts given", locale))).to_contain_text(
        "客家藍染桌旗"
    )
    expect(gifts.get_by_role("table", name=text("Gifts received", locale))).to_contain_text(
        "雪祭木雕"
    )
    expect(gifts).not_to_contain_text("琉璃花瓶")
    assert accessibility_violations(page) == []
    gifts.get_by_role("link", name=text("Record a gift on this trip", locale)).click()
    expect(page.locator("#occasion")).to_have_value(f"trip:{trip_id}")

    page.goto(f"/ui/city-events/{event_id}")
    gifts = page.get_by_role("region", name=text("Gifts", locale))
    expect(gifts).to_contain_text(text("No gift given is recorded.", locale))
    expect(gifts.get_by_role("table", name=text("Gifts received", locale))).to_contain_text(
        "琉璃花瓶"
    )
    assert accessibility_violations(page) == []
    gifts.get_by_role("link", name=text("Record a gift on this event", locale)).click()
    expect(page.locator("#occasion")).to_have_value(f"city-event:{event_id}")

    with office.signed_in(VIEWER) as (client, _csrf):
        assert "琉璃花瓶" not in client.get(f"/ui/city-events/{event_id}").text
        assert "雪祭木雕" not in client.get(f"/ui/trips/{trip_id}").text


@in_two_languages
def test_staff_add_and_remove_delegation_members_listed_by_precedence_on_the_visit_page(
    office: Office, browser: Browser, locale: str
) -> None:
    visit = accepted(office.call("POST", "/visits", json=sample_visit()))["id"]
    accepted(office.call("POST", f"/visits/{visit}/approve"))
    director = {"names": {"en": "Kenji Mori"}, "title": {"en": "Director"}, "protocol_rank": 4}
    accepted(
        office.call("PUT", f"/visits/{visit}/delegation-members", json={"members": [director]})
    )
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/visits/{visit}")
    members = page.get_by_role("region", name=text("Delegation members", locale))
    members.get_by_role("link", name=text("Add a member", locale)).click()
    page.get_by_role("button", name=text("Add the member", locale)).click()

    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the member's name in one language at least", locale)
    )
    assert accessibility_violations(page) == []

    page.locator("#names_zh-TW").fill("安部愛子")
    page.locator("#names_en").fill("Aiko Abe")
    page.locator("#title_en").fill("Deputy Mayor")
    page.locator("#protocol_rank").fill("4")
    page.locator("#forms_of_address_zh-TW").fill("安部副市長")
    page.locator("#dietary_notes").fill("No shellfish")
    page.get_by_role("button", name=text("Add the member", locale)).click()

    members = page.get_by_role("region", name=text("Delegation members", locale))
    rows = members.get_by_role("row")
    expect(rows).to_have_count(3)
    name = {"zh-TW": "安部愛子", "en": "Aiko Abe"}[locale]
    expect(rows.nth(1)).to_contain_text(name)  # a deputy mayor before a director, same rank
    expect(rows.nth(1)).to_contain_text("No shellfish")
    expect(rows.nth(2)).to_contain_text("Kenji Mori")
    assert accessibility_violations(page) == []

    rows.nth(2).get_by_role("button").click()
    expect(
        page.get_by_role("region", name=text("Delegation members", locale)).get_by_role("row")
    ).to_have_count(2)
    listed = office.call("GET", f"/visits/{visit}").json()["delegation_members"]
    assert [m["names"]["en"] for m in listed] == ["Aiko Abe"]
    assert listed[0]["forms_of_address"] == {"zh-TW": "安部副市長"}

    with office.signed_in(VIEWER) as (client, csrf):
        assert "No shellfish" not in client.get(f"/ui/visits/{visit}").text
        assert client.get(f"/ui/visits/{visit}/members/new").status_code == 403
        assert (
            client.post(f"/ui/visits/{visit}/members/new", data={"csrf": csrf}).status_code == 403
        )


@in_two_languages
def test_staff_record_and_change_a_press_item_covering_a_visit(
    office: Office, browser: Browser, locale: str
) -> None:
    visit = accepted(office.call("POST", "/visits", json=sample_visit()))["id"]
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto("/ui/press?year=2026")
    page.get_by_role("link", name=text("Record a press item", locale)).click()
    page.get_by_role("button", name=text("Record the press item", locale)).click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(text("Choose the kind of press item", locale))
    expect(summary).to_contain_text(
        text("Enter the outlet: the newspaper, station or site, up to 200 characters", locale)
    )
    assert accessibility_violations(page) == []

    page.get_by_label(text("Kind of press item", locale)).select_option("article")
    page.locator("#outlet").fill("Taipei Times")
    page.locator("#date").fill("2026-05-11")
    page.locator("#item_language").select_option("en")
    page.locator("#title_en").fill("Sapporo delegation tours the city")
    page.locator("#covers").select_option(f"visit:{visit}")
    page.get_by_role("button", name=text("Record the press item", locale)).click()

    items = page.get_by_role("region", name=text("Press items", locale))
    expect(items).to_contain_text("Sapporo delegation tours the city")
    expect(items).to_contain_text("Taipei Times")
    assert accessibility_violations(page) == []
    [item] = office.call("GET", "/press", params={"covers": visit}).json()
    assert (item["kind"], item["date"], item["language"]) == ("article", "2026-05-11", "en")

    items.get_by_role("link", name=text("Change", locale)).click()
    expect(page.locator("#outlet")).to_have_value("Taipei Times")
    page.locator("#outlet").fill("United Daily News")
    page.get_by_role("button", name=text("Save the changes", locale)).click()
    expect(page.get_by_role("region", name=text("Press items", locale))).to_contain_text(
        "United Daily News"
    )
    assert office.call("GET", f"/press/{item['id']}").json()["outlet"] == "United Daily News"
    assert office.call("GET", f"/press/{item['id']}").json()["covers"] == [
        {"kind": "visit", "id": visit}
    ]


@in_two_languages
def test_staff_change_a_city_events_time_venue_attendees_and_co_hosts(
    office: Office, browser: Browser, locale: str
) -> None:
    mayor = official(office, {"zh-TW": "林市長", "en": "Mayor Lin"}, {"en": "Mayor"}, 1)
    event = {
        "kind": "festival",
        "title": {"zh-TW": "國際文化節", "en": "International Culture Festival"},
        "starts_at": "2026-11-10T09:00:00+08:00",
        "ends_at": "2026-11-10T17:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Arts Plaza"},
    }
    event_id = accepted(office.call("POST", "/city-events", json=event))["id"]
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/city-events/{event_id}")
    page.get_by_role("link", name=text("Change the event", locale)).click()
    expect(page.locator("#place")).to_have_value("Arts Plaza")
    page.locator("#ends_at").fill("2026-11-10T08:00")
    page.get_by_role("button", name=text("Save the changes", locale)).click()

    expect(page.get_by_role("alert").first).to_contain_text(
        text("Enter when the event ends, as a date and a time after its start", locale)
    )
    assert accessibility_violations(page) == []

    page.locator("#starts_at").fill("2026-11-11T10:00")
    page.locator("#ends_at").fill("2026-11-11T12:00")
    page.locator("#place").fill("Da'an Forest Park")
    page.get_by_label(f"{ {'zh-TW': '林市長', 'en': 'Mayor Lin'}[locale] }, Mayor").check()
    page.get_by_label({"zh-TW": "札幌市", "en": "Sapporo"}[locale]).check()
    page.get_by_role("button", name=text("Save the changes", locale)).click()

    expect(page.locator("h1")).to_contain_text(event["title"][locale])
    expect(page.get_by_text("Da'an Forest Park")).to_be_visible()
    assert accessibility_violations(page) == []
    changed = office.call("GET", f"/city-events/{event_id}").json()
    assert (changed["starts_at"], changed["ends_at"]) == (
        "2026-11-11T02:00:00Z",
        "2026-11-11T04:00:00Z",
    )
    assert changed["official_ids"] == [mayor]
    assert changed["co_hosts"] == [{"kind": "partner", "id": office.partners["Sapporo"]}]
    assert changed["title"] == event["title"]  # what the form did not change stays
