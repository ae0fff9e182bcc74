"""The words of the press items, translatable."""

from __future__ import annotations

from collections.abc import Mapping

from babel.support import LazyProxy
from twinning.i18n import L_
from twinning.streams.events import PressItemKind

KIND_LABELS: Mapping[PressItemKind, LazyProxy] = {
    PressItemKind.RELEASE: L_("Press release"),
    PressItemKind.INTERVIEW: L_("Interview"),
    PressItemKind.ARTICLE: L_("Article"),
    PressItemKind.BROADCAST: L_("Broadcast"),
}

COVERED_LABELS: Mapping[str, LazyProxy] = {
    "visit": L_("Delegation visit"),
    "city-event": L_("City event"),
    "trip": L_("Trip abroad"),
    "exchange": L_("Exchange"),
}
