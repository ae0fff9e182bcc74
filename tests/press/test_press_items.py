"""Press items: recorded with what they cover, counted per month (and kind) and per partner
city through what they cover; also produced by another system on the topic."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import InlineApi, Projection, command, external_event, sample_partner, sample_visit
from twinning.press.models import PressItem


def item(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "article",
        "outlet": "Taipei Times",
        "date": "2026-05-11",
        "language": "en",
        "title": {"en": "Delegation tours the city", "zh-TW": "代表團參訪本市"},
        **overrides,
    }


def test_press_items_are_counted_per_month_and_per_partner_city(inline_api: InlineApi) -> None:
    first = command(inline_api, "POST", "/partners", json=sample_partner(1))["id"]
    second = command(inline_api, "POST", "/partners", json=sample_partner(2))["id"]
    visit = command(
        inline_api, "POST", "/visits", json=sample_visit(delegation={"partner_id": first})
    )["id"]
    exchange = command(
        inline_api,
        "POST",
        "/exchanges",
        json={
            "partner_ids": [first, second],
            "date": "2026-05-02",
            "field": "culture",
            "direction": "virtual",
            "summary": {"en": "Film week"},
        },
    )["id"]
    covering_visit = [{"kind": "visit", "id": visit}]
    command(inline_api, "POST", "/press", json=item(covers=covering_visit))
    command(
        inline_api,
        "POST",
        "/press",
        json=item(
            kind="release",
            date="2026-05-20",
            covers=[*covering_visit, {"kind": "exchange", "id": exchange}],
        ),
    )
    command(inline_api, "POST", "/press", json=item(kind="broadcast", date="2026-07-01"))
    command(inline_api, "POST", "/press", json=item(date="2025-12-31", covers=covering_visit))

    counts = inline_api.get("/press/counts?year=2026").json()
    assert counts["total"] == 3
    assert counts["by_month"] == [
        {"month": "2026-05", "count": 2, "by_kind": {"article": 1, "release": 1}},
        {"month": "2026-07", "count": 1, "by_kind": {"broadcast": 1}},
    ]
    assert [(p["partner_id"], p["count"]) for p in counts["by_partner"]] == [
        (first, 2),
        (second, 1),
    ]
    assert counts["by_partner"][0]["names"]["en"].startswith("Testville")
    covering = inline_api.get(f"/press?covers={visit}").json()
    assert [i["date"] for i in covering] == ["2026-05-20", "2026-05-11", "2025-12-31"]


def test_a_press_item_names_what_it_covers_and_changes(inline_api: InlineApi) -> None:
    unknown = inline_api.post("/press", json=item(covers=[{"kind": "trip", "id": "nope"}]))
    assert unknown.status_code == 404
    assert (unknown.json()["kind"], unknown.json()["ids"]) == ("trip", ["nope"])
    bad_link = inline_api.post("/press", json=item(link="not a link"))
    assert bad_link.status_code == 422 and bad_link.json()["errors"][0]["field"] == "link"

    press_id = command(inline_api, "POST", "/press", json=item(link="https://example.org/a"))["id"]
    command(inline_api, "PATCH", f"/press/{press_id}", json={"link": None, "outlet": "CNA"})
    changed = inline_api.get(f"/press/{press_id}").json()
    assert (changed["link"], changed["outlet"], changed["version"]) == (None, "CNA", 2)
    assert inline_api.patch("/press/nope", json={"outlet": "CNA"}).status_code == 404


def test_another_system_records_a_press_item_on_the_exchanges_topic(
    projection: Projection,
) -> None:
    press_id = str(uuid.uuid4())
    recorded = external_event("PressItemRecorded", item(), aggregate_id=press_id)
    projection.apply(recorded, topic="twinning.exchanges")
    [row] = projection.rows(PressItem)
    assert (row.kind, row.outlet, row.covers) == ("article", "Taipei Times", [])
