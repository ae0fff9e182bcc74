"""Letters and delegates in the browser, in Traditional Chinese and in English, with the axe
scan: staff edit a letter template (preview, then save a new version, the earlier ones
listed) and download a visit's letter from its page; an invitee answers through the public
answer page with each delegate's name, title and needs as rows, staff record another answer
the same way, and the staff summary shows them (a viewer does not see them)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, expect
from pypdf import PdfReader
from twinning.mail.links import AnswerLink, make_token
from twinning.web.session import session_key
from web_support import VIEWER, Office, accessibility_violations, office, shot, text

__all__ = ["office"]  # a fixture


def a_visit(office: Office) -> str:
    mayor = {
        "names": {"zh-TW": "林美玲", "en": "Lin Mei-ling"},
        "title": {"zh-TW": "市長", "en": "Mayor"},
        "protocol_rank": 1,
    }
    accepted(office.call("POST", "/officials", json=mayor))
    visit = {
        "delegation": {"partner_id": office.partners["Sapporo"]},
        "head_of_delegation": {
            "names": {"zh-TW": "秋元克廣", "en": "Katsuhiro Akimoto"},
            "title": {"zh-TW": "市長", "en": "Mayor"},
            "protocol_rank": 1,
        },
        "members": 6,
        "purpose": {"zh-TW": "冬季城市交流", "en": "a winter-cities exchange"},
        "requested_from": "2030-05-12",
        "requested_to": "2030-05-15",
    }
    return str(accepted(office.call("POST", "/visits", json=visit))["id"])


@in_two_languages
def test_staff_edit_a_letter_template_and_download_a_visits_letter(
    office: Office, browser: Browser, locale: str
) -> None:
    visit_id = a_visit(office)
    page = office.page(browser, locale)
    office.sign_in(page)
    page.get_by_role("link", name=text("Letters", locale), exact=True).click()
    expect(page.locator("h1")).to_have_text(text("Letter templates", locale))
    assert accessibility_violations(page) == []
    page.locator(f'a[href="/ui/letters/thank-you/{locale}"]').click()
    expect(page.locator("h1")).to_contain_text(text("Thank-you letter", locale))

    page.locator("#body").fill("{{ ''.__class__.__mro__ }}")
    page.get_by_role("button", name=text("Preview", locale)).click()
    expect(page.get_by_role("alert")).to_contain_text(
        text("Enter the text of the letter, with placeholders written as {{ partner }}", locale)
    )

    mine = (
        "我們衷心感謝{{ partner }}的來訪。"
        if locale == "zh-TW"
        else "We thank {{ partner }} warmly."
    )
    page.locator("#body").fill(f"{mine}\n\n{{{{ signatory_name }}}}")
    page.get_by_role("button", name=text("Preview", locale)).click()
    preview = page.locator("section.letter-preview")
    expect(preview).to_contain_text(mine.replace("{{ partner }}", text("Example City", locale)))
    assert accessibility_violations(page) == []
    shot(page, f"template-preview-{locale}", full_page=True)
    page.get_by_role("button", name=text("Save as a new version", locale)).click()
    expect(page.get_by_role("status")).to_have_text(
        text("Saved as version %(number)s.", locale, number=1)
    )
    rows = page.locator("section[aria-labelledby=versions-heading] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("chen.wei")
    shot(page, f"template-saved-{locale}", full_page=True)

    page.goto(f"/ui/visits/{visit_id}")
    page.locator("#letter-lang").select_option(locale)
    button = page.get_by_role("button", name=f"{text('Thank-you letter', locale)} (PDF)")
    # The first PDF of a data directory subsets the CJK fonts: seconds on a loaded machine.
    with page.expect_download(timeout=120_000) as download:
        button.click()
    pdf = Path(download.value.path()).read_bytes()
    content = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    partner = "札幌市" if locale == "zh-TW" else "Sapporo"
    signatory = "林美玲" if locale == "zh-TW" else "Lin Mei-ling"
    assert mine.replace("{{ partner }}", partner) in " ".join(content.split())
    assert signatory in content


def answer_link(office: Office, invitation: str, contact: str, locale: str) -> str:
    secret = session_key(office.api.settings)
    link = AnswerLink(invitation, contact, locale, datetime(2030, 6, 1, tzinfo=UTC))
    return f"/ui/answer/{make_token(secret, link)}?lang={locale}"


@in_two_languages
def test_delegates_answered_as_rows_reach_the_staff_summary_and_not_a_viewer(
    office: Office, browser: Browser, locale: str
) -> None:
    body = {
        "kind": "festival",
        "title": {"zh-TW": "國際文化節", "en": "International Culture Festival"},
        "starts_at": "2030-05-03T10:00:00+08:00",
        "ends_at": "2030-05-03T18:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Taipei City Hall plaza"},
    }
    city_event = accepted(office.call("POST", "/city-events", json=body))["id"]
    invitees = [{"kind": "partner", "id": office.partners[n]} for n in ("Sapporo", "Perth")]
    invite = {"answer_by": "2030-04-20", "invitees": invitees}
    sapporo, perth = (
        i["id"]
        for i in accepted(
            office.call("POST", f"/city-events/{city_event}/invitations", json=invite)
        )
    )
    [contact] = office.call("GET", "/contacts").json()

    public = office.page(browser, locale)
    public.goto(answer_link(office, sapporo, contact["id"], locale))
    expect(public.locator("h1")).to_have_text(text("Your answer to the invitation", locale))
    public.get_by_label(text("Accepted, in person", locale)).check()
    public.locator("#delegates").fill("2")
    public.locator("#delegate-name-1").fill("秋元克廣")
    public.locator("#delegate-title-1").fill("市長")
    public.locator("#delegate-needs-1").fill("素食")
    public.locator("#delegate-name-2").fill("Sato Aiko")
    public.locator("#delegate-needs-2").fill("wheelchair access")
    assert accessibility_violations(public) == []
    shot(public, f"answer-delegates-{locale}", full_page=True)
    public.get_by_role("button", name=text("Send the answer", locale)).click()
    expect(public.get_by_role("status")).to_contain_text(
        text("You may change it here until the event begins.", locale)
    )

    staff = office.page(browser, locale)
    office.sign_in(staff)
    staff.goto(f"/ui/city-events/{city_event}?invitation={perth}#rsvp")
    staff.locator("#answer").select_option("accepted-in-person")
    staff.locator("#delegates").fill("1")
    staff.locator("#delegate-name-1").fill("Basil Zempilas")
    staff.locator("#delegate-title-1").fill("Lord Mayor")
    staff.locator("#received_via").select_option("email")
    staff.get_by_role("button", name=text("Record the answer", locale)).click()
    table = staff.locator("table.invitations")
    expect(table).to_contain_text("Basil Zempilas")
    expect(table).to_contain_text("Lord Mayor")
    expect(table).to_contain_text("秋元克廣")
    expect(table).to_contain_text("wheelchair access")
    assert accessibility_violations(staff) == []
    shot(staff, f"summary-delegates-{locale}", full_page=True)

    viewer = office.page(browser, locale)
    office.sign_in(viewer, VIEWER)
    viewer.goto(f"/ui/city-events/{city_event}")
    expect(viewer.locator("table.invitations")).to_contain_text(text("Accepted, in person", locale))
    expect(viewer.locator("body")).not_to_contain_text("秋元克廣")
    expect(viewer.locator("body")).not_to_contain_text("Basil Zempilas")
