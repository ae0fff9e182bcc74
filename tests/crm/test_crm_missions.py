"""Foreign missions and country names: registered, changed and read through the API, or
written to the topic by another system."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import InlineApi, command, external_event
from twinning.crm.models import ForeignMission
from twinning.streams.store import OutboxEvent


def sample_mission(**overrides: Any) -> dict[str, Any]:
    return {
        "names": {
            "zh-TW": "日本台灣交流協會台北事務所",
            "en": "Japan-Taiwan Exchange Association, Taipei Office",
            "ja": "日本台湾交流協会台北事務所",
        },
        "country": "JP",
        "kind": "representative-office",
        "address": {"en": "28 Qingcheng St, Taipei"},
        "website": "https://www.koryu.or.jp/",
        **overrides,
    }


def test_a_registered_mission_is_read_back_with_its_country_name(inline_api: InlineApi) -> None:
    accepted = inline_api.post("/missions", json=sample_mission())
    assert accepted.status_code == 202
    mission_id = accepted.json()["id"]
    assert accepted.headers["Location"] == f"/missions/{mission_id}"

    mission = inline_api.get(f"/missions/{mission_id}", params={"lang": "en"}).json()
    assert (mission["kind"], mission["country"], mission["country_name"]) == (
        "representative-office",
        "JP",
        "Japan",
    )
    assert mission["name"] == "Japan-Taiwan Exchange Association, Taipei Office"
    in_japanese = inline_api.get(
        f"/missions/{mission_id}", headers={"Accept-Language": "ja"}
    ).json()
    assert (in_japanese["country_name"], in_japanese["name"]) == (
        "日本",
        "日本台湾交流協会台北事務所",
    )


def test_a_mission_update_adds_languages_and_changes_only_what_it_names(
    inline_api: InlineApi,
) -> None:
    mission_id = command(inline_api, "POST", "/missions", json=sample_mission())["id"]
    command(
        inline_api,
        "PATCH",
        f"/missions/{mission_id}",
        json={"address": {"zh-TW": "台北市慶城街28號"}, "kind": "trade-office"},
    )
    mission = inline_api.get(f"/missions/{mission_id}").json()
    assert mission["address"] == {"en": "28 Qingcheng St, Taipei", "zh-TW": "台北市慶城街28號"}
    assert mission["kind"] == "trade-office"
    assert mission["names"] == sample_mission()["names"]
    assert mission["version"] == 2


def test_missions_are_listed_by_country_and_kind(inline_api: InlineApi) -> None:
    command(inline_api, "POST", "/missions", json=sample_mission())
    command(
        inline_api,
        "POST",
        "/missions",
        json=sample_mission(country="DE", kind="embassy", names={"en": "German Institute"}),
    )
    command(
        inline_api,
        "POST",
        "/missions",
        json=sample_mission(country="DE", kind="chamber", names={"en": "German Trade Office"}),
    )

    def names(**params: str) -> list[str]:
        response = inline_api.get("/missions", params=params)
        assert response.status_code == 200
        return sorted(m["names"]["en"] for m in response.json())

    assert names(country="de") == ["German Institute", "German Trade Office"]
    assert names(kind="embassy") == ["German Institute"]
    assert len(names()) == 3
    assert len(names(limit="2")) == 2
    assert (
        inline_api.get("/missions", params={"lang": "es"}).json()[0]["country_name"] == "Alemania"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"kind": "consulate-of-mars"}, "kind"),
        ({"names": {}}, "names"),
        ({"address": {"en": ""}}, "address"),
        ({"website": "ftp:/nope"}, "website"),
        ({"ambassador": "someone"}, "ambassador"),
    ],
)
def test_an_invalid_mission_is_refused_with_422_naming_the_field(
    inline_api: InlineApi, change: dict[str, Any], field: str
) -> None:
    response = inline_api.post("/missions", json={**sample_mission(), **change})
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"])
    assert inline_api.rows(OutboxEvent) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [({}, "body"), ({"names": None}, "names"), ({"country": "ZZ"}, "country")],
)
def test_an_invalid_mission_update_is_refused_with_422(
    inline_api: InlineApi, change: dict[str, Any], field: str
) -> None:
    mission_id = command(inline_api, "POST", "/missions", json=sample_mission())["id"]
    response = inline_api.patch(f"/missions/{mission_id}", json=change)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"])


def test_unknown_missions_answer_404(inline_api: InlineApi) -> None:
    assert inline_api.get("/missions/nope").status_code == 404
    assert inline_api.patch("/missions/nope", json={"kind": "embassy"}).status_code == 404


def test_a_mission_from_an_external_producer_is_applied_like_the_apis(
    inline_api: InlineApi,
) -> None:
    raw = external_event(
        "ForeignMissionRegistered",
        {"names": {"en": "Embassy of Eswatini"}, "country": "sz", "kind": "embassy"},
        aggregate_id="mofa-42",
        actor="mofa-directory-sync",
    )
    assert inline_api.apply(raw, topic="twinning.partners") == ["applied"]
    [row] = inline_api.rows(ForeignMission)
    assert (row.id, row.country) == ("mofa-42", "SZ")
    assert inline_api.get("/missions/mofa-42?lang=en").json()["country_name"] == "Eswatini"
