"""The fixed words of the calendar feeds and the leaflets, translatable: calendar names, field
labels, headings, and a label for each value of the domain's enums.

Labels are lazy (`L_`): defined once here, they turn into the language of the context they are
shown in (`with force_locale("ja"): str(PARTNER_KIND_LABELS[PartnerKind.SISTER])`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from babel.support import LazyProxy
from twinning.i18n.formatting import format_number
from twinning.i18n.translation import L_, _, ngettext
from twinning.streams.events import (
    ExchangeDirection,
    ExchangeField,
    MissionKind,
    PartnerKind,
    PartnerStatus,
)

PARTNER_KIND_LABELS: Mapping[PartnerKind, LazyProxy] = {
    PartnerKind.SISTER: L_("Sister city"),
    PartnerKind.FRIENDLY: L_("Friendship city"),
    # TRANSLATORS: a kind of partnership: one based on a memorandum of understanding (MOU).
    PartnerKind.MOU: L_("Memorandum of understanding"),
    PartnerKind.OTHER: L_("Other partnership"),
}

PARTNER_STATUS_LABELS: Mapping[PartnerStatus, LazyProxy] = {
    # TRANSLATORS: the state of a partnership: in force and followed.
    PartnerStatus.ACTIVE: L_("Active"),
    # TRANSLATORS: the state of a partnership: in force, but without exchanges for long.
    PartnerStatus.DORMANT: L_("Dormant"),
    PartnerStatus.ENDED: L_("Ended"),
}

EXCHANGE_FIELD_LABELS: Mapping[ExchangeField, LazyProxy] = {
    ExchangeField.EDUCATION: L_("Education"),
    ExchangeField.CULTURE: L_("Culture"),
    ExchangeField.SPORTS: L_("Sports"),
    ExchangeField.ECONOMY_AND_TRADE: L_("Economy and trade"),
    ExchangeField.TOURISM: L_("Tourism"),
    ExchangeField.TECHNOLOGY: L_("Technology"),
    ExchangeField.ENVIRONMENT: L_("Environment"),
    ExchangeField.HEALTH: L_("Health"),
    ExchangeField.YOUTH: L_("Youth"),
    # TRANSLATORS: a field of exchanges: city administration and public governance.
    ExchangeField.GOVERNMENT: L_("Government"),
    ExchangeField.OTHER: L_("Other fields"),
}

EXCHANGE_DIRECTION_LABELS: Mapping[ExchangeDirection, LazyProxy] = {
    # TRANSLATORS: a partner's delegation came to the city that publishes this.
    ExchangeDirection.INBOUND: L_("Visit to our city"),
    ExchangeDirection.OUTBOUND: L_("Visit abroad"),
    ExchangeDirection.VIRTUAL: L_("Online exchange"),
}

MISSION_KIND_LABELS: Mapping[MissionKind, LazyProxy] = {
    MissionKind.EMBASSY: L_("Embassy"),
    MissionKind.REPRESENTATIVE_OFFICE: L_("Representative office"),
    MissionKind.TRADE_OFFICE: L_("Trade office"),
    MissionKind.CHAMBER: L_("Chamber of commerce"),
    MissionKind.OTHER: L_("Other mission"),
}

#: What a calendar entry or a timeline item is; the keys are the `kind` of
#: `ExchangeSource` ("visit", "city-event", "trip") and "exchange" for one recorded by staff.
ACTIVITY_KIND_LABELS: Mapping[str, LazyProxy] = {
    "visit": L_("Delegation visit"),
    "city-event": L_("City event"),
    "trip": L_("Trip abroad"),
    # TRANSLATORS: a kind of calendar entry: an exchange with a partner city.
    "exchange": L_("Exchange"),
}

_ENUM_LABELS: Mapping[type[StrEnum], Mapping[Any, LazyProxy]] = {
    PartnerKind: PARTNER_KIND_LABELS,
    PartnerStatus: PARTNER_STATUS_LABELS,
    ExchangeField: EXCHANGE_FIELD_LABELS,
    ExchangeDirection: EXCHANGE_DIRECTION_LABELS,
    MissionKind: MISSION_KIND_LABELS,
}


def label(
    value: PartnerKind | PartnerStatus | ExchangeField | ExchangeDirection | MissionKind,
) -> str:
    """The label of an enum value in the current locale. Looked up per enum, since values such
    as "other" occur in several of them."""
    return str(_ENUM_LABELS[type(value)][value])


# --- calendar feeds ----------------------------------------------------------------------

OFFICE_CALENDAR = L_("International affairs office")
LOCATION = L_("Location")
# TRANSLATORS: label of the city officials (mayor, directors...) taking part in an entry.
OFFICIALS = L_("Officials")
INTERPRETER = L_("Interpreter")
NOTES = L_("Notes")
# TRANSLATORS: the status of a calendar entry (a visit or an event) that will not take place.
CANCELLED = L_("Cancelled")


def official_calendar_name(official: str) -> str:
    # TRANSLATORS: the name of an official's own calendar feed; %(official)s is a person's name.
    return _("%(official)s's calendar", official=official)


def partner_calendar_name(partner: str) -> str:
    # TRANSLATORS: the name of a partner city's calendar feed; %(partner)s is the city's name.
    return _("%(partner)s — exchanges and visits", partner=partner)


def agreement_anniversary(years: int, partner: str) -> str:
    return ngettext(
        "Agreement anniversary: %(years)s year with %(partner)s",
        "Agreement anniversary: %(years)s years with %(partner)s",
        years,
        years=format_number(years),
        partner=partner,
    )


# --- leaflets ----------------------------------------------------------------------------


def agreement_year(year: int) -> str:
    # A year is not a quantity: no thousands separator, so not format_number.
    return _("Agreement signed in %(year)s", year=year)


OUR_PARTNER_CITIES = L_("Our partner cities")
LATEST_EXCHANGES = L_("Latest exchanges")
UPCOMING_EVENTS = L_("Upcoming events open to partners")
CONTACT_THE_OFFICE = L_("Contact the international affairs office")


def exchange_count(count: int) -> str:
    return ngettext("%(count)s exchange", "%(count)s exchanges", count, count=format_number(count))


def partner_city_count(count: int) -> str:
    return ngettext(
        "%(count)s partner city", "%(count)s partner cities", count, count=format_number(count)
    )
