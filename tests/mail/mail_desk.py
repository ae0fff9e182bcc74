"""A mail desk for the mail tests: a real SMTP server (aiosmtpd) on a free loopback port, the
office's steps through the inline API with a clock the test sets, and the worker's notifier
and the mailer run in rounds, as their loops do."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from conftest import InlineApi, accepted, sample_partner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from twinning.api.deps import get_clock
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.mail import notifier
from twinning.mail.models import MailMessage
from twinning.mail.sender import Mailer, Transport, transport_for
from twinning.streams.broker import free_port
from twinning.streams.events import decode
from twinning.streams.store import ArchivedEvent
from twinning.web.session import session_key

EARLY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ANSWER_LINK = re.compile(r"https?://[^/\s]+(/ui/answer/[A-Za-z0-9._\-]+)")


class SmtpServer:
    """aiosmtpd in its own thread; `refuse` makes it answer 451 (try later) to each message;
    `on_data` runs when a message arrives, before the server answers."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse = 0
        #: Addresses the server has no mailbox for (550 to RCPT TO).
        self.unknown: set[str] = set()
        self.on_data: Callable[[], None] | None = None
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        if self.on_data is not None:
            self.on_data()
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@dataclass
class Clock:
    now: datetime = EARLY

    def __call__(self) -> datetime:
        return self.now


@dataclass
class MailDesk:
    api: InlineApi
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    #: The archive's last event a round of `notify` saw.
    notified_up_to: int = 0

    def __post_init__(self) -> None:
        self.api.app.dependency_overrides[get_clock] = lambda: self.clock

    # --- the office's steps -------------------------------------------------------------------

    def partner_with_contact(
        self, n: int, *, email: str, language: str | None = None, languages: tuple[str, ...] = ()
    ) -> tuple[str, str]:
        partner = accepted(
            self.api.post("/partners", json={**sample_partner(n), "languages": list(languages)})
        )["id"]
        body: dict[str, Any] = {"name": f"Contact {n}", "partner_id": partner, "email": email}
        if language:
            body["preferred_language"] = language
        contact = accepted(self.api.post("/contacts", json=body))["id"]
        return partner, contact

    def city_event(self, **overrides: Any) -> str:
        body = {
            "kind": "festival",
            "title": {
                "zh-TW": "國際文化節",
                "en": "International Culture Festival",
                "ja": "国際文化祭",
            },
            "starts_at": "2026-10-10T09:00:00+08:00",
            "ends_at": "2026-10-10T17:00:00+08:00",
            "timezone": "Asia/Taipei",
            "venue": {"place": "Arts Plaza"},
            "video_link": "https://video.example/festival",
            **overrides,
        }
        return str(accepted(self.api.post("/city-events", json=body))["id"])

    def invite(
        self, city_event_id: str, *partners: str, answer_by: str = "2026-09-20"
    ) -> list[str]:
        body = {
            "answer_by": answer_by,
            "invitees": [{"kind": "partner", "id": p} for p in partners],
        }
        response = self.api.post(f"/city-events/{city_event_id}/invitations", json=body)
        return [a["id"] for a in accepted(response)]

    def rsvp(self, invitation_id: str, answer: str = "declined") -> None:
        body = {"answer": answer, "received_via": "email"}
        accepted(self.api.post(f"/invitations/{invitation_id}/rsvp", json=body))

    # --- the worker's notifier and the mailer, a round each ---------------------------------

    def _run(self, work: Callable[[async_sessionmaker[Any]], Any]) -> Any:
        async def run() -> Any:
            engine = make_async_engine(self.settings.async_database_url)
            try:
                return await work(async_sessionmaker(engine, expire_on_commit=False))
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def notify(self, *, only_new: bool = False) -> int:
        """What the worker's notifier does with every applied event (again: it is idempotent);
        with `only_new`, with the events applied since the last round only, as the worker
        hands them to it after each batch."""

        async def work(sessions: async_sessionmaker[Any]) -> int:
            async with sessions.begin() as session:
                found = select(ArchivedEvent.seq, ArchivedEvent.body).order_by(ArchivedEvent.seq)
                if only_new:
                    found = found.where(ArchivedEvent.seq > self.notified_up_to)
                rows = (await session.execute(found)).all()
                if rows:
                    self.notified_up_to = max(self.notified_up_to, rows[-1].seq)
                return sum(
                    [await notifier.notify(session, decode(r.body), now=self.clock()) for r in rows]
                )

        return int(self._run(work))

    def mailer(
        self, transport: Transport | None = None
    ) -> Callable[[async_sessionmaker[Any]], Mailer]:
        def make(sessions: async_sessionmaker[Any]) -> Mailer:
            return Mailer(
                sessions,
                self.settings,
                transport or transport_for(self.settings),
                secret=session_key(self.settings),
                clock=self.clock,
            )

        return make

    def send(self, transport: Transport | None = None) -> int:
        """One round of the mailer: reminders due, then what is due."""
        make = self.mailer(transport)
        return int(self._run(lambda sessions: make(sessions).run_once()))

    def recover(self, transport: Transport | None = None) -> int:
        make = self.mailer(transport)
        return int(self._run(lambda sessions: make(sessions).recover()))

    def outbox(self) -> list[MailMessage]:
        with Session(self.api.engine) as session:
            return list(
                session.scalars(
                    select(MailMessage).order_by(MailMessage.queued_at, MailMessage.kind)
                )
            )


def smtp_settings(settings: Settings, server: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_security": "none",
            "public_url": "https://city.example",
        }
    )


def answer_path(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = ANSWER_LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1)


def maildir_messages(path: Path) -> list[EmailMessage]:
    found = []
    for file in sorted((path / "new").iterdir()):
        message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found
