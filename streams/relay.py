"""The outbox relay: publishes committed outbox rows to Kafka, in order per aggregate.

It runs in a thread (kafka-python is blocking): in the API process under `twinning up`,
where the API rings `OutboxSignal` after each commit, or alone as `twinning relay`, where
it polls. While the broker is unreachable it backs off and keeps every row; when it
(re)connects it first re-queues every published event that no worker has applied yet,
because the embedded broker keeps topics in memory and may have lost them.

An outbox row counts as delivered only once the archive holds its event: the relay also
re-publishes rows that stay published but unapplied for `redeliver_after` seconds. That
covers a broker that restarted empty while the relay was idle, and a consumer whose position
ran past offsets that the restarted broker reused. Duplicates are harmless: projections are
idempotent by event id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Literal

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import exists, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from twinning.db import rowcount, session_scope, utcnow
from twinning.streams.outbox import OutboxSignal
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent, ParkedEvent

log = logging.getLogger(__name__)

BATCH_SIZE = 500
#: How long a sent event may stay undelivered before its send fails (kafka-python's default is
#: two minutes). Shorter than the relay's flush, so that a flush ends with every send settled,
#: and a producer that lost its broker holds no pending sends and can be closed.
DELIVERY_TIMEOUT_MS = 10_000


def make_producer(bootstrap_servers: Sequence[str]) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=list(bootstrap_servers),
        client_id="twinning-relay",
        acks="all",
        # Not idempotent, with one request in flight: the order per aggregate holds through
        # retries all the same, and a send retried after it had arrived is a duplicate the
        # worker skips (same event id, same body). kafka-python's idempotent producer cannot
        # get past a broker that restarted empty (the embedded broker keeps its topics in
        # memory): it retried `UnknownProducerIdError` with the same producer id until the
        # delivery timeout failed every waiting send (tests/test_relay_restart.py). One in
        # flight costs nothing here: the relay waits for each batch before the next.
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        linger_ms=2,
        request_timeout_ms=5000,
        delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
        max_block_ms=5000,
        reconnect_backoff_ms=100,
        reconnect_backoff_max_ms=2000,
    )


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        bootstrap_servers: Callable[[], Sequence[str]],
        *,
        signal: OutboxSignal | None = None,
        poll_interval: float = 1.0,
        redeliver_after: float = 30.0,
        # Looks again at most this long after a failed one: a broker that comes back is used
        # within it (the producer's own reconnect backoff stops at 2 s too).
        max_backoff: float = 2.0,
        producer_factory: Callable[[Sequence[str]], KafkaProducer] = make_producer,
    ) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.bootstrap_servers = bootstrap_servers
        self.signal = signal or OutboxSignal()
        self.poll_interval = poll_interval
        self.redeliver_after = redeliver_after
        self._next_sweep = 0.0
        self.max_backoff = max_backoff
        self.producer_factory = producer_factory
        self.broker_status: Literal["starting", "up", "down"] = "starting"
        self._producer: KafkaProducer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.signal.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_producer()

    def run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                if self._producer is None:
                    self._connect()
                self._sweep_undelivered()
                published = self.publish_pending()
                backoff = 0.1
            except (KafkaError, OSError) as exc:
                self._broker_down(exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            except Exception:
                log.exception("outbox relay failed; retrying")  # the database, most likely
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if published < BATCH_SIZE:
                self.signal.wait(self.poll_interval)

    def _connect(self) -> None:
        self._producer = self.producer_factory(self.bootstrap_servers())
        requeued = self.requeue_unapplied()
        if self.broker_status != "up":
            log.info("broker reachable; %d published but unapplied events queued again", requeued)
        self.broker_status = "up"

    def _broker_down(self, exc: BaseException) -> None:
        if self.broker_status != "down":
            log.warning("broker unreachable (%s); outbox rows wait", exc)
        self.broker_status = "down"
        self._close_producer(timeout=0)  # nothing left to flush to a broker that is gone

    def _close_producer(self, timeout: float = 5) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=timeout)
        except KafkaTimeoutError:
            # kafka-python flushes first and gives up, leaving its network thread running to
            # deliver the pending sends late, when they do not settle in time; they fail
            # within the delivery timeout, and then it closes.
            try:
                producer.close(timeout=DELIVERY_TIMEOUT_MS / 1000 + 1)
            except Exception:
                log.warning("could not close the Kafka producer", exc_info=True)
        except Exception:
            log.debug("producer close failed", exc_info=True)

    # --- the work ----------------------------------------------------------------------

    def _sweep_undelivered(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.redeliver_after / 2
        requeued = self.requeue_unapplied(older_than=self.redeliver_after)
        if requeued:
            log.warning(
                "%d events published over %.0fs ago are still unapplied; publishing again",
                requeued,
                self.redeliver_after,
            )

    def requeue_unapplied(self, older_than: float = 0.0) -> int:
        """Mark published-but-not-applied rows pending again (the broker may have lost them)."""
        published_before = utcnow() - timedelta(seconds=older_than)
        with session_scope(self.sessions) as session:
            result = session.execute(
                update(OutboxEvent)
                .where(
                    OutboxEvent.published_at.is_not(None),
                    OutboxEvent.published_at <= published_before,
                    ~exists().where(ArchivedEvent.event_id == OutboxEvent.event_id),
                    ~exists().where(ParkedEvent.event_id == OutboxEvent.event_id),
                    ~exists().where(DeadLetter.event_id == OutboxEvent.event_id),
                )
                .values(published_at=None)
            )
            return rowcount(result)

    def publish_pending(self) -> int:
        """Publish one batch of pending rows in outbox order; returns how many were published."""
        assert self._producer is not None
        with self.sessions() as session:
            rows = session.execute(
                select(
                    OutboxEvent.id,
                    OutboxEvent.topic,
                    OutboxEvent.aggregate_id,
                    OutboxEvent.type,
                    OutboxEvent.body,
                )
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(BATCH_SIZE)
            ).all()
        if not rows:
            return 0
        futures = [
            (
                row.id,
                self._producer.send(
                    row.topic,
                    key=row.aggregate_id.encode(),
                    value=row.body.encode(),
                    headers=[("type", row.type.encode())],
                ),
            )
            for row in rows
        ]
        try:
            self._producer.flush(timeout=DELIVERY_TIMEOUT_MS / 1000 + 5)
        except KafkaError:
            log.debug("flush timed out; the rows not delivered stay pending", exc_info=True)
        delivered: list[int] = []
        failure: BaseException | None = None
        for row_id, future in futures:
            if future.succeeded():
                delivered.append(row_id)
            else:
                failure = future.exception or KafkaError("not delivered")
                break  # keep the order: later rows wait for this one
        if delivered:
            self._mark_published(delivered)
        if failure is not None:
            raise failure
        return len(delivered)

    def _mark_published(self, row_ids: list[int]) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(row_ids))
                .values(published_at=utcnow(), publish_count=OutboxEvent.publish_count + 1)
            )
