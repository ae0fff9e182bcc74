"""The event backbone end to end: API -> outbox -> relay -> Kafka -> faust worker -> read model,
on SQLite and PostgreSQL, against the embedded broker.

The tests that only send commands and messages share one started system per database
(`shared_stack`): each reads what it made. Those that stop or kill a part, restart the API,
damage the read model or need other settings start their own (`stack`, `make_stack`)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from conftest import Stack, on_a_shared_stack, sample_partner, wait_for
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import func, select, text
from twinning.crm.models import PartnerCity
from twinning.streams.broker import EmbeddedBroker
from twinning.streams.events import DEAD_LETTERS, PARTNERS
from twinning.streams.store import ArchivedEvent, DeadLetter


def test_partner_walks_from_pending_to_published_to_applied(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(worker=False, with_relay=False)
    accepted = stack.post_partner(names={"zh-TW": "札幌市", "en": "Sapporo"})

    assert stack.event_status(accepted["event_id"]) == "pending"
    assert stack.client.get(f"/partners/{accepted['id']}").status_code == 404

    stack.stop_api()
    stack.start_api(with_relay=True)
    wait_for(
        lambda: stack.event_status(accepted["event_id"]) == "published", what="the relay to publish"
    )

    stack.start_worker()
    wait_for(
        lambda: stack.event_status(accepted["event_id"]) == "applied", what="the worker to apply"
    )
    partner = stack.client.get(f"/partners/{accepted['id']}").json()
    assert partner["names"] == {"zh-TW": "札幌市", "en": "Sapporo"}
    assert (partner["country"], partner["kind"], partner["timezone"]) == (
        "JP",
        "sister",
        "Asia/Tokyo",
    )
    assert partner["agreement_date"] == "2010-05-01"


shared = on_a_shared_stack("backbone")


@shared
def test_post_answers_202_with_location_and_the_list_filters(shared_stack: Stack) -> None:
    stack = shared_stack
    response = stack.client.post("/partners", json=sample_partner(1))
    assert response.status_code == 202
    assert response.headers["location"] == f"/partners/{response.json()['id']}"
    other = stack.post_partner(country="KR", kind="friendly", timezone="Asia/Seoul")
    stack.wait_applied([response.json()["event_id"], other["event_id"]])

    # Other tests' partners are in the list too: each filter keeps the one of these two that
    # it names, leaves out the other, and lets through only partners that match it.
    friendly_kr = stack.client.get(
        "/partners", params={"kind": "friendly", "country": "kr", "limit": 500}
    ).json()
    assert [p["id"] for p in friendly_kr if p["id"] in (response.json()["id"], other["id"])] == [
        other["id"]
    ]
    assert {(p["kind"], p["country"]) for p in friendly_kr} == {("friendly", "KR")}
    sister = stack.client.get("/partners", params={"kind": "sister", "limit": 500}).json()
    assert [p["id"] for p in sister if p["id"] in (response.json()["id"], other["id"])] == [
        response.json()["id"]
    ]
    assert {p["kind"] for p in sister} == {"sister"}


@shared
def test_an_update_changes_only_the_fields_it_names(shared_stack: Stack) -> None:
    stack = shared_stack
    created = stack.post_partner()
    updated = stack.client.patch(
        f"/partners/{created['id']}", json={"names": {"ko": "테스트시"}, "status": "dormant"}
    )
    assert updated.status_code == 202, updated.text
    stack.wait_applied([created["event_id"], updated.json()["event_id"]])

    partner = stack.client.get(f"/partners/{created['id']}").json()
    assert partner["names"] == {**sample_partner()["names"], "ko": "테스트시"}
    assert partner["status"] == "dormant"
    assert partner["kind"] == "sister"
    assert partner["version"] == 2


def test_broker_outage_delays_but_loses_nothing(stack: Stack, broker: EmbeddedBroker) -> None:
    warm = stack.post_partner()
    stack.wait_applied([warm["event_id"]])
    # The relay producers in this process: this stack's, and any other system's still running.
    relays = len(_relay_network_threads())
    port = broker.port

    broker.stop()
    wait_for(
        lambda: stack.client.get("/health").status_code == 503,
        what="/health to report the broker down",
    )
    assert stack.client.get("/health").json()["broker"]["status"] == "down"
    accepted = [stack.post_partner(names={"en": f"Outage {n}"})["event_id"] for n in range(100)]
    assert {stack.event_status(e) for e in accepted} == {"pending"}

    broker.port = port
    broker.start()  # empty, as the embedded broker always is
    stack.wait_applied(accepted, timeout=120)

    assert stack.count(PartnerCity) == 101
    with stack.engine.connect() as connection:
        # Each event applied exactly once: archived once (the archive is the ledger: its row is
        # written in the transaction of every projector's change for the event), and each
        # partner registered once.
        archived = connection.scalars(select(ArchivedEvent.event_id)).all()
        assert sorted(archived) == sorted([warm["event_id"], *accepted])
        versions = connection.execute(
            select(func.min(PartnerCity.version), func.max(PartnerCity.version))
        ).one()
        assert tuple(versions) == (1, 1)
    wait_for(
        lambda: stack.client.get("/health").status_code == 200,
        what="/health to see the broker again",
    )
    # The producer that lost the broker was closed, not left retrying its sends in a thread
    # of its own (to deliver them late, and to hold a thread and sockets for good).
    wait_for(
        lambda: len(_relay_network_threads()) == relays,
        what=f"{relays} relay producers left",
        state=lambda: f"relay producer threads: {_relay_network_threads()}",
    )


def _relay_network_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "twinning-relay-network-thread"]


def test_worker_killed_mid_stream_applies_every_event_exactly_once(stack: Stack) -> None:
    created = stack.post_partner()
    stack.wait_applied([created["event_id"]])
    updates = []
    for n in range(150):
        response = stack.client.patch(f"/partners/{created['id']}", json={"region": f"region {n}"})
        assert response.status_code == 202
        updates.append(response.json()["event_id"])
        if n == 60:
            wait_for(lambda: stack.count(ArchivedEvent) > 10, what="the worker to be mid-stream")
            stack.kill_worker()
    assert stack.count(ArchivedEvent) < 151, "the worker was killed before the stream ended"
    stack.start_worker()
    stack.wait_applied(updates, timeout=120)

    partner = stack.client.get(f"/partners/{created['id']}").json()
    assert partner["version"] == 151  # one registration and 150 updates, none applied twice
    assert partner["region"] == "region 149"
    assert stack.count(ArchivedEvent) == 151


def _envelope(
    event_type: str, payload: dict[str, object], aggregate_id: str | None = None
) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "aggregate_id": aggregate_id or str(uuid.uuid4()),
        "actor": "external-system",
        "payload": payload,
    }


def _dead_letters(
    broker: EmbeddedBroker, expected: int, *, source: dict[str, object] | None = None
) -> list[dict[str, object]]:
    """The records on the dead-letter topic (only those of the message at `source`, its
    topic, partition and offset, when given), once there are at least `expected` of them."""
    consumer = KafkaConsumer(
        DEAD_LETTERS,
        bootstrap_servers=broker.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=500,
    )
    found: list[dict[str, object]] = []

    def enough() -> bool:
        found.extend(
            letter
            for letter in (json.loads(record.value) for record in consumer)
            if source is None or letter["source"] == source
        )
        return len(found) >= expected

    try:
        wait_for(enough, what=f"{expected} dead letters")
    finally:
        consumer.close()
    return found


def test_poison_messages_of_every_kind_go_to_the_dead_letters_and_the_stream_goes_on(
    make_stack: Callable[..., Stack], broker: EmbeddedBroker
) -> None:
    stack = make_stack(park_timeout=2.0)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    aggregate = str(uuid.uuid4())
    wrong_envelope = {
        **_envelope("PartnerCityRegistered", sample_partner(), aggregate),
        "actor": None,
    }
    unknown_type = _envelope("PartnerCityAnnexed", {"by": "nobody"}, aggregate)
    unknown_version = {
        **_envelope("PartnerCityRegistered", sample_partner(), aggregate),
        "schema_version": 9,
    }
    bad_payload = _envelope(
        "PartnerCityRegistered", {**sample_partner(), "timezone": "Mars/Olympus_Mons"}, aggregate
    )
    orphan = _envelope("PartnerCityUpdated", {"region": "Atlantis"})  # its partner never appears
    valid = _envelope("PartnerCityRegistered", sample_partner(7), aggregate)
    poison = [
        b"{not json",
        *(
            json.dumps(e).encode()
            for e in (wrong_envelope, unknown_type, unknown_version, bad_payload)
        ),
    ]
    for value in [*poison, json.dumps(orphan).encode(), json.dumps(valid).encode()]:
        producer.send(PARTNERS, key=aggregate.encode(), value=value)
    producer.flush()
    producer.close()

    stack.wait_applied([str(valid["event_id"])])
    assert stack.client.get(f"/partners/{aggregate}").json()["names"]["en"] == "Testville 7"
    letters = _dead_letters(broker, 6)
    reasons = sorted(str(letter["reason"]) for letter in letters)
    assert [r.split(":")[0] for r in reasons] == [
        "invalid PartnerCityRegistered payload",
        "invalid envelope",
        "not JSON",
        f"partner city {orphan['aggregate_id']} is not registered yet, and it did not appear within 2s",
        "unknown event type 'PartnerCityAnnexed' (known",
        "unknown schema_version 9 of PartnerCityRegistered",
    ]
    assert {letter["original"] for letter in letters} >= {"{not json"}
    for event in (unknown_type, unknown_version, bad_payload, orphan):
        state = stack.client.get(f"/events/{event['event_id']}").json()
        assert state["status"] == "dead-lettered", state


@shared
def test_an_update_that_arrives_before_its_partner_waits_for_it(shared_stack: Stack) -> None:
    stack, broker = shared_stack, shared_stack.broker
    aggregate = str(uuid.uuid4())
    early = _envelope("PartnerCityUpdated", {"region": "Kansai"}, aggregate)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    producer.send(PARTNERS, key=aggregate.encode(), value=json.dumps(early).encode()).get(10)
    wait_for(
        lambda: stack.event_status(str(early["event_id"])) == "parked",
        what="the early update to be parked",
    )

    registration = _envelope("PartnerCityRegistered", sample_partner(3), aggregate)
    producer.send(PARTNERS, key=aggregate.encode(), value=json.dumps(registration).encode()).get(10)
    producer.close()
    stack.wait_applied([str(registration["event_id"]), str(early["event_id"])])
    partner = stack.client.get(f"/partners/{aggregate}").json()
    assert (partner["region"], partner["version"]) == ("Kansai", 2)


def _canonical_dump(stack: Stack) -> list[dict[str, object]]:
    with stack.engine.connect() as connection:
        rows = connection.execute(select(PartnerCity).order_by(PartnerCity.id)).mappings().all()
    return [json.loads(json.dumps(dict(row), default=str, sort_keys=True)) for row in rows]


def test_rebuild_reproduces_the_read_models_from_the_archive(stack: Stack) -> None:
    events = []
    for n in range(5):
        created = stack.post_partner(**sample_partner(n))
        events.append(created["event_id"])
        update = stack.client.patch(
            f"/partners/{created['id']}", json={"names": {"es": f"Ciudad {n}"}, "region": "Asia"}
        )
        events.append(update.json()["event_id"])
    stack.wait_applied(events)
    before = _canonical_dump(stack)
    assert len(before) == 5
    stack.stop_worker()
    with stack.engine.begin() as connection:  # damage the read model; the archive is intact
        connection.execute(
            text(
                "DELETE FROM partner_cities WHERE version = 2 AND region = 'Asia' AND country = 'JP'"
            )
        )
    assert _canonical_dump(stack) != before

    result = subprocess.run(
        [sys.executable, "-m", "twinning", "rebuild", "--json"],  # as the benchmark reads it
        env=stack.env(),
        cwd=stack.tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["events"] == 10 and report["seconds"] > 0
    assert _canonical_dump(stack) == before


@shared
def test_a_large_poison_message_keeps_its_dead_letter_whole_in_the_database(
    shared_stack: Stack,
) -> None:
    """A 900 KB message: the dead-letter record stays small (a broker refuses one over 1 MB,
    and base64 or JSON escaping would make it bigger than the message), and nothing of the
    message is lost: the table keeps all of it. (Its dead letter is told from others' by
    where the message was on its topic.)"""
    stack, broker = shared_stack, shared_stack.broker
    huge = b'{"not an envelope": "' + b"x" * 900_000 + b"\x00" + b'"}'
    valid = _envelope("PartnerCityRegistered", sample_partner(8), str(uuid.uuid4()))
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap_servers, acks="all", max_request_size=2_000_000
    )
    sent = producer.send(PARTNERS, value=huge).get(10)
    producer.send(PARTNERS, value=json.dumps(valid).encode())
    producer.flush()
    producer.close()
    source = {"topic": PARTNERS, "partition": sent.partition, "offset": sent.offset}

    stack.wait_applied([str(valid["event_id"])])  # the stream went on
    [letter] = _dead_letters(broker, 1, source=source)
    assert str(letter["reason"]).startswith(("not JSON", "invalid envelope")), letter["reason"]
    assert letter["original_truncated"] is True
    assert letter["original_bytes"] == len(huge)
    assert letter["original_sha256"] == hashlib.sha256(huge).hexdigest()
    assert len(json.dumps(letter).encode()) < 100_000
    with stack.engine.connect() as connection:
        [(raw, encoding_is_base64)] = connection.execute(
            select(DeadLetter.raw, DeadLetter.raw.like("eyJ%")).where(
                DeadLetter.topic == PARTNERS,
                DeadLetter.partition == sent.partition,
                DeadLetter.offset == sent.offset,
            )
        ).all()
    assert base64.b64decode(raw) == huge and encoding_is_base64
