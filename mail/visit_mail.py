"""Mail to a delegation's contact about its visit request: the acknowledgement of a request
sent through the public form, and the office's approval, decline or programme when staff
choose to tell them. In the contact's language; only the visit's own facts go in (the
contact's name, the delegation, the days, and for a programme its items' times and places)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.crm.models import ForeignMission, PartnerCity
from twinning.i18n import DEFAULT_LOCALE, force_locale, format_date, format_interval, localized
from twinning.i18n import resolve as resolve_locale
from twinning.visits.models import ItineraryItem, Venue, Visit

#: The kinds of visit mail, by the step that causes them.
ACKNOWLEDGEMENT = "visit-acknowledgement"
STEP_KINDS: Mapping[str, str] = {
    "VisitApproved": "visit-approved",
    "VisitDeclined": "visit-declined",
    "VisitScheduled": "visit-scheduled",
}
KINDS = frozenset({ACKNOWLEDGEMENT, *STEP_KINDS.values()})


@dataclass(frozen=True)
class VisitMail:
    to_address: str
    subject: str
    text: str
    html: str


def contact_language(contact: Mapping[str, object] | None) -> str:
    """The language the office writes to a visit's contact in: theirs, else the default."""
    wish = str((contact or {}).get("language") or "")
    return (resolve_locale(wish) if wish else None) or DEFAULT_LOCALE


def recipient_id(visit_id: str) -> str:
    """The outbox's recipient of mail to a visit's contact (who has no CRM record)."""
    return f"visit-contact:{visit_id}"


async def delegation_name(db_session: AsyncSession, visit: Visit) -> str:
    if visit.partner_id is not None:
        partner = await db_session.get(PartnerCity, visit.partner_id)
        return (localized(partner.names) or "") if partner is not None else ""
    if visit.mission_id is not None:
        mission = await db_session.get(ForeignMission, visit.mission_id)
        return (localized(mission.names) or "") if mission is not None else ""
    return localized(visit.organisation or {}) or ""


async def programme(db_session: AsyncSession, visit: Visit) -> list[dict[str, str]]:
    """The visit's items as the contact reads them: when (on the venue's clock, its zone
    named), what, and where."""
    items = (
        await db_session.scalars(
            select(ItineraryItem)
            .where(ItineraryItem.visit_id == visit.id, ItineraryItem.removed.is_(False))
            .order_by(ItineraryItem.starts_at, ItineraryItem.id)
        )
    ).all()
    shown = []
    for item in items:
        venue = await db_session.get(Venue, item.venue_id) if item.venue_id else None
        place = item.place or {}
        zone = str(place.get("timezone") or (venue.timezone if venue else "UTC"))
        start = item.starts_at.astimezone(ZoneInfo(zone))
        end = item.ends_at.astimezone(ZoneInfo(zone))
        day = format_date(start.date(), format="full")
        hours = format_interval(start, end, zone=zone, skeleton="Hm")
        where = localized(venue.names) if venue else localized(place.get("names") or {})
        shown.append(
            {
                "when": f"{day} {hours} ({zone})",
                "title": localized(item.titles) or "",
                "place": where or "",
            }
        )
    return shown


async def compose(
    db_session: AsyncSession, visit: Visit, kind: str, *, settings: Settings, language: str
) -> VisitMail | None:
    """The message of `kind` about `visit` in `language`; None when its contact has no email
    address. The web app's preview shows exactly this."""
    from twinning.mail.render import templates  # one template environment for all mail

    email = str((visit.contact or {}).get("email") or "")
    if not email:
        return None
    with force_locale(language):
        facts = {
            "kind": kind,
            "name": str((visit.contact or {}).get("name") or ""),
            "delegation": await delegation_name(db_session, visit),
            "office": localized(settings.office_name) or "",
            "first_day": format_date(visit.requested_from, format="long"),
            "last_day": format_date(visit.requested_to, format="long"),
            "reference": visit.id,
            "items": await programme(db_session, visit) if kind == "visit-scheduled" else [],
            "language": language,
        }
        subject = templates.get_template("visit.subject.txt").render(**facts).strip()
        text = templates.get_template("visit.txt").render(**facts)
        html = templates.get_template("visit.html").render(title=subject, **facts)
    return VisitMail(email, subject, text, html)
