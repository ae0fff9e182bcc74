"""A queued message made whole: the invitation or reminder in the recipient's language, plain
text and HTML, with the city event as an iCalendar request (`METHOD:REQUEST`, the feeds' UID)
and the recipient's personal answer link. Only the recipient's own data goes in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc5322_date
from email.utils import make_msgid, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.calendar.ical import (
    CRLF,
    PRODID,
    VEvent,
    content_line,
    render_vevent,
    render_vtimezone,
)
from twinning.calendar.models import CalendarEntry
from twinning.calendar.projector import entry_uid
from twinning.config import Settings
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.i18n import (
    force_locale,
    format_date,
    format_datetime,
    format_interval,
    gettext,
    localized,
    ngettext,
)
from twinning.invitations.models import (
    NO_REPLY,
    CityEvent,
    CityEventStatus,
    Invitation,
    InvitationStatus,
)
from twinning.mail import notices, visit_mail
from twinning.mail.links import AnswerLink, make_token
from twinning.mail.models import MailKind, MailMessage
from twinning.visits.models import Venue, Visit

HERE = Path(__file__).resolve().parent
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]


class NotNeeded(Exception):
    """The message has no reason to go any more (the reason says why, for the outbox)."""


@dataclass(frozen=True)
class Rendered:
    message: EmailMessage
    subject: str


def kind_of(kind: str) -> str:
    """The template of a kind: reminders of every step share one."""
    return MailKind.REMINDER.value if kind.startswith(MailKind.REMINDER.value) else kind


async def render(
    db_session: AsyncSession,
    row: MailMessage,
    *,
    settings: Settings,
    secret: str,
    now: datetime,
    message_id: str | None = None,
) -> Rendered:
    """The message of `row` as it is to be sent now; `NotNeeded` when it should not go."""
    if row.kind in notices.KINDS:
        return await _render_notice(
            db_session, row, settings=settings, now=now, message_id=message_id
        )
    if row.kind in visit_mail.KINDS:
        return await _render_visit_mail(
            db_session, row, settings=settings, now=now, message_id=message_id
        )
    invitation = await db_session.get(Invitation, row.about_id)
    contact = await db_session.get(Contact, row.recipient_id)
    if invitation is None or contact is None or not contact.email:
        raise NotNeeded("the invitation or the contact is no longer there")
    city_event = await db_session.get(CityEvent, invitation.city_event_id)
    assert city_event is not None  # invitations belong to an event
    if invitation.status != InvitationStatus.INVITED:
        raise NotNeeded("the invitation was withdrawn")
    if city_event.status != CityEventStatus.SCHEDULED or now >= city_event.starts_at:
        raise NotNeeded(f"the city event is {city_event.status} or has begun")
    kind = kind_of(row.kind)
    if kind == MailKind.REMINDER and invitation.answer != NO_REPLY:
        raise NotNeeded("the invitation was answered")
    venue = await db_session.get(Venue, city_event.venue_id) if city_event.venue_id else None
    invitee: PartnerCity | ForeignMission | None = (
        await db_session.get(PartnerCity, invitation.invitee_id)
        if invitation.invitee_kind == "partner"
        else await db_session.get(ForeignMission, invitation.invitee_id)
    )
    language = row.language
    link = make_token(secret, AnswerLink(invitation.id, contact.id, language, city_event.ends_at))
    answer_url = f"{settings.base_url()}/ui/answer/{link}"
    with force_locale(language):
        place = localized(venue.names) if venue is not None else city_event.venue_place
        facts: dict[str, object] = {
            "contact": contact,
            "invitee": localized(invitee.names) if invitee is not None else "",
            "office": localized(settings.office_name) or "",
            "title": localized(city_event.title) or "",
            "description": localized(city_event.description or {}) or "",
            "when": when(city_event),
            "place": place or "",
            "video_link": city_event.video_link,
            "answer_by": format_date(invitation.answer_by, format="long"),
            "answer_url": answer_url,
            "language": language,
        }
        subject = templates.get_template(f"{kind}.subject.txt").render(**facts).strip()
        text = templates.get_template(f"{kind}.txt").render(**facts)
        html = templates.get_template(f"{kind}.html").render(**facts)
    message = _message(settings, contact.email, subject, text, html, now, message_id)
    sequence = await _sequence(db_session, city_event)
    ics = invitation_ics(city_event, facts, settings.mail_from, contact.email, sequence, now)
    message.add_attachment(
        ics.encode(),
        maintype="text",
        subtype="calendar",
        filename="invitation.ics",
        params={"method": "REQUEST"},
    )
    # Last: `set_content` and the parts added after it move Content-* headers into a part.
    message["Content-Language"] = language
    return Rendered(message, subject)


def _message(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    message_id: str | None,
) -> EmailMessage:
    """A message from the office to one recipient, as plain text and HTML."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = rfc5322_date(now)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "twinning"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


async def _render_visit_mail(
    db_session: AsyncSession,
    row: MailMessage,
    *,
    settings: Settings,
    now: datetime,
    message_id: str | None,
) -> Rendered:
    visit = await db_session.get(Visit, row.about_id)
    if visit is None:
        raise NotNeeded("the visit is no longer there")
    made = await visit_mail.compose(
        db_session, visit, row.kind, settings=settings, language=row.language
    )
    if made is None:
        raise NotNeeded("the visit's contact has no email address any more")
    message = _message(
        settings, made.to_address, made.subject, made.text, made.html, now, message_id
    )
    message["Content-Language"] = row.language
    return Rendered(message, made.subject)


async def _render_notice(
    db_session: AsyncSession,
    row: MailMessage,
    *,
    settings: Settings,
    now: datetime,
    message_id: str | None,
) -> Rendered:
    made = await notices.compose(
        db_session,
        kind=row.kind,
        about_id=row.about_id,
        official_id=row.recipient_id.removeprefix("official:"),
        language=row.language,
        settings=settings,
        now=now,
        facts=row.facts,
    )
    if made is None:
        raise NotNeeded("what the notice is about has begun, or is no longer there")
    message = _message(
        settings, row.to_address, made.subject, made.text, made.html, now, message_id
    )
    message["Content-Language"] = row.language
    return Rendered(message, made.subject)


def when(city_event: CityEvent) -> str:
    """The event's days and hours on its own clock, and the zone that clock is in."""
    zone = ZoneInfo(city_event.timezone)
    start, end = city_event.starts_at.astimezone(zone), city_event.ends_at.astimezone(zone)
    days = format_interval(start.date(), end.date(), skeleton="yMMMEd")
    if start.date() == end.date():
        hours = format_interval(start, end, zone=city_event.timezone, skeleton="Hm")
        return f"{days} {hours} ({city_event.timezone})"
    start_at = format_datetime(start, city_event.timezone, format="short")
    end_at = format_datetime(end, city_event.timezone, format="short")
    return f"{start_at} – {end_at} ({city_event.timezone})"


async def _sequence(db_session: AsyncSession, city_event: CityEvent) -> int:
    entry = await db_session.get(CalendarEntry, entry_uid("city-event", city_event.id))
    return entry.sequence if entry is not None else 0


def invitation_ics(
    city_event: CityEvent,
    facts: dict[str, object],
    organizer: str,
    attendee: str,
    sequence: int,
    now: datetime,
) -> str:
    """The city event as an iTIP request (RFC 5546) to one attendee, under the UID of the
    office's feeds, so that calendars merge the invitation with the subscribed entry."""
    description = "\n\n".join(
        str(part) for part in (facts["description"], facts["video_link"]) if part
    )
    vevent = render_vevent(
        VEvent(
            uid=entry_uid("city-event", city_event.id),
            stamp=now,
            created=city_event.scheduled_at,
            sequence=sequence,
            start=city_event.starts_at,
            end=city_event.ends_at,
            timezone=city_event.timezone,
            status="confirmed",
            summary=str(facts["title"]),
            location=str(facts["place"]) or None,
            description=description or None,
        )
    )
    people = content_line("ORGANIZER", f"mailto:{parseaddr(organizer)[1]}") + content_line(
        "ATTENDEE",
        f"mailto:{attendee}",
        ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE",
    )
    if city_event.video_link:
        people += content_line("URL", city_event.video_link)
    vevent = vevent.replace("END:VEVENT" + CRLF, people + "END:VEVENT" + CRLF)
    year = city_event.starts_at.year
    return "".join(
        [
            "BEGIN:VCALENDAR" + CRLF,
            "VERSION:2.0" + CRLF,
            content_line("PRODID", PRODID),
            "METHOD:REQUEST" + CRLF,
            render_vtimezone(city_event.timezone, year, city_event.ends_at.year),
            vevent,
            "END:VCALENDAR" + CRLF,
        ]
    )
