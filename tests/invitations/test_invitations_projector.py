"""The invitations projector through the worker's projection path (no Kafka): events written
by another system are applied like the API's own; early events wait; replays change nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import InlineApi, Projection
from invitations_office import Office, produced, sample_city_event
from sqlalchemy.ext.asyncio import async_sessionmaker
from twinning.db import make_async_engine
from twinning.invitations.models import CityEvent, Invitation
from twinning.streams.events import INVITATIONS
from twinning.streams.projection import rebuild
from twinning.streams.registry import PROJECTORS
from twinning.streams.store import ParkedEvent

CITY_EVENT = "festival-2026"


def festival(event_type: str, payload: dict[str, Any]) -> bytes:
    return produced(event_type, payload, aggregate_id=CITY_EVENT)


SCHEDULED = festival("CityEventScheduled", sample_city_event())
INVITED = festival(
    "InvitationSent",
    {
        "invitation_id": "inv-1",
        "invitee_kind": "mission",
        "invitee_id": "m-jp",
        "answer_by": "2026-09-20",
    },
)
ANSWERED = festival(
    "RsvpRecorded",
    {
        "invitation_id": "inv-1",
        "answer": "accepted-in-person",
        "delegates": 3,
        "received_via": "portal",
    },
)


def apply(projection: Projection, *messages: bytes) -> list[str]:
    return list(projection.apply(*messages, topic=INVITATIONS))


def _what_staff_see(read: dict[str, Any]) -> dict[str, Any]:
    """A read without what differs between any two copies of the same facts."""
    ignored = {"id", "city_event_id", "scheduled_at", "invited_at", "updated_at", "answered_at"}
    return {key: value for key, value in read.items() if key not in ignored}


def test_events_from_an_external_producer_are_applied_like_the_apis(
    inline_api: InlineApi,
) -> None:
    assert apply(inline_api, SCHEDULED, INVITED, ANSWERED) == ["applied"] * 3
    office = Office(inline_api)
    api_event = office.city_event()
    [api_invitation] = office.invite(api_event, ("mission", "m-jp"))
    office.accepted(
        office.rsvp(api_invitation, "accepted-in-person", delegates=3, received_via="portal")
    )

    for path in ("/city-events/{}", "/city-events/{}/invitations/summary"):
        external = office.get(path.format(CITY_EVENT))
        own = office.get(path.format(api_event))
        assert _what_staff_see(external) == _what_staff_see(own)
    assert _what_staff_see(office.get("/invitations/inv-1")) == _what_staff_see(
        office.get(f"/invitations/{api_invitation}")
    )


def test_a_batch_as_the_worker_takes_it_under_load_is_applied_in_order(
    projection: Projection,
) -> None:
    outcomes = projection.apply_batch(SCHEDULED, INVITED, ANSWERED, topic=INVITATIONS)

    assert outcomes == ["applied"] * 3
    [invitation] = projection.rows(Invitation)
    assert (invitation.answer, invitation.delegates, invitation.version) == (
        "accepted-in-person",
        3,
        2,
    )


def test_an_answer_that_arrives_before_its_invitation_waits_for_it(
    projection: Projection,
) -> None:
    assert apply(projection, SCHEDULED, ANSWERED) == ["applied", "parked"]
    assert apply(projection, INVITED) == ["applied"]

    [invitation] = projection.rows(Invitation)
    assert (invitation.answer, invitation.delegates) == ("accepted-in-person", 3)
    assert projection.rows(ParkedEvent) == []


def test_an_invitation_to_an_event_not_yet_scheduled_waits_for_it(
    projection: Projection,
) -> None:
    assert apply(projection, INVITED) == ["parked"]
    assert apply(projection, SCHEDULED) == ["applied"]

    [invitation] = projection.rows(Invitation)
    assert (invitation.city_event_id, invitation.answer) == (CITY_EVENT, "no-reply")


def test_a_redelivered_answer_changes_nothing(projection: Projection) -> None:
    assert apply(projection, SCHEDULED, INVITED, ANSWERED, ANSWERED) == [
        "applied",
        "applied",
        "applied",
        "duplicate",
    ]
    [invitation] = projection.rows(Invitation)
    assert invitation.version == 2


def test_an_answer_filed_under_another_city_event_is_dead_lettered_with_the_reason(
    projection: Projection,
) -> None:
    other = produced("CityEventScheduled", sample_city_event(), aggregate_id="forum-2026")
    misfiled = produced(
        "RsvpRecorded",
        {"invitation_id": "inv-1", "answer": "declined", "received_via": "letter"},
        aggregate_id="forum-2026",
    )

    assert apply(projection, SCHEDULED, INVITED, other, misfiled)[-1] == "dead-lettered"
    [letter] = projection.dead_letters
    assert "invitation inv-1 belongs to city event festival-2026" in letter.reason
    assert projection.rows(Invitation)[0].answer == "no-reply"


def test_an_in_person_answer_without_delegates_is_dead_lettered_with_the_reason(
    projection: Projection,
) -> None:
    bad = festival(
        "RsvpRecorded",
        {"invitation_id": "inv-1", "answer": "accepted-in-person", "received_via": "phone"},
    )

    assert apply(projection, SCHEDULED, INVITED, bad)[-1] == "dead-lettered"
    [letter] = projection.dead_letters
    assert letter.reason.startswith("invalid RsvpRecorded payload: delegates:")


def test_rebuild_reproduces_city_events_and_invitations(projection: Projection) -> None:
    updated = festival("CityEventUpdated", {"title": {"ja": "国際文化祭"}, "venue": None})
    withdrawn = festival("InvitationWithdrawn", {"invitation_id": "inv-1", "reason": "Oops"})
    apply(projection, SCHEDULED, INVITED, ANSWERED, updated, withdrawn)

    def state() -> list[dict[str, Any]]:
        return [
            {c.key: getattr(row, c.key) for c in type(row).__table__.columns}
            for row in [*projection.rows(CityEvent), *projection.rows(Invitation)]
        ]

    before = state()

    async def run() -> int:
        engine = make_async_engine(projection.settings.async_database_url)
        try:
            return await rebuild(async_sessionmaker(engine, expire_on_commit=False), PROJECTORS)
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == 5
    assert state() == before
    assert before[0]["venue_place"] is None and set(before[0]["title"]) == {"zh-TW", "en", "ja"}
