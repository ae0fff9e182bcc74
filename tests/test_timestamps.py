"""Every stored timestamp comes back time-zone aware, in UTC, the same instant that was
written, on both databases (`UTCDateTime`). On SQLite, which keeps them as text, the text is
read in one parse (`utc_from_text`), also text another program wrote: with an offset, with
`Z`, without seconds' fractions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text
from twinning.config import Settings
from twinning.db import aware_in_utc, make_async_engine, utc_from_text
from twinning.streams.store import ArchivedEvent

TAIPEI = timezone(timedelta(hours=8))


def _archived(event_id: str, occurred_at: datetime) -> dict[str, object]:
    return {
        "event_id": event_id,
        "topic": "partners",
        "type": "PartnerCityRegistered",
        "schema_version": 1,
        "aggregate_id": "p-1",
        "actor": "test",
        "occurred_at": occurred_at,
        "body": "{}",
        "applied_at": datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC),
    }


def test_a_timestamp_comes_back_aware_in_utc_as_the_same_instant(database_url: str) -> None:
    engine = create_engine(database_url)
    written = datetime(2026, 12, 7, 9, 30, 15, 250000, tzinfo=TAIPEI)
    with engine.begin() as connection:
        connection.execute(insert(ArchivedEvent), [_archived("e-1", written)])
        occurred, applied = connection.execute(
            select(ArchivedEvent.occurred_at, ArchivedEvent.applied_at)
        ).one()
        # An aggregate keeps the type too.
        latest = connection.scalar(select(ArchivedEvent.occurred_at).order_by(ArchivedEvent.seq))
    engine.dispose()

    assert occurred == written and occurred.tzinfo is UTC
    assert occurred == datetime(2026, 12, 7, 1, 30, 15, 250000, tzinfo=UTC)
    assert applied == datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC) and applied.tzinfo is UTC
    assert latest == written and latest.tzinfo is UTC


def test_the_async_drivers_give_it_back_aware_in_utc_too(database_url: str) -> None:
    """The worker and the API read through aiosqlite and asyncpg, each with a processor of its
    own (asyncpg's aware value is passed on as it is)."""
    written = datetime(2026, 12, 7, 9, 30, 15, 250000, tzinfo=TAIPEI)
    with create_engine(database_url).begin() as connection:
        connection.execute(insert(ArchivedEvent), [_archived("e-4", written)])

    async def read() -> datetime | None:
        settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
        engine = make_async_engine(settings.async_database_url)
        try:
            async with engine.connect() as connection:
                return await connection.scalar(select(ArchivedEvent.occurred_at))
        finally:
            await engine.dispose()

    occurred = asyncio.run(read())
    assert occurred == written and occurred is not None and occurred.tzinfo is UTC
    assert occurred.hour == 1  # the instant in UTC, not Taipei's 9:30
    assert aware_in_utc(written) == written and aware_in_utc(written).tzinfo is UTC  # type: ignore[union-attr]
    assert aware_in_utc(None) is None


def test_a_naive_timestamp_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(ArchivedEvent), [_archived("e-2", datetime(2026, 12, 7))])
    with engine.connect() as connection:
        assert connection.scalar(select(ArchivedEvent.event_id)) is None  # nothing stored
    engine.dispose()


@pytest.mark.parametrize(
    ("stored", "instant"),
    [
        ("2026-12-07 01:30:15.250000", datetime(2026, 12, 7, 1, 30, 15, 250000, tzinfo=UTC)),
        ("2026-12-07 01:30:15", datetime(2026, 12, 7, 1, 30, 15, tzinfo=UTC)),
        ("2026-12-07T09:30:15+08:00", datetime(2026, 12, 7, 1, 30, 15, tzinfo=UTC)),
        ("2026-12-07 01:30:15Z", datetime(2026, 12, 7, 1, 30, 15, tzinfo=UTC)),
        ("2026-12-07", datetime(2026, 12, 7, tzinfo=UTC)),
    ],
)
def test_sqlite_text_is_read_as_its_instant_in_utc(
    tmp_path: Path, stored: str, instant: datetime
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    ArchivedEvent.metadata.create_all(engine, tables=[ArchivedEvent.__table__])  # type: ignore[list-item]
    with engine.begin() as connection:
        connection.execute(insert(ArchivedEvent), [_archived("e-3", instant)])
        connection.execute(
            text("UPDATE event_archive SET occurred_at = :stored"), {"stored": stored}
        )
        read = connection.scalar(select(ArchivedEvent.occurred_at))
    engine.dispose()

    assert read == instant and read.tzinfo is UTC
    assert utc_from_text(stored) == instant and utc_from_text(None) is None
