"""The SMTP sender over TLS: STARTTLS on a plain port and implicit TLS, each against a real
aiosmtpd on a free loopback port whose certificate comes from a certificate authority the test
makes (trustme) and names in `TWINNING_SMTP_CA_FILE`; a certificate the sender cannot trust
leaves the message queued, with the reason."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from twinning.config import Settings
from twinning.mail.sender import SmtpTransport, Undelivered
from twinning.streams.broker import free_port


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.secure: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.secure.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def ca_file(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


class StartTlsController(Controller):
    """A server on a plain port that offers STARTTLS and takes mail only after it."""

    def __init__(self, handler: Inbox, context: ssl.SSLContext, port: int) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=port)
        self.context = context

    def factory(self) -> SMTP:
        return SMTP(self.handler, tls_context=self.context, require_starttls=True)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def starttls_server(inbox: Inbox, server_context: ssl.SSLContext) -> Iterator[int]:
    port = free_port()
    controller = StartTlsController(inbox, server_context, port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def tls_server(inbox: Inbox, server_context: ssl.SSLContext) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def sender(port: int, security: str, ca_file: Path | None, tmp_path: Path) -> SmtpTransport:
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        smtp_ca_file=ca_file,
    )
    return SmtpTransport(settings)


def a_message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "international-affairs@city.example"
    message["To"] = "sato@example.jp"
    message.set_content("本文")
    return message


def test_starttls_upgrades_the_plain_connection_before_the_message_goes(
    starttls_server: int, inbox: Inbox, ca_file: Path, tmp_path: Path
) -> None:
    asyncio.run(
        sender(starttls_server, "starttls", ca_file, tmp_path).deliver(a_message("STARTTLS"))
    )

    assert [m["Subject"] for m in inbox.received] == ["STARTTLS"]
    assert inbox.secure == [True]


def test_implicit_tls_speaks_tls_from_the_first_byte(
    tls_server: int, inbox: Inbox, ca_file: Path, tmp_path: Path
) -> None:
    asyncio.run(sender(tls_server, "tls", ca_file, tmp_path).deliver(a_message("TLS")))

    assert [m["Subject"] for m in inbox.received] == ["TLS"]
    assert inbox.secure == [True]


def test_a_certificate_from_an_authority_not_trusted_is_refused_and_the_message_waits(
    tls_server: int, inbox: Inbox, tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))

    with pytest.raises(Undelivered) as refused:
        asyncio.run(sender(tls_server, "tls", other, tmp_path).deliver(a_message("untrusted")))

    assert refused.value.retry  # queued again: a certificate renewed may fix it
    assert "certificate" in str(refused.value).lower()
    assert inbox.received == []


def test_starttls_refused_by_a_server_that_does_not_offer_it_is_not_sent_in_clear(
    inbox: Inbox, ca_file: Path, tmp_path: Path
) -> None:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(Undelivered):
            asyncio.run(sender(port, "starttls", ca_file, tmp_path).deliver(a_message("in clear?")))
    finally:
        controller.stop()

    assert inbox.received == []
