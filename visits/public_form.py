"""Visit requests from outside: what the public visit-request form records, and its limits.

Nobody signs in, so the form guards itself without any outside service: at most
`visit_form_per_hour` requests an hour from one network address, and as many for one contact
email address (both kept only as sha256 digests); a size limit on the body (the page); and a
honeypot field people never see (the page). A request it takes is a `VisitRequested` event
like a staff member's, marked `received_via: form`, flagged for staff until they accept it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.streams.events import Event, VisitRequested, VisitSource
from twinning.visits import service
from twinning.visits.models import FormSubmission

#: Who records a form's request in the event's envelope.
FORM_ACTOR = "public:visit-request-form"
WINDOW = timedelta(hours=1)


class TooManyRequests(Exception):
    """This address (or contact email) sent as many requests as an hour allows."""


def digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


async def submit(
    *,
    db_session: AsyncSession,
    data: VisitRequested,
    source: str,
    now: datetime,
    per_hour: int,
) -> Event:
    """Record a request sent through the form from network address `source`; `TooManyRequests`
    past the hour's limit (counted by the address and by the contact's email)."""
    email = (data.contact.email if data.contact else None) or ""
    source_key, email_key = digest(source), digest(email)
    since = now - WINDOW
    await db_session.execute(delete(FormSubmission).where(FormSubmission.submitted_at < since))
    sent = await db_session.scalar(
        select(func.count())
        .select_from(FormSubmission)
        .where(FormSubmission.submitted_at >= since)
        .where(
            or_(FormSubmission.source == source_key, FormSubmission.email == email_key)
            if email
            else FormSubmission.source == source_key
        )
    )
    if (sent or 0) >= per_hour:
        raise TooManyRequests
    db_session.add(
        FormSubmission(id=str(uuid.uuid4()), source=source_key, email=email_key, submitted_at=now)
    )
    request = data.model_copy(update={"received_via": VisitSource.FORM})
    return await service.request_visit(db_session=db_session, data=request, actor=FORM_ACTOR)
