"""The words of the gifts register, translatable: a label for each value of its enums."""

from __future__ import annotations

from collections.abc import Mapping

from babel.support import LazyProxy
from twinning.i18n import L_
from twinning.streams.events import GiftCategory, GiftDirection, GiftLocation, GiftPartyKind

DIRECTION_LABELS: Mapping[GiftDirection, LazyProxy] = {
    # TRANSLATORS: a gift the city gave (to a visitor, a partner city...).
    GiftDirection.GIVEN: L_("Given by the city"),
    # TRANSLATORS: a gift the city received.
    GiftDirection.RECEIVED: L_("Received by the city"),
}

CATEGORY_LABELS: Mapping[GiftCategory, LazyProxy] = {
    GiftCategory.ART: L_("Art"),
    GiftCategory.CRAFT: L_("Craft"),
    GiftCategory.BOOK: L_("Book"),
    GiftCategory.TEXTILE: L_("Textile"),
    GiftCategory.FOOD_AND_DRINK: L_("Food and drink"),
    GiftCategory.CEREMONIAL: L_("Ceremonial object"),
    GiftCategory.SOUVENIR: L_("Souvenir"),
    GiftCategory.OTHER: L_("Other gift"),
}

LOCATION_LABELS: Mapping[GiftLocation, LazyProxy] = {
    GiftLocation.KEPT: L_("Kept by the city"),
    GiftLocation.ON_DISPLAY: L_("On display"),
    GiftLocation.ARCHIVED: L_("Archived"),
    GiftLocation.RETURNED: L_("Returned"),
    GiftLocation.GIVEN_AWAY: L_("Given away"),
}

PARTY_KIND_LABELS: Mapping[GiftPartyKind, LazyProxy] = {
    GiftPartyKind.OFFICIAL: L_("An official of the city"),
    GiftPartyKind.PARTNER: L_("A partner city"),
    GiftPartyKind.MISSION: L_("A foreign mission"),
    GiftPartyKind.PERSON: L_("A person"),
}

OCCASION_LABELS: Mapping[str, LazyProxy] = {
    "visit": L_("Delegation visit"),
    "trip": L_("Trip abroad"),
    "city-event": L_("City event"),
}
