"""The exchange history through the API: recorded by staff, listed with filters."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import InlineApi, command, sample_partner
from twinning.streams.events import ExchangeRecorded, PartnerCityRegistered, new_event
from twinning.streams.store import OutboxEvent, ParkedEvent


def sample_exchange(partner_ids: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "partner_ids": partner_ids,
        "date": "2024-10-05",
        "field": "education",
        "direction": "inbound",
        "summary": {"en": "High-school robotics team", "zh-TW": "高中機器人隊"},
        "participants": 24,
        **overrides,
    }


@pytest.fixture
def partners(inline_api: InlineApi) -> list[str]:
    return [
        str(command(inline_api, "POST", "/partners", json=sample_partner(n))["id"])
        for n in range(2)
    ]


def test_a_recorded_exchange_is_read_back(inline_api: InlineApi, partners: list[str]) -> None:
    response = inline_api.post("/exchanges", json=sample_exchange(partners))
    assert response.status_code == 202
    exchange_id = response.json()["id"]
    assert response.headers["Location"] == f"/exchanges/{exchange_id}"
    exchange = inline_api.get(f"/exchanges/{exchange_id}").json()
    assert exchange["partner_ids"] == partners
    assert (exchange["date"], exchange["field"], exchange["participants"]) == (
        "2024-10-05",
        "education",
        24,
    )


def test_exchanges_are_listed_newest_first_by_partner_field_and_year(
    inline_api: InlineApi, partners: list[str]
) -> None:
    first, second = partners
    for partner_ids, day, field in [
        ([first], "2023-03-01", "culture"),
        ([first, second], "2024-06-01", "culture"),
        ([second], "2024-09-01", "sports"),
    ]:
        command(
            inline_api,
            "POST",
            "/exchanges",
            json=sample_exchange(partner_ids, date=day, field=field),
        )

    def dates(**params: Any) -> list[str]:
        response = inline_api.get("/exchanges", params=params)
        assert response.status_code == 200
        return [e["date"] for e in response.json()]

    assert dates() == ["2024-09-01", "2024-06-01", "2023-03-01"]
    assert dates(partner_id=first) == ["2024-06-01", "2023-03-01"]
    assert dates(field="culture", year=2024) == ["2024-06-01"]
    assert dates(partner_id=second, field="sports") == ["2024-09-01"]
    assert dates(limit=1, offset=1) == ["2024-06-01"]


def test_an_exchange_with_a_partner_still_on_its_way_waits_for_it(inline_api: InlineApi) -> None:
    """Partner and exchange travel on different topics; the exchange may arrive first."""
    partner = new_event(
        PartnerCityRegistered.model_validate(sample_partner()), aggregate_id="p-1", actor="staff"
    )
    exchange = new_event(
        ExchangeRecorded.model_validate(sample_exchange(["p-1"])), aggregate_id="x-1", actor="staff"
    )
    assert inline_api.apply(exchange) == ["parked"]
    assert inline_api.get(f"/events/{exchange.event_id}").json()["status"] == "parked"
    assert inline_api.get("/exchanges").json() == []

    assert inline_api.apply(partner) == ["applied"]
    assert inline_api.rows(ParkedEvent) == []
    assert inline_api.get(f"/events/{exchange.event_id}").json()["status"] == "applied"
    assert [e["id"] for e in inline_api.get("/exchanges").json()] == ["x-1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"partner_ids": []}, "partner_ids"),
        ({"date": "2024-02-30"}, "date"),
        ({"field": "astrology"}, "field"),
        ({"direction": "sideways"}, "direction"),
        ({"summary": {}}, "summary"),
        ({"participants": -1}, "participants"),
        ({"source": {"kind": "rumour", "id": "1"}}, "source"),
        ({"mood": "great"}, "mood"),
    ],
)
def test_an_invalid_exchange_is_refused_with_422_naming_the_field(
    inline_api: InlineApi, partners: list[str], change: dict[str, Any], field: str
) -> None:
    response = inline_api.post("/exchanges", json={**sample_exchange(partners), **change})
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"])


def test_invalid_exchange_filters_are_refused_with_422(inline_api: InlineApi) -> None:
    for params in ({"field": "astrology"}, {"year": "last"}, {"limit": 0}, {"offset": -1}):
        assert inline_api.get("/exchanges", params=params).status_code == 422, params


def test_unknown_exchanges_and_partners_answer_404(inline_api: InlineApi) -> None:
    assert inline_api.get("/exchanges/nope").status_code == 404
    response = inline_api.post("/exchanges", json=sample_exchange(["nope"]))
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
    assert inline_api.rows(OutboxEvent) == []
