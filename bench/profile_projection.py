"""Where a projected event's CPU goes: the benchmark's mix through the worker's batch path
(`EventProcessor.process_batch`, batches of 1,000) in one process, without Kafka.

    python bench/profile_projection.py [EVENTS] [--database-url URL] [--by-type]

It prints the process's CPU time per event (the database driver's thread included) in
exclusive parts: each projector's handlers and prefetch (without the ORM flushes they
trigger), the ORM's flushes wherever they happen, the archive insert (and the ledger's, in
code before migration `0030_ledger`), the writes the calendar, the plans and the publicity
marks leave for the commit, decoding, and the rest (the archive lookup,
dispatch, the commit, the event loop). `--database-url` names a PostgreSQL server to create a
database on (default: a SQLite file). CPU time, not wall time: on a shared machine the wall
time says as much about the other processes as about this one.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from twinning.calendar import projector as calendar
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import upgrade
from twinning.plans import projector as plans
from twinning.publicity import projector as publicity
from twinning.streams import projection
from twinning.streams.registry import PROJECTORS

try:
    from bench.run import mixed_events
except ImportError:  # run as a script from the repository's root
    from run import mixed_events  # type: ignore[import-not-found,no-redef]

cpu = time.process_time
spent: dict[str, float] = defaultdict(float)
FLUSH = "ORM flush (unit of work), wherever it happens"
LEDGER = "archive insert (and the ledger's, before 0030_ledger)"


def timed(key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """An async function timed under `key`, the ORM flushes it triggers left out."""

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, flushed = cpu(), spent[FLUSH]
        try:
            return await function(*args, **kwargs)
        finally:
            spent[key] += cpu() - start - (spent[FLUSH] - flushed)

    return wrapper


def timed_sync(key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent[key] += cpu() - start

    return wrapper


def instrument(by_type: bool) -> None:
    for p in PROJECTORS:
        p.handlers = {
            name: timed(f"handlers {p.name}" + (f" {name}" if by_type else ""), handler)
            for name, handler in p.handlers.items()
        }
        if p.prefetch is not None:
            p.prefetch = timed(f"prefetch {p.name}", p.prefetch)
    projection.decode = timed_sync("decode", projection.decode)  # type: ignore[assignment]
    Session.flush = timed_sync(FLUSH, Session.flush)  # type: ignore[method-assign]
    calendar._write_before_commit = timed_sync(  # type: ignore[assignment]
        "calendar writes at commit", calendar._write_before_commit
    )
    calendar._bump_before_commit = timed_sync(  # type: ignore[assignment]
        "feed versions at commit", calendar._bump_before_commit
    )
    plans._write_facts = timed_sync("plans facts at commit", plans._write_facts)  # type: ignore[assignment]
    publicity._write_marks = timed_sync(  # type: ignore[assignment]
        "publicity marks at commit", publicity._write_marks
    )
    execute = AsyncSession.execute

    async def execute_timed(self: AsyncSession, statement: Any, *args: Any, **kwargs: Any) -> Any:
        ledger = isinstance(statement, Insert) and statement.table.name in (
            "processed_events",
            "event_archive",
        )
        if not ledger:
            return await execute(self, statement, *args, **kwargs)
        await self.flush()  # what the insert's autoflush would write: counted as a flush
        start = cpu()
        try:
            return await execute(self, statement, *args, **kwargs)
        finally:
            spent[LEDGER] += cpu() - start

    AsyncSession.execute = execute_timed  # type: ignore[method-assign]


def database(server: str | None, workdir: Path) -> str:
    if server is None:
        return f"sqlite:///{workdir / 'profile.db'}"
    url = make_url(server)
    name = f"twinning_profile_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def run(count: int, server: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="twinning-profile-"))
    settings = Settings(database_url=database(server, workdir), data_dir=workdir, _env_file=None)  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    engine = make_async_engine(settings.async_database_url)

    async def dead_letter(record: projection.DeadLetterRecord) -> None:
        print("dead letter:", record.reason[:300])

    processor = projection.EventProcessor(
        async_sessionmaker(engine, expire_on_commit=False), PROJECTORS, dead_letter
    )
    messages = [projection.Message(value, topic) for topic, _, value in mixed_events(count)]
    gc.set_threshold(50_000, 20, 100)  # as the worker (`run_worker`)
    gc.freeze()
    start_wall, start_cpu = time.perf_counter(), cpu()
    for at in range(0, len(messages), 1000):
        await processor.process_batch(messages[at : at + 1000])
    wall, used = time.perf_counter() - start_wall, cpu() - start_cpu
    await engine.dispose()
    kind = "postgresql" if server else "sqlite"
    print(
        f"{count} events ({kind}): {wall:.2f} s wall, {used:.2f} s CPU:"
        f" {1e6 * used / count:.0f} µs of CPU per event ({count / used:.0f} events/s of CPU)"
    )
    parts = dict(spent)
    parts["rest: archive lookup, dispatch, commit, event loop"] = used - sum(spent.values())
    for key, value in sorted(parts.items(), key=lambda part: -part[1]):
        if value > 0.005 * used:
            print(f"  {key:60s} {1e6 * value / count:6.0f} µs {100 * value / used:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int, nargs="?", default=5000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server")
    parser.add_argument("--by-type", action="store_true", help="handlers per event type too")
    args = parser.parse_args()
    instrument(args.by_type)
    asyncio.run(run(args.events, args.database_url))


if __name__ == "__main__":
    main()
