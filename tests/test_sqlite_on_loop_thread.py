"""SQLite's statements on the event loop's own thread (`SqliteOnLoopThread`, every SQLite
engine's connections), except those that can wait: a write waiting for another's lock leaves
the loop running (a transaction of the same loop that holds the lock gets to commit, a
reader is answered meanwhile), and a connection that rolls back or is dropped in the middle
of a write lets the next writer in."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DEADLINE
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from twinning.db import SqliteOnLoopThread, make_async_engine

#: SQLite's wait for a lock, shortened from the system's 15 s: a loop blocked by a wait that
#: cannot end fails the test in a second instead.
BUSY_TIMEOUT_MS = 1000


def run(
    tmp_path: Path,
    scenario: Callable[[AsyncEngine], Awaitable[None]],
    *,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> list[int]:
    """Run `scenario` on a new database's engine; the notes it left."""
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")

    async def main() -> list[int]:
        engine = make_async_engine(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _short_wait(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.close()

        try:
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                assert isinstance(raw.driver_connection, SqliteOnLoopThread)
                await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
            await asyncio.wait_for(scenario(engine), DEADLINE)
            async with engine.connect() as connection:
                return list((await connection.scalars(text("SELECT n FROM notes"))).all())
        finally:
            await engine.dispose()

    return asyncio.run(main())


def note(n: int) -> Any:
    return text("INSERT INTO notes VALUES (:n)").bindparams(n=n)


def test_a_writer_waits_for_a_transaction_of_its_loop_that_is_suspended_before_its_commit(
    tmp_path: Path,
) -> None:
    """SQLAlchemy's `sessionmaker.begin()` commits in a task of its own: the first writer is
    suspended holding SQLite's lock when the second writes. Waiting for it in SQLite's busy
    handler would block the loop, so the first could never commit."""

    async def scenario(engine: AsyncEngine) -> None:
        sessions = async_sessionmaker(engine)
        first_wrote = asyncio.Event()

        async def first() -> None:
            async with sessions.begin() as session:
                await session.execute(note(1))
                first_wrote.set()

        async def second() -> None:
            await first_wrote.wait()
            async with sessions.begin() as session:
                await session.execute(note(2))

        await asyncio.gather(first(), second())

    assert run(tmp_path, scenario) == [1, 2]


@pytest.mark.parametrize("begin", ["", "BEGIN"])
def test_the_loop_runs_on_while_a_write_waits_for_another_process_lock(
    tmp_path: Path, begin: str
) -> None:
    """As the API answers other requests while a command waits for the worker's batch to
    commit: the write waits on a thread, not on the loop's (after a deferred BEGIN too, which
    takes no lock: the write after it does)."""

    async def scenario(engine: AsyncEngine) -> None:
        other = sqlite3.connect(tmp_path / "notes.db", isolation_level=None)  # another process
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO notes VALUES (1)")

        about_to_write = asyncio.Event()

        async def write() -> None:
            async with async_sessionmaker(engine).begin() as session:
                if begin:
                    await session.execute(text(begin))
                about_to_write.set()
                await session.execute(note(2))

        waiting = asyncio.create_task(write())
        await about_to_write.wait()
        await asyncio.sleep(
            0
        )  # the write's turn: it waits for the lock (on the loop, it would block it)
        async with AsyncSession(engine) as reader:  # answered while the write waits
            assert (await reader.scalar(text("SELECT count(*) FROM notes"))) == 0
        assert not waiting.done()
        other.execute("COMMIT")
        other.close()
        await waiting

    # The system's own wait for a lock: the other process holds it for as long as it takes.
    assert run(tmp_path, scenario, busy_timeout_ms=15_000) == [1, 2]


def test_a_reader_does_not_wait_for_a_writer_of_its_loop(tmp_path: Path) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as writer, writer.begin():
            await writer.execute(note(1))
            async with AsyncSession(engine) as reader:
                # Before the writer commits: the reader sees what was committed, at once.
                assert (await reader.scalar(text("SELECT count(*) FROM notes"))) == 0

    assert run(tmp_path, scenario) == [1]


@pytest.mark.parametrize("ending", ["rolled back", "dropped"])
def test_a_writer_that_rolls_back_or_is_dropped_lets_the_next_writer_in(
    tmp_path: Path, ending: str
) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        connection = await engine.connect()
        await connection.begin()
        await connection.execute(note(1))
        if ending == "dropped":  # as after an error that counts as a lost connection
            await connection.invalidate()
        else:
            await connection.rollback()
        await connection.close()
        async with async_sessionmaker(engine).begin() as session:
            await session.execute(note(2))

    assert run(tmp_path, scenario) == [2]
