"""The gifts register of a year, for audit: a table (CSV) and an A4 PDF in one language.

The PDF is rendered like the leaflets (WeasyPrint, offline, the CJK fonts cut to what the page
shows: `twinning.publicity.render`), from `templates/register.html`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import numbers
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.config import Settings
from twinning.crm import service as crm
from twinning.crm.schemas import MissionFilter, PartnerFilter
from twinning.db import Page
from twinning.export import Table, to_csv
from twinning.gifts import service
from twinning.gifts.labels import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    LOCATION_LABELS,
    OCCASION_LABELS,
)
from twinning.gifts.models import Gift
from twinning.gifts.schemas import GiftFilter
from twinning.i18n import L_, force_locale, format_date, gettext, localized, ngettext
from twinning.i18n.formatting import babel_locale
from twinning.publicity.fonts import document_face, face_class, face_css
from twinning.publicity.render import render_pdf, subset_cache
from twinning.streams.events import GiftCategory, GiftDirection, GiftLocation, GiftPartyKind
from twinning.visits import service as registers

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: A year holds a few hundred gifts at most; read them a bounded page at a time.
BATCH = 500


@dataclass(frozen=True)
class Names:
    """The names of the registered parties a gift may name, by kind and id."""

    by_kind: Mapping[str, Mapping[str, Mapping[str, str]]]

    def of(self, party: Mapping[str, Any], language: str) -> str:
        """A giver or recipient as the register shows it: the record's name, and the person
        who handed it over or took it, if named."""
        kind, record_id, name = party.get("kind"), party.get("id"), party.get("name")
        registered = self.by_kind.get(str(kind), {}).get(str(record_id))
        shown = localized(dict(registered), language) if registered else record_id
        if kind == GiftPartyKind.PERSON.value:
            return str(name or "")
        return f"{shown} ({name})" if name else str(shown or "")


async def names(db_session: AsyncSession) -> Names:
    partners = await crm.list_partners(db_session=db_session, query=PartnerFilter(limit=500))
    missions = await crm.list_missions(db_session=db_session, query=MissionFilter(limit=500))
    officials = await registers.list_officials(db_session=db_session, query=Page(limit=500))
    return Names(
        {
            GiftPartyKind.PARTNER.value: {p.id: p.names for p in partners},
            GiftPartyKind.MISSION.value: {m.id: m.names for m in missions},
            GiftPartyKind.OFFICIAL.value: {o.id: o.names for o in officials},
        }
    )


async def gifts_of_year(db_session: AsyncSession, year: int, settings: Settings) -> list[Gift]:
    """Every gift dated in `year`, oldest first."""
    found: list[Gift] = []
    while True:
        page = await service.list_gifts(
            db_session=db_session,
            query=GiftFilter(year=year, limit=BATCH, offset=len(found)),
            settings=settings,
        )
        found += page
        if len(page) < BATCH:
            return sorted(found, key=lambda g: (g.date, g.id))


def money(value: str | None, currency: str | None, language: str) -> str:
    if value is None or currency is None:
        return ""
    return numbers.format_currency(Decimal(value), currency, locale=babel_locale(language))


def _approval(gift: Gift, settings: Settings) -> str:
    if gift.approved_at is not None:
        return gettext("Approved by %(who)s", who=gift.approved_by or "")
    if service.needs_approval(gift, settings):
        return gettext("Awaiting approval")
    return gettext("Not needed")


HEADER = (
    L_("Date"),
    L_("Given or received"),
    L_("Description"),
    L_("Category"),
    L_("Giver"),
    L_("Recipient"),
    L_("Occasion"),
    L_("Estimated value"),
    L_("Currency"),
    L_("Where it is now"),
    L_("Approval"),
    L_("Notes"),
)


def table(gifts: Sequence[Gift], who: Names, language: str, settings: Settings) -> Table:
    """The register as rows, in `language` (a description in the language it was written in
    when `language` has none)."""
    with force_locale(language):
        rows = [
            [
                gift.date.isoformat(),
                str(DIRECTION_LABELS[GiftDirection(gift.direction)]),
                localized(gift.description, language) or "",
                str(CATEGORY_LABELS[GiftCategory(gift.category)]),
                who.of(gift.giver, language),
                who.of(gift.recipient, language),
                str(OCCASION_LABELS[gift.occasion_kind]) if gift.occasion_kind else "",
                gift.estimated_value or "",
                gift.currency or "",
                str(LOCATION_LABELS[GiftLocation(gift.location)]),
                _approval(gift, settings),
                gift.notes or "",
            ]
            for gift in gifts
        ]
        return Table(
            title=gettext("Gifts register %(year)s", year=gifts[0].date.year if gifts else ""),
            header=[str(h) for h in HEADER],
            rows=rows,
        )


def register_csv(found: Table) -> bytes:
    return to_csv(found)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["face"] = face_class
    env.globals["face_css"] = Markup(face_css())  # static CSS of ours, not data
    return env


def register_html(
    gifts: Sequence[Gift], who: Names, year: int, language: str, settings: Settings, today: date
) -> str:
    found = table(gifts, who, language, settings)
    with force_locale(language):
        shown = [
            {"cells": row, "value": money(g.estimated_value, g.currency, language)}
            for row, g in zip(found.rows, gifts, strict=True)
        ]
        return (
            _environment()
            .get_template("register.html")
            .render(
                year=year,
                language=language,
                document_class=f"f-{document_face(language)}",
                header=found.header,
                rows=shown,
                office=localized(settings.office_name, language),
                printed=format_date(today, format="long"),
                threshold=money(
                    str(settings.gift_approval_threshold), settings.gift_approval_currency, language
                ),
            )
        )


def register_pdf(html: str, language: str, settings: Settings) -> bytes:
    font_dir = settings.data_dir.resolve() / "publicity" / "fonts"
    return render_pdf(html, language, subset_cache(str(font_dir)))
