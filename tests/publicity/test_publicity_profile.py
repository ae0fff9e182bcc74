"""Our city's profile on the leaflet and the brochures, and a brochure's upcoming events its
partner is invited to: what the documents show, and which ones an event renews."""

from __future__ import annotations

from datetime import date

from conftest import Projection
from publicity_support import NOW, History, city_event, event, partner
from test_publicity_content import gathered
from test_publicity_refresh import every_locale, history, rendered_after
from twinning.publicity.content import Brochure, Leaflet
from twinning.publicity.models import LEAFLET, brochure
from twinning.streams.events import (
    CITY_PROFILE,
    CityProfileSet,
    InvitationSent,
    InvitationWithdrawn,
)

__all__ = ["history"]  # a fixture

PROFILE = CityProfileSet.model_validate(
    {
        "about": {
            "zh-TW": "本市是國家的門戶，擁有國際機場與兩千多座埤塘。",
            "en": "Our city is the country's gateway, with its international airport.",
        },
        "figures": [
            {"label": {"zh-TW": "人口", "en": "Population", "ja": "人口"}, "value": "2,330,000"},
            {"label": {"zh-TW": "面積", "en": "Area"}, "value": "1,221 km²"},
        ],
    }
)


def _invite(partner_id: str, invitation_id: str) -> InvitationSent:
    return InvitationSent(
        invitation_id=invitation_id,
        invitee_kind="partner",
        invitee_id=partner_id,
        answer_by=date(2026, 3, 10),
    )


def test_the_profile_is_shown_on_the_leaflet_and_every_brochure_in_the_readers_language(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events, event(PROFILE, CITY_PROFILE))
    leaflet: Leaflet = gathered(projection.settings, LEAFLET, "ja")
    assert leaflet.city is not None and leaflet.city.about is not None
    # No Japanese paragraph: the fallback chain's choice, in its own language.
    assert leaflet.city.about.lang == "en" and "gateway" in leaflet.city.about.text
    assert [(f.label.text, f.value) for f in leaflet.city.figures] == [
        ("人口", "2,330,000"),
        ("Area", "1,221 km²"),
    ]
    busan: Brochure = gathered(projection.settings, brochure(history.ids["busan"]), "zh-TW")
    assert busan.city is not None and busan.city.about is not None
    assert busan.city.about.text.startswith("本市是國家的門戶")
    assert [f.label.text for f in busan.city.figures] == ["人口", "面積"]


def test_setting_the_profile_renews_the_leaflet_and_every_brochure(
    projection: Projection, history: History
) -> None:
    documents = [LEAFLET, *(brochure(history.ids[p]) for p in ("sapporo", "busan", "valencia"))]
    expected = every_locale(*documents)
    assert rendered_after(projection, event(PROFILE, CITY_PROFILE)) == expected
    again = CityProfileSet.model_validate({**PROFILE.model_dump(), "figures": []})
    assert rendered_after(projection, event(again, CITY_PROFILE)) == expected
    leaflet: Leaflet = gathered(projection.settings, LEAFLET, "en")
    assert leaflet.city is not None and leaflet.city.figures == ()  # replaced whole


def test_without_a_profile_no_section_about_our_city_is_shown(projection: Projection) -> None:
    projection.apply(*History().events)
    assert gathered(projection.settings, LEAFLET, "en").city is None
    empty = CityProfileSet()
    projection.apply(event(empty, CITY_PROFILE))
    assert gathered(projection.settings, LEAFLET, "en").city is None


def test_a_brochure_lists_the_coming_events_its_partner_is_invited_to(
    projection: Projection, history: History
) -> None:
    sapporo, busan = history.ids["sapporo"], history.ids["busan"]
    festival = city_event({"en": "Harbour Festival", "zh-TW": "港灣節"}, days_after_now=30)
    past = city_event({"en": "Last year's fair"}, days_after_now=-30)
    rendered_after(projection, festival, past)
    invite = event(_invite(sapporo, "inv-s"), festival.aggregate_id)
    # Renews Sapporo's brochure only (the leaflet shows the festival whoever is invited).
    assert rendered_after(projection, invite) == every_locale(brochure(sapporo))
    projection.apply(event(_invite(sapporo, "inv-p"), past.aggregate_id))
    shown: Brochure = gathered(projection.settings, brochure(sapporo), "zh-TW")
    assert [line.title.text for line in shown.invited] == ["港灣節"]  # not the past one
    assert gathered(projection.settings, brochure(busan), "en").invited == ()
    withdrawn = event(InvitationWithdrawn(invitation_id="inv-s"), festival.aggregate_id)
    assert rendered_after(projection, withdrawn) == every_locale(brochure(sapporo))
    assert gathered(projection.settings, brochure(sapporo), "en").invited == ()


def test_a_partner_with_no_invitation_lists_no_events(projection: Projection) -> None:
    lone = partner({"en": "Lone City"})
    projection.apply(lone, city_event({"en": "Open day"}, days_after_now=5))
    shown: Brochure = gathered(projection.settings, brochure(lone.aggregate_id), "en")
    assert shown.invited == () and NOW.year == 2026
