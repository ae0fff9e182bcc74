"""The briefing documents are kept current by the publicity consumer: a change to the visit,
its itinerary, its partner, or an official or venue it books re-renders them; a change to
another visit, or to what a document does not show, does not. The renderer is stood in for
(what matters is *whether* a document is rendered); test_briefing_render.py renders for real."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from briefing_support import Briefed
from conftest import Projection, migrated_settings, new_database_url
from publicity_support import event, refresh
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.publicity.briefing import Briefing, BriefingBook
from twinning.publicity.content import Document
from twinning.publicity.models import PublicityDocument
from twinning.streams.events import (
    ItineraryItemChanged,
    OfficialUpdated,
    PartnerCityUpdated,
    VisitCancelled,
    VisitTalkingPointsWritten,
)

Rendered = Counter[tuple[str, str, str]]  # (book or programme, visit id, locale)


class Renders:
    def __init__(self) -> None:
        self.calls: Rendered = Counter()

    def __call__(self, document: Document | Briefing, font_dir: str | None) -> tuple[str, bytes]:
        if isinstance(document, BriefingBook):
            self.calls["book", document.visit_id, document.locale] += 1
        elif hasattr(document, "visit_id"):
            self.calls["programme", document.visit_id, document.locale] += 1
        return "<html></html>", b"%PDF-1.7 stand-in"


def rendered_after(projection: Projection, *events: object) -> Rendered:
    if events:
        assert set(projection.apply(*events)) == {"applied"}  # type: ignore[arg-type]
    renders = Renders()
    refresh(projection.settings, render=renders)
    return renders.calls


@pytest.fixture
def briefed(projection: Projection) -> Briefed:
    history = Briefed()
    projection.apply(*history.events)
    return history


def documents_of(history: Briefed, *, visit: bool = True, other: bool = True) -> Rendered:
    wanted: Rendered = Counter()
    if visit:
        v = history.visit_id
        wanted.update([("book", v, "zh-TW"), ("programme", v, "ja"), ("programme", v, "en")])
    if other:
        wanted.update([("book", history.other_id, "zh-TW"), ("programme", history.other_id, "ko")])
    return wanted


def test_each_prepared_visit_gets_its_book_and_programme_once(
    projection: Projection, briefed: Briefed
) -> None:
    # The earlier, completed visit of the history has none: it was completed when first looked at.
    assert rendered_after(projection) == documents_of(briefed)
    assert rendered_after(projection) == Counter()


def test_a_change_to_another_visit_does_not_render_this_ones(
    projection: Projection, briefed: Briefed
) -> None:
    rendered_after(projection)
    retitled = ItineraryItemChanged(
        item_id=briefed.other_item.item_id, titles={"en": "Busan courtesy call, moved"}
    )
    assert rendered_after(projection, event(retitled, briefed.other_id)) == documents_of(
        briefed, visit=False
    )


def test_talking_points_render_the_book_only(projection: Projection, briefed: Briefed) -> None:
    rendered_after(projection)
    v = briefed.visit_id
    item_points = ItineraryItemChanged(
        item_id=briefed.lunch.item_id, talking_points="Mention the night market"
    )
    assert rendered_after(projection, event(item_points, v)) == Counter([("book", v, "zh-TW")])
    visit_points = VisitTalkingPointsWritten(talking_points="Something new")
    assert rendered_after(projection, event(visit_points, v)) == Counter([("book", v, "zh-TW")])


def test_an_itinerary_change_the_delegation_sees_renders_both(
    projection: Projection, briefed: Briefed
) -> None:
    rendered_after(projection)
    longer = {"ends_at": "2026-05-01T14:00:00+08:00"}
    moved = ItineraryItemChanged.model_validate({"item_id": briefed.lunch.item_id, **longer})
    assert rendered_after(projection, event(moved, briefed.visit_id)) == documents_of(
        briefed, other=False
    )


def test_a_partner_or_an_attending_officials_change_renders_their_visits_only(
    projection: Projection, briefed: Briefed
) -> None:
    rendered_after(projection)
    renamed = PartnerCityUpdated(names={"zh-TW": "札幌", "en": "Sapporo City", "ja": "札幌"})
    assert rendered_after(projection, event(renamed, briefed.sapporo.aggregate_id)) == (
        documents_of(briefed, other=False)
    )
    retitled = OfficialUpdated(title={"zh-TW": "第一副市長", "en": "First Deputy Mayor"})
    assert rendered_after(projection, event(retitled, briefed.deputy.aggregate_id)) == (
        documents_of(briefed, other=False)
    )


def test_a_cancelled_visit_keeps_its_versions_and_gets_no_new_one(
    projection: Projection, briefed: Briefed
) -> None:
    rendered_after(projection)
    assert rendered_after(projection, event(VisitCancelled(), briefed.visit_id)) == Counter()


def test_the_marks_are_the_same_one_event_at_a_time_and_in_one_batch(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    history = Briefed()
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    one_by_one = Projection(migrated_settings(database_url, tmp_path / "one"))
    batched = Projection(
        migrated_settings(new_database_url(kind, tmp_path / "batch", request), tmp_path / "batch")
    )
    try:
        assert set(one_by_one.apply(*history.events)) == {"applied"}
        assert set(batched.apply_batch(*history.events)) == {"applied"}
        marks = [marks_of(p) for p in (one_by_one, batched)]
    finally:
        one_by_one.close()
        batched.close()
    assert marks[0] == marks[1]
    assert any(document.startswith("briefing:") for document, *_ in marks[0])


def marks_of(projection: Projection) -> list[tuple[object, ...]]:
    with Session(projection.engine) as session:
        rows = session.execute(
            select(
                PublicityDocument.document,
                PublicityDocument.locale,
                PublicityDocument.generation,
                PublicityDocument.marked_at,
            ).order_by(PublicityDocument.document, PublicityDocument.locale)
        )
        return [tuple(row) for row in rows]
