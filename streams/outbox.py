"""How a command records its event: in the outbox, in the transaction of the command itself.

The API never writes to Kafka directly (no dual write): the relay publishes outbox rows
after they commit. `OutboxSignal` lets a relay in the same process wake at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, event, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from twinning.streams.events import Event, Payload, new_event
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent


def record(
    session: AsyncSession | Session,
    payload: Payload,
    *,
    actor: str,
    aggregate_id: str | None = None,
) -> Event:
    """The one way a command records its event: `payload` as an event of `aggregate_id` (a new
    aggregate gets a new id), added to the outbox and published once the caller's transaction
    commits. Returns the event (its `event_id` and `aggregate_id` are what the API answers)."""
    event = new_event(payload, aggregate_id=aggregate_id or str(uuid.uuid4()), actor=actor)
    session.add(
        OutboxEvent(
            event_id=event.event_id,
            topic=event.event_type.topic,
            aggregate_id=event.aggregate_id,
            type=event.type,
            body=event.envelope.model_dump_json(),
        )
    )
    return event


async def commit(session: AsyncSession, doorbell: OutboxSignal) -> None:
    """Commit a command's transaction (its outbox rows with it) and wake the relay."""
    await session.commit()
    doorbell.notify()


class OutboxSignal:
    """A doorbell between the code that commits outbox rows and a relay in the same process."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        rang = self._event.wait(timeout)
        self._event.clear()
        return rang


async def settle(
    session: AsyncSession,
    *,
    aggregate_ids: Iterable[str] = (),
    topic: str | None = None,
    topics: Iterable[str] = (),
    within: float = 5.0,
) -> None:
    """Wait until the worker has applied every committed event of these aggregates and of
    `topic`, so that a command validates against the state its earlier commands produced;
    then hold each settled key (every aggregate id, and the topic) until the session's
    transaction ends, so that no other command on them commits in between.

    Read models are kept by the worker a few milliseconds after each commit; a command that
    depends on the current state (a lifecycle step, a conflict check) calls this first.
    Waiting alone is not enough: two commands sent at once would both see the same state and
    both pass their check (two bookings of one hall, two identical invitations). So commands
    on the same key run one after the other, from here until their commit or rollback:
    - in this process, an `asyncio.Lock` per key, taken in a fixed order (topics, then
      aggregate ids, each sorted), released by the session when the transaction ends
      (commit, rollback or close: a refused command cannot keep it);
    - on PostgreSQL also `pg_try_advisory_xact_lock` per key, so that several API processes
      serialize too. The lock is taken and the check made in one step: a command that
      committed just before we got the lock shows as unapplied, and then we roll back (which
      ends the snapshot and drops the advisory locks) and look again. Nobody waits for an
      advisory lock while holding one, so processes cannot deadlock.
    No `BEGIN IMMEDIATE` on SQLite: the worker must be able to write while we wait.
    A caller that needs a whole topic settled and an aggregate held (a booking: any visit may
    book the same hall, and the visit's own steps must wait) passes both in one call. One that
    settles twice in one transaction must keep the order (topic first): the second call keeps
    the first call's locks. Raises `NotSettled` when the worker does not
    catch up, or another command keeps a key, for `within` seconds.
    """
    ids = list(aggregate_ids)
    # Several topics (a booking: the one schedule spans visits, city events and trips) are
    # settled and held in one call, so that their locks are taken in the one order.
    names = sorted({*topics, *([topic] if topic is not None else [])})
    unapplied = select(OutboxEvent.id).where(
        ~exists().where(ArchivedEvent.event_id == OutboxEvent.event_id),
        ~exists().where(DeadLetter.event_id == OutboxEvent.event_id),
    )
    settled = [
        *([OutboxEvent.aggregate_id.in_(ids)] if ids else []),
        *([OutboxEvent.topic.in_(names)] if names else []),
    ]
    if settled:
        unapplied = unapplied.where(or_(*settled))
    what = [*ids, *names] or ["all"]
    keys = [*map(_aggregate_key, ids), *map(_topic_key, names)]
    keys = keys or [_topic_key("*")]
    deadline = time.monotonic() + within
    held = await _hold(session, keys, deadline, what)
    held.checks.append(unapplied.limit(1))
    delay = 0.005
    while not await _locked_and_applied(session, held):
        if time.monotonic() > deadline:
            raise NotSettled(what)
        # End the snapshot so that the next look sees new commits; keep the in-process locks.
        session.info[_KEEP] = True
        try:
            await session.rollback()
        finally:
            del session.info[_KEEP]
        _open_transaction(session)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _topic_key(topic: str) -> str:
    return f"topic:{topic}"


def _aggregate_key(aggregate_id: str) -> str:
    return f"aggregate:{aggregate_id}"


def _in_order(keys: Iterable[str]) -> list[str]:
    """The order every command takes its locks in: topics first, then aggregates, sorted."""
    return sorted(keys, key=lambda key: (not key.startswith("topic:"), key))


class _KeyLocks:
    """An `asyncio.Lock` per key, made on first use and dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # key -> (lock, holders + waiters)

    async def acquire(self, key: str) -> None:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:  # timed out or cancelled: not held
            self._forget(key)
            raise

    def release(self, key: str) -> None:
        self._locks[key][0].release()
        self._forget(key)

    def _forget(self, key: str) -> None:
        lock, users = self._locks[key]
        if users == 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


# asyncio locks belong to one event loop; tests run several (an API per thread).
_key_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _KeyLocks] = (
    weakref.WeakKeyDictionary()
)


def _locks_of_this_loop() -> _KeyLocks:
    return _key_locks.setdefault(asyncio.get_running_loop(), _KeyLocks())


_HELD = "twinning.settled"  # session.info: the `_Held` of the open transaction
_KEEP = "twinning.settling"  # session.info: settle's own rollback, which keeps `_Held`


@dataclass
class _Held:
    """What a transaction settled: the keys it holds, the looks that must stay empty."""

    locks: _KeyLocks
    keys: list[str] = field(default_factory=list)
    checks: list[Select[Any]] = field(default_factory=list)


async def _hold(session: AsyncSession, keys: list[str], deadline: float, what: list[str]) -> _Held:
    """Take the in-process locks of `keys` this transaction does not hold yet, in key order."""
    _open_transaction(session)
    held: _Held | None = session.info.get(_HELD)
    if held is None:
        held = session.info[_HELD] = _Held(_locks_of_this_loop())
        if not event.contains(session.sync_session, "after_transaction_end", _release):
            event.listen(session.sync_session, "after_transaction_end", _release)
    try:
        async with asyncio.timeout(deadline - time.monotonic()):  # a free lock is taken at once
            for key in _in_order(set(keys) - set(held.keys)):
                await held.locks.acquire(key)
                held.keys.append(key)
    except TimeoutError:
        raise NotSettled(what) from None
    return held


def _open_transaction(session: AsyncSession) -> None:
    """Begin the session's transaction (no I/O yet) if none is open: the locks are released
    when a transaction ends, so one must be open whenever they are held, even if the command
    is cancelled before its next query."""
    if not session.in_transaction():
        session.sync_session.begin()


def _release(session: Session, transaction: SessionTransaction) -> None:
    """When the transaction ends (commit, rollback, close), let the next command in."""
    if transaction.parent is not None or session.info.get(_KEEP):
        return
    held: _Held | None = session.info.pop(_HELD, None)
    if held is not None:
        for key in held.keys:
            held.locks.release(key)


async def _locked_and_applied(session: AsyncSession, held: _Held) -> bool:
    """On PostgreSQL, take the advisory locks of every key held; then whether nothing this
    transaction settled is still unapplied."""
    if session.get_bind().dialect.name == "postgresql":
        for key in _in_order(held.keys):
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(_lock_id(key)))):
                return False
    for check in held.checks:
        if await session.scalar(check) is not None:
            return False
    return True


def _lock_id(key: str) -> int:
    """A key as the signed 64-bit number PostgreSQL's advisory locks take."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)


class NotSettled(Exception):
    """Earlier changes to these aggregates are still on their way to the read models."""

    def __init__(self, what: list[str]) -> None:
        super().__init__(
            f"earlier changes to {', '.join(what)} are still being applied; retry shortly"
        )
