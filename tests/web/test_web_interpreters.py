"""The interpreter flow in the browser: the roster (a form refused with what to write, then
an interpreter registered with one direction), the interpreter booked on an itinerary item,
a second booking at another venue too soon after refused with the conflict shown and linked,
booked anyway with a reason, and the visit's page showing which language pairs each item
needs and whether they are covered. In Traditional Chinese and in English."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, expect
from web_support import Office, accessibility_violations, office, text

__all__ = ["office"]  # a fixture

HALL = {
    "names": {"zh-TW": "市政大樓第一會議室", "en": "City Hall Room 1"},
    "capacity": 40,
    "timezone": "Asia/Taipei",
}
MUSEUM = {
    "names": {"zh-TW": "客家文化館", "en": "Hakka Culture Museum"},
    "capacity": 80,
    "timezone": "Asia/Taipei",
}
NAME = "Chen Ya-ting"


def japanese_visit(office: Office) -> str:
    body = {
        "delegation": {"partner_id": office.partners["Sapporo"]},
        "head_of_delegation": {
            "names": {"ja": "秋元克広", "en": "Katsuhiro Akimoto"},
            "title": {"ja": "市長", "en": "Mayor"},
            "protocol_rank": 1,
        },
        "members": 6,
        "purpose": {"en": "Winter sports exchange", "zh-TW": "冬季運動交流"},
        "requested_from": "2027-05-03",
        "requested_to": "2027-05-05",
        "languages": ["ja"],
    }
    visit_id = str(accepted(office.call("POST", "/visits", json=body))["id"])
    accepted(office.call("POST", f"/visits/{visit_id}/approve"))
    return visit_id


@in_two_languages
def test_roster_then_assignment_then_conflict_then_coverage_on_the_visit_page(
    office: Office, browser: Browser, locale: str
) -> None:
    hall = accepted(office.call("POST", "/venues", json=HALL))["id"]
    museum = accepted(office.call("POST", "/venues", json=MUSEUM))["id"]
    visit_id = japanese_visit(office)
    page = office.page(browser, locale)
    office.sign_in(page)

    # The roster: register an interpreter, first refused with what to write.
    page.goto("/ui/")
    page.get_by_role("link", name=text("Interpreters", locale), exact=True).click()
    page.get_by_role("link", name=text("Register an interpreter", locale)).click()
    page.get_by_role("button", name=text("Register the interpreter", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the interpreter's name, up to 200 characters", locale)
    )
    page.locator("#name").fill(NAME)
    page.locator("#language_pairs").fill("zh-TW > ja")  # one way only
    page.locator("#email").fill("chen@example.org")
    page.get_by_role("button", name=text("Register the interpreter", locale)).click()
    expect(page.locator("h1")).to_have_text(NAME)
    expect(page.locator(".facts")).to_contain_text("zh-TW → ja")
    if locale == "en":
        assert accessibility_violations(page) == []
    [chen] = office.call("GET", "/interpreters").json()
    assert chen["language_pairs"] == [{"source": "zh-TW", "target": "ja"}]

    # Booked on an item at the hall (through the API), 10:00 to 11:00.
    first = {
        "titles": {"zh-TW": "市長接見", "en": "Courtesy call on the mayor"},
        "starts_at": "2027-05-03T10:00:00+08:00",
        "ends_at": "2027-05-03T11:00:00+08:00",
        "venue_id": hall,
        "interpreter_ids": [chen["id"]],
    }
    first_id = accepted(office.call("POST", f"/visits/{visit_id}/itinerary", json=first))["id"]

    # A second item at the museum ten minutes later, with the same interpreter: refused.
    page.goto(f"/ui/visits/{visit_id}")
    page.get_by_role("link", name=text("Add an item", locale)).click()
    page.locator("#titles_en").fill("Visit to the Hakka Culture Museum")
    page.locator("#starts_at").fill("2027-05-03T11:10")
    page.locator("#ends_at").fill("2027-05-03T12:00")
    page.locator("#venue_id").select_option(museum)
    page.get_by_label(f"{NAME} (zh-TW → ja)").check()
    page.get_by_role("button", name=text("Add the item", locale)).click()
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text(text("The item was not booked", locale))
    expect(conflict).to_contain_text(
        text(
            "Leaves the interpreter %(name)s less than the %(minutes)s minutes needed to travel"
            " between the two places",
            locale,
            name=NAME,
            minutes=30,
        )
    )
    link = conflict.get_by_role("link", name=first["titles"][locale])
    expect(link).to_have_attribute("href", f"/ui/visits/{visit_id}#item-{first_id}")
    if locale == "en":
        assert accessibility_violations(page) == []
    assert len(office.call("GET", f"/visits/{visit_id}/itinerary").json()) == 1

    # Booked anyway with a reason (a car takes the interpreter across).
    page.locator("#override_reason").fill("A city car takes the interpreter across")
    page.get_by_role("button", name=text("Override with this reason", locale)).click()
    table = page.locator("table.itinerary")
    expect(table).to_contain_text("Visit to the Hakka Culture Museum")

    # The visit's page: each item needs zh-TW → ja and ja → zh-TW; only the first is covered.
    coverage = table.locator(f"#item-{first_id} .coverage")
    expect(coverage.locator(".covered")).to_contain_text("zh-TW → ja")
    expect(coverage.locator(".not-covered")).to_contain_text("ja → zh-TW")
    expect(coverage.locator(".not-covered")).to_contain_text(text("not covered", locale))
    if locale == "en":
        assert accessibility_violations(page) == []
    second = [
        i for i in office.call("GET", f"/visits/{visit_id}/itinerary").json() if i["id"] != first_id
    ]
    assert second[0]["interpreter_ids"] == [chen["id"]]
    assert second[0]["overrides"][0]["reason"] == "A city car takes the interpreter across"

    # Their data, as a request for access asks for it: the contact and both bookings.
    page.goto(f"/ui/interpreters/{chen['id']}")
    with page.expect_download() as download:
        page.get_by_role("link", name=text("Download their data (JSON)", locale)).click()
    held = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert held["erased_by_erasure"]["contact"]["email"] == "chen@example.org"
    booked = [item["item_id"] for item in held["kept"]["itinerary_items"]]
    assert sorted(booked) == sorted([first_id, second[0]["id"]])


def test_the_trip_and_city_event_forms_list_conflicts_of_every_kind_and_take_an_override(
    office: Office,
) -> None:
    """Without a browser: the forms' answers. A trip planned while its official has an item
    is refused listing the item (linked), then planned with a reason; a city event booking
    the mayor while the trip has them abroad is refused naming the trip."""
    mayor = accepted(
        office.call(
            "POST",
            "/officials",
            json={"names": {"en": "Mayor Lin"}, "title": {"en": "Mayor"}, "protocol_rank": 1},
        )
    )["id"]
    visit_id = japanese_visit(office)
    item = {
        "titles": {"en": "Courtesy call on the mayor"},
        "starts_at": "2027-05-03T10:00:00+08:00",
        "ends_at": "2027-05-03T11:00:00+08:00",
        "place": {"names": {"en": "Guest House"}, "timezone": "Asia/Taipei"},
        "official_ids": [mayor],
    }
    item_id = accepted(office.call("POST", f"/visits/{visit_id}/itinerary", json=item))["id"]
    trip = {
        "title_en": "Mayor in Tokyo",
        "official_ids": mayor,
        "leg_count": "1",
        "leg1_city_en": "Tokyo",
        "leg1_country": "JP",
        "leg1_timezone": "Asia/Tokyo",
        "leg1_start": "2027-05-03T08:00",
        "leg1_end": "2027-05-03T18:00",
    }
    with office.signed_in() as (client, csrf):
        refused = client.post("/ui/trips/new", data={**trip, "csrf": csrf})
        assert refused.status_code == 409, refused.text
        assert text("The trip was not planned", "en") in refused.text
        assert f'href="/ui/visits/{visit_id}#item-{item_id}"' in refused.text
        assert 'name="override_reason"' in refused.text
        planned = client.post(
            "/ui/trips/new",
            data={**trip, "csrf": csrf, "override": "yes", "override_reason": "joins by video"},
        )
        assert planned.status_code == 303, planned.text
        office.call("GET", "/trips")  # applies what the form committed, after answering
        [planned_trip] = office.call("GET", "/trips").json()
        assert planned_trip["status"] == "planned"

        event = {
            "csrf": csrf,
            "kind": "forum",
            "title_en": "Smart City Forum",
            "timezone": "Asia/Taipei",
            "starts_at": "2027-05-03T14:00",
            "ends_at": "2027-05-03T15:00",
            "official_ids": mayor,
        }
        refused = client.post("/ui/city-events", data=event)
        assert refused.status_code == 409, refused.text
        assert text("The city event was not booked", "en") in refused.text
        assert f'href="/ui/trips/{planned_trip["id"]}"' in refused.text
        assert "Mayor in Tokyo" in refused.text
        event.update(override="yes", override_reason="the deputy mayor stands in")
        scheduled = client.post("/ui/city-events", data=event)
        assert scheduled.status_code == 303, scheduled.text
        office.call("GET", "/city-events")  # applies what the form committed
        [city_event] = office.call("GET", "/city-events").json()
        assert city_event["official_ids"] == [mayor]
        page = client.get(f"/ui/city-events/{city_event['id']}")
        assert text("Officials who attend", "en") in page.text and "Mayor Lin" in page.text
