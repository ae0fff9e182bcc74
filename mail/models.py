"""The mail outbox: one row per message an event caused, from queued to sent (or failed,
bounced, cancelled), kept as the record of what the office sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class MailState(StrEnum):
    QUEUED = "queued"
    #: Being handed to the mail server: recorded (with its Message-ID) before the first byte goes.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    #: No longer needed before it went (a reminder whose invitation was answered meanwhile).
    CANCELLED = "cancelled"


class MailKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class MailMessage(Base):
    __tablename__ = "mail_messages"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: (cause event, recipient, kind): a message is queued at most once per key.
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: The event that caused it (its id), and what it is about (e.g. the invitation).
    cause_event_id: Mapped[str] = mapped_column(String(100), index=True)
    about_id: Mapped[str] = mapped_column(String(100), index=True)
    #: The contact it goes to, and the address it went to (personal data).
    recipient_id: Mapped[str] = mapped_column(String(100), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(35))
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    #: The message as handed to the server (RFC 5322), once rendered.
    rendered: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the message is about as it was when queued, for a subject that may be gone when it
    #: is sent (a trip leg dropped from its trip): a notice renders from it then.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
