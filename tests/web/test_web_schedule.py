"""The calendar in the browser: a scheduled visit's itinerary item and a city event in the
office's week and month grids on their days (and the item in its official's calendar), on the
Today page too; secret feed links created, rotated and revoked through the feed page, each
checked through the API and by fetching the link as a calendar client would; a viewer reads
the grids but manages no link. In Traditional Chinese and in English."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from conftest import accepted, in_two_languages, sample_visit
from playwright.sync_api import Browser, Page, expect
from web_support import VIEWER, Office, accessibility_violations, csrf_of, office, text

__all__ = ["office"]  # a fixture

TAIPEI = "Asia/Taipei"
ITEM_TITLES = {"zh-TW": "禮貌性拜會", "en": "Courtesy call"}
EVENT_TITLES = {"zh-TW": "國際燈會", "en": "Lantern Festival"}
HOSTILE = '<script>alert("x")</script>\u202e\r\nphone'


def _today(office: Office) -> date:
    zone = ZoneInfo(office.app.state.settings.office_timezone)
    return datetime.now(zone).date()


def _at(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def _official(office: Office) -> str:
    body = {
        "names": {"zh-TW": "林市長", "en": "Mayor Lin"},
        "title": {"zh-TW": "市長", "en": "Mayor"},
        "protocol_rank": 1,
    }
    official: str = accepted(office.call("POST", "/officials", json=body))["id"]
    return official


def _seed(office: Office) -> dict[str, Any]:
    """A mayor, a scheduled visit with an item today (Taipei time) the mayor attends, and a
    city event on this week's Monday."""
    today = _today(office)
    monday = today - timedelta(days=today.weekday())
    mayor = _official(office)
    visit = accepted(office.call("POST", "/visits", json=sample_visit()))["id"]
    accepted(office.call("POST", f"/visits/{visit}/approve"))
    item = {
        "starts_at": _at(today, 10),
        "ends_at": _at(today, 11),
        "place": {"names": {"en": "Guest House", "zh-TW": "台北賓館"}, "timezone": TAIPEI},
        "official_ids": [mayor],
        "titles": ITEM_TITLES,
    }
    accepted(office.call("POST", f"/visits/{visit}/itinerary", json=item))
    accepted(office.call("POST", f"/visits/{visit}/schedule"))
    event = {
        "kind": "festival",
        "title": EVENT_TITLES,
        "starts_at": _at(monday, 18),
        "ends_at": _at(monday, 21),
        "timezone": TAIPEI,
        "venue": {"place": "Dajia Riverside Park"},
    }
    city_event = accepted(office.call("POST", "/city-events", json=event))["id"]
    return {"mayor": mayor, "visit": visit, "city_event": city_event, "today": today}


def _cell(page: Page, day: date) -> Any:
    """The grid's cell of `day` (its heading shows the date)."""
    monday = day - timedelta(days=day.weekday())
    return page.locator("table.calendar td").nth((day - monday).days)


@in_two_languages
def test_the_week_and_month_grids_show_the_visit_and_the_city_event_on_their_days(
    office: Office, browser: Browser, locale: str
) -> None:
    seeded = _seed(office)
    today = seeded["today"]
    monday = today - timedelta(days=today.weekday())
    page = office.page(browser, locale)
    office.sign_in(page)
    today_page = page.locator("section:has(#schedule)")  # the Today page's schedule
    expect(today_page.get_by_role("link", name=ITEM_TITLES[locale])).to_be_visible()
    expect(today_page).to_contain_text(TAIPEI)

    page.get_by_role("link", name=text("Calendar", locale), exact=True).first.click()

    item = _cell(page, today).get_by_role("link", name=ITEM_TITLES[locale])
    expect(item).to_have_attribute("href", f"/ui/visits/{seeded['visit']}")
    expect(_cell(page, today)).to_have_attribute("aria-current", "date")
    expect(_cell(page, today)).to_contain_text(TAIPEI)
    festival = _cell(page, monday).get_by_role("link", name=EVENT_TITLES[locale])
    expect(festival).to_have_attribute("href", f"/ui/city-events/{seeded['city_event']}")
    expect(_cell(page, monday)).to_contain_text("Dajia Riverside Park")
    assert accessibility_violations(page) == []

    page.get_by_label(text("Whose schedule", locale)).select_option(seeded["mayor"])
    page.get_by_role("button", name=text("Show", locale)).click()

    expect(page.locator("h1")).to_contain_text(
        text("Calendar of %(name)s", locale, name={"zh-TW": "林市長", "en": "Mayor Lin"}[locale])
    )
    expect(_cell(page, today).get_by_role("link", name=ITEM_TITLES[locale])).to_be_visible()
    expect(page.get_by_role("link", name=EVENT_TITLES[locale])).to_have_count(0)

    page.get_by_role("link", name=text("Next week", locale)).click()
    expect(page.get_by_role("link", name=ITEM_TITLES[locale])).to_have_count(0)
    page.get_by_role("link", name=text("This week", locale)).click()
    expect(page.get_by_role("link", name=ITEM_TITLES[locale])).to_be_visible()

    page.get_by_label(text("Whose schedule", locale)).select_option("")
    page.get_by_role("button", name=text("Show", locale)).click()
    page.get_by_role("link", name=text("Month", locale), exact=True).click()

    month = page.locator("table.calendar.month")
    expect(month.locator("td[aria-current=date]")).to_contain_text(ITEM_TITLES[locale])
    expect(month).to_contain_text(EVENT_TITLES[locale])
    assert accessibility_violations(page) == []


def _secret_url(office: Office, url: str) -> str:
    """The shown link on the test server (the settings' public base names another port)."""
    return office.base + "/feeds/" + url.split("/feeds/", 1)[1]


@in_two_languages
def test_feed_links_are_created_rotated_and_revoked_through_the_page(
    office: Office, browser: Browser, locale: str
) -> None:
    mayor = _official(office)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto("/ui/calendar")
    page.get_by_role("link", name=text("Calendar feeds to subscribe to", locale)).click()
    expect(page.get_by_text(text("No secret link yet.", locale))).to_be_visible()
    assert accessibility_violations(page) == []
    csrf = csrf_of(page)
    refused = page.request.post(
        "/ui/calendar/feeds",
        form={"csrf": csrf, "audience": "official:nobody", "feed_language": "fr"},
    )
    assert refused.status == 422
    assert text("Choose the language of the calendar", locale) in refused.text()

    page.get_by_label(text("Whose calendar", locale)).select_option(f"official:{mayor}")
    page.get_by_label(text("Language of the calendar", locale)).select_option("en")
    purpose = page.get_by_label(text("What it is for (optional)", locale))
    purpose.fill(HOSTILE)
    typed = purpose.input_value()  # a one-line input keeps no line break
    page.get_by_role("button", name=text("Create the link", locale)).click()

    url = page.get_by_label(text("Link (https)", locale)).input_value()
    webcal = page.get_by_label(
        text("Subscription link (webcal), for Apple Calendar and Outlook", locale)
    ).input_value()
    assert url.endswith(".ics?lang=en") and webcal == "webcal://" + url.split("://", 1)[1]
    expect(page.locator("table.feed-links").first).to_contain_text(typed)
    assert page.locator("script:not([src])").count() == 0
    assert accessibility_violations(page) == []
    (link,) = office.call("GET", "/feed-links").json()
    assert (link["audience"], link["language"], link["label"]) == (f"official:{mayor}", "en", typed)
    assert url.split("/feeds/", 1)[1].startswith(link["token_prefix"])
    subscriber = httpx.Client(timeout=15)
    feed = subscriber.get(_secret_url(office, url))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")

    page.get_by_role("button", name=text("New secret", locale)).click()

    rotated = page.get_by_label(text("Link (https)", locale)).input_value()
    assert rotated != url
    assert subscriber.get(_secret_url(office, url)).status_code == 404
    assert subscriber.get(_secret_url(office, rotated)).status_code == 200
    assert office.call("GET", f"/feed-links/{link['id']}").json()["rotated_at"] is not None

    page.get_by_role("link", name=text("Revoke", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Revoke the link?", locale))
    page.get_by_role("button", name=text("Revoke the link", locale)).click()

    notice = text("The link was revoked: it no longer works.", locale)
    expect(page.get_by_role("status").filter(has_text=notice)).to_be_visible()
    expect(page.get_by_text(text("No secret link yet.", locale))).to_be_visible()
    assert subscriber.get(_secret_url(office, rotated)).status_code == 404
    assert office.call("GET", f"/feed-links/{link['id']}").json()["revoked_at"] is not None
    subscriber.close()


def test_a_viewer_reads_the_calendar_but_manages_no_feed_link(
    office: Office, browser: Browser
) -> None:
    mayor = _official(office)
    link = office.call("POST", "/feed-links", json={"audience": {"kind": "office"}}).json()
    page = office.page(browser, "en")
    office.sign_in(page, VIEWER)
    page.goto("/ui/calendar")
    expect(page.locator("h1")).to_contain_text("Calendar")

    page.get_by_role("link", name="Calendar feeds to subscribe to").click()

    expect(
        page.get_by_role("heading", name="Public calendars of the partner cities")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Create the link")).to_have_count(0)
    expect(page.get_by_role("button", name="New secret")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(link["token_prefix"])
    csrf = csrf_of(page)
    created = page.request.post(
        "/ui/calendar/feeds", form={"csrf": csrf, "audience": f"official:{mayor}"}
    )
    rotated = page.request.post(f"/ui/calendar/feeds/{link['id']}/rotate", form={"csrf": csrf})
    revoked = page.request.post(f"/ui/calendar/feeds/{link['id']}/revoke", form={"csrf": csrf})
    assert (created.status, rotated.status, revoked.status) == (403, 403, 403)
    assert page.goto(f"/ui/calendar/feeds/{link['id']}/revoke").status == 403  # type: ignore[union-attr]
    assert [one["id"] for one in office.call("GET", "/feed-links").json()] == [link["id"]]
