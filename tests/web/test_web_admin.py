"""Administration and publicity in the browser: an admin creates a user, sets their password
(who then signs in with it), changes their role, issues an API token that the API accepts and
revokes it (then the API refuses it); staff and viewers have no administration; parked and
dead-lettered events show with their reason; the leaflet and the brochures are listed in every
language with their preview and PDF."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from conftest import bearer, in_two_languages
from playwright.sync_api import Browser, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.i18n import supported_locales
from twinning.publicity.content import Document
from twinning.publicity.refresh import Refresher
from twinning.publicity.render import render_document
from twinning.streams.events import PartnerCityUpdated, new_event
from web_support import (
    ADMIN,
    PASSWORD,
    STAFF,
    VIEWER,
    Office,
    accessibility_violations,
    csrf_of,
    in_thread,
    office,
    text,
)

__all__ = ["office"]  # a fixture

NAME_EXPECTED = (
    "Enter a name in lowercase letters, digits and . _ @ -, starting with a letter or a "
    "digit, at most 100 characters"
)
HOSTILE = "<script>alert('x')</script> \u202eevil"
COPY_THE_TOKEN = (
    "Copy it now: it is shown this once and cannot be shown again. Programs send it in the "
    "header Authorization: Bearer followed by the token."
)


@in_two_languages
def test_an_admin_creates_a_user_sets_a_password_changes_the_role_and_manages_a_token(
    office: Office, browser: Browser, locale: str
) -> None:
    page = office.page(browser, locale)
    office.sign_in(page, ADMIN)
    page.get_by_role("link", name=text("Administration", locale)).click()
    expect(page.locator("h1")).to_have_text(text("Administration", locale))

    name = f"new.clerk-{locale.lower()}"
    page.get_by_label(text("Name", locale), exact=True).fill("Not A Login!")
    page.get_by_role("button", name=text("Create the user", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(text("There is a problem", locale))
    expect(page.locator("#name-error")).to_contain_text(text(NAME_EXPECTED, locale))

    page.get_by_label(text("Name", locale), exact=True).fill(name)
    page.locator("#role").select_option("staff")
    page.get_by_role("button", name=text("Create the user", locale)).click()
    expect(page.locator("h1")).to_contain_text(name)
    user_page = page.url.split("?")[0]

    page.locator("#password").fill("short")
    page.get_by_role("button", name=text("Set the password", locale), exact=True).click()
    expect(page.locator("#password-error")).to_contain_text(
        text("Enter a password of at least %(count)s characters", locale, count=10)
    )
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=text("Set the password", locale), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text("The password was set.", locale))

    newcomer = office.page(browser, locale)
    office.sign_in_through_the_form(newcomer, name)
    expect(newcomer.locator(".who")).to_contain_text(f"{name} ({text('staff', locale)})")
    expect(newcomer.get_by_role("link", name=text("Administration", locale))).to_have_count(0)

    page.locator("#role").select_option("viewer")
    page.get_by_role("button", name=text("Change the role", locale)).click()
    expect(page.get_by_role("status")).to_contain_text(text("The role was changed.", locale))
    user_id = user_page.rsplit("/", 1)[1]
    assert office.call("GET", f"/users/{user_id}").json()["role"] == "viewer"

    page.locator("#label").fill(HOSTILE)
    page.get_by_role("button", name=text("Create an API token", locale)).click()
    expect(page.get_by_role("status")).to_contain_text(text(COPY_THE_TOKEN, locale))
    token = page.locator("#secret-value").input_value()
    expect(page.locator("#tokens ~ table")).to_contain_text("<script>alert('x')</script>")
    assert token.startswith("twn_")
    with httpx.Client(base_url=office.base, timeout=15) as api:
        me = api.get("/me", headers=bearer(token))
        assert me.status_code == 200 and me.json()["name"] == name
        assert me.json()["role"] == "viewer"

        page.goto(user_page)
        expect(page.locator("#secret-value")).to_have_count(0)  # shown once only
        page.get_by_role("link", name=text("Revoke", locale)).click()
        expect(page.locator("h1")).to_have_text(text("Revoke an API token", locale))
        if locale == "en":
            assert accessibility_violations(page) == []
        page.get_by_role("button", name=text("Revoke the token", locale)).click()
        expect(page.get_by_role("status")).to_contain_text(
            text("The token was revoked: the API refuses it from now on.", locale)
        )
        assert api.get("/me", headers=bearer(token)).status_code == 401

    page.get_by_role("button", name=text("Generate a password", locale)).click()
    generated = page.locator("#secret-value").input_value()
    assert len(generated) >= 10
    if locale == "en":
        assert accessibility_violations(page) == []
        page.goto("/ui/admin")
        expect(page.get_by_role("rowheader", name=name)).to_be_visible()
        assert accessibility_violations(page) == []


def test_an_admin_cannot_demote_or_deactivate_themselves(office: Office, browser: Browser) -> None:
    page = office.page(browser, "en")
    office.sign_in(page, ADMIN)
    page.goto("/ui/admin")
    page.get_by_role("link", name=ADMIN).click()
    expect(
        page.get_by_text("You cannot change your own role or deactivate yourself")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Change the role")).to_have_count(0)
    csrf = csrf_of(page)
    user_id = page.url.rsplit("/", 1)[1]
    refused = page.request.post(
        f"/ui/admin/users/{user_id}/role", form={"csrf": csrf, "role": "viewer"}
    )
    assert refused.status == 409
    assert "another admin can" in refused.text()
    taken = page.request.post(
        "/ui/admin/users", form={"csrf": csrf, "name": STAFF, "role": "admin"}
    )
    assert taken.status == 409
    assert 'id="name-error"' in taken.text() and STAFF in taken.text()
    me = [u for u in office.call("GET", "/users").json() if u["name"] == ADMIN]
    assert me[0]["role"] == "admin" and me[0]["active"]


@pytest.mark.parametrize("name", [STAFF, VIEWER])
def test_staff_and_viewers_have_no_administration(
    office: Office, browser: Browser, name: str
) -> None:
    page = office.page(browser, "en")
    office.sign_in(page, name)
    expect(page.locator(".who")).to_contain_text(name)
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    csrf = csrf_of(page)
    for path in ("/ui/admin", "/ui/admin/events"):
        response = page.goto(path)
        assert response is not None and response.status == 403
    posted = page.request.post("/ui/admin/users", form={"csrf": csrf, "name": "x", "role": "admin"})
    assert posted.status == 403
    assert all(u["name"] != "x" for u in office.call("GET", "/users").json())


def test_parked_and_dead_lettered_events_show_with_their_reason(
    office: Office, browser: Browser
) -> None:
    waiting = new_event(PartnerCityUpdated(region="Kansai"), aggregate_id="p-later", actor="x")
    orphan = new_event(PartnerCityUpdated(region="Nowhere"), aggregate_id="p-never", actor="x")

    def produce() -> None:
        assert office.api.apply(orphan) == ["parked"]
        assert office.api.expire_parked(timedelta(0)) == 1  # the orphan: dead-lettered
        assert office.api.apply(waiting) == ["parked"]

    in_thread(produce)
    page = office.page(browser, "en")
    office.sign_in(page, ADMIN)
    faults = page.locator("#faults ~ ul")
    expect(faults).to_contain_text("PartnerCityUpdated")
    expect(faults).to_contain_text("did not appear within 0s")
    page.get_by_role("link", name="All parked and dead-lettered events").click()
    table = page.get_by_role("table")
    dead = table.get_by_role("row").filter(has_text="p-never")
    expect(dead).to_contain_text("dead-lettered")
    expect(dead).to_contain_text("did not appear within 0s")
    expect(dead).to_contain_text(orphan.event_id)
    parked = table.get_by_role("row").filter(has_text="p-later")
    expect(parked).to_contain_text("parked")
    expect(table).not_to_contain_text("Kansai")  # nothing of the payload
    assert accessibility_violations(page) == []

    viewer = office.page(browser, "en")
    office.sign_in(viewer, STAFF)
    expect(viewer.locator("h1")).to_contain_text("Today")
    expect(viewer.locator("#faults")).to_have_count(0)


def _publish(office: Office, *, real: bool = True) -> None:
    """Render what is due: the English leaflet for real (when `real`), the rest as stand-ins
    (cheap)."""

    def render(document: Document, font_dir: str | None) -> tuple[str, bytes]:
        if real and document.locale == "en" and not hasattr(document, "partner_id"):
            return render_document(document, font_dir)
        return f"<html lang='{document.locale}'><p>stand-in</p></html>", b"%PDF-1.7 stand-in"

    async def run() -> None:
        engine = make_async_engine(office.api.settings.async_database_url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await Refresher(sessions, office.api.settings, render=render).refresh()
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(run()))


def test_the_publicity_page_lists_the_leaflet_and_brochures_in_every_language(
    office: Office, browser: Browser
) -> None:
    page = office.page(browser, "zh-TW")
    office.sign_in(page, VIEWER)
    page.get_by_role("link", name=text("Publicity", "zh-TW")).click()
    expect(page.locator("#leaflet ~ table")).to_contain_text(
        text("Being prepared: it appears here within a minute.", "zh-TW")
    )

    _publish(office)
    page.reload()
    leaflet = page.locator("#leaflet ~ table")
    for locale in supported_locales():
        row = leaflet.get_by_role("row").filter(has=page.locator(f"th[lang='{locale}']"))
        expect(row.get_by_role("link", name=text("PDF", "zh-TW"))).to_have_attribute(
            "href", f"/publicity/leaflet?lang={locale}&format=pdf"
        )
    brochures = page.locator("#brochures ~ table")
    expect(brochures).to_contain_text("札幌市")
    expect(brochures).to_contain_text("伯斯市")
    # Perth has no Japanese name: its Japanese brochure says "Perth", and staff are told.
    missing = page.locator("#missing ~ table").get_by_role("row").filter(has_text="伯斯市")
    expect(missing.filter(has=page.locator("td[lang='ja']"))).to_contain_text("Perth")
    english_row = leaflet.get_by_role("row").filter(has=page.locator("th[lang='en']"))
    expect(english_row.get_by_role("link", name=text("For print", "zh-TW"))).to_have_attribute(
        "href", "/publicity/leaflet?lang=en&format=print"
    )
    assert accessibility_violations(page) == []

    english = leaflet.get_by_role("row").filter(has=page.locator("th[lang='en']"))
    pdf = english.get_by_role("link", name=text("PDF", "zh-TW")).get_attribute("href")
    with office.client() as client:
        response = client.get(str(pdf))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 1000

    english.get_by_role("link", name=text("Versions", "zh-TW")).click()
    versions = page.get_by_role("table")
    expect(versions).to_contain_text(text("First version", "zh-TW"))
    expect(versions.get_by_role("link", name=text("PDF", "zh-TW"))).to_have_attribute(
        "href", "/publicity/leaflet/versions/1?lang=en&format=pdf"
    )
    assert accessibility_violations(page) == []

    exchange = {
        "partner_ids": [office.partners["Sapporo"]],
        "date": "2024-10-05",
        "field": "education",
        "direction": "inbound",
        "summary": {"en": "High-school robotics team"},
    }
    office.call("POST", "/exchanges", json=exchange)
    _publish(office, real=False)
    page.goto(f"/ui/publicity/brochures/{office.partners['Sapporo']}/ja")
    expect(page.locator("h1")).to_contain_text("札幌市")
    newest = page.get_by_role("table").get_by_role("row").nth(1)
    expect(newest.get_by_role("rowheader")).to_have_text("2")
    expect(newest).to_contain_text(text("exchange recorded", "zh-TW"))
