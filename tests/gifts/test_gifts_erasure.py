"""A gift's giver or recipient who is one of the office's contacts: the data subject's export
holds the gifts naming them, and erasing the contact erases their name in the gifts register
and in the stored copies of the gifts' events (not the gift); on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conftest import InlineApi, command
from gifts_support import record, register_parties
from twinning.gifts.models import Gift
from twinning.streams.store import ArchivedEvent, OutboxEvent

NAME = "Hanako Yamada"


def _person(database_url: str, tmp_path: Path, contact_id: str) -> dict[str, Any] | None:
    """`twinning export person CONTACT_ID`, as an office answers a request for access."""
    from twinning.cli import cli
    from typer.testing import CliRunner

    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    env["TWINNING_DATABASE_URL"] = database_url
    made = CliRunner().invoke(
        cli, ["export", "person", contact_id, "--data-dir", str(data_dir)], env=env
    )
    if made.exit_code == 1:
        assert b"no personal data is held about contact" in made.stderr_bytes
        return None
    assert made.exit_code == 0, made.stderr_bytes
    document: dict[str, Any] = json.loads(made.stdout_bytes)
    return document


def test_erasing_a_contact_erases_their_name_in_the_gifts_that_name_them(
    inline_api: InlineApi, database_url: str, tmp_path: Path
) -> None:
    parties = register_parties(inline_api)
    contact = {"partner_id": parties["partner"], "name": NAME, "email": "h.y@city.example.jp"}
    contact_id = str(command(inline_api, "POST", "/contacts", json=contact)["id"])
    person = {"kind": "person", "id": contact_id, "name": NAME}
    mayor = {"kind": "official", "id": parties["mayor"]}
    received = record(inline_api, parties, direction="received", giver=person, recipient=mayor)
    # Changed once: the name is in an update's stored copy too.
    command(inline_api, "PATCH", f"/gifts/{received}", json={"giver": {**person, "name": "H. Y."}})
    # Named by name only (not as the contact): a mention for staff to review, left as it is.
    by_name = record(inline_api, parties, recipient={"kind": "person", "name": NAME})
    other = record(inline_api, parties, recipient={"kind": "person", "name": "Taro Suzuki"})

    document = _person(database_url, tmp_path, contact_id)
    assert document is not None
    [gift] = document["erased_by_erasure"]["gifts"]
    assert (gift["gift_id"], gift["giver"]) == (received, {**person, "name": "H. Y."})
    assert [g["gift_id"] for g in document["mentions_elsewhere"]["gifts"]] == [by_name]

    command(inline_api, "DELETE", f"/contacts/{contact_id}")

    def names() -> dict[str, tuple[Any, Any]]:
        return {
            g["id"]: (g["giver"].get("name"), g["recipient"].get("name"))
            for g in inline_api.get("/gifts").json()
        }

    erased = {
        received: ("[erased]", None),
        by_name: (None, NAME),
        other: (None, "Taro Suzuki"),
    }
    assert names() == erased
    for model in (ArchivedEvent, OutboxEvent):
        bodies = [row.body for row in inline_api.rows(model) if row.aggregate_id == received]
        assert len(bodies) == 2, model
        assert not any(NAME in body or "H. Y." in body for body in bodies), model
    assert _person(database_url, tmp_path, contact_id) is None

    # A rebuild replays the redacted copies and the erasure: the same register.
    inline_api.rebuild()
    assert names() == erased
    assert len(inline_api.rows(Gift)) == 3

    # The erased contact can no longer be named as a gift's giver.
    refused = inline_api.post("/gifts", json=_received_from(person, parties["mayor"]))
    assert refused.status_code == 404, refused.text
    assert refused.json()["ids"] == [contact_id]


def _received_from(giver: dict[str, Any], mayor_id: str) -> dict[str, Any]:
    return {
        "direction": "received",
        "description": {"en": "A fan"},
        "category": "craft",
        "date": "2025-04-02",
        "giver": giver,
        "recipient": {"kind": "official", "id": mayor_id},
    }


def test_a_gift_naming_an_unknown_contact_is_refused(inline_api: InlineApi) -> None:
    parties = register_parties(inline_api)
    giver = {"kind": "person", "id": "no-such-contact", "name": NAME}
    refused = inline_api.post("/gifts", json=_received_from(giver, parties["mayor"]))
    assert refused.status_code == 404, refused.text
    assert refused.json()["ids"] == ["no-such-contact"]
    assert inline_api.get("/gifts").json() == []
