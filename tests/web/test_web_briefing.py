"""A visit's briefing documents in the browser: staff find the briefing book and the
delegation's programme on the visit's page, in the languages they were rendered in, and
download them; they write the visit's talking points there. Viewers see neither and are
refused the documents. In Traditional Chinese and in English."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.i18n import language_name
from twinning.publicity.briefing import Briefing, BriefingBook
from twinning.publicity.refresh import Refresher
from web_support import VIEWER, Office, accessibility_violations, in_thread, office, shot, text

__all__ = ["office"]  # a fixture


def stand_in(document: Briefing, font_dir: str | None) -> tuple[str, bytes]:
    """What the renderer stores, stood in for: this test is about the page, not the PDF."""
    name = "Briefing book" if isinstance(document, BriefingBook) else "Delegation programme"
    return f"<html lang='{document.locale}'><h1>{name} {document.locale}</h1></html>", (
        f"%PDF-1.7 {name} {document.locale}".encode()
    )


def render_what_is_due(office: Office) -> None:
    """The publicity consumer's pass over what is due (its renderer stood in for)."""

    async def run() -> None:
        engine = make_async_engine(office.api.settings.async_database_url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await Refresher(sessions, office.api.settings, render=stand_in).refresh()
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(run()))


def prepared_visit(office: Office) -> str:
    def call(url: str, **body: Any) -> str:
        return str(accepted(office.call("POST", url, json=body or None))["id"])

    mayor = call(
        "/officials",
        names={"zh-TW": "林市長", "en": "Mayor Lin"},
        title={"en": "Mayor"},
        protocol_rank=1,
    )
    hall = call("/venues", names={"en": "City Hall"}, capacity=100, timezone="Asia/Taipei")
    visit = call(
        "/visits",
        delegation={"partner_id": office.partners["Sapporo"]},
        head_of_delegation={
            "names": {"en": "Mayor Akimoto"},
            "title": {"en": "Mayor"},
            "protocol_rank": 1,
        },
        members=5,
        purpose={"en": "Snow festival"},
        requested_from="2026-05-01",
        requested_to="2026-05-02",
        languages=["ja"],
    )
    office.call("POST", f"/visits/{visit}/approve")
    call(
        f"/visits/{visit}/itinerary",
        starts_at="2026-05-01T10:00:00+08:00",
        ends_at="2026-05-01T11:00:00+08:00",
        venue_id=hall,
        official_ids=[mayor],
        titles={"en": "Courtesy call"},
    )
    render_what_is_due(office)
    return visit


@in_two_languages
def test_staff_download_the_briefing_documents_from_the_visit_page(
    office: Office, browser: Browser, locale: str
) -> None:
    visit = prepared_visit(office)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.goto(f"/ui/visits/{visit}")
    section = page.locator("section.briefing")
    expect(section.get_by_role("heading")).to_have_text(text("Briefing documents", locale))
    book = section.get_by_role("row").filter(has_text=text("Briefing book (internal)", locale))
    programme = section.get_by_role("row").filter(
        has_text=text("Programme for the delegation", locale)
    )
    expect(book).to_contain_text(language_name("zh-TW", locale="zh-TW"))
    expect(programme).to_contain_text(language_name("ja", locale="ja"))
    assert accessibility_violations(page) == []
    shot(section, f"visit-briefing-{locale}")

    with page.expect_download() as download:
        book.get_by_role("link", name="PDF").click()
    pdf = download.value.path().read_bytes()
    assert pdf == b"%PDF-1.7 Briefing book zh-TW"
    programme.get_by_role("link", name="HTML").click()
    expect(page.locator("h1")).to_have_text("Delegation programme ja")

    page.goto(f"/ui/visits/{visit}")
    page.get_by_label(text("Talking points of the visit", locale)).fill("Thank them for the snow")
    page.get_by_role("button", name=text("Save the talking points", locale)).click()
    expect(page.get_by_label(text("Talking points of the visit", locale))).to_have_value(
        "Thank them for the snow"
    )
    assert office.call("GET", f"/visits/{visit}").json()["talking_points"] == (
        "Thank them for the snow"
    )


@in_two_languages
def test_viewers_see_no_briefing_documents_and_are_refused_them(
    office: Office, browser: Browser, locale: str
) -> None:
    visit = prepared_visit(office)
    page = office.page(browser, locale)
    office.sign_in(page, VIEWER)
    page.goto(f"/ui/visits/{visit}")
    expect(page.locator("h1")).to_contain_text("札幌市" if locale == "zh-TW" else "Sapporo")
    expect(page.locator("section.briefing")).to_have_count(0)
    refused = page.request.get(f"/ui/visits/{visit}/briefing-book?lang=zh-TW&format=pdf")
    assert refused.status == 403
    assert b"%PDF" not in refused.body()
    anonymous = office.client().get(f"/ui/visits/{visit}/briefing-book?lang=zh-TW")
    assert anonymous.status_code in (303, 401) and b"%PDF" not in anonymous.content
