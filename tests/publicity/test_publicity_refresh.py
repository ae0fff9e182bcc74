"""Kept current by a consumer: an event re-renders exactly the documents it changes, in every
locale, and nothing at all when it changes nothing they show. Versions are kept.

The renderer is stood in for by a counter here (what matters is *whether* a document is
rendered); test_publicity_render.py renders for real.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from conftest import Projection, SeededDatabases
from publicity_support import (
    NOW,
    CountingRender,
    History,
    city_event,
    completed_trip,
    completed_visit,
    contact,
    event,
    exchange,
    refresh,
    rendered_history,
)
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from twinning.db import make_async_engine
from twinning.i18n import supported_locales
from twinning.publicity.content import Document, Leaflet
from twinning.publicity.models import LEAFLET, PublicityDocument, PublicityVersion, brochure
from twinning.publicity.refresh import Refresher
from twinning.streams.events import (
    InvitationSent,
    OfficialRegistered,
    PartnerCityUpdated,
    RsvpRecorded,
    VenueRegistered,
)

LOCALES = set(supported_locales())


def every_locale(*documents: str) -> Counter[tuple[str, str]]:
    return Counter((document, locale) for document in documents for locale in LOCALES)


@pytest.fixture
def history(projection: Projection, seeded_databases: SeededDatabases) -> History:
    """The history projected and its documents rendered once: the starting point (made once
    per database kind for the module; each test gets a copy of it)."""
    made: History = seeded_databases.restore(projection, rendered_history)
    return made


def rendered_after(
    projection: Projection, *events: object, **options: object
) -> Counter[tuple[str, str]]:
    if events:
        assert set(projection.apply(*events)) <= {"applied"}  # type: ignore[arg-type]
    renders = CountingRender()
    refresh(projection.settings, render=renders, **options)  # type: ignore[arg-type]
    return Counter(renders.calls)


def test_a_new_history_renders_the_leaflet_and_every_brochure_once_in_every_locale(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events)
    ids = history.ids.values()
    assert rendered_after(projection) == every_locale(LEAFLET, *map(brochure, ids))
    assert rendered_after(projection) == Counter()


def test_an_exchange_renders_the_leaflet_and_that_partners_brochure_only(
    projection: Projection, history: History
) -> None:
    sapporo = history.ids["sapporo"]
    recorded = exchange([sapporo], date(2026, 1, 5), "youth", {"en": "Youth orchestra tour"})
    assert rendered_after(projection, recorded) == every_locale(LEAFLET, brochure(sapporo))


def test_a_completed_visit_renders_the_visiting_partners_brochure_only(
    projection: Projection, history: History
) -> None:
    busan = history.ids["busan"]
    assert rendered_after(projection, *completed_visit(busan)) == every_locale(brochure(busan))


def test_a_completed_trip_renders_the_brochures_of_the_partners_visited(
    projection: Projection, history: History
) -> None:
    valencia = history.ids["valencia"]
    assert rendered_after(projection, *completed_trip(valencia)) == every_locale(brochure(valencia))


def test_an_upcoming_city_event_open_to_partners_renders_the_leaflet_only(
    projection: Projection, history: History
) -> None:
    festival = city_event({"en": "Dragon Boat Festival"}, days_after_now=60)
    assert rendered_after(projection, festival) == every_locale(LEAFLET)


def test_events_that_change_nothing_a_document_shows_render_nothing(
    projection: Projection, history: History
) -> None:
    sapporo = history.ids["sapporo"]
    internal = city_event({"en": "Staff retreat"}, days_after_now=10, open_to_partners=False)
    invitation = event(
        InvitationSent(
            invitation_id="inv-1",
            invitee_kind="partner",
            invitee_id=sapporo,
            answer_by=date(2026, 3, 10),
        ),
        internal.aggregate_id,
    )
    answer = event(
        RsvpRecorded.model_validate(
            {"invitation_id": "inv-1", "answer": "declined", "received_via": "email"}
        ),
        internal.aggregate_id,
    )
    unseen = [
        contact(sapporo),
        event(PartnerCityUpdated(languages=["ja", "en"]), sapporo),
        event(OfficialRegistered.model_validate(
            {"names": {"en": "Mayor"}, "title": {"en": "Mayor"}, "protocol_rank": 1}
        )),
        event(VenueRegistered.model_validate(
            {"names": {"en": "Hall B"}, "capacity": 80, "timezone": "Asia/Taipei"}
        )),
        internal,
        invitation,
        answer,
    ]  # fmt: skip
    assert rendered_after(projection, *unseen) == Counter()


def test_a_restatement_of_the_same_facts_is_checked_but_not_rendered(
    projection: Projection, history: History
) -> None:
    sapporo = history.ids["sapporo"]
    same = event(PartnerCityUpdated(names={"en": "Sapporo"}), sapporo)
    projection.apply(same)
    renders = CountingRender()
    report = refresh(projection.settings, render=renders)
    assert renders.calls == []
    assert Counter(report.checked) == every_locale(LEAFLET, brochure(sapporo))


def test_a_document_is_looked_at_again_the_next_day_and_rendered_when_the_date_changed_it(
    projection: Projection, history: History
) -> None:
    assert rendered_after(projection, now=NOW + timedelta(days=1)) == Counter()
    # The festival (20 days ahead) is over a month later: only the leaflet showed it.
    assert rendered_after(projection, now=NOW + timedelta(days=31)) == every_locale(LEAFLET)


def test_every_version_is_kept_and_numbered_per_document_and_locale(
    projection: Projection, history: History
) -> None:
    sapporo = history.ids["sapporo"]
    for n in range(2):
        projection.apply(
            exchange([sapporo], date(2026, 1, 10 + n), "culture", {"en": f"Concert {n}"})
        )
        refresh(projection.settings, render=CountingRender())
    versions = projection.rows(PublicityVersion)
    numbers = Counter((v.document, v.locale) for v in versions)
    changed = every_locale(LEAFLET, brochure(sapporo))
    unchanged = every_locale(*(brochure(p) for p in history.ids.values() if p != sapporo))
    assert numbers == changed + changed + changed + unchanged
    leaflet_ja = sorted(v.number for v in versions if (v.document, v.locale) == (LEAFLET, "ja"))
    assert leaflet_ja == [1, 2, 3]
    assert len({v.content_hash for v in versions if (v.document, v.locale) == (LEAFLET, "ja")}) == 3


def test_rebuilding_the_read_models_publishes_no_new_version(
    projection: Projection, history: History
) -> None:
    before = len(projection.rows(PublicityVersion))
    projection.rebuild()
    assert rendered_after(projection) == Counter()
    assert len(projection.rows(PublicityVersion)) == before


def test_a_brochure_of_a_partner_the_projection_never_saw_is_not_rendered(
    projection: Projection, history: History
) -> None:
    """An exchange naming an unknown partner waits (parked) and marks nothing until it exists."""
    stranger = str(uuid.uuid4())
    outcomes = projection.apply(exchange([stranger], date(2026, 2, 1), "other", {"en": "?"}))
    assert outcomes == ["parked"]
    assert rendered_after(projection) == Counter()


def test_documents_no_event_has_marked_yet_are_rendered_too(projection: Projection) -> None:
    """A system upgraded to publicity has partners but no marks: a worker's first look finds
    the leaflet and every brochure anyway."""
    history = History()
    projection.apply(*history.events)
    with Session(projection.engine) as session, session.begin():
        session.execute(delete(PublicityDocument))
    ids = history.ids.values()
    assert rendered_after(projection) == every_locale(LEAFLET, *map(brochure, ids))


def test_a_document_that_cannot_be_rendered_does_not_hold_up_the_others(
    projection: Projection,
) -> None:
    history = History()
    projection.apply(*history.events)
    renders = CountingRender()

    def leaflet_fails(document: Document, font_dir: str | None) -> tuple[str, bytes]:
        if isinstance(document, Leaflet):
            raise RuntimeError("a layout bug")
        return renders(document, font_dir)

    report = refresh(projection.settings, render=leaflet_fails)
    assert Counter(renders.calls) == every_locale(*map(brochure, history.ids.values()))
    assert not any(document == LEAFLET for document, _ in report.rendered)
    # Not retried in a loop: the leaflet waits for a change (or the next day).
    assert rendered_after(projection) == Counter()


def test_a_look_told_to_give_way_stops_and_the_next_look_renders_the_rest(
    projection: Projection,
) -> None:
    """The worker gives way to a backlog between two documents: nothing is lost by it."""
    history = History()
    projection.apply(*history.events)
    renders = CountingRender()
    report = refresh(projection.settings, render=renders, go_on=lambda: len(renders.calls) < 3)
    assert len(renders.calls) == len(report.rendered) == 3
    everything = every_locale(LEAFLET, *map(brochure, history.ids.values()))
    assert Counter(renders.calls) + rendered_after(projection) == everything


class SlowCountingRender(CountingRender):
    """Takes a while, as a real render does: two renderers' looks overlap."""

    def __call__(self, document: Document, font_dir: str | None) -> tuple[str, bytes]:
        time.sleep(0.02)
        return super().__call__(document, font_dir)


def test_two_workers_share_the_rendering_and_never_render_a_document_twice(
    projection: Projection,
) -> None:
    projection.apply(*History().events)
    renders = [SlowCountingRender(), SlowCountingRender()]

    async def both() -> None:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            refreshers = [
                Refresher(
                    async_sessionmaker(engine, expire_on_commit=False),
                    projection.settings,
                    clock=lambda: NOW,
                    render=render,
                )
                for render in renders
            ]
            await asyncio.gather(*(refresher.refresh() for refresher in refreshers))
        finally:
            await engine.dispose()

    asyncio.run(both())

    calls = Counter(renders[0].calls) + Counter(renders[1].calls)
    stored = Counter((v.document, v.locale) for v in projection.rows(PublicityVersion))
    assert calls == Counter({(name, locale): 1 for name, locale in calls})  # none twice
    assert len(calls) == 4 * len(LOCALES)  # the leaflet and three brochures, every locale
    assert stored == Counter({(document, locale): 1 for document, locale in stored})
    assert len(stored) == len(calls)
    assert all(render.calls for render in renders)  # both took a share


def test_a_renderer_stopped_in_the_middle_of_a_look_leaves_the_rest_for_the_next_one(
    projection: Projection,
) -> None:
    """The worker stops (SIGTERM) while a look is under way: what it had not rendered yet is
    still due when the next worker starts, not marked as looked at."""
    history = History()
    projection.apply(*history.events)
    renders = CountingRender()

    async def run() -> None:
        engine = make_async_engine(projection.settings.async_database_url)
        try:

            def stops_after_three(document: Document, font_dir: str | None) -> tuple[str, bytes]:
                made = renders(document, font_dir)
                if len(renders.calls) == 3:
                    refresher.close()
                return made

            refresher = Refresher(
                async_sessionmaker(engine, expire_on_commit=False),
                projection.settings,
                clock=lambda: NOW,
                render=stops_after_three,
            )
            await refresher.refresh()
        finally:
            await engine.dispose()

    asyncio.run(run())
    assert len(renders.calls) == 3
    everything = every_locale(LEAFLET, *map(brochure, history.ids.values()))
    assert Counter(renders.calls) + rendered_after(projection) == everything
