"""The relay through a short outage of the embedded broker, which comes back empty (it keeps
its topics in memory): the commands that waited in the producer go out on that producer once
the broker is back, in outbox order. An idempotent producer could not: the new broker does not
know its producer id, and kafka-python retried `UnknownProducerIdError` with the same id until
the delivery timeout failed every waiting send (then a new producer sent them again, 10 s
after the broker was back)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from conftest import wait_for
from kafka import KafkaProducer
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from twinning.db import make_engine
from twinning.db.migrate import upgrade
from twinning.streams.broker import EmbeddedBroker
from twinning.streams.relay import OutboxRelay, make_producer
from twinning.streams.store import OutboxEvent

TOPIC = "twinning.partners"


class Watched:
    """The relay's producer, telling when the relay has sent a batch and waits for it, and
    keeping each send's future (where the broker put it)."""

    def __init__(self, producer: KafkaProducer) -> None:
        self.producer = producer
        self.flushing = threading.Event()
        self.futures: list[Any] = []

    def send(self, *args: Any, **kwargs: Any) -> Any:
        future = self.producer.send(*args, **kwargs)
        self.futures.append(future)
        return future

    def flush(self, timeout: float | None = None) -> None:
        self.flushing.set()
        self.producer.flush(timeout=timeout)

    def close(self, timeout: float | None = None) -> None:
        self.producer.close(timeout=timeout)


def rows(aggregates: list[str], count: int) -> list[dict[str, str]]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "topic": TOPIC,
            "aggregate_id": aggregates[n % len(aggregates)],
            "type": "PartnerCityUpdated",
            "body": f'{{"n": {n}}}',
        }
        for n in range(count)
    ]


def test_sends_that_waited_through_a_broker_restart_go_out_on_the_same_producer(
    tmp_path: Path, broker: EmbeddedBroker
) -> None:
    url = make_url(f"sqlite:///{tmp_path}/relay.db")
    upgrade(url)
    engine = make_engine(url)
    made: list[Watched] = []

    def producer(servers: Any) -> Any:
        made.append(Watched(make_producer(servers)))
        return made[-1]

    relay = OutboxRelay(engine, lambda: broker.bootstrap_servers, producer_factory=producer)
    relay._connect()
    with engine.begin() as connection:  # one delivered while the broker is up
        connection.execute(insert(OutboxEvent), rows(["warm"], 1))
    assert relay.publish_pending() == 1

    port = broker.port
    broker.stop()
    aggregates = [f"partner-{n}" for n in range(3)]
    waiting = rows(aggregates, 30)
    with engine.begin() as connection:
        connection.execute(insert(OutboxEvent), waiting)
    made[0].flushing.clear()
    published: list[int] = []
    failed: list[BaseException] = []

    def publish() -> None:
        try:
            published.append(relay.publish_pending())
        except BaseException as exc:  # what the relay's loop would take for a broker down
            failed.append(exc)

    sender = threading.Thread(target=publish)
    sender.start()
    wait_for(made[0].flushing.is_set, what="the relay to send the batch and wait for it")
    broker.port = port
    broker.start()  # empty, as the embedded broker always is
    sender.join(60)
    relay._close_producer()

    assert not failed, failed
    assert published == [30] and len(made) == 1
    with engine.connect() as connection:
        unpublished = connection.scalar(
            select(func.count()).where(OutboxEvent.published_at.is_(None))
        )
    assert unpublished == 0

    # Where the broker put each send, in the order the relay sent them (outbox order): each
    # aggregate's events on one partition at rising offsets.
    placed = [(f.value.partition, f.value.offset) for f in made[0].futures[1:]]
    assert len(placed) == len(waiting)
    for aggregate in aggregates:
        mine = [
            at for at, row in zip(placed, waiting, strict=True) if row["aggregate_id"] == aggregate
        ]
        assert len({partition for partition, _ in mine}) == 1
        offsets = [offset for _, offset in mine]
        assert offsets == sorted(set(offsets)), (aggregate, offsets)
    engine.dispose()
