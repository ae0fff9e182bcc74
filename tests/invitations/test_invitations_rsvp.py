"""RSVP flows through the API: answers, changes, deadlines, the staff summary, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import InlineApi
from invitations_office import Office
from twinning.api.deps import get_personal_data_access


@pytest.fixture
def office(inline_api: InlineApi) -> Office:
    return Office(inline_api)


def test_a_new_invitation_has_no_reply_yet(office: Office) -> None:
    partner, city_event = office.partner(), office.city_event()
    [invitation_id] = office.invite(city_event, ("partner", partner))

    invitation = office.get(f"/invitations/{invitation_id}")
    assert invitation["answer"] == "no-reply"
    assert invitation["status"] == "invited"
    assert invitation["answer_by"] == "2026-09-20"
    assert (invitation["invitee_kind"], invitation["invitee_id"]) == ("partner", partner)
    assert invitation["city_event_id"] == city_event


@pytest.mark.parametrize(
    ("answer", "delegates", "received_via"),
    [
        ("accepted-in-person", 4, "letter"),
        ("accepted-by-video", None, "email"),
        ("declined", None, "phone"),
    ],
)
def test_each_answer_is_recorded_with_how_it_arrived(
    office: Office, answer: str, delegates: int | None, received_via: str
) -> None:
    [invitation_id] = office.invite(office.city_event(), ("partner", office.partner()))
    more = {"delegates": delegates} if delegates else {}
    response = office.rsvp(invitation_id, answer, received_via=received_via, note="Thanks", **more)

    assert office.accepted(response)["id"] == invitation_id
    assert response.headers["Location"] == f"/invitations/{invitation_id}"
    invitation = office.get(f"/invitations/{invitation_id}")
    assert (invitation["answer"], invitation["delegates"]) == (answer, delegates)
    assert (invitation["received_via"], invitation["note"]) == (received_via, "Thanks")
    assert invitation["answered_at"] is not None


def test_an_answer_can_be_changed_until_the_event_starts(office: Office) -> None:
    [invitation_id] = office.invite(office.city_event(), ("partner", office.partner()))
    office.accepted(office.rsvp(invitation_id, "accepted-in-person", delegates=3))
    office.clock.now = datetime(2026, 10, 10, 0, 59, tzinfo=UTC)  # 08:59 in Taipei
    office.accepted(office.rsvp(invitation_id, "accepted-by-video", received_via="phone"))

    invitation = office.get(f"/invitations/{invitation_id}")
    assert (invitation["answer"], invitation["delegates"]) == ("accepted-by-video", None)
    assert invitation["received_via"] == "phone"


def test_an_answer_after_the_event_started_is_refused_with_409(office: Office) -> None:
    [invitation_id] = office.invite(office.city_event(), ("partner", office.partner()))
    office.accepted(office.rsvp(invitation_id, "declined"))
    office.clock.now = datetime(2026, 10, 10, 1, 0, tzinfo=UTC)  # 09:00 in Taipei: it starts

    response = office.rsvp(invitation_id, "accepted-by-video")

    assert response.status_code == 409
    assert "started at 2026-10-10T01:00:00+00:00" in response.json()["detail"]
    assert office.get(f"/invitations/{invitation_id}")["answer"] == "declined"


def test_several_partners_and_missions_are_invited_at_once(office: Office) -> None:
    city_event = office.city_event()
    partners = [office.partner(n) for n in range(3)]
    invited = [("partner", p) for p in partners] + [("mission", "mission-de")]
    ids = office.invite(city_event, *invited)

    listed = office.get(f"/city-events/{city_event}/invitations")
    assert sorted(i["id"] for i in listed) == sorted(ids)
    assert sorted((i["invitee_kind"], i["invitee_id"]) for i in listed) == sorted(invited)


def test_inviting_the_same_invitee_twice_is_refused_with_409_naming_the_existing_invitation(
    office: Office,
) -> None:
    city_event, partner = office.city_event(), office.partner()
    [existing] = office.invite(city_event, ("partner", partner))

    body = {
        "answer_by": "2026-09-25",
        "invitees": [{"kind": "mission", "id": "m-1"}, {"kind": "partner", "id": partner}],
    }
    response = office.post(f"/city-events/{city_event}/invitations", body)

    assert response.status_code == 409
    problem = response.json()
    assert problem["conflicts"] == [
        {
            "kind": "invitation",
            "id": existing,
            "href": f"/invitations/{existing}",
            "invitee_kind": "partner",
            "invitee_id": partner,
        }
    ]
    assert existing in problem["detail"]
    assert len(office.get(f"/city-events/{city_event}/invitations")) == 1


def test_a_withdrawn_invitation_takes_no_answer_and_the_invitee_can_be_invited_again(
    office: Office,
) -> None:
    city_event, partner = office.city_event(), office.partner()
    [first] = office.invite(city_event, ("partner", partner))
    office.accepted(office.post(f"/invitations/{first}/withdraw", {"reason": "Sent by mistake"}))

    answer = office.rsvp(first, "declined")
    again = office.post(f"/invitations/{first}/withdraw")
    [second] = office.invite(city_event, ("partner", partner))

    assert answer.status_code == again.status_code == 409
    assert answer.json()["current_state"] == "withdrawn"
    withdrawn = office.get(f"/invitations/{first}")
    assert (withdrawn["status"], withdrawn["withdrawal_reason"]) == ("withdrawn", "Sent by mistake")
    assert office.get(f"/invitations/{second}")["status"] == "invited"


def test_the_summary_counts_answers_and_delegates_in_person(office: Office) -> None:
    city_event = office.city_event()
    partners = [office.partner(n) for n in range(5)]
    ids = office.invite(city_event, *[("partner", p) for p in partners], ("mission", "m-fr"))
    office.accepted(office.rsvp(ids[0], "accepted-in-person", delegates=3))
    office.accepted(office.rsvp(ids[1], "accepted-in-person", delegates=2))
    office.accepted(office.rsvp(ids[2], "accepted-by-video"))
    office.accepted(office.rsvp(ids[3], "declined"))
    office.accepted(office.rsvp(ids[5], "accepted-in-person", delegates=1))
    office.accepted(office.post(f"/invitations/{ids[4]}/withdraw"))

    summary = office.get(f"/city-events/{city_event}/invitations/summary")

    assert summary["counts"] == {
        "no-reply": 0,
        "accepted-in-person": 3,
        "accepted-by-video": 1,
        "declined": 1,
    }
    assert (summary["withdrawn"], summary["delegates_in_person"]) == (1, 6)


def test_the_summary_lists_who_has_not_replied_after_the_answer_by_date(office: Office) -> None:
    city_event = office.city_event()
    silent, answered = office.partner(0), office.partner(1)
    later = office.partner(2)
    [silent_id, answered_id] = office.invite(
        city_event, ("partner", silent), ("partner", answered), answer_by="2026-09-20"
    )
    office.invite(city_event, ("partner", later), answer_by="2026-09-30")
    office.accepted(office.rsvp(answered_id, "declined"))
    summary_path = f"/city-events/{city_event}/invitations/summary"

    office.clock.now = datetime(2026, 9, 20, 15, 59, tzinfo=UTC)  # 23:59 on the 20th in Taipei
    on_the_day = office.get(summary_path)
    office.clock.now = datetime(2026, 9, 20, 16, 0, tzinfo=UTC)  # midnight: the 21st in Taipei
    day_after = office.get(summary_path)

    assert (on_the_day["today"], on_the_day["not_replied_after_answer_by"]) == ("2026-09-20", [])
    assert day_after["today"] == "2026-09-21"
    assert day_after["not_replied_after_answer_by"] == [
        {
            "invitation_id": silent_id,
            "invitee_kind": "partner",
            "invitee_id": silent,
            "answer_by": "2026-09-20",
        }
    ]
    assert day_after["counts"]["no-reply"] == 2


def test_the_answer_note_is_withheld_from_callers_without_access_to_personal_data(
    office: Office,
) -> None:
    city_event = office.city_event()
    [invitation_id] = office.invite(city_event, ("partner", office.partner()))
    office.accepted(office.rsvp(invitation_id, "declined", note="The mayor is in hospital"))
    office.api.app.dependency_overrides[get_personal_data_access] = lambda: False

    assert office.get(f"/invitations/{invitation_id}")["note"] is None
    assert office.get(f"/city-events/{city_event}/invitations")[0]["note"] is None
    assert office.get(f"/invitations/{invitation_id}")["answer"] == "declined"
