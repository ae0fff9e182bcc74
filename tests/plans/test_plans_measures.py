"""The computed KPIs the plan's list names and the first measures did not cover, from known
event histories: visits completed by direction (a delegation received, a partner city visited on
a trip), exchanges with missions, press coverage by kind, and leaflet and brochure versions
published (counted as of a date like every figure)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import InlineApi, command, sample_partner, sample_visit
from plan_support import small_plan

sys.path.insert(0, str(Path(__file__).parent.parent / "publicity"))
from publicity_support import refresh


def today() -> date:
    """The office's day (UTC in the tests), read when a test needs it: never once per module,
    since a run may cross midnight (or New Year's) between collection and a test. The figures
    count what happened by today, so a test's own dates are today or before it: a date fixed
    in this year (the 10th of January) would be in the future for part of every year."""
    return datetime.now(UTC).date()


def this_year() -> int:
    return today().year


def kpi(key: str, measure: str, **filters: list[str]) -> dict[str, Any]:
    computed: dict[str, Any] = {"measure": measure}
    if filters:
        computed["filters"] = filters
    return {"key": key, "name": {"en": key}, "target": 10, "computed": computed}


def adopt(api: InlineApi, *kpis: dict[str, Any]) -> None:
    plan = small_plan(this_year())
    plan["goals"][1]["work_items"][0]["kpis"].extend(kpis)
    command(api, "POST", "/plans", json=plan)


def value(api: InlineApi, key: str, **params: Any) -> float:
    response = api.get(f"/plans/{this_year()}/kpis/{key}", params=params)
    assert response.status_code == 200, response.text
    return float(response.json()["value"])


def test_visits_completed_count_by_direction_and_partner_kind(inline_api: InlineApi) -> None:
    adopt(
        inline_api,
        kpi("received", "visits-completed", direction=["inbound"]),
        kpi("paid", "visits-completed", direction=["outbound"]),
        kpi("friendly-visits", "visits-completed", partner_kind=["friendly"]),
        kpi("all-visits", "visits-completed"),
    )
    sister = command(inline_api, "POST", "/partners", json=sample_partner(1))["id"]
    friendly = command(
        inline_api, "POST", "/partners", json={**sample_partner(2), "kind": "friendly"}
    )["id"]
    visit = command(
        inline_api, "POST", "/visits", json=sample_visit(delegation={"partner_id": sister})
    )["id"]
    recorded = {"exchange": {"field": "culture", "summary": {"en": "Courtesy call"}}}
    for step in ("approve", "schedule"):
        command(inline_api, "POST", f"/visits/{visit}/{step}")
    command(inline_api, "POST", f"/visits/{visit}/complete", json=recorded)
    start = datetime.now(UTC) - timedelta(days=3)
    leg = {"country": "JP", "timezone": "Asia/Tokyo", "city": {"en": "Sapporo"}}
    trip = {
        "title": {"en": "Mayor's trip"},
        "officials": [{"name": "The Mayor"}],
        "legs": [
            {**leg, "start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(),
             "partner_ids": [sister, friendly]},
            {**leg, "start": (start + timedelta(days=1)).isoformat(),
             "end": (start + timedelta(days=2)).isoformat(), "partner_ids": [friendly]},
        ],
    }  # fmt: skip
    trip_id = command(inline_api, "POST", "/trips", json=trip)["id"]
    command(inline_api, "POST", f"/trips/{trip_id}/complete", json={})

    assert value(inline_api, "received") == 1
    assert value(inline_api, "paid") == 2  # two partner cities visited (one on two legs)
    assert value(inline_api, "friendly-visits") == 1
    assert value(inline_api, "all-visits") == 3
    events = inline_api.get(f"/plans/{this_year()}/kpis/paid").json()["events"]
    assert {e["link"] for e in events} == {f"/ui/trips/{trip_id}"}


def test_exchanges_with_missions_count_by_their_counterparts(inline_api: InlineApi) -> None:
    adopt(
        inline_api,
        kpi("with-missions", "exchanges", counterpart=["mission"]),
        kpi("with-partners", "exchanges", counterpart=["partner"]),
    )
    partner = command(inline_api, "POST", "/partners", json=sample_partner(1))["id"]
    mission = command(
        inline_api,
        "POST",
        "/missions",
        json={"names": {"en": "Japan-Taiwan Exchange Association"}, "country": "JP",
              "kind": "representative-office"},
    )["id"]  # fmt: skip
    day = today().isoformat()
    base = {"date": day, "field": "culture", "direction": "inbound", "summary": {"en": "x"}}
    for counterparts in (
        {"mission_ids": [mission]},
        {"mission_ids": [mission], "partner_ids": [partner]},
        {"partner_ids": [partner]},
        {"organisations": [{"en": "A university"}]},
    ):
        command(inline_api, "POST", "/exchanges", json={**base, **counterparts})
    assert value(inline_api, "with-missions") == 2
    assert value(inline_api, "with-partners") == 2


def test_press_coverage_counts_press_items_by_kind_on_their_date(inline_api: InlineApi) -> None:
    adopt(
        inline_api,
        kpi("coverage", "press-coverage"),
        kpi("interviews", "press-coverage", press_kind=["interview"]),
    )
    item = {
        "kind": "article",
        "outlet": "Taipei Times",
        "date": today().isoformat(),
        "language": "en",
        "title": {"en": "Sister cities meet"},
    }
    first = command(inline_api, "POST", "/press", json=item)["id"]
    command(inline_api, "POST", "/press", json={**item, "kind": "interview"})
    assert (value(inline_api, "coverage"), value(inline_api, "interviews")) == (2, 1)
    # Moved to the year before: no longer in this year's figure (its latest fact counts).
    command(inline_api, "PATCH", f"/press/{first}", json={"date": f"{this_year() - 1}-12-30"})
    assert value(inline_api, "coverage") == 1
    command(
        inline_api,
        "PATCH",
        f"/press/{first}",
        json={"date": today().isoformat(), "kind": "interview"},
    )
    assert (value(inline_api, "coverage"), value(inline_api, "interviews")) == (2, 2)


def stand_in(document: Any, font_dir: str | None) -> tuple[str, bytes]:
    return "<html></html>", b"%PDF-1.7 stand-in"


def test_leaflet_and_brochure_versions_published_count_as_of_a_date(
    inline_api: InlineApi,
) -> None:
    adopt(
        inline_api,
        kpi("versions", "publicity-versions"),
        kpi("leaflet-versions", "publicity-versions", document=["leaflet"]),
    )
    command(inline_api, "POST", "/partners", json=sample_partner(1))
    today = datetime.now(UTC)
    refresh(inline_api.settings, render=stand_in, now=today)
    locales = 5
    assert value(inline_api, "leaflet-versions") == locales  # the leaflet in every shipped language
    assert value(inline_api, "versions") == 2 * locales  # and the partner's brochure
    yesterday = (today - timedelta(days=1)).date()
    assert value(inline_api, "versions", as_of=yesterday.isoformat()) == 0
    drill = inline_api.get(f"/plans/{this_year()}/kpis/leaflet-versions").json()["events"]
    assert drill[0]["link"].startswith("/publicity/leaflet/versions/1?lang=")
    assert drill[0]["label"]["en"].startswith("Leaflet, ")
    assert date.fromisoformat(drill[0]["day"]) >= yesterday
