"""Every stored timestamp comes back time-zone aware, in UTC, the same instant that was
written, on both databases (`UTCDateTime`). On SQLite, which keeps them as text, the text is
read in one parse (`utc_from_text`), also text another program wrote: with an offset, with
`Z`, without seconds' fractions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text
from twinning.db import utc_from_text
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
