"""What the API says of a message in the mail outbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from twinning.db import Page
from twinning.mail.models import MailState


class MailMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str = Field(description="`invitation`, or `reminder-<days>` before the answer-by date.")
    cause_event_id: str = Field(description="The event that caused it (see `/events/{id}`).")
    about_id: str = Field(description="What it is about: the invitation.")
    recipient_id: str = Field(description="The contact it goes to.")
    to_address: str
    language: str
    state: MailState
    reason: str | None = Field(
        description="Why it failed, bounced or was cancelled; or why "
        "the last attempt of a queued message did not go."
    )
    message_id: str | None
    subject: str | None
    attempts: int
    next_attempt_at: datetime
    queued_at: datetime
    updated_at: datetime
    sent_at: datetime | None


class MailFilter(Page):
    state: MailState | None = None
    cause_event_id: str | None = Field(default=None, max_length=100)
