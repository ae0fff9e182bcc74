"""The admins' outgoing mail list, a page at a time: 25 messages a page, newest first, with the
links to the next and the previous page keeping the chosen state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.mail import service as mail
from web_support import ADMIN, Office, office

__all__ = ["office"]  # a fixture

MESSAGES = 30


async def _queue_many(sessions: object) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    async with sessions() as session:  # type: ignore[operator]
        assert isinstance(session, AsyncSession)
        for n in range(MESSAGES):
            await mail.queue_to(
                db_session=session,
                kind="invitation",
                cause_event_id=f"cause-{n:02d}",
                about_id="event-1",
                recipient_id=f"recipient-{n:02d}",
                to_address=f"guest{n:02d}@example.org",
                language="en",
                now=start + timedelta(minutes=n),
            )
        await session.commit()


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"guest(\d\d)@example\.org", html)]


def test_the_outgoing_mail_is_listed_a_page_at_a_time_keeping_the_chosen_state(
    office: Office,
) -> None:
    office.api.portal.call(_queue_many, office.api.app.state.sessions)
    with office.signed_in(ADMIN) as (client, _):
        first = client.get("/ui/admin/mail", params={"state": "queued"})
        assert first.status_code == 200, first.text
        assert _shown(first.text) == list(range(MESSAGES - 1, MESSAGES - 26, -1))  # newest first
        following = re.search(r'href="(/ui/admin/mail\?[^"]*page=2[^"]*)"', first.text)
        assert following is not None, "no link to the next page"
        assert "state=queued" in following.group(1)

        second = client.get(following.group(1).replace("&amp;", "&"))
        assert second.status_code == 200, second.text
        assert _shown(second.text) == list(range(MESSAGES - 26, -1, -1))
        assert re.search(r'href="/ui/admin/mail\?[^"]*page=1', second.text), "no way back"
        assert not re.search(r'href="/ui/admin/mail\?[^"]*page=3', second.text)

        # Another state: none of these messages is sent, so its list is empty and unpaged.
        sent = client.get("/ui/admin/mail", params={"state": "sent"})
        assert sent.status_code == 200
        assert _shown(sent.text) == []
        assert "page=2" not in sent.text
