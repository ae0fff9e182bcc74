"""Two identical invitations sent at the same moment through the real system, on SQLite and
PostgreSQL: exactly one is accepted, the other is refused naming the invitation that won.
Without the per-aggregate lock in `outbox.settle`, both would pass the duplicate check before
either commits."""

from __future__ import annotations

import httpx
from conftest import InlineApi, Stack, accepted, end_to_end, locked_keys, sample_partner
from invitations_office import Clock, Office, sample_city_event
from twinning.api.deps import get_clock

ROUNDS = 10


@end_to_end
def test_of_two_simultaneous_identical_invitations_one_is_refused_naming_the_other(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    clock = Clock()
    stack.app.dependency_overrides[get_clock] = lambda: clock
    partners = [stack.post_partner(**sample_partner(n)) for n in range(ROUNDS)]
    city_event = accepted(stack.client.post("/city-events", json=sample_city_event()))
    stack.wait_applied([city_event["event_id"], *(p["event_id"] for p in partners)])
    url = f"/city-events/{city_event['id']}/invitations"

    for partner in partners:
        body = {"answer_by": "2026-09-20", "invitees": [{"kind": "partner", "id": partner["id"]}]}
        responses = stack.concurrently(("POST", url, body), ("POST", url, body))

        assert sorted(r.status_code for r in responses) == [202, 409], [r.text for r in responses]
        [[invitation]] = [r.json() for r in responses if r.status_code == 202]
        [refused] = [r.json() for r in responses if r.status_code == 409]
        assert refused["conflicts"] == [
            {
                "kind": "invitation",
                "id": invitation["id"],
                "href": f"/invitations/{invitation['id']}",
                "invitee_kind": "partner",
                "invitee_id": partner["id"],
            }
        ]
    assert len(stack.client.get(url).json()) == ROUNDS


def test_a_refused_invitation_does_not_keep_its_city_event_locked(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    city_event, partner = office.city_event(), office.partner()
    office.invite(city_event, ("partner", partner))
    url = f"/city-events/{city_event}/invitations"

    def invite(invitee: dict[str, str], answer_by: str = "2026-09-20") -> httpx.Response:
        return office.post(url, {"answer_by": answer_by, "invitees": [invitee]})

    refused = [
        invite({"kind": "partner", "id": partner}),  # already invited
        invite({"kind": "mission", "id": "m-jp"}, answer_by="2026-12-31"),  # after the event
        invite({"kind": "partner", "id": "no-such-partner"}),
    ]

    assert [response.status_code for response in refused] == [409, 422, 404]
    assert inline_api.portal.call(locked_keys) == {}
    # A held lock would keep this waiting until settle's deadline (503).
    office.accepted(invite({"kind": "mission", "id": "m-jp"}))
