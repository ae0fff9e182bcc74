"""The worker queues the mail a batch's events cause once the batch is applied
(`mail_notifier` in `twinning.streams.worker`, run by `EventProcessor.after`): the notifier reads
what the projection wrote in that same batch, an event that waited (parked) is mailed once it
is applied, an event the worker refuses causes no mail, an event the notifier fails on holds
neither the projection nor the other events' mail, and a database away a moment is waited
for. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Projection, external_event, migrated_settings, sample_visit
from sqlalchemy.exc import OperationalError
from twinning.mail import notifier
from twinning.mail.models import MailMessage
from twinning.streams.events import Event
from twinning.visits.models import Visit

VISITS = "twinning.visits"


@pytest.fixture
def mail_projection(database_url: str, tmp_path: Path) -> Iterator[Projection]:
    helper = Projection(migrated_settings(database_url, tmp_path, migrate=False), mail=True)
    yield helper
    helper.close()


def requested(visit_id: str, email: str) -> bytes:
    contact = {"name": "Aiko Tanaka", "email": email, "language": "ja"}
    return external_event("VisitRequested", sample_visit(contact=contact), aggregate_id=visit_id)


def approved(visit_id: str, *, notify_contact: bool = True) -> bytes:
    return external_event(
        "VisitApproved", {"notify_contact": notify_contact}, aggregate_id=visit_id
    )


def queued(projection: Projection) -> list[tuple[str, str, str]]:
    """The outbox: (kind, what it is about, to whom), in order."""
    return sorted((m.kind, m.about_id, m.to_address) for m in projection.rows(MailMessage))


def test_a_step_told_in_the_batch_that_brings_its_request_is_mailed_to_the_contact(
    mail_projection: Projection,
) -> None:
    visit = str(uuid.uuid4())
    batch = requested(visit, "aiko@example.jp"), approved(visit)
    outcomes = mail_projection.apply_batch(*batch, topic=VISITS)

    assert outcomes == ["applied", "applied"]
    # The notifier found the visit's contact, which the same batch's request wrote.
    assert queued(mail_projection) == [("visit-approved", visit, "aiko@example.jp")]
    [message] = mail_projection.rows(MailMessage)
    assert message.language == "ja"

    # The same batch again (a redelivery): nothing new is queued.
    assert mail_projection.apply_batch(*batch, topic=VISITS) == ["duplicate", "duplicate"]
    assert len(mail_projection.rows(MailMessage)) == 1


def test_an_event_the_notifier_fails_on_holds_neither_the_projection_nor_the_others_mail(
    mail_projection: Projection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, fine = str(uuid.uuid4()), str(uuid.uuid4())
    notify = notifier.notify

    async def failing_on_one(session: Any, event: Event, **kwargs: Any) -> int:
        if event.aggregate_id == broken and event.type == "VisitApproved":
            raise RuntimeError("a fault in the notifier")
        return await notify(session, event, **kwargs)

    monkeypatch.setattr(notifier, "notify", failing_on_one)
    with caplog.at_level(logging.ERROR, logger="twinning.streams.worker"):
        outcomes = mail_projection.apply_batch(
            requested(broken, "broken@example.jp"),
            requested(fine, "fine@example.jp"),
            approved(broken),
            approved(fine),
            topic=VISITS,
        )

    assert outcomes == ["applied"] * 4
    assert {v.id: v.status for v in mail_projection.rows(Visit)} == {
        broken: "approved",
        fine: "approved",
    }
    assert queued(mail_projection) == [("visit-approved", fine, "fine@example.jp")]
    [record] = [r for r in caplog.records if "could not queue the mail" in r.getMessage()]
    assert "VisitApproved" in record.getMessage()
    assert record.exc_info is not None and "a fault in the notifier" in str(record.exc_info[1])


def test_the_notifier_waits_for_a_database_away_a_moment_and_loses_no_mail(
    mail_projection: Projection, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit = str(uuid.uuid4())
    notify = notifier.notify
    refusals = [OperationalError("INSERT", {}, Exception("the database is away"))] * 2

    async def away_twice(session: Any, event: Event, **kwargs: Any) -> int:
        if refusals:
            raise refusals.pop()
        return await notify(session, event, **kwargs)

    monkeypatch.setattr(notifier, "notify", away_twice)
    outcomes = mail_projection.apply_batch(
        requested(visit, "aiko@example.jp"), approved(visit), topic=VISITS
    )

    assert outcomes == ["applied", "applied"]
    assert refusals == []
    assert queued(mail_projection) == [("visit-approved", visit, "aiko@example.jp")]


def test_a_step_staff_chose_not_to_tell_queues_nothing(mail_projection: Projection) -> None:
    visit = str(uuid.uuid4())
    mail_projection.apply_batch(
        requested(visit, "aiko@example.jp"), approved(visit, notify_contact=False), topic=VISITS
    )
    assert queued(mail_projection) == []


def test_a_step_that_waited_for_its_request_is_mailed_once_it_is_applied(
    mail_projection: Projection,
) -> None:
    """An approval that comes before its visit's request (another producer's order) waits,
    parked; it is mailed when the request comes and it is applied, with the request's contact."""
    visit = str(uuid.uuid4())
    assert mail_projection.apply(approved(visit), topic=VISITS) == ["parked"]
    assert queued(mail_projection) == []

    assert mail_projection.apply(requested(visit, "aiko@example.jp"), topic=VISITS) == ["applied"]

    assert {v.id: v.status for v in mail_projection.rows(Visit)} == {visit: "approved"}
    assert queued(mail_projection) == [("visit-approved", visit, "aiko@example.jp")]


def test_an_event_the_worker_refuses_causes_no_mail(mail_projection: Projection) -> None:
    """A request sent through the public form is acknowledged; a second request under the same
    visit's id, which the projection refuses (dead-lettered), is not."""
    visit = str(uuid.uuid4())

    def from_the_form(email: str) -> bytes:
        contact = {"name": "Aiko Tanaka", "email": email, "language": "ja"}
        body = sample_visit(contact=contact, received_via="form")
        return external_event("VisitRequested", body, aggregate_id=visit)

    assert mail_projection.apply(from_the_form("aiko@example.jp"), topic=VISITS) == ["applied"]
    assert mail_projection.apply(from_the_form("other@example.jp"), topic=VISITS) == [
        "dead-lettered"
    ]

    assert queued(mail_projection) == [("visit-acknowledgement", visit, "aiko@example.jp")]
    [refused] = mail_projection.dead_letters
    assert "projector failed" in refused.reason
