"""The gifts register through the API: recorded, changed, approved above the threshold, with a
photo stripped of its EXIF; staff only; fed by other systems through `twinning.gifts` too."""

from __future__ import annotations

import io
import uuid

from conftest import InlineApi, Projection, bearer, command, external_event
from gifts_support import photo_with_exif, record, register_parties, sample_gift
from PIL import Image
from twinning.gifts.models import Gift
from twinning.streams.store import OutboxEvent


def test_a_gift_is_recorded_approved_and_moved_and_its_approval_needs_a_new_one_at_a_new_value(
    inline_api: InlineApi,
) -> None:
    parties = register_parties(inline_api)
    gift_id = record(inline_api, parties)

    gift = inline_api.get(f"/gifts/{gift_id}").json()
    assert gift["description"]["en"].endswith("(lacquer box)")
    assert (gift["estimated_value"], gift["currency"]) == ("12000.00", "TWD")
    assert gift["needs_approval"] is True and gift["approved_at"] is None
    assert [g["id"] for g in inline_api.get("/gifts?awaiting_approval=true").json()] == [gift_id]
    assert [
        g["id"] for g in inline_api.get(f"/gifts?counterpart_id={parties['partner']}").json()
    ] == [gift_id]

    command(inline_api, "POST", f"/gifts/{gift_id}/approve", json={"note": "Within the budget"})
    approved = inline_api.get(f"/gifts/{gift_id}").json()
    assert (
        approved["approved_by"] == "user:admin" and approved["approval_note"] == "Within the budget"
    )
    again = inline_api.post(f"/gifts/{gift_id}/approve")
    assert again.status_code == 409 and again.json()["current_state"] == "approved"

    command(inline_api, "PATCH", f"/gifts/{gift_id}", json={"location": "on-display"})
    moved = inline_api.get(f"/gifts/{gift_id}").json()
    assert moved["location"] == "on-display" and moved["approved_at"] is not None

    command(inline_api, "PATCH", f"/gifts/{gift_id}", json={"estimated_value": "15000"})
    revalued = inline_api.get(f"/gifts/{gift_id}").json()
    assert revalued["estimated_value"] == "15000.00" and revalued["approved_at"] is None


def test_a_gift_below_the_threshold_needs_no_approval(inline_api: InlineApi) -> None:
    parties = register_parties(inline_api)
    gift_id = record(inline_api, parties, estimated_value="800")
    assert inline_api.get(f"/gifts/{gift_id}").json()["needs_approval"] is False
    refused = inline_api.post(f"/gifts/{gift_id}/approve")
    assert refused.status_code == 409
    assert "needs no approval" in refused.json()["detail"]


def test_a_photo_is_kept_without_its_exif_and_named_by_the_gift(inline_api: InlineApi) -> None:
    parties = register_parties(inline_api)
    uploaded = inline_api.post(
        "/gifts/photos", files={"file": ("box.jpg", photo_with_exif(), "image/jpeg")}
    )
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    gift_id = record(inline_api, parties, photo=photo)

    assert inline_api.get(f"/gifts/{gift_id}").json()["photo"]["sha256"] == photo["sha256"]
    served = inline_api.get(f"/gifts/photos/{photo['sha256']}")
    assert served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (40, 30)
        assert dict(image.getexif()) == {}
    assert b"SecretCam" not in served.content


def test_what_is_not_a_photo_or_names_nobody_is_refused_with_the_field(
    inline_api: InlineApi,
) -> None:
    parties = register_parties(inline_api)
    not_image = inline_api.post("/gifts/photos", files={"file": ("a.jpg", b"<svg/>", "image/jpeg")})
    assert not_image.status_code == 422
    assert not_image.json()["errors"][0]["field"] == "file"

    unknown = inline_api.post(
        "/gifts", json=sample_gift(parties, recipient={"kind": "partner", "id": "no-such-city"})
    )
    assert unknown.status_code == 404
    assert unknown.json()["ids"] == ["no-such-city"]

    half = inline_api.post("/gifts", json=sample_gift(parties, currency=None))
    assert half.status_code == 422
    assert "currency together" in half.text
    nameless = inline_api.post("/gifts", json=sample_gift(parties, giver={"kind": "person"}))
    assert nameless.status_code == 422 and "a person needs a name" in nameless.text
    assert inline_api.get("/gifts").json() == []
    assert inline_api.get("/gifts/nope").status_code == 404


def test_viewers_never_see_the_gifts_register(inline_api: InlineApi) -> None:
    parties = register_parties(inline_api)
    gift_id = record(inline_api, parties)
    viewer = command_user(inline_api, "vera", "viewer")
    for path in ("/gifts", f"/gifts/{gift_id}", "/gifts/register/2025.csv"):
        assert inline_api.get(path, headers=viewer).status_code == 403, path


def command_user(api: InlineApi, name: str, role: str) -> dict[str, str]:
    user = api.post("/users", json={"name": name, "role": role})
    assert user.status_code == 201, user.text
    token = api.post(f"/users/{user.json()['id']}/tokens", json={})
    assert token.status_code == 201, token.text
    return bearer(token.json()["token"])


def test_another_system_records_a_gift_on_the_gifts_topic(projection: Projection) -> None:
    gift_id = str(uuid.uuid4())
    payload = {
        "direction": "received",
        "description": {"en": "A porcelain vase"},
        "category": "art",
        "date": "2024-05-01",
        "giver": {"kind": "mission", "id": "mission-9"},
        "recipient": {"kind": "official", "id": "mayor"},
        "estimated_value": "300.5",
        "currency": "usd",
    }
    recorded = external_event("GiftRecorded", payload, aggregate_id=gift_id)
    moved = external_event("GiftUpdated", {"location": "archived"}, aggregate_id=gift_id)
    broken = external_event("GiftUpdated", {"location": "in-the-bin"}, aggregate_id=gift_id)

    outcomes = projection.apply(recorded, moved, broken, topic="twinning.gifts")

    [gift] = projection.rows(Gift)
    assert (gift.direction, gift.location, gift.estimated_value, gift.currency) == (
        "received",
        "archived",
        "300.50",
        "USD",
    )
    assert (gift.counterpart_kind, gift.counterpart_id) == ("mission", "mission-9")
    assert len(projection.dead_letters) == 1 and "location" in projection.dead_letters[0].reason
    assert len(outcomes) == 3
    assert projection.rebuild() >= 2
    assert projection.rows(Gift)[0].location == "archived"


def test_a_gift_recorded_in_the_api_travels_on_the_gifts_topic(inline_api: InlineApi) -> None:
    parties = register_parties(inline_api)
    accepted = inline_api.post("/gifts", json=sample_gift(parties))
    assert accepted.status_code == 202
    [row] = [r for r in inline_api.rows(OutboxEvent) if r.event_id == accepted.json()["event_id"]]
    assert (row.topic, row.type, row.aggregate_id) == (
        "twinning.gifts",
        "GiftRecorded",
        accepted.json()["id"],
    )


def test_an_estimated_value_that_is_not_a_decimal_is_refused_naming_the_field(
    inline_api: InlineApi,
) -> None:
    """The value's text branch is a decimal (the published pattern), never free text."""
    parties = register_parties(inline_api)
    schema = inline_api.get("/openapi.json").json()["components"]["schemas"]
    for command_name in ("GiftRecorded", "GiftUpdated"):
        [value, _null] = schema[command_name]["properties"]["estimated_value"]["anyOf"]
        [text] = [branch for branch in value["anyOf"] if branch["type"] == "string"]
        assert text["pattern"] == r"^(\d{1,9}(\.\d{1,2})?|1000000000(\.0{1,2})?)$"

    before = len(inline_api.rows(OutboxEvent))
    for value in (
        *("twelve thousand", "1e4", "12,000", " 12", "-5", "1.234", "NaN", "<b>1</b>"),
        *("1000000000.01", "10000000000"),  # above the largest value the schema allows
    ):
        refused = inline_api.post("/gifts", json=sample_gift(parties, estimated_value=value))
        assert refused.status_code == 422, (value, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["estimated_value"], value
        assert value not in refused.text  # the answer names the field, never echoes the text
    assert len(inline_api.rows(OutboxEvent)) == before

    gift_id = record(inline_api, parties, estimated_value="300.5")
    refused = inline_api.patch(f"/gifts/{gift_id}", json={"estimated_value": "about 300"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["estimated_value"]
    assert inline_api.get(f"/gifts/{gift_id}").json()["estimated_value"] == "300.50"
