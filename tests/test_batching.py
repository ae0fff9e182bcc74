"""The worker applies events in batches of any size: one transaction each, the records it
touches found in memory, counters and marks written once at commit. One event at a time is
the reference. The demo's whole history (every kind of record, visits in every state, an
event with every answer, trips and exchanges) gives the same read models either way."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_TOKEN, Projection, Stack, migrated_settings, new_database_url
from sqlalchemy import Integer, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning.db import async_session_scope
from twinning.demo import load_demo
from twinning.streams.events import Event, decode
from twinning.streams.projection import apply_events
from twinning.streams.registry import PROJECTORS
from twinning.streams.store import ArchivedEvent

pytestmark = pytest.mark.slow

#: Written by the renderer too (which documents it checked, and when): not the projection's.
RENDERER_OWNED = "publicity_documents"


def read_models(engine: Engine, *, skip: Sequence[str] = ()) -> dict[str, list[str]]:
    """Every projector's tables, row by row, without their generated integer keys."""
    dump: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for projector in PROJECTORS:
            for model in projector.tables:
                table = model.__table__  # type: ignore[attr-defined]
                if table.name in skip:
                    continue
                kept = [
                    c for c in table.columns if not (c.primary_key and isinstance(c.type, Integer))
                ]
                dump[table.name] = sorted(
                    repr({c.name: value for c, value in zip(kept, row, strict=True)})
                    for row in connection.execute(select(*kept))
                )
    return dump


def in_batches(projection: Projection, events: list[Event], size: int) -> None:
    """Each batch in one transaction through the worker's batch path, with no fallback to one
    event at a time (an error fails the test instead of hiding behind a retry)."""

    async def apply(sessions: async_sessionmaker[AsyncSession]) -> None:
        for start in range(0, len(events), size):
            async with async_session_scope(sessions) as session:
                outcomes = await apply_events(session, events[start : start + size], PROJECTORS)
            assert outcomes == ["applied"] * len(outcomes)

    projection._run(lambda processor: apply(processor.sessions))


def test_the_demo_history_gives_the_same_read_models_in_batches_of_any_size(
    stack: Stack, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    load_demo(stack.settings.base_url(), token=ADMIN_TOKEN, timeout=60)
    stack.stop_worker()
    with stack.engine.connect() as connection:
        bodies = connection.scalars(select(ArchivedEvent.body).order_by(ArchivedEvent.seq))
        history = [decode(body) for body in bodies]
    assert len(history) > 50
    assert len({event.type for event in history}) > 15

    replays: dict[str, dict[str, list[Any]]] = {}
    for name, size in (("one by one", 0), ("batches of 7", 7), ("one batch", len(history))):
        kind = stack.settings.sync_database_url.get_backend_name()
        url = new_database_url(kind, tmp_path / name, request)
        # A copy of the migrated template already: Alembic finding nothing to do is a fifth of
        # a second of reading every migration script, half a second or more on a loaded machine.
        projection = Projection(migrated_settings(url, tmp_path / name, migrate=False))
        try:
            if size:
                in_batches(projection, history, size)
            else:
                assert set(projection.apply(*history)) == {"applied"}
            replays[name] = read_models(projection.engine)
        finally:
            projection.close()

    reference = replays.pop("one by one")
    assert sum(map(len, reference.values())) > 500
    for name, replay in replays.items():
        assert replay == reference, name
    skip = [RENDERER_OWNED]
    worker = read_models(stack.engine, skip=skip)
    assert worker == {table: rows for table, rows in reference.items() if table not in skip}
