"""The visits projector through the worker's projection path (no Kafka): events that another
producer writes straight to the topic build the same read model as API commands; events the
lifecycle does not allow are dead-lettered with the reason; redelivery and rebuilds are safe."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import InlineApi, Projection, external_event
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.streams.events import VISITS
from twinning.streams.projection import rebuild
from twinning.streams.registry import PROJECTORS
from twinning.streams.store import ParkedEvent
from twinning.visits.models import (
    ItineraryAttendance,
    ItineraryItem,
    Official,
    Venue,
    Visit,
    VisitStatusChange,
)
from visits_support import (
    Office,
    accepted_id,
    sample_item,
    sample_official,
    sample_venue,
    sample_visit,
)

TEN, ELEVEN = "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00"


def envelope(event_type: str, aggregate_id: str, payload: dict[str, Any], **extra: Any) -> bytes:
    """An event as another system writes it (kcat, Java, Go): plain JSON, no twinning code."""
    return external_event(
        event_type,
        payload,
        aggregate_id=aggregate_id,
        actor="registry@partner-system.example",
        occurred_at="2026-04-01T08:00:00Z",
        **extra,
    )


def visit_events(visit_id: str, *steps: str) -> list[bytes]:
    return [
        envelope("VisitRequested", visit_id, sample_visit()),
        *(envelope(step, visit_id, {"reason": None}) for step in steps),
    ]


def apply(projection: Projection, *messages: bytes) -> list[str]:
    return list(projection.apply(*messages, topic=VISITS))


def test_events_from_another_producer_read_the_same_as_api_commands(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    official_id, venue_id = office.official(), office.venue()
    visit_id = office.visit("approve")
    item = sample_item(TEN, ELEVEN, venue_id=venue_id, official_ids=[official_id], press=True)
    item_id = accepted_id(inline_api.post(f"/visits/{visit_id}/itinerary", json=item))

    outcomes = apply(
        inline_api,
        envelope("OfficialRegistered", "o-ext", sample_official()),
        envelope("VenueRegistered", "v-ext", sample_venue()),
        *visit_events("visit-ext", "VisitApproved"),
        envelope(
            "ItineraryItemAdded",
            "visit-ext",
            {**item, "item_id": "i-ext", "venue_id": "v-ext", "official_ids": ["o-ext"]},
        ),
    )

    assert set(outcomes) == {"applied"}
    same = {
        f"/officials/{official_id}": "/officials/o-ext",
        f"/venues/{venue_id}": "/venues/v-ext",
        f"/visits/{visit_id}": "/visits/visit-ext",
        f"/visits/{visit_id}/itinerary/{item_id}": "/visits/visit-ext/itinerary/i-ext",
    }
    ids = {official_id: "o-ext", venue_id: "v-ext", visit_id: "visit-ext", item_id: "i-ext"}
    for api_url, external_url in same.items():
        assert comparable(inline_api.get(api_url).json(), ids) == comparable(
            inline_api.get(external_url).json(), ids
        )


def comparable(document: Any, ids: dict[str, str]) -> Any:
    """The document with API ids renamed to their external twins, and without the facts
    that differ by nature (when and by whom)."""
    if isinstance(document, dict):
        return {
            key: comparable(value, ids)
            for key, value in document.items()
            if key
            not in {
                "registered_at",
                "requested_at",
                "added_at",
                "updated_at",
                "actor",
                "occurred_at",
            }
        }
    if isinstance(document, list):
        return [comparable(value, ids) for value in document]
    return ids.get(document, document) if isinstance(document, str) else document


def test_a_step_the_lifecycle_does_not_allow_is_dead_lettered_with_the_reason(
    projection: Projection,
) -> None:
    outcomes = apply(projection, *visit_events("v-1", "VisitCompleted"))

    assert outcomes == ["applied", "dead-lettered"]
    [letter] = projection.dead_letters
    assert "v-1 is requested: it cannot be completed" in letter.reason
    [visit] = projection.rows(Visit)
    assert (visit.status, visit.version) == ("requested", 1)


def test_a_step_that_arrives_before_its_request_is_parked_until_it_comes(
    projection: Projection,
) -> None:
    requested, approved = visit_events("v-2", "VisitApproved")

    assert apply(projection, approved) == ["parked"]
    assert [p.waits_for for p in projection.rows(ParkedEvent)] == ["v-2"]
    assert apply(projection, requested) == ["applied"]

    [visit] = projection.rows(Visit)
    assert visit.status == "approved"
    assert [h.status for h in visit.history] == ["requested", "approved"]
    assert projection.rows(ParkedEvent) == []


def test_an_itinerary_change_to_a_closed_visit_is_dead_lettered(projection: Projection) -> None:
    item = {
        **sample_item(TEN, ELEVEN),
        "item_id": "i-1",
        "place": {"names": {"en": "Port"}, "timezone": "Asia/Taipei"},
    }

    outcomes = apply(
        projection,
        *visit_events("v-3", "VisitDeclined"),
        envelope("ItineraryItemAdded", "v-3", item),
    )

    assert outcomes == ["applied", "applied", "dead-lettered"]
    assert "v-3 is declined: it cannot change its itinerary" in projection.dead_letters[0].reason
    assert projection.rows(ItineraryItem) == []


def test_a_redelivered_itinerary_event_changes_nothing(projection: Projection) -> None:
    item = {
        **sample_item(TEN, ELEVEN),
        "item_id": "i-2",
        "venue_id": "hall",
        "official_ids": ["o-1"],
    }
    added = envelope("ItineraryItemAdded", "v-4", item)
    changed = envelope(
        "ItineraryItemChanged", "v-4", {"item_id": "i-2", "official_ids": ["o-1", "o-2"]}
    )

    outcomes = apply(projection, *visit_events("v-4"), added, changed, added, changed)

    assert outcomes == ["applied", "applied", "applied", "duplicate", "duplicate"]
    [row] = projection.rows(ItineraryItem)
    assert (row.sequence, sorted(row.official_ids)) == (1, ["o-1", "o-2"])


def snapshot(projection: Projection) -> dict[str, list[dict[str, Any]]]:
    tables = (Official, Venue, Visit, VisitStatusChange, ItineraryItem, ItineraryAttendance)
    return {
        model.__tablename__: sorted(
            (
                {c.key: getattr(row, c.key) for c in model.__table__.columns}
                for row in projection.rows(model)
            ),
            key=repr,
        )
        for model in tables
    }


def test_a_rebuild_from_the_archive_reproduces_the_read_model(projection: Projection) -> None:
    place = {"names": {"en": "Harbour"}, "timezone": "Asia/Tokyo"}
    outcomes = apply(
        projection,
        envelope("OfficialRegistered", "o-1", sample_official()),
        envelope("OfficialUpdated", "o-1", {"title": {"ja": "副市長"}}),
        envelope("VenueRegistered", "hall", sample_venue()),
        *visit_events("v-5", "VisitApproved", "VisitScheduled"),
        envelope(
            "ItineraryItemAdded",
            "v-5",
            {
                **sample_item(TEN, ELEVEN),
                "item_id": "i-3",
                "venue_id": "hall",
                "official_ids": ["o-1"],
            },
        ),
        envelope(
            "ItineraryItemAdded",
            "v-5",
            {**sample_item(TEN, ELEVEN), "item_id": "i-4", "place": place},
        ),
        envelope("ItineraryItemChanged", "v-5", {"item_id": "i-3", "press": True}),
        envelope("ItineraryItemRemoved", "v-5", {"item_id": "i-4", "reason": "storm"}),
        envelope("VisitCompleted", "v-5", {"reason": None, "exchange_id": "x-1"}),
    )
    assert set(outcomes) == {"applied"}
    before = snapshot(projection)

    async def replay() -> int:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            return await rebuild(async_sessionmaker(engine, expire_on_commit=False), PROJECTORS)
        finally:
            await engine.dispose()

    assert asyncio.run(replay()) == len(outcomes)
    assert snapshot(projection) == before
    assert before["officials"][0]["title"] == {**sample_official()["title"], "ja": "副市長"}
    assert len(before["visit_status_changes"]) == 4


def test_a_whole_visit_in_one_batch_applies_as_event_by_event(projection: Projection) -> None:
    item = {**sample_item(TEN, ELEVEN), "item_id": "i-5", "venue_id": "hall"}

    outcomes = projection.apply_batch(
        envelope("VenueRegistered", "hall", sample_venue()),
        *visit_events("v-6", "VisitApproved"),
        envelope("ItineraryItemAdded", "v-6", {**item, "official_ids": ["o-1"]}),
        envelope("ItineraryItemChanged", "v-6", {"item_id": "i-5", "official_ids": ["o-2"]}),
        *visit_events("v-6", "VisitScheduled")[1:],
        topic=VISITS,
    )

    assert outcomes == ["applied"] * 6
    [visit] = projection.rows(Visit)
    assert [h.status for h in visit.history] == ["requested", "approved", "scheduled"]
    [row] = projection.rows(ItineraryItem)
    assert (row.official_ids, row.sequence) == (["o-2"], 1)
    assert projection.dead_letters == []
