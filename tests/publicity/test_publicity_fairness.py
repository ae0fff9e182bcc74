"""Under continuous staleness no document starves: while every partner event marks the
leaflet stale again (some of them while it is being rendered), the brochures of partners
registered during the burst are rendered within a few looks, and the leaflet itself keeps up,
rendered once per pass over what is waiting instead of at every look.

Counted in looks of the worker's size (`PUBLICITY_BATCH` pairs each), not in seconds; the
renderer is stood in for by a counter (test_publicity_render.py renders for real).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from conftest import InlineApi, Projection, SeededDatabases
from publicity_support import (
    NOW,
    CountingRender,
    partner,
    rendered_history,
)
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.i18n import supported_locales
from twinning.publicity.content import Document, Leaflet
from twinning.publicity.models import LEAFLET, brochure
from twinning.publicity.refresh import Refresher, RefreshReport

LOCALES = len(supported_locales())
LOCALE_NAMES = set(supported_locales())
LOOK = 10  # pairs per look: the worker's PUBLICITY_BATCH
LOOKS = 30  # looks while the burst goes on
#: Looks from a partner's registration to its brochure in every locale, at most. The queue
#: holds about one look of brochures plus the leaflet: its place is then at most two looks
#: back (see the bound in twinning.publicity.refresh).
BOUND = 3


class BurstingRender(CountingRender):
    """Registers one more partner while the leaflet is being rendered in English: the leaflet
    is marked stale again while a renderer holds it, as it is in a burst."""

    def __init__(self, projection: Projection, at_most: int | None = None) -> None:
        super().__init__()
        self.projection = projection
        self.at_most = at_most
        self.registered_in_render: list[str] = []

    def __call__(self, document: Document, font_dir: str | None) -> tuple[str, bytes]:
        more = self.at_most is None or len(self.registered_in_render) < self.at_most
        if isinstance(document, Leaflet) and document.locale == "en" and more:
            registered = partner({"en": f"Rendered-meanwhile {len(self.registered_in_render)}"})
            assert self.projection.apply(registered) == ["applied"]
            self.registered_in_render.append(registered.aggregate_id)
        return super().__call__(document, font_dir)


def look(projection: Projection, render: CountingRender) -> RefreshReport:
    """One look of the worker's `publish` task: at most `LOOK` pairs."""

    async def run() -> RefreshReport:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            refresher = Refresher(
                async_sessionmaker(engine, expire_on_commit=False),
                projection.settings,
                clock=lambda: NOW,
                render=render,
            )
            return await refresher.refresh(limit=LOOK)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_a_burst_that_keeps_marking_the_leaflet_starves_no_brochure(
    projection: Projection, seeded_databases: SeededDatabases
) -> None:
    seeded_databases.restore(projection, rendered_history)  # the starting point: all current
    render = BurstingRender(projection)
    registered_at: dict[str, int] = {}
    rendered_at: dict[tuple[str, str], int] = {}
    leaflet_looks: dict[str, list[int]] = defaultdict(list)
    partner_events = 0

    for n in range(LOOKS):
        # A partner registered before each look (its event marks the leaflet too) ...
        registered = partner({"en": f"Burst {n}"})
        assert projection.apply(registered) == ["applied"]
        registered_at[registered.aggregate_id] = n
        already = len(render.registered_in_render)
        calls = len(render.calls)
        look(projection, render)
        partner_events += 1 + len(render.registered_in_render) - already
        # ... and one more during each render of the leaflet: ~1.5 partners a look, 7.5
        # brochure pairs of the look's 10, more than the 5 left when the leaflet goes first.
        for registered_id in render.registered_in_render[already:]:
            registered_at[registered_id] = n
        for name, locale in render.calls[calls:]:
            rendered_at.setdefault((name, locale), n)
            if name == LEAFLET:
                leaflet_looks[locale].append(n)

    # Every brochure of a partner registered while the burst went on, in every locale,
    # within BOUND looks of its registration (those registered in the last looks: if due).
    waits: dict[str, int] = {}
    for partner_id, at in registered_at.items():
        looks = [rendered_at.get((brochure(partner_id), locale)) for locale in supported_locales()]
        if at + BOUND < LOOKS:
            assert None not in looks, f"brochure of a partner registered at look {at} starved"
        if None not in looks:
            waits[partner_id] = max(when for when in looks if when is not None) - at
    assert waits and max(waits.values()) <= BOUND, sorted(waits.values())
    assert len(waits) >= len(registered_at) - 2 * BOUND
    assert partner_events > 1.3 * LOOKS  # the burst outpaced what leaflet-first keeps up with

    # The leaflet, marked by every one of those events, keeps up too (never more than BOUND
    # looks without a render) but is not rendered at every look: its marks are coalesced.
    for locale in supported_locales():
        shown = leaflet_looks[locale]
        gaps = [later - earlier for earlier, later in zip([-1, *shown], shown, strict=False)]
        assert shown and max(gaps) <= BOUND and LOOKS - 1 - shown[-1] <= BOUND, shown
        assert len(shown) <= LOOKS * 2 / 3, shown
        assert len(shown) < partner_events / 2


def test_a_document_marked_while_it_is_rendered_waits_behind_those_already_waiting(
    projection: Projection, seeded_databases: SeededDatabases
) -> None:
    """Partners A then B registered: A's brochure and the leaflet wait since A, B's brochure
    since B (B's mark of the leaflet is folded into the waiting one). Rendering the English
    leaflet, a third partner M is registered: that leaflet goes to the back, behind B's
    brochure, which was waiting before M's mark, instead of keeping its old place in front."""
    seeded_databases.restore(projection, rendered_history)
    a, b = partner({"en": "A"}), partner({"en": "B"})
    assert projection.apply(a, b) == ["applied", "applied"]
    render = BurstingRender(projection, at_most=1)
    look(projection, render)
    assert {name for name, _ in render.calls} == {brochure(a.aggregate_id), LEAFLET}
    assert len(render.calls) == LOOK
    (m,) = render.registered_in_render

    render.calls.clear()
    look(projection, render)
    assert render.calls == [
        (brochure(p), locale) for p in (b.aggregate_id, m) for locale in sorted(LOCALE_NAMES)
    ]
    render.calls.clear()
    look(projection, render)
    assert render.calls == [(LEAFLET, "en")]  # once, for M's mark (the others had it)
    render.calls.clear()
    look(projection, render)
    assert render.calls == []


def test_a_document_a_reader_asks_for_is_looked_at_before_those_waiting_longer(
    inline_api: InlineApi,
) -> None:
    """Partners A, B and C registered, in that order: their brochures and the leaflet wait. A
    reader asks for C's brochure in English (not rendered yet: 503, retry shortly): the next
    look takes it first, then goes on in the order the others became stale; the reader's retry
    gets it. A document asked for once is not put first again by that ask."""
    rendered_history(inline_api)
    a, b, c = partner({"en": "A"}), partner({"en": "B"}), partner({"en": "C"})
    assert inline_api.apply(a, b, c) == ["applied"] * 3
    asked = f"/partners/{c.aggregate_id}/brochure"

    waiting = inline_api.get(asked, params={"lang": "en", "format": "html"})
    assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "2"
    render = CountingRender()
    look(inline_api, render)
    assert render.calls[0] == (brochure(c.aggregate_id), "en")
    every = sorted(LOCALE_NAMES)
    # Then the queue as it was: A's brochure and the leaflet (stale since A), in every locale.
    assert render.calls[1:] == [
        *((brochure(a.aggregate_id), locale) for locale in every),
        *((LEAFLET, locale) for locale in every[:4]),
    ]
    answered = inline_api.get(asked, params={"lang": "en", "format": "html"})
    assert answered.status_code == 200 and "brochure:" in answered.text

    render.calls.clear()
    look(inline_api, render)
    assert render.calls == [
        (LEAFLET, every[4]),
        *((brochure(b.aggregate_id), locale) for locale in every),
        *((brochure(c.aggregate_id), locale) for locale in every if locale != "en"),
    ]


class AskingRender(CountingRender):
    """Asks, through the API, for a document while it renders its first one: a reader who
    asks while the renderer is in the middle of a look."""

    def __init__(self, api: InlineApi, url: str, language: str) -> None:
        super().__init__()
        self.api, self.url, self.language = api, url, language
        self.answers: list[int] = []

    def __call__(self, document: Document, font_dir: str | None) -> tuple[str, bytes]:
        if not self.answers:
            answer = self.api.get(self.url, params={"lang": self.language, "format": "html"})
            self.answers.append(answer.status_code)
        return super().__call__(document, font_dir)


def test_a_look_in_progress_gives_way_after_its_render_to_a_document_asked_for_meanwhile(
    inline_api: InlineApi,
) -> None:
    """Partners A then B registered; a look takes A's brochure and the leaflet, in every
    locale. While it renders the first of them, a reader asks for B's brochure in English,
    which is not in that look: the look ends after that render, and the next look takes B's
    English brochure first, then goes on where the other left off."""
    rendered_history(inline_api)
    a, b = partner({"en": "A"}), partner({"en": "B"})
    assert inline_api.apply(a, b) == ["applied", "applied"]
    every = sorted(LOCALE_NAMES)

    render = AskingRender(inline_api, f"/partners/{b.aggregate_id}/brochure", "en")
    look(inline_api, render)
    assert render.answers == [503]
    assert render.calls == [(brochure(a.aggregate_id), every[0])]

    render.calls.clear()
    look(inline_api, render)
    resumed = [
        (brochure(b.aggregate_id), "en"),
        *((brochure(a.aggregate_id), locale) for locale in every[1:]),
        *((LEAFLET, locale) for locale in every),
    ]
    assert render.calls == resumed[:LOOK]
