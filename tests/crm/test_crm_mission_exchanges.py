"""Foreign missions and other organisations as counterparts: an exchange may name them
instead of (or besides) partner cities, and a mission's exchanges are counted in its own
figures, never in a partner city's or the leaflet's."""

from __future__ import annotations

from typing import Any

from conftest import InlineApi, command, sample_partner, sample_visit

MISSION = {
    "names": {"en": "Test Trade Office", "zh-TW": "測試貿易辦事處"},
    "country": "JP",
    "kind": "trade-office",
}


def exchange(**overrides: Any) -> dict[str, Any]:
    return {
        "date": "2026-03-10",
        "field": "economy-and-trade",
        "direction": "inbound",
        "summary": {"en": "Trade roundtable"},
        **overrides,
    }


def test_an_exchange_with_a_mission_is_counted_in_the_missions_own_figures(
    inline_api: InlineApi,
) -> None:
    mission = command(inline_api, "POST", "/missions", json=MISSION)["id"]
    partner = command(inline_api, "POST", "/partners", json=sample_partner(4))["id"]
    with_mission = command(inline_api, "POST", "/exchanges", json=exchange(mission_ids=[mission]))
    command(
        inline_api,
        "POST",
        "/exchanges",
        json=exchange(
            partner_ids=[partner],
            mission_ids=[mission],
            organisations=[{"en": "Chamber of Commerce"}],
            date="2025-11-02",
            field="culture",
        ),
    )
    command(inline_api, "POST", "/exchanges", json=exchange(partner_ids=[partner]))

    figures = inline_api.get(f"/missions/{mission}/stats").json()
    assert (figures["exchanges"], figures["last_exchange_date"]) == (2, "2026-03-10")
    assert figures["exchanges_by_field_and_year"] == [
        {"year": 2025, "field": "culture", "count": 1},
        {"year": 2026, "field": "economy-and-trade", "count": 1},
    ]
    assert inline_api.get(f"/partners/{partner}/stats").json()["exchanges"] == 2
    read = inline_api.get(f"/exchanges/{with_mission['id']}").json()
    assert (read["partner_ids"], read["mission_ids"], read["organisations"]) == ([], [mission], [])
    listed = inline_api.get(f"/exchanges?mission_id={mission}").json()
    assert [e["date"] for e in listed] == ["2026-03-10", "2025-11-02"]
    assert listed[1]["organisations"] == [{"en": "Chamber of Commerce"}]


def test_an_exchange_names_a_counterpart_and_only_registered_missions(
    inline_api: InlineApi,
) -> None:
    nobody = inline_api.post("/exchanges", json=exchange())
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "partner_ids"
    unknown = inline_api.post("/exchanges", json=exchange(mission_ids=["no-such-mission"]))
    assert unknown.status_code == 404
    assert unknown.json()["ids"] == ["no-such-mission"]
    assert inline_api.get("/missions/no-such-mission/stats").status_code == 404


def test_a_missions_visit_completed_with_an_exchange_counts_for_the_mission(
    inline_api: InlineApi,
) -> None:
    mission = command(inline_api, "POST", "/missions", json=MISSION)["id"]
    visit = command(
        inline_api, "POST", "/visits", json=sample_visit(delegation={"mission_id": mission})
    )["id"]
    for step in ("approve", "schedule"):
        command(inline_api, "POST", f"/visits/{visit}/{step}")
    done = command(
        inline_api,
        "POST",
        f"/visits/{visit}/complete",
        json={"exchange": {"field": "culture", "summary": {"en": "Film week"}}},
    )

    recorded = inline_api.get(f"/exchanges/{done['exchange_id']}").json()
    assert (recorded["mission_ids"], recorded["source_kind"]) == ([mission], "visit")
    assert inline_api.get(f"/missions/{mission}/stats").json()["exchanges"] == 1
