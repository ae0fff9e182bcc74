"""Correspondence in the browser: an invitation mailed (the Maildir default) and answered
through its personal link by the invitee, who is not signed in; the staff summary shows the
answer as made online; the admins' outgoing mail page lists the message and shows it. In
Traditional Chinese and in English, with the axe scan."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import accepted, in_two_languages
from playwright.sync_api import Browser, expect
from web_support import ADMIN, Office, accessibility_violations, in_thread, office, shot, text

sys.path.insert(0, str(Path(__file__).parent.parent / "mail"))
from mail_desk import MailDesk, answer_path, maildir_messages
from twinning.db import utcnow
from twinning.mail.sender import maildir_of

__all__ = ["office"]  # a fixture


@in_two_languages
def test_an_invitee_answers_through_the_mailed_link_and_the_staff_see_it_answered_online(
    office: Office, browser: Browser, locale: str
) -> None:
    partner = office.partners["Sapporo" if locale == "zh-TW" else "Perth"]
    if locale == "en":
        contact = {
            "name": "Ann Lee",
            "partner_id": partner,
            "email": "ann@example.org",
            "preferred_language": "en",
        }
        accepted(office.call("POST", "/contacts", json=contact))
    body = {
        "kind": "festival",
        "title": {"zh-TW": "國際文化節", "en": "International Culture Festival"},
        "starts_at": "2030-05-03T10:00:00+08:00",
        "ends_at": "2030-05-03T18:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Taipei City Hall plaza"},
        "video_link": "https://video.example/festival",
    }
    city_event = accepted(office.call("POST", "/city-events", json=body))["id"]
    invite = {"answer_by": "2030-04-20", "invitees": [{"kind": "partner", "id": partner}]}
    accepted(office.call("POST", f"/city-events/{city_event}/invitations", json=invite))

    desk = MailDesk(office.api, office.api.settings)
    desk.clock.now = utcnow()
    in_thread(desk.notify)
    in_thread(desk.send)
    [message] = maildir_messages(maildir_of(office.api.settings))
    path = answer_path(message)

    page = office.page(browser, locale)
    page.goto(path)
    expect(page.locator("h1")).to_have_text(text("Your answer to the invitation", locale))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    assert accessibility_violations(page) == []
    shot(page, f"answer-{locale}", full_page=True)
    page.get_by_label(text("Accepted, in person", locale)).check()
    page.locator("#delegates").fill("4")
    page.locator("#note").fill("Mayor Akimoto, Director Sato; one vegetarian")
    page.get_by_role("button", name=text("Send the answer", locale)).click()
    expect(page.get_by_role("status")).to_contain_text(
        text("You may change it here until the event begins.", locale)
    )
    shot(page, f"answer-sent-{locale}", full_page=True)

    staff = office.page(browser, locale)
    office.sign_in(staff)
    staff.goto(f"/ui/city-events/{city_event}")
    row = staff.locator("table.invitations tbody tr").first
    expect(row).to_contain_text(text("Accepted, in person", locale))
    expect(row).to_contain_text(text("Through the portal", locale))
    expect(row.locator("td.number")).to_have_text("4")
    expect(staff.locator("p.answered-online")).to_have_text(
        text(
            "%(num)s invitee answered online, through the link in their invitation.",
            locale,
            num=1,
        )
    )

    admin = office.page(browser, locale)
    office.sign_in(admin, ADMIN)
    admin.goto("/ui/admin/mail")
    mail_row = admin.locator("table.mail tbody tr").first
    expect(mail_row).to_contain_text(text("sent", locale))
    expect(mail_row).to_contain_text(message["To"])
    assert accessibility_violations(admin) == []
    shot(admin, f"outgoing-mail-{locale}", full_page=True)
    mail_row.get_by_role("link").click()
    expect(admin.locator("pre.mail-text")).to_contain_text(path)
    expect(admin.locator("body")).to_contain_text("invitation.ics")
    shot(admin, f"outgoing-message-{locale}", full_page=True)
