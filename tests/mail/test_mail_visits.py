"""Visit requests from outside and mail to a delegation's contact, delivered to a real SMTP
server (aiosmtpd on a loopback port): the public form records a flagged request and its
contact gets an acknowledgement in the page's language; the form's limits (an hour's requests
per address and per email, the honeypot, the body's size); staff accept a form request; a step
staff choose to tell the contact of is mailed once, in the contact's language. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import InlineApi, accepted
from mail_desk import MailDesk, SmtpServer, smtp_server, smtp_settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def desk(inline_api: InlineApi, smtp: SmtpServer) -> MailDesk:
    return MailDesk(inline_api, smtp_settings(inline_api.settings, smtp))


def form(**overrides: str) -> dict[str, str]:
    return {
        "organisation": "大阪府日台友好協会",
        "head_name": "山田太郎",
        "head_title": "会長",
        "head_rank": "1",
        "members": "6",
        "purpose": "文化交流の視察",
        "requested_from": "2026-11-02",
        "requested_to": "2026-11-04",
        "contact_name": "佐藤花子",
        "contact_email": "sato@example.jp",
        "website": "",
        **overrides,
    }


def send_form(api: InlineApi, lang: str = "zh-TW", **overrides: str) -> Any:
    return api.post(f"/ui/visit-request?lang={lang}", data=form(**overrides))


def visits(api: InlineApi) -> list[dict[str, Any]]:
    return list(api.get("/visits").json())


def test_a_request_through_the_form_is_recorded_flagged_and_its_contact_is_acknowledged(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    sent = send_form(desk.api, lang="ja")
    assert sent.status_code == 303, sent.text[:3000]
    assert sent.headers["location"].startswith("/ui/visit-request/sent?lang=ja&event=")

    [visit] = visits(desk.api)
    assert visit["status"] == "requested"
    assert visit["received_via"] == "form"
    assert visit["accepted_at"] is None
    assert visit["delegation"]["organisation"] == {"ja": "大阪府日台友好協会"}
    assert visit["contact"] == {
        "name": "佐藤花子",
        "email": "sato@example.jp",
        "phone": None,
        "language": "ja",
    }
    history = desk.api.get(f"/visits/{visit['id']}").json()["history"]
    assert history[0]["actor"] == "public:visit-request-form"

    assert desk.notify() == 1
    assert desk.send() == 1
    [message] = smtp.received
    assert message["To"] == "sato@example.jp"
    assert message["Content-Language"] == "ja"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "佐藤花子" in text and "大阪府日台友好協会" in text
    assert visit["id"] in text  # the reference
    # Again (a redelivered event, another look): nothing more.
    assert desk.notify() == 0
    assert desk.send() == 0
    assert len(smtp.received) == 1


def test_staff_accept_a_form_request_once_and_a_staff_request_needs_no_acceptance(
    desk: MailDesk,
) -> None:
    send_form(desk.api)
    [visit] = visits(desk.api)

    accepted(desk.api.post(f"/visits/{visit['id']}/accept"))
    again = desk.api.post(f"/visits/{visit['id']}/accept")

    after = desk.api.get(f"/visits/{visit['id']}").json()
    assert after["accepted_at"] is not None and after["accepted_by"]
    assert after["status"] == "requested"  # still waiting for the decision
    assert again.status_code == 409
    assert "accepted" in again.json()["detail"]


def test_the_honeypot_thanks_a_robot_and_records_nothing(desk: MailDesk) -> None:
    sent = send_form(desk.api, website="http://spam.example")

    assert sent.status_code == 303
    assert visits(desk.api) == []
    assert desk.notify() == 0


def test_an_hours_requests_from_one_address_are_limited_and_the_page_says_so(
    desk: MailDesk,
) -> None:
    desk.api.app.state.settings = desk.api.settings.model_copy(update={"visit_form_per_hour": 2})
    assert send_form(desk.api, contact_email="a@example.org").status_code == 303
    assert send_form(desk.api, contact_email="b@example.org").status_code == 303

    third = send_form(desk.api, lang="en", contact_email="c@example.org")

    assert third.status_code == 429
    assert "several requests from you in the last hour" in third.text
    assert 'value="山田太郎"' in third.text  # what was typed stays
    assert len(visits(desk.api)) == 2
    # An hour later the address may ask again.
    desk.clock.now = desk.clock.now.replace(hour=desk.clock.now.hour + 1, minute=1)
    assert send_form(desk.api, contact_email="c@example.org").status_code == 303


def test_a_body_too_large_is_refused_with_413(desk: MailDesk) -> None:
    sent = send_form(desk.api, lang="en", purpose="x" * 40_000)

    assert sent.status_code == 413
    assert "too long" in sent.text
    assert visits(desk.api) == []


def test_a_refused_form_names_each_field_in_the_pages_language(desk: MailDesk) -> None:
    sent = send_form(desk.api, lang="en", contact_email="", members="0", head_rank="")

    assert sent.status_code == 422
    assert "There is a problem" in sent.text
    assert "Enter your email address" in sent.text
    assert "Enter how many people come" in sent.text
    assert "Choose the standing of the head of the delegation" in sent.text
    assert visits(desk.api) == []


def test_a_step_staff_choose_to_tell_is_mailed_once_in_the_contacts_language(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    send_form(desk.api, lang="en")
    [visit] = visits(desk.api)
    desk.notify(), desk.send()
    smtp.received.clear()

    accepted(desk.api.post(f"/visits/{visit['id']}/approve", json={"notify_contact": True}))
    assert desk.notify() == 1
    assert desk.send() == 1
    [message] = smtp.received
    assert message["Subject"] == "Your visit is approved: 大阪府日台友好協会"
    assert message["Content-Language"] == "en"

    accepted(desk.api.post(f"/visits/{visit['id']}/schedule"))  # staff chose not to tell
    assert desk.notify() == 0
    assert len(smtp.received) == 1


def test_telling_a_contact_without_an_email_address_is_refused_naming_the_field(
    desk: MailDesk,
) -> None:
    body = {
        "delegation": {"organisation": {"en": "A Chamber of Commerce"}},
        "head_of_delegation": {
            "names": {"en": "Chair Lee"},
            "title": {"en": "Chair"},
            "protocol_rank": 3,
        },
        "members": 3,
        "purpose": {"en": "Trade"},
        "requested_from": "2026-11-02",
        "requested_to": "2026-11-03",
        "contact": {"name": "Lee"},
    }
    visit_id = accepted(desk.api.post("/visits", json=body))["id"]

    refused = desk.api.post(f"/visits/{visit_id}/decline", json={"notify_contact": True})

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "notify_contact"
