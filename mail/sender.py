"""The mailer: renders what the notifier queued and delivers it, over SMTP (`aiosmtplib`) or,
with no SMTP host set, as `.eml` files into a Maildir under the data directory.

It runs as its own process (`twinning mailer`, one per data directory; `twinning up` keeps
one), not inside the worker: workers scale out to many processes and restart with the
embedded broker, while a message must have exactly one sender that knows, when it starts,
that no other is mid-send.

The outbox's states: queued → sending → sent | failed | bounced (| cancelled, a reminder whose
invitation was answered meanwhile). A message is recorded `sending`, rendered and with its
Message-ID, in a committed transaction *before* it is handed to the server, and `sent` after.
A mailer killed between the two leaves it `sending`, and the next one, at its start:
- for the Maildir, delivers it again from the recorded copy, which is a no-op when it arrived
  (a file named by its Message-ID);
- for SMTP, marks it failed, saying it may have arrived, and never sends it again: SMTP
  cannot be asked whether it did, and the office's promise is at most once per cause,
  recipient and kind.
A server that is down, or answers 4xx, leaves it queued, tried again with a doubling pause
(1 s up to 10 minutes) until the city event begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hashlib
import logging
import mailbox
import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning.config import Settings
from twinning.crm.models import Contact
from twinning.db import utcnow
from twinning.invitations.models import NO_REPLY, CityEvent, Invitation, InvitationStatus
from twinning.mail import service
from twinning.mail.models import MailKind, MailMessage, MailState
from twinning.mail.render import NotNeeded, render
from twinning.streams.store import ArchivedEvent

log = logging.getLogger(__name__)

LONGEST_PAUSE = 600.0
BATCH = 20
#: How often the mailer looks for reminders that are due (they are counted in days).
REMIND_EVERY = timedelta(minutes=1)


class Undelivered(Exception):
    """The server did not take the message: `retry` for a server down or a 4xx, `bounced` for
    a recipient it refuses, else a failure for good."""

    def __init__(self, reason: str, *, retry: bool = False, bounced: bool = False) -> None:
        super().__init__(reason)
        self.retry = retry
        self.bounced = bounced


class Transport(Protocol):
    #: Whether handing the same message (same Message-ID) over twice delivers it once.
    idempotent: bool

    async def deliver(self, message: EmailMessage) -> None: ...


class MaildirTransport:
    """The embedded default: each message a file in `new/` of a Maildir, named by its
    Message-ID, written whole into `tmp/` first (Maildir's own protocol)."""

    idempotent = True

    def __init__(self, path: Path) -> None:
        self.box = mailbox.Maildir(path, create=True)
        self.path = path

    def _name(self, message: EmailMessage) -> str:
        digest = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32]
        return f"{digest}.twinning.eml"

    def delivered(self, message: EmailMessage) -> bool:
        name = self._name(message)
        return (self.path / "new" / name).exists() or any((self.path / "cur").glob(f"{name}*"))

    def _write(self, message: EmailMessage) -> None:
        if self.delivered(message):
            return
        name = self._name(message)
        draft = self.path / "tmp" / name
        draft.write_bytes(message.as_bytes())
        os.replace(draft, self.path / "new" / name)

    async def deliver(self, message: EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._write, message)
        except OSError as exc:
            raise Undelivered(f"could not write to the Maildir: {exc}", retry=True) from exc


class SmtpTransport:
    idempotent = False

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings

    async def deliver(self, message: EmailMessage) -> None:
        s = self.settings
        port = s.smtp_port or {"tls": 465, "starttls": 587}.get(s.smtp_security, 25)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
                timeout=30,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise Undelivered(f"the server refused the recipient: {reasons}", bounced=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            retry = exc.code < 500
            raise Undelivered(f"the server answered {exc.code} {exc.message}", retry=retry) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Undelivered(f"could not reach the mail server: {exc}", retry=True) from exc


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return MaildirTransport(maildir_of(settings))


def maildir_of(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def pause_after(attempts: int) -> timedelta:
    return timedelta(seconds=min(LONGEST_PAUSE, 2.0 ** max(0, attempts - 1)))


def parsed(text: str) -> EmailMessage:
    message = email.message_from_string(text, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class Mailer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        transport: Transport,
        *,
        secret: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.transport = transport
        self.secret = secret
        self.clock = clock
        self.reminded_at: datetime | None = None

    async def recover(self) -> int:
        """Settle the messages a mailer stopped in the middle of (see the module's doc)."""
        async with self.sessions.begin() as session:
            stopped = (
                await session.scalars(
                    select(MailMessage).where(MailMessage.state == MailState.SENDING)
                )
            ).all()
            for row in stopped:
                if self.transport.idempotent:
                    continue  # delivered again below, from the recorded copy
                row.state = MailState.FAILED
                row.reason = (
                    "the mailer stopped while handing it to the mail server: it may have"
                    f" arrived ({row.message_id}), so it is not sent again"
                )
                row.updated_at = self.clock()
        if self.transport.idempotent:
            for row in stopped:
                await self._deliver(row.id, parsed(row.rendered or ""))
        return len(stopped)

    async def run_once(self) -> int:
        """Queue the reminders due (once a minute), then send what is due; how many messages
        were handled."""
        now = self.clock()
        if self.reminded_at is None or now - self.reminded_at >= REMIND_EVERY:
            await self.queue_reminders()
            self.reminded_at = now
        async with self.sessions() as session:
            due = (
                await session.scalars(
                    select(MailMessage.id)
                    .join(ArchivedEvent, ArchivedEvent.event_id == MailMessage.cause_event_id)
                    .where(MailMessage.state == MailState.QUEUED)
                    .where(MailMessage.next_attempt_at <= now)
                    .order_by(MailMessage.next_attempt_at, MailMessage.id)
                    .limit(BATCH)
                )
            ).all()
        for message_id in due:
            await self.send(message_id)
        return len(due)

    async def send(self, message_id: str) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            row = await session.get(MailMessage, message_id)
            if row is None or row.state != MailState.QUEUED:
                return
            try:
                made = await render(
                    session,
                    row,
                    settings=self.settings,
                    secret=self.secret,
                    now=now,
                    message_id=row.message_id,
                )
            except NotNeeded as exc:
                row.state, row.reason, row.updated_at = MailState.CANCELLED, str(exc), now
                return
            row.state = MailState.SENDING
            row.message_id = str(made.message["Message-ID"])
            row.subject = made.subject
            row.rendered = made.message.as_string()
            row.attempts += 1
            row.updated_at = now
        await self._deliver(message_id, made.message)

    async def _deliver(self, message_id: str, message: EmailMessage) -> None:
        try:
            await self.transport.deliver(message)
        except Undelivered as exc:
            await self._record(message_id, exc)
        else:
            await self._record(message_id, None)

    async def _record(self, message_id: str, problem: Undelivered | None) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            row = await session.get(MailMessage, message_id)
            assert row is not None
            row.updated_at = now
            if problem is None:
                row.state, row.reason, row.sent_at = MailState.SENT, None, now
            elif problem.retry:
                row.state, row.reason = MailState.QUEUED, str(problem)
                row.next_attempt_at = now + pause_after(row.attempts)
                log.warning("mail %s not delivered, trying again: %s", message_id, problem)
            else:
                row.state = MailState.BOUNCED if problem.bounced else MailState.FAILED
                row.reason = str(problem)

    async def queue_reminders(self) -> int:
        """For each invitation sent by mail and not answered: the reminder of the nearest step
        whose day has come (`mail_reminder_days` before the answer-by date, in the event's
        time zone), once per step, never after an answer."""
        steps = sorted(set(self.settings.mail_reminder_days))
        if not steps:
            return 0
        now = self.clock()
        queued = 0
        async with self.sessions.begin() as session:
            found = await session.execute(
                select(MailMessage, Invitation, CityEvent, Contact)
                .join(Invitation, Invitation.id == MailMessage.about_id)
                .join(CityEvent, CityEvent.id == Invitation.city_event_id)
                .join(Contact, Contact.id == MailMessage.recipient_id)
                .where(MailMessage.kind == MailKind.INVITATION)
                .where(MailMessage.state == MailState.SENT)
                .where(Invitation.answer == NO_REPLY)
                .where(Invitation.status == InvitationStatus.INVITED)
            )
            for sent, invitation, city_event, contact in found:
                today = now.astimezone(ZoneInfo(city_event.timezone)).date()
                days_left = (invitation.answer_by - today).days
                step = _step(steps, days_left)
                if step is None:
                    continue
                # A reminder of an invitation keyed the first way (by its cause, the one
                # invitation sent) is keyed so too; the others also by the invitation.
                first_way = sent.key == service.idempotency_key(
                    sent.cause_event_id, sent.recipient_id, sent.kind
                )
                kind = f"{MailKind.REMINDER.value}-{step}"
                keyed = (sent.cause_event_id, contact.id, kind)
                queued += await service.queue(
                    db_session=session,
                    kind=kind,
                    cause_event_id=sent.cause_event_id,
                    about_id=invitation.id,
                    recipient=contact,
                    now=now,
                    key=service.idempotency_key(*keyed, *(() if first_way else (invitation.id,))),
                )
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        while not stop.is_set():
            handled = 0
            try:
                handled = await self.run_once()
            except Exception:  # the database may be away a moment; try again after a pause
                log.exception("the mailer could not look for mail; trying again")
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.mail_poll_interval)


def _step(steps: Sequence[int], days_left: int) -> int | None:
    """The nearest reminder step reached with `days_left` days to the answer-by date."""
    if days_left < 0:
        return None
    reached = [step for step in steps if days_left <= step]
    return min(reached) if reached else None


def run_mailer(settings: Settings) -> None:
    """Run the mailer until SIGINT/SIGTERM."""
    import signal

    from twinning.db import make_async_engine
    from twinning.web.session import session_key

    async def main() -> None:
        engine = make_async_engine(settings.async_database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        mailer = Mailer(
            async_sessionmaker(engine, expire_on_commit=False),
            settings,
            transport_for(settings),
            secret=session_key(settings),
        )
        try:
            await mailer.run(stop)
        finally:
            await engine.dispose()

    asyncio.run(main())
