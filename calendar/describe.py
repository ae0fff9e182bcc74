"""What a calendar entry says in one language: its summary, place and description.

Called inside `force_locale(language)`: multilingual content comes through the fallback chain
of `localized`, fixed words from the Babel catalogs, lists and country names from CLDR.
Nothing here reads personal data: an entry's facts hold only what calendars may show (the
projector never copies contacts, dietary or accessibility notes into them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from babel.lists import format_list
from babel.support import LazyProxy
from twinning.calendar.ical import VEvent
from twinning.calendar.models import EntryStatus
from twinning.i18n import (
    L_,
    _,
    babel_locale,
    country_name,
    format_date,
    get_locale,
    labels,
    localized,
)
from twinning.streams.events import PartnerKind

#: The CATEGORIES word of each kind of entry.
KIND_LABELS: Mapping[str, LazyProxy] = {
    "itinerary": labels.ACTIVITY_KIND_LABELS["visit"],
    "city-event": labels.ACTIVITY_KIND_LABELS["city-event"],
    "trip": labels.ACTIVITY_KIND_LABELS["trip"],
    "exchange": labels.ACTIVITY_KIND_LABELS["exchange"],
    # TRANSLATORS: a kind of calendar entry: the anniversary of a partnership agreement.
    "anniversary": L_("Agreement anniversary"),
}

# TRANSLATORS: a delegation (visitors from a partner city, a mission or an organisation).
DELEGATION = L_("Delegation")
# TRANSLATORS: an interpreter is needed but nobody has been named yet.
INTERPRETER_TO_BE_CONFIRMED = L_("to be confirmed")
# TRANSLATORS: the link to join an event remotely (a video conference).
VIDEO_LINK = L_("Video link")
# TRANSLATORS: an international event (a conference, an expo) that a trip abroad is for.
INTERNATIONAL_EVENT = L_("International event")
PARTNER_CITIES = L_("Partner cities")


@dataclass(frozen=True, slots=True)
class EntryRow:
    """The columns of a calendar entry that its VEVENT is made of."""

    uid: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    timezone: str | None
    status: str
    sequence: int
    created_at: datetime
    changed_at: datetime
    facts: dict[str, Any]


def _text(texts: Mapping[str, str] | None) -> str | None:
    return localized(texts) if texts else None


def _names(items: Sequence[Mapping[str, str]]) -> str:
    return format_list([localized(item) or "" for item in items], locale=babel_locale(get_locale()))


def _labelled(label: LazyProxy, value: str) -> str:
    # TRANSLATORS: one line of an entry's description, such as "Officials: Mayor Lin".
    return _("%(label)s: %(value)s", label=str(label), value=value)


def summary(row: EntryRow) -> str:
    facts = row.facts
    if anniversary := facts.get("anniversary"):
        text = labels.agreement_anniversary(
            anniversary["years"], localized(anniversary["partner"]) or ""
        )
    elif leg := facts.get("leg"):
        # TRANSLATORS: the title of one destination of a trip abroad: "<trip> – <city>".
        text = _(
            "%(trip)s – %(city)s", trip=_text(leg["trip"]) or "", city=_text(leg["city"]) or ""
        )
    elif exchange := facts.get("exchange"):
        field = labels.EXCHANGE_FIELD_LABELS.get(exchange["field"])
        text = _(
            # TRANSLATORS: the title of an exchange in a calendar: "Culture: Sapporo, Busan".
            "%(field)s: %(partners)s",
            field=str(field) if field is not None else exchange["field"],
            partners=_names(exchange["partners"]),
        )
    else:
        text = _text(facts.get("title")) or ""
    if row.status == EntryStatus.CANCELLED:
        # TRANSLATORS: the title of a calendar entry that will not take place.
        return _("Cancelled: %(title)s", title=text)
    return text


def location(facts: Mapping[str, Any]) -> str | None:
    place = facts.get("location")
    if not place:
        return None
    if "text" in place:
        return str(place["text"])
    name = _text(place.get("names")) or ""
    if country := place.get("country"):
        # TRANSLATORS: a city and its country, as the place of an entry.
        return _("%(city)s, %(country)s", city=name, country=country_name(country))
    if address := _text(place.get("address")):
        # TRANSLATORS: a place and its address, as the place of an entry.
        return _("%(place)s, %(address)s", place=name, address=address)
    return name


def description(facts: Mapping[str, Any], *, public: bool) -> str | None:
    """The lines of an entry's description; a public feed (a partner city's) leaves out the
    interpreter and the notes, which are meant for the city's own officials."""
    lines: list[str] = []
    if delegation := _text(facts.get("delegation")):
        lines.append(_labelled(DELEGATION, delegation))
    if officials := facts.get("officials"):
        lines.append(_labelled(labels.OFFICIALS, _names(officials)))
    interpreter = facts.get("interpreter")
    if interpreter and not public:
        name = str(INTERPRETER_TO_BE_CONFIRMED) if interpreter is True else str(interpreter)
        lines.append(_labelled(labels.INTERPRETER, name))
    if event := _text(facts.get("international_event")):
        lines.append(_labelled(INTERNATIONAL_EVENT, event))
    if partners := facts.get("partners"):
        lines.append(_labelled(PARTNER_CITIES, _names(partners)))
    if anniversary := facts.get("anniversary"):
        lines.append(labels.label(PartnerKind(anniversary["kind"])))
        signed = format_date(date.fromisoformat(anniversary["agreement_date"]), format="long")
        # TRANSLATORS: %(date)s is the date a partnership agreement was signed.
        lines.append(_("Agreement signed on %(date)s", date=signed))
    if text := _text(facts.get("description")):
        lines.append(text)
    if link := facts.get("video_link"):
        lines.append(_labelled(VIDEO_LINK, link))
    if (notes := facts.get("notes")) and not public:
        lines.append(_labelled(labels.NOTES, notes))
    return "\n".join(lines) or None


def vevent(row: EntryRow, *, public: bool, cancelled: bool) -> VEvent:
    """The entry as one VEVENT in the current locale; `cancelled` shows it cancelled whatever
    its own status (it left this feed's audience)."""
    if cancelled:
        row = replace(row, status=EntryStatus.CANCELLED.value)
    all_day = row.timezone is None
    return VEvent(
        uid=row.uid,
        stamp=row.changed_at,
        created=row.created_at,
        sequence=row.sequence,
        start=row.starts_at.date() if all_day else row.starts_at,
        end=row.ends_at.date() if all_day else row.ends_at,
        timezone=row.timezone,
        status=row.status,
        summary=summary(row),
        location=location(row.facts),
        description=description(row.facts, public=public),
        categories=(str(KIND_LABELS[row.kind]),),
        transparent=all_day,
    )
