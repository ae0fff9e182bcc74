"""The demo's plans, checked without a running system: the seed's 2024 plan with its real
budget lines, the current year's, and spending and values only up to today."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from twinning.demo import demo_plans
from twinning.streams.events import KpiValueEntered, PlanAdopted, SpendingRecorded


def test_the_demo_has_the_seed_plan_and_this_years_with_records_up_to_today() -> None:
    today = date(2026, 5, 20)
    plans, records = demo_plans(today)
    adopted = [PlanAdopted.model_validate(plan) for plan in plans]
    assert [p.year for p in adopted] == [2024, 2026]
    budgets = [item.budget for goal in adopted[0].goals for item in goal.work_items]
    assert budgets == [Decimal(10900), Decimal(2000)]  # the seed's budget table, NT$ thousand
    for url, body in records:
        payload = (SpendingRecorded if url.endswith("/spending") else KpiValueEntered)(**body)
        assert payload.date <= today
        assert url.startswith(f"/plans/{payload.date.year}/")
    assert any(url.startswith("/plans/2026/") for url, _ in records)
