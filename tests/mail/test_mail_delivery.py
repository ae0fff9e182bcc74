"""Invitations by email, delivered to a real SMTP server (aiosmtpd on a loopback port): what
arrives, at most once per cause, recipient and kind, across a refusing server; reminders with
a clock the test sets; the Maildir default. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import InlineApi, accepted
from icalendar import Calendar
from mail_desk import (
    EARLY,
    MailDesk,
    SmtpServer,
    answer_path,
    maildir_messages,
    smtp_server,
    smtp_settings,
)
from twinning.mail.sender import MaildirTransport, maildir_of


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def desk(inline_api: InlineApi, smtp: SmtpServer) -> MailDesk:
    return MailDesk(inline_api, smtp_settings(inline_api.settings, smtp))


def test_an_invitation_arrives_in_the_contacts_language_with_its_calendar_request_and_answer_link(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    partner, _contact = desk.partner_with_contact(1, email="sato@example.jp", language="ja")
    city_event = desk.city_event()
    [invitation] = desk.invite(city_event, partner)

    assert desk.notify() == 1
    assert desk.send() == 1

    [message] = smtp.received
    assert message["To"] == "sato@example.jp"
    assert message["Subject"] == "招待状：国際文化祭"
    assert message["Content-Language"] == "ja"
    assert {p.get_content_type() for p in message.walk()} >= {
        "text/plain",
        "text/html",
        "text/calendar",
    }
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "https://video.example/festival" in text
    assert answer_path(message).startswith("/ui/answer/")
    [ics] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(ics.get_content())
    assert calendar["METHOD"] == "REQUEST"
    [vevent] = calendar.events
    assert vevent["UID"] == f"city-event-{city_event}@twinning"  # the feeds' UID
    assert str(vevent["ATTENDEE"]) == "mailto:sato@example.jp"  # the recipient only
    assert vevent["URL"] == "https://video.example/festival"
    assert "9時00分～17時00分" in text
    [row] = desk.outbox()
    assert (row.state, row.kind, row.about_id, row.reason) == (
        "sent",
        "invitation",
        invitation,
        None,
    )
    assert row.message_id == message["Message-ID"]

    # The notifier sees the event again (a redelivery), the mailer looks again: nothing more.
    assert desk.notify() == 0
    assert desk.send() == 0
    assert len(smtp.received) == 1


def test_a_refusing_server_gets_the_message_once_when_it_accepts(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    partner, _ = desk.partner_with_contact(1, email="li@example.org", languages=("en",))
    desk.invite(desk.city_event(), partner)
    desk.notify()
    smtp.refuse = 2

    desk.send()
    [row] = desk.outbox()
    assert row.state == "queued" and "451" in (row.reason or "")
    assert desk.send() == 0  # not due before its pause
    desk.clock.now += timedelta(seconds=1)
    desk.send()
    [row] = desk.outbox()
    assert (row.state, row.attempts) == ("queued", 2)
    assert row.next_attempt_at - desk.clock.now == timedelta(seconds=2)

    desk.clock.now += timedelta(seconds=2)
    desk.send()
    [row] = desk.outbox()
    assert (row.state, row.attempts) == ("sent", 3)
    [message] = smtp.received
    assert message["Subject"] == "Invitation: International Culture Festival"
    assert message["Message-ID"] == row.message_id


def test_a_server_that_is_down_leaves_the_message_queued_until_it_is_back(
    inline_api: InlineApi,
) -> None:
    with smtp_server() as later:
        settings = smtp_settings(inline_api.settings, later)
    desk = MailDesk(inline_api, settings)  # its port now closed: nobody listens
    partner, _ = desk.partner_with_contact(1, email="li@example.org")
    desk.invite(desk.city_event(), partner)
    desk.notify()
    desk.send()
    [row] = desk.outbox()
    assert row.state == "queued" and "could not reach the mail server" in (row.reason or "")


def test_reminders_go_once_per_step_and_never_after_an_answer(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    quiet, _ = desk.partner_with_contact(1, email="quiet@example.org", languages=("en",))
    answers, _ = desk.partner_with_contact(2, email="answers@example.org", languages=("en",))
    [_, answered] = desk.invite(desk.city_event(), quiet, answers, answer_by="2026-09-20")
    desk.notify()
    desk.send()
    assert len(smtp.received) == 2

    def reminders() -> list[tuple[str, str]]:
        # (a long subject is folded onto a line of its own: a reader unfolds and trims it)
        return [(m["To"], m["Subject"].strip()) for m in smtp.received[2:]]

    desk.clock.now = EARLY.replace(day=12)  # 8 days before the answer-by date, in Taipei
    desk.send()
    assert reminders() == []
    desk.clock.now = EARLY.replace(day=13)  # 7 days before
    desk.send()
    desk.send()
    expected = "Reminder: please answer the invitation to International Culture Festival"
    assert sorted(reminders()) == [
        ("answers@example.org", expected),
        ("quiet@example.org", expected),
    ]

    desk.rsvp(answered, "declined")
    desk.clock.now = EARLY.replace(day=18)  # 2 days before
    desk.send()
    desk.clock.now = EARLY.replace(day=19)
    desk.send()
    assert sorted(reminders())[2:] == [("quiet@example.org", expected)]
    assert len(smtp.received) == 5
    kinds = sorted((m.kind, m.to_address) for m in desk.outbox())
    assert kinds == [
        ("invitation", "answers@example.org"),
        ("invitation", "quiet@example.org"),
        ("reminder-2", "quiet@example.org"),
        ("reminder-7", "answers@example.org"),
        ("reminder-7", "quiet@example.org"),
    ]


def test_the_maildir_default_delivers_once_across_a_mailer_stopped_mid_send(
    inline_api: InlineApi,
) -> None:
    desk = MailDesk(inline_api, inline_api.settings)
    partner, _ = desk.partner_with_contact(1, email="li@example.org", language="zh-TW")
    desk.invite(desk.city_event(), partner)
    desk.notify()
    desk.send()
    box = maildir_of(inline_api.settings)
    [message] = maildir_messages(box)
    assert message["Subject"] == "邀請函：國際文化節"

    # A mailer killed after the file was written, before it recorded "sent": the next one
    # delivers again from the recorded copy, and the Maildir keeps one.
    with inline_api.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE mail_messages SET state = 'sending', sent_at = NULL")
    assert desk.recover(MaildirTransport(box)) == 1
    assert len(maildir_messages(box)) == 1
    [row] = desk.outbox()
    assert row.state == "sent"


def test_an_erased_contact_leaves_no_address_or_copy_in_the_outbox(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    partner, contact = desk.partner_with_contact(1, email="li@example.org")
    other, _ = desk.partner_with_contact(2, email="wang@example.org")
    desk.invite(desk.city_event(), partner, other)
    desk.notify()
    desk.send()
    assert desk.api.delete(f"/contacts/{contact}").status_code == 202
    desk.notify()
    erased, kept = sorted(desk.outbox(), key=lambda m: m.to_address)
    assert (erased.recipient_id, erased.to_address, erased.rendered, erased.state) == (
        contact,
        "",
        None,
        "sent",
    )
    assert kept.to_address == "wang@example.org" and kept.rendered


def test_a_recipient_the_server_does_not_know_is_recorded_as_bounced_with_its_answer(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    partner, _ = desk.partner_with_contact(1, email="gone@example.org")
    desk.invite(desk.city_event(), partner)
    desk.notify()
    smtp.unknown.add("gone@example.org")
    desk.send()
    [row] = desk.outbox()
    assert row.state == "bounced"
    assert "550 5.1.1 no such mailbox" in (row.reason or "")
    desk.clock.now += timedelta(hours=1)
    assert desk.send() == 0 and smtp.received == []


def test_a_contact_given_an_address_later_gets_each_open_invitation_and_its_reminders(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    partner, _ = desk.partner_with_contact(1, email="first@example.org", languages=("en",))
    festival = desk.city_event()
    forum = desk.city_event(title={"en": "Mayors' Forum"})
    gala = desk.city_event(title={"en": "Autumn Gala"})
    desk.invite(festival, partner)
    desk.invite(forum, partner)
    [gala_invitation] = desk.invite(gala, partner)
    desk.notify()
    desk.send()
    assert len(smtp.received) == 3
    desk.rsvp(gala_invitation, "declined")  # answered: no one else is asked again

    # A second contact, registered after the invitations went out, without an address first.
    body = {"name": "Late Contact", "partner_id": partner, "preferred_language": "en"}
    late = accepted(desk.api.post("/contacts", json=body))["id"]
    assert desk.notify(only_new=True) == 0
    accepted(desk.api.patch(f"/contacts/{late}", json={"email": "late@example.org"}))
    assert desk.notify(only_new=True) == 2  # what the contact's change causes
    assert desk.notify() == 0  # every event again (a redelivery, a rebuild): nothing more
    desk.send()
    subjects = sorted(m["Subject"].strip() for m in smtp.received if m["To"] == "late@example.org")
    assert subjects == [
        "Invitation: International Culture Festival",
        "Invitation: Mayors' Forum",
    ]

    # The address corrected again: the invitations already went to this contact.
    accepted(desk.api.patch(f"/contacts/{late}", json={"email": "late.b@example.org"}))
    assert desk.notify(only_new=True) == 0

    # Its reminders: one per invitation still open, as for the others, to the address it has.
    # (both went to it under one cause, the address given: keyed apart by their invitation)
    desk.clock.now = EARLY.replace(day=13)  # 7 days before the answer-by date
    desk.send()
    late_reminders = sorted(
        m["Subject"].strip() for m in smtp.received[5:] if m["To"] == "late.b@example.org"
    )
    assert late_reminders == [
        "Reminder: please answer the invitation to International Culture Festival",
        "Reminder: please answer the invitation to Mayors' Forum",
    ]
