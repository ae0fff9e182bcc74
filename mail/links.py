"""Personal answer links: unguessable (signed with the system's secret), bound to one
invitation and one contact, in a language, expiring when the city event ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "twinning.mail.answer-link"


@dataclass(frozen=True)
class AnswerLink:
    invitation_id: str
    contact_id: str
    language: str
    expires_at: datetime


class LinkRefused(Exception):
    """An answer link that was altered (`expired` False) or is past its time (True)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "altered")
        self.expired = expired


def make_token(secret: str, link: AnswerLink) -> str:
    return str(
        URLSafeSerializer(secret, salt=SALT).dumps(
            [link.invitation_id, link.contact_id, link.language, int(link.expires_at.timestamp())]
        )
    )


def read_token(secret: str, token: str, *, now: datetime) -> AnswerLink:
    try:
        invitation_id, contact_id, language, expires = URLSafeSerializer(secret, salt=SALT).loads(
            token
        )
        link = AnswerLink(
            str(invitation_id), str(contact_id), str(language), datetime.fromtimestamp(expires, UTC)
        )
    except (BadSignature, ValueError, TypeError):
        raise LinkRefused(expired=False) from None
    if now >= link.expires_at:
        raise LinkRefused(expired=True)
    return link
