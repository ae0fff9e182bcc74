"""What the documents show, gathered from the read models in the reader's language."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from conftest import Projection
from publicity_support import HOSTILE, NOW, History, city_event, event, exchange, partner
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.publicity.content import Brochure, Leaflet
from twinning.publicity.models import LEAFLET, brochure
from twinning.publicity.refresh import gather
from twinning.streams.events import CityEventCancelled, PartnerCityUpdated, VenueRegistered


def gathered(settings: Settings, document: str, locale: str) -> Any:
    async def run() -> Any:
        engine = make_async_engine(settings.async_database_url)
        try:
            async with async_sessionmaker(engine)() as session:
                return await gather(
                    session, document=document, locale=locale, now=NOW, settings=settings
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_partners_are_grouped_by_world_region_in_the_readers_language(
    projection: Projection,
) -> None:
    austin = partner(
        {"en": "Austin", "zh-TW": "奧斯汀市"},
        country="US",
        timezone="America/Chicago",
        agreement_date=date(2001, 8, 15),
    )
    perth = partner({"en": "Perth"}, country="AU", kind="other", timezone="Australia/Perth")
    projection.apply(*History().events, austin, perth)
    leaflet: Leaflet = gathered(projection.settings, LEAFLET, "ja")
    regions = {region.name: [p.name.text for p in region.partners] for region in leaflet.regions}
    assert regions == {
        "アジア": ["Busan", "札幌市"],
        "ヨーロッパ": [HOSTILE],  # Valencia's Japanese name, in the test history
        "アメリカ大陸": ["Austin"],
        "オセアニア": ["Perth"],
    }
    austin_line = next(p for r in leaflet.regions for p in r.partners if p.name.text == "Austin")
    assert (austin_line.country, austin_line.kind, austin_line.agreement) == (
        "アメリカ合衆国",
        "姉妹都市",
        "2001年締結",
    )
    assert leaflet.partner_count == "5の交流都市"


def test_an_ended_partnership_leaves_the_leaflet_but_keeps_its_brochure(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events)
    projection.apply(event(PartnerCityUpdated(status="ended"), history.ids["valencia"]))
    leaflet: Leaflet = gathered(projection.settings, LEAFLET, "en")
    names = {p.name.text for region in leaflet.regions for p in region.partners}
    assert names == {"Sapporo", "Busan"}
    kept: Brochure = gathered(projection.settings, brochure(history.ids["valencia"]), "en")
    assert kept.name.text == "Valencia"
    assert kept.next_anniversary is None  # no anniversary to look forward to once ended


def test_the_map_shows_partners_with_a_location_and_the_city_when_its_location_is_set(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events)
    plain: Leaflet = gathered(projection.settings, LEAFLET, "en")
    assert sorted(p.name.text for p in plain.map) == ["Busan", "Sapporo"]
    assert not any(p.home for p in plain.map)
    with_city = projection.settings.model_copy(update={"office_location": (24.99, 121.3)})
    located: Leaflet = gathered(with_city, LEAFLET, "en")
    assert [(p.latitude, p.longitude) for p in located.map if p.home] == [(24.99, 121.3)]
    # A brochure maps the two cities, or the partner alone (its region) when the city's
    # location is not set.
    sapporo = brochure(history.ids["sapporo"])
    alone: Brochure = gathered(projection.settings, sapporo, "en")
    assert [(p.name.text, p.home) for p in alone.map] == [("Sapporo", False)]
    assert alone.distance is None
    both: Brochure = gathered(with_city, sapporo, "en")
    assert [p.home for p in both.map] == [True, False] and both.distance


def test_the_latest_exchanges_come_newest_first_and_only_open_coming_events_are_shown(
    projection: Projection,
) -> None:
    history = History()
    sapporo = history.ids["sapporo"]
    hall = event(
        VenueRegistered.model_validate(
            {"names": {"en": "Hall B", "ja": "Bホール"}, "capacity": 80, "timezone": "Asia/Taipei"}
        )
    )
    later = city_event({"en": "Forum"}, days_after_now=40)
    cancelled = city_event({"en": "Cancelled gala"}, days_after_now=5)
    past = city_event({"en": "Last year's fair"}, days_after_now=-30)
    in_hall = city_event({"en": "Concert"}, days_after_now=3)
    in_hall = event(
        type(in_hall.payload).model_validate(
            {**in_hall.payload.to_json(), "venue": {"venue_id": hall.aggregate_id}}
        )
    )
    projection.apply(
        *history.events,
        *(exchange([sapporo], date(2023, m, 1), "tourism", {"en": f"Tour {m}"}) for m in (1, 2)),
        hall,
        later,
        cancelled,
        event(CityEventCancelled(), cancelled.aggregate_id),
        past,
        in_hall,
    )
    leaflet: Leaflet = gathered(projection.settings, LEAFLET, "ja")
    assert [e.summary.text for e in leaflet.latest] == [
        HOSTILE,
        "Joint lantern festival show",
        "高校生交流",
        "Tour 2",
        "Tour 1",
    ]
    assert [e.title.text for e in leaflet.events] == [
        "Concert",
        "International Lantern Festival",
        "Forum",
    ]
    assert leaflet.events[0].where is not None
    assert leaflet.events[0].where.text == "Bホール"
    assert leaflet.exchange_count == "5件の交流"


def test_a_brochure_tells_the_relationship_as_a_timeline(projection: Projection) -> None:
    history = History()
    projection.apply(*history.events)
    valencia: Brochure = gathered(projection.settings, brochure(history.ids["valencia"]), "en")
    assert valencia.agreement == "Agreement signed on March 3, 2014"
    first = valencia.milestones[0]
    assert (first.kind, first.label, first.date) == ("agreement", "Agreement", "Mar 3, 2014")
    days = [m.day for m in valencia.milestones]
    assert days == sorted(days)
    assert valencia.next_anniversary == (
        "Next: Agreement anniversary: 15 years with Valencia (March 3, 2029)"
    )


def test_a_plain_text_office_name_is_shown_in_every_language(projection: Projection) -> None:
    settings = Settings(
        database_url=projection.settings.database_url,
        office_name="Taoyuan International Affairs",
        _env_file=None,  # type: ignore[call-arg]
    )
    for locale in ("zh-TW", "ko"):
        leaflet: Leaflet = gathered(settings, LEAFLET, locale)
        assert leaflet.office.name.text == "Taoyuan International Affairs"
        assert leaflet.office.name.lang is None


def test_a_brochure_gives_the_partners_population_in_the_readers_way_of_writing_numbers(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events)
    valencia = brochure(history.ids["valencia"])
    before: Brochure = gathered(projection.settings, valencia, "es")
    assert before.population is None  # not known: not printed

    projection.apply(event(PartnerCityUpdated(population=792492), history.ids["valencia"]))
    assert gathered(projection.settings, valencia, "es").population == "792.492"
    assert gathered(projection.settings, valencia, "zh-TW").population == "792,492"
