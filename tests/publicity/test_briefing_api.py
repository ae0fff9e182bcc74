"""The briefing documents through the API: talking points written per visit and per item,
kept from viewers; the documents downloadable by staff only (a viewer is refused, a caller
without a token too), in the languages they were rendered in, versioned."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import InlineApi, bearer, command
from publicity_support import refresh
from twinning.publicity.briefing import Briefing

PARTNER = {
    "names": {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"},
    "country": "JP",
    "kind": "sister",
    "timezone": "Asia/Tokyo",
    "agreement_date": "2011-05-20",
}
MAYOR = {
    "names": {"zh-TW": "林市長", "en": "Mayor Lin"},
    "title": {"en": "Mayor"},
    "protocol_rank": 1,
}
HALL = {"names": {"en": "City Hall Auditorium"}, "capacity": 300, "timezone": "Asia/Taipei"}


class StandIn:
    """Renders a stand-in (what matters here is what is served, not how it looks)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, document: Briefing, font_dir: str | None) -> tuple[str, bytes]:
        name = type(document).__name__
        self.calls.append((name, document.locale))
        return f"<html lang='{document.locale}'>{name}</html>", f"%PDF-1.7 {name}".encode()


def as_new(api: InlineApi, role: str) -> dict[str, str]:
    user = api.post("/users", json={"name": f"someone.{role}", "role": role}).json()
    return bearer(api.post(f"/users/{user['id']}/tokens", json={}).json()["token"])


def prepared_visit(api: InlineApi) -> dict[str, Any]:
    partner = command(api, "POST", "/partners", json=PARTNER)["id"]
    mayor = command(api, "POST", "/officials", json=MAYOR)["id"]
    hall = command(api, "POST", "/venues", json=HALL)["id"]
    visit = command(
        api,
        "POST",
        "/visits",
        json={
            "delegation": {"partner_id": partner},
            "head_of_delegation": {
                "names": {"en": "Mayor Akimoto"},
                "title": {"en": "Mayor of Sapporo"},
                "protocol_rank": 1,
            },
            "members": 12,
            "purpose": {"en": "Snow festival cooperation"},
            "requested_from": "2026-05-01",
            "requested_to": "2026-05-03",
            "languages": ["ja"],
            "talking_points": "Thank them for the sculptures",
        },
    )["id"]
    command(api, "POST", f"/visits/{visit}/approve")
    item = command(
        api,
        "POST",
        f"/visits/{visit}/itinerary",
        json={
            "starts_at": "2026-05-01T10:00:00+08:00",
            "ends_at": "2026-05-01T11:00:00+08:00",
            "venue_id": hall,
            "official_ids": [mayor],
            "titles": {"en": "Courtesy call"},
            "talking_points": "Raise the direct flight",
        },
    )["id"]
    return {"visit": visit, "item": item, "partner": partner}


def test_talking_points_are_kept_and_shown_to_staff_never_to_viewers(
    inline_api: InlineApi,
) -> None:
    ids = prepared_visit(inline_api)
    visit, item = ids["visit"], ids["item"]
    command(
        inline_api, "PUT", f"/visits/{visit}/talking-points", json={"talking_points": "Rewritten"}
    )
    staff = as_new(inline_api, "staff")
    viewer = as_new(inline_api, "viewer")
    assert inline_api.get(f"/visits/{visit}", headers=staff).json()["talking_points"] == "Rewritten"
    items = inline_api.get(f"/visits/{visit}/itinerary", headers=staff).json()
    assert items[0]["talking_points"] == "Raise the direct flight"
    assert "talking_points" not in inline_api.get(f"/visits/{visit}", headers=viewer).json()
    for url in (f"/visits/{visit}/itinerary", f"/visits/{visit}/itinerary/{item}"):
        answer = inline_api.get(url, headers=viewer).json()
        for shown in answer if isinstance(answer, list) else [answer]:
            assert "talking_points" not in shown


def test_talking_points_too_long_are_refused_naming_the_field(inline_api: InlineApi) -> None:
    visit = prepared_visit(inline_api)["visit"]
    answer = inline_api.request(
        "PUT", f"/visits/{visit}/talking-points", json={"talking_points": "x" * 4001}
    )
    assert answer.status_code == 422
    assert [e["loc"][-1] for e in answer.json()["errors"]] == ["talking_points"]
    assert (
        inline_api.request(
            "PUT", "/visits/no-such-visit/talking-points", json={"talking_points": "x"}
        ).status_code
        == 404
    )


def test_staff_download_the_documents_in_the_languages_they_were_rendered_in(
    inline_api: InlineApi,
) -> None:
    visit = prepared_visit(inline_api)["visit"]
    refresh(inline_api.settings, render=StandIn())
    staff = as_new(inline_api, "staff")
    listed = inline_api.get(f"/visits/{visit}/briefing", headers=staff).json()
    assert listed == {
        "visit_id": visit,
        "briefing_book": ["zh-TW"],
        "delegation_programme": ["ja"],
    }
    book = inline_api.get(f"/visits/{visit}/briefing-book?lang=zh-TW", headers=staff)
    assert book.status_code == 200
    assert book.headers["content-type"] == "application/pdf"
    assert book.headers["cache-control"] == "private, no-store"
    assert book.content == b"%PDF-1.7 BriefingBook"
    html = inline_api.get(
        f"/visits/{visit}/delegation-programme?lang=ja&format=html", headers=staff
    )
    assert html.text == "<html lang='ja'>DelegationProgramme</html>"
    versions = inline_api.get(f"/visits/{visit}/briefing-book/versions?lang=zh-TW", headers=staff)
    assert [v["number"] for v in versions.json()["versions"]] == [1]
    first = inline_api.get(f"/visits/{visit}/briefing-book/versions/1?lang=zh-TW", headers=staff)
    assert first.content == book.content
    # Not rendered in a language no reader of it has.
    assert (
        inline_api.get(f"/visits/{visit}/briefing-book?lang=ko", headers=staff).status_code == 404
    )
    assert inline_api.get("/visits/nope/briefing-book", headers=staff).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/briefing",
        "/briefing-book?lang=zh-TW",
        "/delegation-programme?lang=ja",
        "/briefing-book/versions?lang=zh-TW",
        "/briefing-book/versions/1?lang=zh-TW",
    ],
)
def test_viewers_and_callers_without_a_token_are_refused(inline_api: InlineApi, path: str) -> None:
    visit = prepared_visit(inline_api)["visit"]
    refresh(inline_api.settings, render=StandIn())
    viewer = as_new(inline_api, "viewer")
    assert inline_api.get(f"/visits/{visit}{path}", headers=viewer).status_code == 403
    assert (
        inline_api.get(f"/visits/{visit}{path}", headers={"Authorization": ""}).status_code == 401
    )
