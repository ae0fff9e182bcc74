"""The real path: the worker's mail notifier queues the invitation mail from the event on
Kafka, and a `twinning mailer` process delivers it to a real SMTP server; a mailer killed
(SIGKILL) after the server took the message and before it recorded so never sends it twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import Stack, accepted, sample_partner, wait_for
from mail_desk import answer_path, smtp_server
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.db import utcnow
from twinning.mail.models import MailMessage
from twinning.processes import die_with_parent

pytestmark = pytest.mark.slow


def outbox(stack: Stack) -> list[MailMessage]:
    with Session(stack.engine) as session:
        return list(session.scalars(select(MailMessage)))


def start_mailer(stack: Stack, port: int, name: str) -> subprocess.Popen[bytes]:
    env = {
        **stack.env(),
        "TWINNING_SMTP_HOST": "127.0.0.1",
        "TWINNING_SMTP_PORT": str(port),
        "TWINNING_SMTP_SECURITY": "none",
        "TWINNING_MAIL_POLL_INTERVAL": "0.2",
    }
    log = open(stack.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "twinning", "mailer"],
        env=env,
        cwd=stack.tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(),
    )


def test_one_message_per_recipient_across_a_mailer_killed_between_send_and_record(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    partner = accepted(stack.client.post("/partners", json=sample_partner(1)))["id"]
    contact = {
        "name": "Sato",
        "partner_id": partner,
        "email": "sato@example.jp",
        "preferred_language": "ja",
    }
    registered = accepted(stack.client.post("/contacts", json=contact))
    start = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    body = {
        "kind": "forum",
        "title": {"en": "Cities forum", "ja": "都市フォーラム"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "timezone": "Asia/Taipei",
        "venue": {"place": "City Hall"},
    }
    scheduled = accepted(stack.client.post("/city-events", json=body))
    city_event = scheduled["id"]
    # The notifier mails the contacts it knows when the invitation goes out.
    stack.wait_applied([registered["event_id"], scheduled["event_id"]])
    invite = {
        "answer_by": (start - timedelta(days=10)).date().isoformat(),
        "invitees": [{"kind": "partner", "id": partner}],
    }
    [sent] = accepted(stack.client.post(f"/city-events/{city_event}/invitations", json=invite))
    wait_for(lambda: len(outbox(stack)) == 1, what="the worker to queue the invitation")

    with smtp_server() as smtp:
        mailer = start_mailer(stack, smtp.port, "mailer-1")
        # The server takes the message, and the mailer dies before it hears so.
        smtp.on_data = lambda: os.kill(mailer.pid, signal.SIGKILL)
        wait_for(lambda: mailer.poll() is not None, what="the mailer to be killed mid-send")
        assert mailer.returncode == -signal.SIGKILL
        [row] = outbox(stack)
        assert row.state == "sending"
        smtp.on_data = None

        again = start_mailer(stack, smtp.port, "mailer-2")
        try:
            wait_for(lambda: outbox(stack)[0].state != "sending", what="the mailer to recover")
            [row] = outbox(stack)
            assert row.state == "failed"
            assert "it may have arrived" in (row.reason or "")
            # A redelivered event changes nothing: still one message queued, one received.
            assert len(smtp.received) == 1
        finally:
            again.terminate()
            again.wait(20)
        [message] = smtp.received
        assert message["To"] == "sato@example.jp"
        assert message["Message-ID"] == row.message_id
        assert answer_path(message).startswith("/ui/answer/")
    assert sent["event_id"] == row.cause_event_id
