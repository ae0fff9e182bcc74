"""The staff web app in a real browser: sign in, find a partner city, read it, in Traditional
Chinese and in English; what a role may not see; the sign-in's defences; `/docs` offline."""

from __future__ import annotations

import re

import pytest
from conftest import in_two_languages
from playwright.sync_api import Browser, expect
from starlette.requests import Request
from starlette.responses import Response
from twinning.i18n import force_locale
from twinning.i18n.labels import label
from twinning.refusals import NotFound
from twinning.streams.events import MissionKind
from twinning.web.pages import aware_time, page_links
from twinning.web.session import Sessions, SignInThrottle
from web_support import (
    PASSWORD,
    STAFF,
    VIEWER,
    Office,
    accessibility_violations,
    office,
    shot,
    text,
)

__all__ = ["office"]  # a fixture


@in_two_languages
def test_staff_sign_in_and_find_a_partner_city_by_any_of_its_names(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)

    office.sign_in_through_the_form(page)

    expect(page.locator("h1")).to_contain_text(text("Today", locale))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    page.get_by_role("link", name=text("Partner cities", locale)).first.click()
    expect(page.locator("p.count")).to_contain_text("2")
    page.get_by_label(text("Name, in any language", locale)).fill("札幌")
    page.get_by_role("button", name=text("Search", locale)).click()
    sapporo = "札幌市" if locale == "zh-TW" else "Sapporo"
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_role("link", name=sapporo).click()
    expect(page.locator("h1")).to_have_text(sapporo)
    expect(page.locator("#contacts")).to_have_text(text("Contacts", locale))
    expect(page.locator("main")).to_contain_text("Hanako Yamada")
    shot(page, f"partner-{locale}")


def test_a_viewer_never_sees_contacts(office: Office, browser: Browser) -> None:
    page = office.page(browser, "en")
    office.sign_in(page, VIEWER)
    expect(page.locator("h1")).to_contain_text("Today")

    page.goto(f"/ui/partners/{office.partners['Sapporo']}")

    expect(page.locator("h1")).to_have_text("Sapporo")
    expect(page.locator("#contacts")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Hanako Yamada")


def test_the_language_chosen_is_remembered(office: Office, browser: Browser) -> None:
    page = office.page(browser, "en")
    office.sign_in(page)
    expect(page.locator("h1")).to_contain_text("Today")

    page.get_by_label("Language").select_option("ja")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.goto("/ui/partners")

    expect(page.locator("h1")).to_have_text(text("Partner cities", "ja"))


@in_two_languages
def test_a_page_of_a_record_that_is_not_there_says_so_in_the_readers_language(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page)
    expect(page.locator("h1")).to_contain_text(text("Today", locale))

    # Found missing in a helper the route calls (the visit under the item), not in the route.
    response = page.goto("/ui/visits/no-such-visit/itinerary/new")

    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text(text("Not found", locale))
    with force_locale(locale):
        message = NotFound("visit", "no-such-visit").text(locale)
    assert "no-such-visit" in message
    expect(page.locator("main")).to_contain_text(message)
    # The page keeps the header of a signed-in user: the way on is one click away.
    expect(page.get_by_role("navigation", name=text("Main", locale))).to_be_visible()


def test_pages_ask_for_a_sign_in_first_and_come_back_after_it(
    office: Office, browser: Browser
) -> None:
    page = office.page(browser, "en")
    target = f"/ui/partners/{office.partners['Perth']}"

    page.goto(target)
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    page.locator("#name").fill(STAFF)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stacked button[type=submit]").click()

    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    expect(page.locator("h1")).to_have_text("Perth")


def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed_down(
    office: Office, browser: Browser
) -> None:
    office.app.state.web_throttle = SignInThrottle(free=3, first_wait=60)
    page = office.page(browser, "en")

    office.sign_in_through_the_form(page, password="not the password")

    expect(page.get_by_role("alert")).to_contain_text(
        "The name or the password is not right. Check both and try again."
    )
    expect(page).to_have_title(re.compile(r"^Error:"))
    with office.client() as client:
        statuses = [
            client.post(
                "/ui/signin", data={"name": STAFF, "password": "wrong", "next": "/ui/"}
            ).status_code
            for _ in range(4)
        ]
        # After three failures in a row, even the right password must wait its turn.
        right = client.post("/ui/signin", data={"name": STAFF, "password": PASSWORD})
    assert statuses[:2] == [401, 401]
    assert 429 in statuses
    assert right.status_code == 429
    assert "Too many failed sign-ins" in right.text


def test_a_form_post_without_the_sessions_csrf_token_is_refused(office: Office) -> None:
    with office.client() as client:
        signed_in = client.post("/ui/signin", data={"name": STAFF, "password": PASSWORD})
        assert signed_in.status_code == 303
        page = client.get("/ui/")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None

        without = client.post("/ui/signout", data={})
        forged = client.post("/ui/signout", data={"csrf": "x" * 32})
        assert (without.status_code, forged.status_code) == (403, 403)
        assert client.get("/ui/").status_code == 200  # still signed in

        signed_out = client.post("/ui/signout", data={"csrf": token.group(1)})
        assert signed_out.status_code == 303
        assert client.get("/ui/").headers["location"].startswith("/ui/signin")


def test_the_session_cookie_is_httponly_lax_and_signed(office: Office) -> None:
    with office.client() as client:
        response = client.post("/ui/signin", data={"name": STAFF, "password": PASSWORD})
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        value = client.cookies["twinning_session"]
        client.cookies.set("twinning_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
        assert client.get("/ui/").status_code == 303  # a tampered cookie is no session


def test_a_session_left_idle_too_long_is_over() -> None:
    now = [1000.0]
    sessions = Sessions("k" * 40, idle_seconds=60, clock=lambda: now[0])
    response = Response()
    request = Request({"type": "http", "headers": [], "scheme": "http", "path": "/"})
    sessions.start(request, response, "user-1")
    cookie = response.headers["set-cookie"].split(";")[0]
    later = Request(
        {"type": "http", "headers": [(b"cookie", cookie.encode())], "scheme": "http", "path": "/"}
    )
    now[0] += 59
    assert sessions.read(later) is not None
    now[0] += 2
    assert sessions.read(later) is None


def test_failures_of_one_address_slow_down_every_name_it_tries() -> None:
    now = [0.0]
    throttle = SignInThrottle(free=3, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        throttle.failed(f"user:{name}", "address:10.0.0.1")
    assert throttle.wait("user:d", "address:10.0.0.1") == pytest.approx(1.0)
    assert throttle.wait("user:d", "address:10.0.0.2") == 0
    throttle.failed("user:d", "address:10.0.0.1")
    assert throttle.wait("user:e", "address:10.0.0.1") == pytest.approx(2.0)


#: The docs page and the API description it reads are the same on either database (nothing of
#: the page is read from it): one run, of the page's seconds of parsing its 1.8 MB script.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_docs_work_offline(office: Office, browser: Browser) -> None:
    page = office.page(browser, "en")

    page.goto("/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("twinning")
    # Every group is listed, folded; one opens on a click with its operations.
    expect(page.locator("#operations-tag-visits")).to_be_visible()
    expect(page.locator("#operations-tag-letters")).to_be_visible()
    page.locator("#operations-tag-publicity").click()
    expect(page.locator("#operations-publicity-get_leaflet_publicity_leaflet_get")).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/publicity/profile").first
    ).to_be_visible()


@in_two_languages
def test_every_page_passes_the_accessibility_scan(
    office: Office, browser: Browser, locale: str
) -> None:
    """axe-core finds nothing serious or critical (the page's own policy is bypassed only so
    that the scanner's script can be added)."""
    page = office.page(browser, locale)
    page.goto("/ui/signin")
    found = {"sign-in": accessibility_violations(page)}
    office.sign_in(page)
    expect(page.locator("h1")).to_contain_text(text("Today", locale))
    for name, path in [
        ("today", "/ui/"),
        ("partners", "/ui/partners"),
        ("partner", f"/ui/partners/{office.partners['Sapporo']}"),
        ("not found", "/ui/partners/nowhere"),
    ]:
        page.goto(path)
        found[name] = accessibility_violations(page)
    assert found == {name: [] for name in found}


def test_the_accessibility_scan_finds_a_violation_when_there_is_one(browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')

    assert any(v.startswith("image-alt (critical)") for v in accessibility_violations(page))
    context.close()


def test_what_the_pages_share_reads_times_in_their_zone_and_links_the_pages_of_a_list() -> None:
    assert aware_time("2030-05-03T10:00", "Asia/Taipei") == "2030-05-03T10:00:00+08:00"
    assert aware_time(" 2030-05-03T10:00 ", "Nowhere/Else") == "2030-05-03T10:00:00+00:00"
    assert aware_time("tomorrow", "Asia/Taipei") == "tomorrow"  # refused by the schema
    assert aware_time("", "Asia/Taipei") is None
    links = page_links("/ui/partners", {"q": "札幌", "kind": ""}, 2, more=False)
    assert links == {"previous": "/ui/partners?q=%E6%9C%AD%E5%B9%8C&page=1", "next_page": None}
    with force_locale("en"):
        assert label(MissionKind.EMBASSY) == "Embassy"  # as the other enums are labelled
