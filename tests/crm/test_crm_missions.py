"""Foreign missions and country names: registered, changed and read through the API, or
written to the topic by another system."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import LocalApi, external_event
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


def test_a_registered_mission_is_read_back_with_its_country_name(local_api: LocalApi) -> None:
    accepted = local_api.client.post("/missions", json=sample_mission())
    assert accepted.status_code == 202
    mission_id = accepted.json()["id"]
    assert accepted.headers["Location"] == f"/missions/{mission_id}"
    local_api.deliver()

    mission = local_api.client.get(f"/missions/{mission_id}", params={"lang": "en"}).json()
    assert (mission["kind"], mission["country"], mission["country_name"]) == (
        "representative-office",
        "JP",
        "Japan",
    )
    assert mission["name"] == "Japan-Taiwan Exchange Association, Taipei Office"
    in_japanese = local_api.client.get(
        f"/missions/{mission_id}", headers={"Accept-Language": "ja"}
    ).json()
    assert (in_japanese["country_name"], in_japanese["name"]) == (
        "日本",
        "日本台湾交流協会台北事務所",
    )


def test_a_mission_update_adds_languages_and_changes_only_what_it_names(
    local_api: LocalApi,
) -> None:
    mission_id = local_api.command("POST", "/missions", json=sample_mission())["id"]
    local_api.command(
        "PATCH",
        f"/missions/{mission_id}",
        json={"address": {"zh-TW": "台北市慶城街28號"}, "kind": "trade-office"},
    )
    mission = local_api.client.get(f"/missions/{mission_id}").json()
    assert mission["address"] == {"en": "28 Qingcheng St, Taipei", "zh-TW": "台北市慶城街28號"}
    assert mission["kind"] == "trade-office"
    assert mission["names"] == sample_mission()["names"]
    assert mission["version"] == 2


def test_missions_are_listed_by_country_and_kind(local_api: LocalApi) -> None:
    local_api.command("POST", "/missions", json=sample_mission())
    local_api.command(
        "POST",
        "/missions",
        json=sample_mission(country="DE", kind="embassy", names={"en": "German Institute"}),
    )
    local_api.command(
        "POST",
        "/missions",
        json=sample_mission(country="DE", kind="chamber", names={"en": "German Trade Office"}),
    )

    def names(**params: str) -> list[str]:
        response = local_api.client.get("/missions", params=params)
        assert response.status_code == 200
        return sorted(m["names"]["en"] for m in response.json())

    assert names(country="de") == ["German Institute", "German Trade Office"]
    assert names(kind="embassy") == ["German Institute"]
    assert len(names()) == 3
    assert len(names(limit="2")) == 2
    assert (
        local_api.client.get("/missions", params={"lang": "es"}).json()[0]["country_name"]
        == "Alemania"
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
    local_api: LocalApi, change: dict[str, Any], field: str
) -> None:
    response = local_api.client.post("/missions", json={**sample_mission(), **change})
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert local_api.projection.rows(OutboxEvent) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [({}, "body"), ({"names": None}, "names"), ({"country": "ZZ"}, "country")],
)
def test_an_invalid_mission_update_is_refused_with_422(
    local_api: LocalApi, change: dict[str, Any], field: str
) -> None:
    mission_id = local_api.command("POST", "/missions", json=sample_mission())["id"]
    response = local_api.client.patch(f"/missions/{mission_id}", json=change)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_unknown_missions_answer_404(local_api: LocalApi) -> None:
    assert local_api.client.get("/missions/nope").status_code == 404
    assert local_api.client.patch("/missions/nope", json={"kind": "embassy"}).status_code == 404


def test_a_mission_from_an_external_producer_is_applied_like_the_apis(local_api: LocalApi) -> None:
    raw = external_event(
        "ForeignMissionRegistered",
        {"names": {"en": "Embassy of Eswatini"}, "country": "sz", "kind": "embassy"},
        aggregate_id="mofa-42",
        actor="mofa-directory-sync",
    )
    assert local_api.projection.apply(raw, topic="twinning.partners") == ["applied"]
    [row] = local_api.projection.rows(ForeignMission)
    assert (row.id, row.country) == ("mofa-42", "SZ")
    assert local_api.client.get("/missions/mofa-42?lang=en").json()["country_name"] == "Eswatini"
