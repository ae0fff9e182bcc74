"""The public answer page an invitation's personal link leads to: the answer recorded as the
staff's is (the same command and event), marked as answered online, replaced by a second one
with the first kept in the history; altered and expired links refused with a clear page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from conftest import InlineApi
from mail_desk import MailDesk, SmtpServer, answer_path, smtp_server, smtp_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.invitations.models import Invitation
from twinning.streams.events import decode
from twinning.streams.store import ArchivedEvent


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def desk(inline_api: InlineApi, smtp: SmtpServer) -> MailDesk:
    return MailDesk(inline_api, smtp_settings(inline_api.settings, smtp))


def invited_by_mail(desk: MailDesk, smtp: SmtpServer, language: str) -> tuple[str, str, str]:
    """An invitation mailed to a contact who reads `language`: (its answer path, its id, the
    contact's id)."""
    partner, contact = desk.partner_with_contact(1, email="sato@example.jp", language=language)
    [invitation] = desk.invite(desk.city_event(), partner)
    desk.notify()
    desk.send()
    return answer_path(smtp.received[-1]), invitation, contact


def page(desk: MailDesk, method: str, url: str, **kwargs: object) -> httpx.Response:
    # A browser of a stranger: no token, no session.
    return desk.api.request(method, url, headers={"Authorization": ""}, **kwargs)  # type: ignore[arg-type]


def answers(desk: MailDesk, invitation: str) -> list[dict[str, object]]:
    with Session(desk.api.engine) as session:
        bodies = session.scalars(
            select(ArchivedEvent.body)
            .where(ArchivedEvent.type == "RsvpRecorded")
            .order_by(ArchivedEvent.seq)
        ).all()
    envelopes = [decode(body).envelope.model_dump(mode="json") for body in bodies]
    return [
        {"actor": e["actor"], **e["payload"]}
        for e in envelopes
        if e["payload"]["invitation_id"] == invitation
    ]


def test_the_link_opens_in_the_invitees_language_and_records_an_answer_made_online(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    path, invitation, contact = invited_by_mail(desk, smtp, "ja")

    opened = page(desk, "GET", path)
    assert opened.status_code == 303 and opened.headers["location"] == f"{path}?lang=ja"
    form = page(desk, "GET", f"{path}?lang=ja")
    assert form.status_code == 200
    assert "ご招待へのご回答" in form.text and "国際文化祭" in form.text

    sent = page(
        desk,
        "POST",
        f"{path}?lang=ja",
        data={
            "answer": "accepted-in-person",
            "delegates": "3",
            "note": "Mayor Sato; one vegetarian",
        },
    )
    assert sent.status_code == 303, sent.text
    thanks = page(desk, "GET", sent.headers["location"])
    assert "ご回答を承りました" in thanks.text

    changed = page(desk, "POST", f"{path}?lang=en", data={"answer": "declined"})
    assert changed.status_code == 303
    with Session(desk.api.engine) as session:
        row = session.get(Invitation, invitation)
        assert row is not None
        assert (row.answer, row.delegates, row.received_via) == ("declined", None, "portal")
    assert answers(desk, invitation) == [
        {
            "actor": f"contact:{contact}",
            "invitation_id": invitation,
            "answer": "accepted-in-person",
            "delegates": 3,
            "delegate_details": [],
            "note": "Mayor Sato; one vegetarian",
            "received_via": "portal",
        },
        {
            "actor": f"contact:{contact}",
            "invitation_id": invitation,
            "answer": "declined",
            "delegates": None,
            "delegate_details": [],
            "note": None,
            "received_via": "portal",
        },
    ]


def test_an_answer_in_person_without_the_number_of_delegates_is_refused_saying_what_to_write(
    desk: MailDesk, smtp: SmtpServer
) -> None:
    path, invitation, _ = invited_by_mail(desk, smtp, "en")
    refused = page(desk, "POST", f"{path}?lang=en", data={"answer": "accepted-in-person"})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert "Enter how many delegates come in person" in refused.text
    assert answers(desk, invitation) == []


@pytest.mark.parametrize(
    ("language", "altered", "expired"),
    [
        ("en", "This answer link is not valid", "This answer link has expired"),
        ("zh-TW", "此回覆連結無效", "此回覆連結已過期"),
    ],
)
def test_altered_and_expired_links_are_refused_with_a_clear_page(
    desk: MailDesk, smtp: SmtpServer, language: str, altered: str, expired: str
) -> None:
    path, invitation, _ = invited_by_mail(desk, smtp, language)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for method in ("GET", "POST"):
        refused = page(desk, method, f"{tampered}?lang={language}", data={"answer": "declined"})
        assert refused.status_code == 404 and altered in refused.text
    desk.clock.now = desk.clock.now.replace(month=10, day=10, hour=9) + timedelta(minutes=1)
    gone = page(desk, "POST", f"{path}?lang={language}", data={"answer": "declined"})
    assert gone.status_code == 410 and expired in gone.text
    assert answers(desk, invitation) == []
