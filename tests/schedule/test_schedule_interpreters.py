"""The interpreter roster through the API: language pairs with their direction, the contact
as personal data (hidden without access, erased here and in the stored events), and a
visit's items showing which language pairs they need and whether their interpreters cover
them."""

from __future__ import annotations

from conftest import InlineApi
from schedule_support import Desk, accepted_id
from twinning.api.deps import get_personal_data_access
from twinning.streams.store import ArchivedEvent, OutboxEvent


def test_the_roster_keeps_each_interpreters_directions_and_engagement(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    chen = desk.interpreter("Chen Ya-ting", ("zh-TW", "ja"), ("ja", "zh-TW"))
    desk.interpreter("Ana Ruiz", ("zh-TW", "es"))
    desk.accepted(f"/interpreters/{chen}", {"engagement": "in-house"}, method="PATCH")

    interpreter = inline_api.get(f"/interpreters/{chen}").json()
    assert interpreter["language_pairs"] == [
        {"source": "zh-TW", "target": "ja"},
        {"source": "ja", "target": "zh-TW"},
    ]
    assert interpreter["engagement"] == "in-house"
    assert interpreter["contact"] == {"email": "chen@example.org", "phone": "+886 3 332 2101"}
    names = [i["name"] for i in inline_api.get("/interpreters").json()]
    assert names == ["Ana Ruiz", "Chen Ya-ting"]
    japanese = inline_api.get("/interpreters", params={"language": "ja"}).json()
    assert [i["name"] for i in japanese] == ["Chen Ya-ting"]


def test_a_pair_into_the_same_language_or_twice_is_refused(inline_api: InlineApi) -> None:
    same = {"name": "X", "language_pairs": [{"source": "ja", "target": "ja"}]}
    twice = {"name": "X", "language_pairs": [{"source": "ja", "target": "en"}] * 2}
    for body in (same, twice):
        response = inline_api.post("/interpreters", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "language_pairs"
    assert inline_api.get("/interpreters/nobody").status_code == 404


def test_without_personal_data_access_the_contact_is_left_out(inline_api: InlineApi) -> None:
    chen = Desk(inline_api).interpreter()
    inline_api.app.dependency_overrides[get_personal_data_access] = lambda: False

    assert inline_api.get(f"/interpreters/{chen}").json()["contact"] is None
    assert [i["contact"] for i in inline_api.get("/interpreters").json()] == [None]


def test_an_erased_contact_is_gone_here_and_from_the_stored_events(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    chen = desk.interpreter()
    desk.accepted(f"/interpreters/{chen}", {"contact": {"phone": "+886 9999"}}, method="PATCH")

    response = inline_api.request("DELETE", f"/interpreters/{chen}/contact")
    accepted_id(response)

    interpreter = inline_api.get(f"/interpreters/{chen}").json()
    assert interpreter["contact"] is None and interpreter["contact_erased_at"] is not None
    assert interpreter["name"] == "Chen Ya-ting"
    for model in (ArchivedEvent, OutboxEvent):
        bodies = [row.body for row in inline_api.rows(model) if row.aggregate_id == chen]
        assert len(bodies) == 3
        assert not any("chen@example.org" in b or "9999" in b for b in bodies), model
    inline_api.rebuild()
    assert inline_api.get(f"/interpreters/{chen}").json()["name"] == "Chen Ya-ting"


def test_a_visit_shows_the_pairs_each_item_needs_and_whether_they_are_covered(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    chen = desk.interpreter("Chen Ya-ting", ("zh-TW", "ja"))  # one way only
    lee = desk.interpreter("Lee Min-ji", ("ja", "zh-TW"))
    visit_id = desk.visit(languages=["ja", "zh-TW"])  # the office speaks zh-TW: ja is needed
    one_way = accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T10:00:00+08:00",
            "2026-05-01T11:00:00+08:00",
            interpreter_ids=[chen],
        )
    )
    both = accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T12:00:00+08:00",
            "2026-05-01T13:00:00+08:00",
            interpreter_ids=[chen, lee],
        )
    )

    coverage = {c["item_id"]: c for c in inline_api.get(f"/visits/{visit_id}/interpreting").json()}

    assert coverage[one_way]["needs"] == [
        {"source": "zh-TW", "target": "ja", "covered_by": [chen]},
        {"source": "ja", "target": "zh-TW", "covered_by": []},
    ]
    assert [n["covered_by"] for n in coverage[both]["needs"]] == [[chen], [lee]]
