"""A city event co-hosted with partner cities or foreign missions: the co-hosts are read back,
shown on the event's page and on the leaflet's upcoming events; an unknown one is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conftest import InlineApi, command, sample_partner
from twinning.publicity import content
from twinning.publicity.render import render_html

MISSION = {
    "names": {"en": "Cohost Trade Office", "zh-TW": "共同主辦貿易辦事處"},
    "country": "JP",
    "kind": "trade-office",
}


def festival(**overrides: Any) -> dict[str, Any]:
    year = datetime.now(UTC).year + 1
    return {
        "kind": "festival",
        "title": {"en": "Lantern Festival", "zh-TW": "燈會"},
        "starts_at": f"{year}-02-10T18:00:00+08:00",
        "ends_at": f"{year}-02-10T22:00:00+08:00",
        "timezone": "Asia/Taipei",
        **overrides,
    }


def test_a_co_hosted_event_shows_its_co_hosts_on_the_leaflet(inline_api: InlineApi) -> None:
    partner = command(inline_api, "POST", "/partners", json=sample_partner(6))["id"]
    mission = command(inline_api, "POST", "/missions", json=MISSION)["id"]
    hosts = [{"kind": "partner", "id": partner}, {"kind": "mission", "id": mission}]
    event_id = command(inline_api, "POST", "/city-events", json=festival(co_hosts=hosts))["id"]

    assert inline_api.get(f"/city-events/{event_id}").json()["co_hosts"] == hosts

    async def leaflet() -> str:
        async with inline_api.app.state.sessions() as session:
            document = await content.leaflet(
                session, locale="en", now=datetime.now(UTC), settings=inline_api.settings
            )
            return render_html(document)

    html = inline_api.portal.call(leaflet)
    assert "Co-hosted with" in html and "Cohost Trade Office" in html and "Testville" in html

    command(inline_api, "PATCH", f"/city-events/{event_id}", json={"co_hosts": []})
    assert inline_api.get(f"/city-events/{event_id}").json()["co_hosts"] == []
    assert "Co-hosted with" not in inline_api.portal.call(leaflet)


def test_an_unknown_co_host_is_refused_naming_it(inline_api: InlineApi) -> None:
    refused = inline_api.post(
        "/city-events", json=festival(co_hosts=[{"kind": "mission", "id": "nobody"}])
    )
    assert refused.status_code == 404
    assert refused.json()["ids"] == ["nobody"]
    alone = command(inline_api, "POST", "/city-events", json=festival())
    assert inline_api.get(f"/city-events/{alone['id']}").json()["co_hosts"] == []
