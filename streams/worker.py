"""The faust worker: one app, one consumer group, one agent per event topic.

Each agent takes small batches off its topic and hands them to `EventProcessor`, which
applies them to the read models (async SQLAlchemy, so the event loop never blocks) and
dead-letters what it cannot apply. A task renders the leaflets and brochures that the
publicity projector marked stale, in a separate process, giving way while the agents work off
a backlog (`Backlog`). Nothing raised inside may escape an agent: faust would
commit the offset past the event that caused it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar, cast

import faust
import mode.loop
from faust.streams import _tracks_buffer_agen
from faust.tables import TableManager
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import ChannelT, EventT
from mode.utils.futures import notify
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from twinning.config import Settings
from twinning.db import make_async_engine, utcnow
from twinning.mail import notifier
from twinning.processes import own_scratch
from twinning.publicity.refresh import Refresher
from twinning.streams.events import DEAD_LETTERS, EVENT_TOPICS, Event
from twinning.streams.projection import (
    DeadLetterRecord,
    EventProcessor,
    Message,
    is_database_trouble,
    retry_database,
)
from twinning.streams.registry import PROJECTORS
from twinning.streams.status import record_heartbeat

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
PUBLICITY_INTERVAL = 1.0  # seconds between looks for stale leaflets and brochures
PUBLICITY_BATCH = 10  # (document, locale) pairs checked per look, so that a stop is prompt
#: The longest an event may wait in a batch that is not handed over (a safety net: a batch
#: is handed over as soon as no more events are queued, `ReadyStream.take_ready`).
BATCH_AT_MOST = 0.5
#: A batch this large means events came faster than they were applied: a backlog.
BACKLOG_BATCH = 50
#: How long the projection counts as busy after its last backlog-sized batch.
BACKLOG_QUIET = 1.0
#: The longest the leaflets and brochures wait for a backlog to be worked off.
RENDER_DEFER_AT_MOST = 30.0


class Backlog:
    """Whether the agents are working off a backlog, so that rendering gives way to them.

    While a burst of events is applied (a restart after downtime, an import, a second worker
    taking over partitions), each event may mark the leaflet stale again: rendering it in the
    middle renders it again and again, on the cores and the event loop the projection needs.
    So the renderer waits until the batches are small again, and at most
    `RENDER_DEFER_AT_MOST` seconds at a time, so that documents still follow a load that
    never ends. On a quiet system (the usual trickle of commands) it never waits.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.busy_until = 0.0
        self.deferred_since: float | None = None

    def saw(self, batch_size: int) -> None:
        if batch_size >= BACKLOG_BATCH:
            self.busy_until = self.clock() + BACKLOG_QUIET

    def idle(self) -> bool:
        return self.clock() >= self.busy_until

    def may_render(self) -> bool:
        """Whether to look for stale documents now: idle, or kept waiting long enough."""
        now = self.clock()
        if now >= self.busy_until:
            self.deferred_since = None
            return True
        if self.deferred_since is None:
            self.deferred_since = now
        if now - self.deferred_since >= RENDER_DEFER_AT_MOST:
            self.deferred_since = now  # one look now, then give way again
            return True
        return False


#: How many fetches in a row may bring nothing before the worker's fetches wait longer
#: (`FetchWait`): a second's worth at the 10 ms wait.
QUIET_FETCHES = 100


class FetchWait:
    """How long the consumer's next fetch may wait for data: `active_ms` while events come,
    `idle_ms` once `quiet_fetches` fetches in a row have brought nothing, and `active_ms`
    again from the first that brings data. The embedded broker holds a fetch for its whole
    wait, even when data arrives meanwhile, so the wait is also how late an event may be
    picked up, and an idle worker fetches `1000 / wait` times a second: at 10 ms, the worker
    and the broker took about a fifth of a core doing nothing. Counted in fetches, not in
    time: a worker busy with a long batch sends no fetch meanwhile, and its next one, which
    finds the backlog, is not made to wait. Kafka answers a fetch as soon as data arrives, so
    there both waits can be long (`infra/`).

    Installed on aiokafka's fetcher (`install`): it reads `_fetch_max_wait_ms` for each
    request it builds, and `_proc_fetch_request` says whether a fetch brought data."""

    def __init__(self, active_ms: int, idle_ms: int, quiet_fetches: int = QUIET_FETCHES) -> None:
        self.active_ms, self.idle_ms = active_ms, max(idle_ms, active_ms)
        self.quiet_fetches = quiet_fetches
        self.empty = 0  # fetches in a row that brought nothing

    def after_fetch(self, brought_data: bool) -> int:
        """The wait for the next fetch, after one that did or did not bring data."""
        self.empty = 0 if brought_data else self.empty + 1
        return self.idle_ms if self.empty >= self.quiet_fetches else self.active_ms

    def install(self, fetcher: Any) -> None:
        process = fetcher._proc_fetch_request
        fetcher._fetch_max_wait_ms = self.active_ms

        async def fetched(*args: Any, **kwargs: Any) -> Any:
            brought_data = await process(*args, **kwargs)
            fetcher._fetch_max_wait_ms = self.after_fetch(bool(brought_data))
            return brought_data

        fetcher._proc_fetch_request = fetched


class _PromptFetchConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """faust hard-codes a 1.5 s fetch wait. Kafka answers a fetch as soon as data arrives, but
    the embedded broker waits the whole time, which would add up to 1.5 s to every event's
    trip; so the wait is a setting here (`TWINNING_FETCH_MAX_WAIT_MS`), longer once the
    worker is idle (`FetchWait`, `TWINNING_FETCH_IDLE_WAIT_MS`)."""

    fetch_max_wait_ms = 1500
    fetch_idle_wait_ms = 1500

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read by AIOKafkaConsumer.start()
        return consumer

    async def on_start(self) -> None:
        await super().on_start()
        FetchWait(self.fetch_max_wait_ms, self.fetch_idle_wait_ms).install(
            self._consumer._fetcher  # type: ignore[union-attr]
        )


class _PromptFetchConsumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> aiokafka_driver.AIOKafkaConsumerThread:
        return _PromptFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(aiokafka_driver.Transport):
    Consumer = _PromptFetchConsumer


class _TableManager(TableManager):
    """faust's, without the second it sleeps when it starts (to let tables register: the
    consumer subscribes only after it). The worker has no tables; that second was a second
    of every start-up before the worker joined its group."""

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


TRANSPORTS.aliases["twinning"] = f"{__name__}:_Transport"

#: The longest a stopping worker waits for the tasks faust cancelled as it stopped.
STOP_GRACE = 1.0


class _Worker(faust.Worker):
    """faust's worker, whose last step of a stop does not sleep a fixed second. mode closes the
    event loop after `_sentinel_task`, a `sleep(1.0)` that gives the tasks it has just
    cancelled time to end: here those tasks are awaited instead, for at most that second.
    Every stop (Ctrl-C of `twinning up`, a restart, a new deployment) took a second longer
    than its work, when nothing was left to wait for."""

    async def _sentinel_task(self) -> None:
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE)


def create_app(settings: Settings) -> faust.App:
    servers = settings.bootstrap_servers()
    _PromptFetchConsumerThread.fetch_max_wait_ms = settings.fetch_max_wait_ms
    _PromptFetchConsumerThread.fetch_idle_wait_ms = settings.fetch_idle_wait_ms
    session_timeout = settings.session_timeout or max(6.0, settings.rebalance_timeout * 2)
    app = faust.App(
        settings.consumer_group,
        broker=[f"twinning://{server}" for server in servers],
        autodiscover=False,
        datadir=str(settings.data_dir / "worker"),
        store="memory://",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_rebalance_timeout=settings.rebalance_timeout,
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(1.0, session_timeout / 3),
        broker_commit_every=100,
        broker_commit_interval=0.5,
        # On a stop or a rebalance, don't wait for the messages already fetched to be acked:
        # faust's wait has no deadline, and a message held in a `take_ready` buffer that the
        # stop cut short is never acked, so a worker asked to stop waited forever (or until
        # killed) and a rebalance stalled. Nothing is lost: an unacked message's offset is not
        # committed, so the partition's next owner reads it again, and the projection skips
        # an event it has applied (archived), as the notifier does a mail it has queued.
        stream_wait_empty=False,
        TableManager=_TableManager,
        Stream=ReadyStream,
    )
    # faust's loop: the heartbeat, the renderer's bookkeeping (on PostgreSQL, the projection).
    engine = make_async_engine(settings.async_database_url)
    dead_letters = app.topic(DEAD_LETTERS, key_type=bytes, value_type=bytes, partitions=1)
    projection = ProjectionLoop(
        own_thread=settings.async_database_url.get_backend_name() == "sqlite"
    )

    async def send_dead_letter(record: DeadLetterRecord) -> None:
        await projection.on_faust(
            dead_letters.send(key=(record.event_id or "").encode() or None, value=record.to_bytes())
        )

    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    # On SQLite, an engine of the projection's own loop.
    projection_sessions = async_sessionmaker(
        make_async_engine(settings.async_database_url) if projection.own_thread else engine,
        expire_on_commit=False,
    )
    processor = EventProcessor(
        projection_sessions,
        PROJECTORS,
        send_dead_letter,
        worker_id=worker_id,
        # The mail the events cause, queued once each batch is applied.
        after=mail_notifier(projection_sessions),
    )

    backlog = Backlog()
    for topic_name in EVENT_TOPICS:
        topic = app.topic(topic_name, key_type=bytes, value_type=bytes)
        app.agent(topic, name=f"project:{topic_name}", concurrency=1)(
            _project_with(processor, projection, backlog)
        )

    if settings.render_documents:
        _render_documents(app, engine, settings, backlog)

    park_limit = timedelta(seconds=settings.park_timeout)

    @app.timer(interval=max(1.0, min(60.0, settings.park_timeout / 4)))
    async def expire_parked() -> None:
        try:
            await projection.run(processor.expire_parked(park_limit))
        except Exception:
            log.exception("could not expire parked events; trying again at the next tick")

    started_at = utcnow()
    beats = async_sessionmaker(engine, expire_on_commit=False)

    async def beat(*, with_lag: bool) -> None:
        """A sign of life with the lag, for /health (a worker that stops beating is down)."""
        try:
            lag = await _lag(app) if with_lag else None
            async with beats.begin() as session:
                await record_heartbeat(session, worker_id, started_at, lag)
        except Exception as exc:  # the next beat tries again; /health sees the gap
            log.warning("could not record the heartbeat: %s", exc)

    async def heartbeat() -> None:
        await beat(with_lag=True)

    app.timer(interval=settings.heartbeat_interval)(heartbeat)
    beats_under_way: set[asyncio.Task[None]] = set()

    @app.on_partitions_assigned.connect
    async def beat_when_assigned(_app: Any, /, *args: Any, signal: Any, **_kwargs: Any) -> None:
        """The first beat as soon as the worker has its partitions, not a timer's interval
        later: /health says the worker is up once it can apply commands. Beside the
        rebalance, not in it; without the lag, which waits for the consumer to look up where
        each of its partitions starts (the next beat has it)."""
        if args and args[0]:  # the partitions assigned
            first = asyncio.ensure_future(beat(with_lag=False))
            beats_under_way.add(first)
            first.add_done_callback(beats_under_way.discard)

    return app


async def _lag(app: faust.App) -> int | None:
    """Messages on this worker's event partitions that it has not read yet (None while it
    has no partitions, or the consumer cannot tell)."""
    try:
        consumer = app.consumer
        total, known = 0, False
        for tp in consumer.assignment():
            if tp.topic not in EVENT_TOPICS:
                continue
            high, position = consumer.highwater(tp), await consumer.position(tp)
            if high is not None and position is not None:
                total, known = total + max(0, high - position), True
        return total if known else None
    except Exception:
        return None


def _renderer_setup(worker: int, scratch: str) -> None:
    """In the rendering process: yield the CPU to the projection (a leaflet can wait a moment,
    the feeds should not), and end with `worker` (its pid, from the worker itself: one that
    died while this process started is gone already): a worker killed outright would
    otherwise leave it behind, rendering alone or waiting for a next task forever. Its
    temporary files (WeasyPrint's font folders) go to a folder of its own under `scratch`,
    which the next rendering process removes if this one is killed mid-render."""
    os.nice(10)
    tempfile.tempdir = str(own_scratch(Path(scratch)))

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="twinning-renderer-watch", daemon=True).start()


def render_scratch(settings: Settings) -> Path:
    """Where the rendering processes of a data directory's workers keep their temporary files
    (a folder each: `own_scratch`)."""
    return settings.data_dir / "worker" / "render-scratch"


def _render_documents(
    app: faust.App, engine: AsyncEngine, settings: Settings, backlog: Backlog
) -> None:
    """The publicity consumer's rendering: a task that renders what is stale, in a process
    of its own, stopped with the worker."""
    refresher = Refresher(
        async_sessionmaker(engine, expire_on_commit=False),
        settings,
        # One process, started on first use: WeasyPrint is CPU-bound Python that would
        # otherwise hold the GIL the agents need. Spawned, since forking a process with
        # Kafka threads and a running loop is unsafe.
        executor=lambda: ProcessPoolExecutor(
            max_workers=1,
            mp_context=get_context("spawn"),
            initializer=_renderer_setup,
            initargs=(os.getpid(), str(render_scratch(settings))),
        ),
    )

    @app.on_before_shutdown.connect
    async def stop_rendering(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        refresher.close()

    async def publish() -> None:
        """Render what is stale, a few documents at a time, until the worker stops (a task,
        not a timer: a first render with cold fonts takes longer than any sensible tick)."""
        while True:
            if not backlog.may_render():
                await asyncio.sleep(PUBLICITY_INTERVAL)
                continue
            # A look let through a backlog that went on too long finishes; a look begun on
            # an idle worker stops before its next document when a backlog begins.
            overdue = not backlog.idle()
            go_on = None if overdue else backlog.idle
            try:
                report = await refresher.refresh(limit=PUBLICITY_BATCH, go_on=go_on)
            except Exception:
                log.exception("could not refresh the leaflets and brochures; trying again")
                report = None
            if report is None or not report.checked:
                await asyncio.sleep(PUBLICITY_INTERVAL)

    app.task(publish)


class ReadyStream(faust.Stream):  # type: ignore[type-arg]
    """faust's stream with one more way to take batches (the app's `Stream`)."""

    @_tracks_buffer_agen
    async def take_ready(
        self, max_: int, at_most: float = BATCH_AT_MOST
    ) -> AsyncGenerator[list[EventT], None]:
        """Batches of at most `max_` events, each handed over as soon as no more events are
        queued: a lone command's event at once, and a backlog in large batches (the queue
        fills while the previous batch is applied).

        faust's `take_events` hands a batch over only when it is full or at the next tick of
        its `within` timer, which wakes every agent `1 / within` times a second whether or not
        anything came: with a window of 5 ms the six project agents woke 1,200 times a second,
        about 6 % of a core on an idle worker, and a lone event waited 2.5 ms on average. This
        is the same method (the same passive buffering, the same back-pressure at `max_`) with
        that wait replaced: the processor that buffers an event says the batch is ready when
        the channel has nothing more queued. `at_most` is only a safety net, should an event
        be buffered with the batch never said ready. And a batch is acked only once the agent
        asks for the next one: faust's acks it also when the generator is closed in the
        middle of it (a stop while the batch is applied), committing offsets of events whose
        transaction may have been rolled back."""
        events: list[EventT] = []
        ready = asyncio.Event()
        consumed = asyncio.Event()
        consuming: asyncio.Future[None] | None = None
        stream_enable_acks = self.enable_acks
        channel_it = aiter(self.channel)
        queued = cast(ChannelT, self.channel)  # what the passive drainer reads from

        async def add_to_buffer(value: Any) -> Any:
            nonlocal consuming
            try:
                if consuming is not None:
                    try:
                        await consuming
                    finally:
                        consuming = None
                event = self.current_event
                if event is None:
                    raise RuntimeError("take_ready found current_event is None")
                events.append(event)
                if len(events) >= max_:
                    ready.set()
                    consumed.clear()
                    await self.wait(consumed)  # type: ignore[arg-type]
                elif queued.empty():
                    ready.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.exception("Error adding to take_ready buffer: %r", exc)
                await self.crash(exc)
            return value

        self.enable_acks = False  # acked below, once the batch has been consumed
        self.add_processor(add_to_buffer)
        self._enable_passive(channel_it)  # type: ignore[arg-type]
        try:
            while not self.should_stop:
                await self.wait_for_stopped(ready, timeout=at_most)  # type: ignore[arg-type]
                if not events:
                    ready.clear()
                    continue
                consuming = self.loop.create_future()
                batch = list(events)
                try:
                    yield batch
                    # Asked for the next batch: this one is applied, its offsets may be
                    # committed. A generator closed while the batch is held (a stop in the
                    # middle of it) acks nothing: the partition's next reader reads it again.
                    for event in batch:
                        await self.ack(event)
                finally:
                    events.clear()
                    ready.clear()
                    notify(consuming)
                    consumed.set()
        finally:
            self.enable_acks = stream_enable_acks
            self._processors.remove(add_to_buffer)


T = TypeVar("T")


class ProjectionLoop:
    """Where the projection runs. On SQLite, an event loop of its own on a thread of its own:
    faust's agents hand it each batch and wait for it without blocking faust's loop, which
    meanwhile takes the next messages from the consumer (so that the next batch is ready,
    and large, when this one is applied: `ReadyStream.take_ready`) and beats the heartbeat;
    and on its own loop the projection runs SQLite's statements on the loop's thread, without
    aiosqlite's hand-off to a thread for each (`SqliteOnLoopThread`): a batch costs one
    hand-off each way. Everything the processor does runs there; what it sends to Kafka (a
    dead letter) goes back to faust's loop (`on_faust`). In alternated runs of 10,000
    events, 12 to 17 % more events a second (issue 17).

    On PostgreSQL the driver is asyncio's own, with no hand-off to save, and the thread only
    made the projection slower (about a tenth fewer events a second, the two threads
    contending for the interpreter): the projection stays on faust's loop."""

    def __init__(self, *, own_thread: bool) -> None:
        self.own_thread = own_thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._faust: asyncio.AbstractEventLoop | None = None

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the projection's loop (started on first use), from faust's. If the
        caller is cancelled (the worker stopping, a rebalance), so is `work`: its transaction
        is rolled back, as it was when it ran on faust's loop."""
        if not self.own_thread:
            return await work
        self._faust = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(
                target=self._loop.run_forever, name="twinning-projection", daemon=True
            ).start()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def on_faust(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on faust's loop (the one that called `run`), from the projection's."""
        if not self.own_thread:
            return await work
        if self._faust is None:
            raise RuntimeError("the projection's loop was never given a batch")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._faust))


def _project_with(processor: EventProcessor, projection: ProjectionLoop, backlog: Backlog) -> Any:
    async def project(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_ready(BATCH_SIZE):  # type: ignore[attr-defined]
            backlog.saw(len(events))
            batch = [
                Message(
                    event.value, event.message.topic, event.message.partition, event.message.offset
                )
                for event in events
            ]
            try:
                await projection.run(processor.process_batch(batch))
            except Exception:  # the processor already catches per event; this is the last net
                log.exception("unexpected failure on a batch of %d events", len(batch))

    return project


def mail_notifier(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[Sequence[Event]], Awaitable[None]]:
    """The mail a batch's events cause (`twinning.mail.notifier`), queued in a transaction of
    its own once the batch is applied (`EventProcessor.after`): the notifier reads what the
    projection wrote (a visit's contact, a city's contacts, whether an invitation is still
    open), and a redelivered event queues nothing new (the outbox's key). It used to be a
    second faust agent on the same topics, which decoded every event again and doubled faust's
    own work per message, and could run before the projection it reads."""

    async def queue(events: Sequence[Event]) -> None:
        async def write() -> None:
            async with sessions.begin() as session:
                for event in events:
                    await notifier.notify(session, event, now=utcnow())

        try:  # it waits for the database, as the projection does
            await retry_database(
                write,
                retryable=is_database_trouble,
                first_delay=0.1,
                max_backoff=30.0,
                what=f"queue the mail of {len(events)} events",
            )
        except Exception:
            if len(events) > 1:  # one event's fault: the others' mail still goes
                for event in events:
                    await queue([event])
                return
            # (Not another worker queueing the same message: `queue_to` skips a conflict.)
            log.exception(
                "could not queue the mail %s %s causes", events[0].type, events[0].event_id
            )

    async def notify(events: Sequence[Event]) -> None:
        concerned = [event for event in events if notifier.concerns(event)]
        if concerned:
            await queue(concerned)

    return notify


def use_uvloop() -> None:
    """Run faust (its agents, and the Kafka consumer's thread) on uvloop where it is installed:
    libuv's loop hands the consumer's messages and aiosqlite's results between threads for
    less CPU than asyncio's own, which a worker spends per batch. In the benchmark, a faust
    agent that does nothing went from about 10,000 to 14,000 events/s, and the projection's
    CPU per event fell by about a tenth. Platforms without uvloop keep asyncio's loop."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return
    mode.loop.use("uvloop")


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT/SIGTERM (faust installs the handlers and stops cleanly)."""
    use_uvloop()
    app = create_app(settings)
    # A batch allocates tens of thousands of short-lived objects (ORM rows, events): with the
    # default thresholds the cycle collector runs hundreds of times per batch and each of its
    # full passes walks every long-lived object. Fewer young collections, and the objects of
    # start-up (modules, the app) left out of them: a fifth more events per second.
    gc.set_threshold(50_000, 20, 100)
    gc.freeze()
    gc.enable()  # `python -m twinning worker` starts without it (`prepare_start`)
    # faust narrates every service start and stop at INFO; keep the worker quiet unless debugging.
    loglevel = "debug" if settings.log_level.lower() == "debug" else "warning"
    worker = _Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    # faust's start-up spinner sets the root logger to DEBUG to spin on every record: every debug
    # line of aiokafka (several per fetch) would then be built and handled, message after message.
    worker.spinner = None
    worker.execute_from_commandline()
