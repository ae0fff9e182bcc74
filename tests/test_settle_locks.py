"""`outbox.settle` holds each settled key until the command's transaction ends, on SQLite and
PostgreSQL: a second command on the key waits for the first to commit, then for the worker
to apply what it committed; a refused or rolled-back command lets the next one in; on
PostgreSQL an advisory lock makes other API processes wait too. No worker here: events are
applied through the worker's projection path when a test says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import DEADLINE, locked_keys, migrated_settings, new_database_url
from sqlalchemy import create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.streams import outbox
from twinning.streams.events import Event, OfficialRegistered
from twinning.streams.outbox import NotSettled
from twinning.streams.projection import EventProcessor, Message
from twinning.streams.registry import PROJECTORS

VISIT = "visit-1"
KEY = f"aggregate:{VISIT}"
Sessions = async_sessionmaker[AsyncSession]


def run(settings: Settings, scenario: Callable[[Sessions], Awaitable[None]]) -> None:
    async def main() -> None:
        engine = make_async_engine(settings.async_database_url)
        try:
            await scenario(async_sessionmaker(engine, expire_on_commit=False))
        finally:
            await engine.dispose()

    asyncio.run(main())


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


REGISTERED = OfficialRegistered.model_validate(
    {"names": {"en": "Wang"}, "title": {"en": "Deputy Mayor"}, "protocol_rank": 2}
)


async def apply(sessions: Sessions, event: Event) -> None:
    """What the worker does with the event: apply it and archive it."""

    async def sink(record: object) -> None:
        pytest.fail(f"dead-lettered: {record}")

    processor = EventProcessor(sessions, PROJECTORS, sink)
    message = Message(event.envelope.to_bytes(), event.event_type.topic)
    assert await processor.process(message) == "applied"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return migrated_settings(database_url, tmp_path)


def test_a_second_command_on_a_key_waits_until_the_first_commits(settings: Settings) -> None:
    async def scenario(sessions: Sessions) -> None:
        async with sessions() as first, sessions() as second, sessions() as other:
            await outbox.settle(first, aggregate_ids=[VISIT])
            waiting = asyncio.create_task(outbox.settle(second, aggregate_ids=[VISIT]))
            await until(lambda: locked_keys() == {KEY: 2}, "the second command to queue")
            await outbox.settle(other, aggregate_ids=["visit-2"])  # another key: no wait
            assert not waiting.done()

            await first.commit()
            await asyncio.wait_for(waiting, DEADLINE)
            assert locked_keys() == {KEY: 1, "aggregate:visit-2": 1}
        assert locked_keys() == {}

    run(settings, scenario)


def test_a_key_held_past_the_deadline_is_answered_not_settled(settings: Settings) -> None:
    async def scenario(sessions: Sessions) -> None:
        async with sessions() as first, sessions() as second:
            await outbox.settle(first, topic="twinning.visits")
            with pytest.raises(NotSettled, match=r"twinning\.visits"):
                await outbox.settle(second, topic="twinning.visits", within=0.2)
            assert locked_keys() == {"topic:twinning.visits": 1}
        assert locked_keys() == {}

    run(settings, scenario)


def test_a_refused_or_rolled_back_command_lets_the_next_one_in(settings: Settings) -> None:
    async def scenario(sessions: Sessions) -> None:
        with pytest.raises(LookupError):
            async with sessions() as refused:
                await outbox.settle(refused, aggregate_ids=[VISIT])
                raise LookupError("visit-1 not found")  # the handler raises; the session closes
        assert locked_keys() == {}

        async with sessions() as session:
            await outbox.settle(session, aggregate_ids=[VISIT])
            await session.rollback()
            assert locked_keys() == {}
            # Settling twice in one transaction (topic, then aggregate) holds both, once each.
            await outbox.settle(session, topic="twinning.visits")
            await outbox.settle(session, aggregate_ids=[VISIT])
            await outbox.settle(session, aggregate_ids=[VISIT])
            assert locked_keys() == {"topic:twinning.visits": 1, KEY: 1}
            await session.commit()
            assert locked_keys() == {}

    run(settings, scenario)


def test_what_the_first_command_committed_is_applied_before_the_second_goes_on(
    settings: Settings,
) -> None:
    async def scenario(sessions: Sessions) -> None:
        async with sessions() as first, sessions() as second:
            await outbox.settle(first, aggregate_ids=[VISIT])
            event = outbox.record(first, REGISTERED, aggregate_id=VISIT, actor="test")
            waiting = asyncio.create_task(outbox.settle(second, aggregate_ids=[VISIT], within=1))
            await until(lambda: locked_keys() == {KEY: 2}, "the second command to queue")

            await first.commit()
            # The second now holds the lock, but the first's event is not applied yet.
            with pytest.raises(NotSettled):
                await waiting
            assert locked_keys() == {KEY: 1}
            await apply(sessions, event)
            await outbox.settle(second, aggregate_ids=[VISIT], within=DEADLINE)

    run(settings, scenario)


def test_on_postgresql_another_process_waits_for_the_key_too(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = migrated_settings(new_database_url("postgresql", tmp_path, request), tmp_path)
    recorded: list[Event] = []
    lock_id = select(func.pg_try_advisory_xact_lock(outbox._lock_id(KEY)))
    other_process = create_engine(settings.sync_database_url)

    async def we_hold_the_key(sessions: Sessions) -> None:
        async with sessions() as session:
            await outbox.settle(session, aggregate_ids=[VISIT])
            with other_process.connect() as other:
                assert other.scalar(lock_id) is False
            await session.commit()
        with other_process.connect() as other:
            assert other.scalar(lock_id) is True

    async def settle(sessions: Sessions) -> None:
        async with sessions() as session:
            await outbox.settle(session, aggregate_ids=[VISIT], within=0.3)

    async def apply_it(sessions: Sessions) -> None:
        await apply(sessions, recorded[0])

    try:
        run(settings, we_hold_the_key)
        with Session(other_process) as other:
            assert other.scalar(lock_id) is True  # the other process takes the key...
            with pytest.raises(NotSettled):
                run(settings, settle)
            # ...and commits an event of that aggregate
            recorded.append(outbox.record(other, REGISTERED, aggregate_id=VISIT, actor="test"))
            other.commit()
        with pytest.raises(NotSettled):  # the key is free, but the event is not applied
            run(settings, settle)
        run(settings, apply_it)
        run(settings, settle)
    finally:
        other_process.dispose()
