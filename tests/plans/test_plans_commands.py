"""A year's plan through the API: adopted, read with its budget lines and KPIs, revised;
spending and KPI values recorded against it; what it refuses, and why."""

from __future__ import annotations

from decimal import Decimal

from conftest import InlineApi, command
from plan_support import seed_plan, small_plan


def test_the_seed_plan_is_adopted_with_its_real_budget_lines(inline_api: InlineApi) -> None:
    accepted = command(inline_api, "POST", "/plans", json=seed_plan())
    assert accepted["id"] == "2024"
    plan = inline_api.get("/plans/2024", params={"as_of": "2024-12-31"}).json()
    budgets = {w["key"]: Decimal(w["budget"]) for g in plan["goals"] for w in g["work_items"]}
    assert budgets == {"diplomacy-exchanges": Decimal(10900), "international-visibility": 2000}
    assert Decimal(plan["budget"]) == 12900
    assert plan["goals"][0]["title"]["zh-TW"] == "持續推展城市外交及多元交流"
    assert [p["year"] for p in inline_api.get("/plans").json()] == [2024]


def test_spending_is_summed_against_its_budget_line_by_period(inline_api: InlineApi) -> None:
    command(inline_api, "POST", "/plans", json=small_plan())
    for day, amount in (("2025-02-01", "1200.5"), ("2025-05-10", "800")):
        command(
            inline_api,
            "POST",
            "/plans/2025/spending",
            json={"work_item": "exchanges", "date": day, "amount": amount, "purpose": "Gifts"},
        )
    first = inline_api.get("/plans/2025", params={"quarter": 1}).json()
    item = first["goals"][0]["work_items"][0]
    assert (Decimal(item["spent"]), Decimal(item["spent_in_period"])) == (1200.5, 1200.5)
    second = inline_api.get("/plans/2025", params={"quarter": 2}).json()
    item = second["goals"][0]["work_items"][0]
    assert (Decimal(item["spent"]), Decimal(item["spent_in_period"])) == (2000.5, 800)
    assert item["budget_used"] == 2000.5 / 10900
    # Recorded today: as the office knew it a year ago, nothing was spent yet.
    before = inline_api.get("/plans/2025", params={"as_of": "2025-12-31"}).json()
    assert Decimal(before["spent"]) == 0


def test_an_entered_kpi_shows_its_latest_value_by_each_date(inline_api: InlineApi) -> None:
    command(inline_api, "POST", "/plans", json=small_plan())
    for day, value in (("2025-03-01", 1), ("2025-08-01", 3)):
        body = {"kpi": "editions", "date": day, "value": value, "source": "Print shop invoice"}
        command(inline_api, "POST", "/plans/2025/kpi-values", json=body)
    kpi = inline_api.get("/plans/2025/kpis/editions").json()
    assert kpi["value"] == 3
    assert kpi["quarters"] == [1, 1, 3, 3]
    assert kpi["progress"] == 0.75
    assert [e["label"]["und"] for e in kpi["events"]] == ["Print shop invoice"] * 2


def test_refusals_name_the_field_and_the_reason(inline_api: InlineApi) -> None:
    command(inline_api, "POST", "/plans", json=small_plan())
    spending = {"work_item": "nope", "date": "2025-01-01", "amount": "1", "purpose": "x"}
    refused = inline_api.post("/plans/2025/spending", json=spending)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "work_item"
    refused = inline_api.post(
        "/plans/2025/spending", json={**spending, "work_item": "exchanges", "date": "2024-12-31"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "date"
    assert inline_api.post("/plans/1999/spending", json=spending).status_code == 404
    value = {"kpi": "inbound", "date": "2025-01-01", "value": 3, "source": "x"}
    refused = inline_api.post("/plans/2025/kpi-values", json=value)
    assert refused.status_code == 422 and "computed" in refused.json()["errors"][0]["msg"]
    duplicate = small_plan()
    duplicate["goals"][1]["key"] = "diplomacy"
    refused = inline_api.post("/plans", json=duplicate)
    assert refused.status_code == 422 and "used twice" in refused.text
    wrong_filter = small_plan()
    wrong_filter["goals"][0]["work_items"][0]["kpis"][0]["computed"]["filters"] = {
        "answer": ["declined"]
    }
    refused = inline_api.post("/plans", json=wrong_filter)
    assert refused.status_code == 422 and "exchanges has no filter 'answer'" in refused.text
    # Nothing of the refused commands was stored.
    plan = inline_api.get("/plans/2025").json()
    assert [g["key"] for g in plan["goals"]] == ["diplomacy", "visibility"]
    assert Decimal(plan["spent"]) == 0


def test_a_second_plan_for_the_year_revises_it_and_keeps_the_spending(
    inline_api: InlineApi,
) -> None:
    command(inline_api, "POST", "/plans", json=small_plan())
    body = {"work_item": "leaflets", "date": "2025-01-05", "amount": "300", "purpose": "Print"}
    command(inline_api, "POST", "/plans/2025/spending", json=body)
    revised = small_plan()
    revised["goals"][1]["work_items"][0]["budget"] = "2500"
    command(inline_api, "POST", "/plans", json=revised)
    item = inline_api.get("/plans/2025").json()["goals"][1]["work_items"][0]
    assert (Decimal(item["budget"]), Decimal(item["spent"])) == (2500, 300)
    assert (
        inline_api.get("/plans/2025/document").json()["goals"][1]["work_items"][0]["budget"]
        == "2500"
    )
