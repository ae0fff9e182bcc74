"""Through the real stack (API, relay, broker, worker): a contact is registered, changed and
erased, each command validated against what the worker has applied."""

from __future__ import annotations

from conftest import Stack, end_to_end


@end_to_end
def test_a_contact_is_registered_changed_and_erased(shared_stack: Stack) -> None:
    stack = shared_stack
    mission = stack.client.post(
        "/missions", json={"names": {"en": "Trade Office"}, "country": "NL", "kind": "trade-office"}
    ).json()
    registered = stack.client.post(
        "/contacts",
        json={"mission_id": mission["id"], "name": "Sanne de Vries", "email": "sanne@example.nl"},
    )
    assert registered.status_code == 202, registered.text
    contact_id = registered.json()["id"]
    stack.wait_applied([registered.json()["event_id"]])  # the worker is warm from here on
    assert (
        stack.client.patch(f"/contacts/{contact_id}", json={"title": "Director"}).status_code == 202
    )
    erased = stack.client.delete(f"/contacts/{contact_id}")
    assert erased.status_code == 202
    stack.wait_applied([erased.json()["event_id"]])

    assert stack.client.get(f"/contacts/{contact_id}").status_code == 404
    assert stack.client.get("/contacts", params={"mission_id": mission["id"]}).json() == []
    mission_read = stack.client.get(f"/missions/{mission['id']}", params={"lang": "en"}).json()
    assert mission_read["country_name"] == "Netherlands"
