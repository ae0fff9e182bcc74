"""Visit requests from outside, in the browser: a delegation's contact, not signed in, asks to
visit through the public form in their language (its refusals, its hour's limit), gets the
acknowledgement by email (the Maildir default) in that language; staff see the request flagged,
accept it, preview the mail of their approval in the contact's language and send it. In
Traditional Chinese and in English, with the axe scan."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from conftest import in_two_languages
from playwright.sync_api import Browser, Page, expect
from web_support import Office, accessibility_violations, in_thread, office, shot, text

sys.path.insert(0, str(Path(__file__).parent.parent / "mail"))
from mail_desk import MailDesk, maildir_messages
from twinning.db import utcnow
from twinning.mail.sender import maildir_of

__all__ = ["office"]  # a fixture


CONTACT = {"zh-TW": ("陳美玲", "chen@example.tw"), "en": ("Ann Lee", "ann@example.org")}


def fill_request(page: Page, locale: str) -> None:
    name, email = CONTACT[locale]
    page.locator("#organisation_name").fill("Kaohsiung–Osaka Friendship Society")
    page.locator("#head_name").fill("Taro Yamada")
    page.locator("#head_title").fill("Chair")
    page.get_by_label(text("Mayor, governor or head of the organisation", locale)).check()
    page.locator("#members").fill("6")
    page.locator("#purpose").fill("Cultural exchange")
    page.locator("#requested_from").fill("2031-03-02")
    page.locator("#requested_to").fill("2031-03-04")
    page.locator("#contact_name").fill(name)
    page.locator("#contact_email").fill(email)


def mail(office: Office) -> list[object]:
    desk = MailDesk(office.api, office.api.settings)
    desk.clock.now = utcnow()
    in_thread(desk.notify)
    in_thread(desk.send)
    return list(maildir_messages(maildir_of(office.api.settings)))


@in_two_languages
def test_a_delegation_asks_to_visit_and_staff_accept_approve_and_tell_them(
    office: Office, browser: Browser, locale: str
) -> None:
    office.app.state.settings = office.api.settings.model_copy(update={"visit_form_per_hour": 1})
    public = office.page(browser, locale)
    public.goto("/ui/visit-request")
    expect(public.locator("h1")).to_have_text(text("Ask to visit", locale))
    assert accessibility_violations(public) == []

    # Sent empty: what to fix, each field named, in the page's language.
    public.get_by_role("button", name=text("Send the request", locale)).click()
    summary = public.get_by_role("alert")
    expect(summary).to_contain_text(text("There is a problem", locale))
    expect(summary).to_contain_text(
        text("Enter your email address, like name@example.org, so that we can answer", locale)
    )
    expect(public).to_have_title(re.compile(f"^{re.escape(text('Error:', locale))} "))
    assert accessibility_violations(public) == []

    fill_request(public, locale)
    shot(public, f"visit-request-{locale}", full_page=True)
    public.get_by_role("button", name=text("Send the request", locale)).click()
    expect(public.get_by_role("status")).to_contain_text(
        text("Thank you: we have received your request.", locale)
    )
    shot(public, f"visit-request-sent-{locale}", full_page=True)

    # A second request within the hour, from the same address: refused, what was typed kept.
    public.get_by_role("link", name=text("Ask for another visit", locale)).click()
    fill_request(public, locale)
    public.get_by_role("button", name=text("Send the request", locale)).click()
    expect(public.get_by_role("alert")).to_contain_text(
        text(
            "We have received several requests from you in the last hour. Please try again in"
            " an hour, or write to us.",
            locale,
        )
    )
    expect(public.locator("#head_name")).to_have_value("Taro Yamada")

    [acknowledgement] = mail(office)
    assert acknowledgement["To"] == CONTACT[locale][1]  # type: ignore[index]
    assert acknowledgement["Content-Language"] == locale  # type: ignore[index]

    staff = office.page(browser, locale)
    office.sign_in(staff)
    staff.goto("/ui/visits")
    flagged = staff.locator("tbody tr", has_text="Kaohsiung–Osaka Friendship Society")
    expect(flagged).to_contain_text(text("From the public form: to be accepted", locale))
    flagged.get_by_role("link").click()
    expect(staff.locator("#form-request")).to_contain_text(
        text("This request came through the public form.", locale)
    )
    assert accessibility_violations(staff) == []
    shot(staff, f"visit-flagged-{locale}", full_page=True)
    staff.get_by_role("button", name=text("Accept the request", locale)).click()
    expect(staff.locator("#form-request")).to_have_count(0)
    expect(staff.locator("main")).to_contain_text(CONTACT[locale][1])

    # The approval's mail, previewed in the contact's language, then sent with the step.
    staff.get_by_role("link", name=text("Approve", locale)).click()
    expect(staff.locator("pre.mail-text")).to_contain_text(CONTACT[locale][0])
    expect(staff.locator("dd[lang]")).to_have_text(
        text(
            "Your visit is approved: %(delegation)s",
            locale,
            delegation="Kaohsiung–Osaka Friendship Society",
        )
    )
    shot(staff, f"visit-mail-preview-{locale}", full_page=True)
    staff.go_back()
    staff.get_by_label(text("Email the delegation's contact about this step", locale)).check()
    staff.get_by_role("button", name=text("Approve", locale)).click()
    expect(staff.locator("h1 .sub")).to_have_text(text("approved", locale))
    messages = mail(office)
    assert len(messages) == 2
    assert any(
        m["Subject"]
        == text(  # type: ignore[index]
            "Your visit is approved: %(delegation)s",
            locale,
            delegation="Kaohsiung–Osaka Friendship Society",
        )
        for m in messages
    )
