"""Our city's profile, as the office writes it for the leaflet and the brochures: the command
that sets it (one event, `CityProfileSet`, replacing the profile before) and its reading; and
which language a bilingual brochure pairs with Traditional Chinese."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import PartnerCity
from twinning.i18n import resolve
from twinning.publicity.models import CityProfile
from twinning.publicity.render import BESIDE
from twinning.streams import outbox
from twinning.streams.events import CITY_PROFILE, CityProfileSet, Event


async def set_profile(*, db_session: AsyncSession, data: CityProfileSet, actor: str) -> Event:
    return outbox.record(db_session, data, aggregate_id=CITY_PROFILE, actor=actor)


async def get_profile(*, db_session: AsyncSession) -> CityProfile | None:
    return await db_session.get(CityProfile, CITY_PROFILE, populate_existing=True)


def as_command(profile: CityProfile | None) -> dict[str, Any]:
    """The profile as the command that would set it again (what a form starts from)."""
    if profile is None:
        return {"about": {}, "figures": []}
    return {"about": dict(profile.about), "figures": [dict(f) for f in profile.figures]}


async def partner_language(*, db_session: AsyncSession, partner_id: str, asked: str) -> str:
    """The language a bilingual brochure pairs with Traditional Chinese: the one asked for;
    for Traditional Chinese itself, the partner's first shipped language, else English."""
    if asked != BESIDE:
        return asked
    partner = await db_session.get(PartnerCity, partner_id)
    for language in partner.languages if partner is not None else []:
        locale = resolve(language)
        if locale is not None and locale != BESIDE:
            return locale
    return "en"
