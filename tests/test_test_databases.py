"""The tests' own PostgreSQL databases: a test's database, given back when it ends, is handed to
a later test only as a new copy of the template would be (the template's schema, no rows, the
sequences at their start), under a name no earlier test knew; one whose schema its test changed
is dropped instead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import (
    DEADLINE,
    MigratedTemplates,
    Projection,
    external_event,
    migrated_settings,
    sample_partner,
    wait_for,
)
from postgres import connected, drop_database, schema_of
from sqlalchemy import text
from sqlalchemy.engine import URL


def _query(url: URL, sql: str) -> list[tuple[object, ...]]:
    with connected(url, begin=True) as connection:
        result = connection.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else []


def _rows_by_table(url: URL) -> dict[str, int]:
    tables = [
        row[0] for row in _query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    counts = _query(
        url, " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in sorted(tables))
    )
    return {str(table): int(str(count)) for table, count in counts}


def _databases(server: URL) -> set[str]:
    return {str(row[0]) for row in _query(server, "SELECT datname FROM pg_database")}


@pytest.fixture
def migrated_templates(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: URL
) -> Iterator[MigratedTemplates]:
    """Templates of this test's own, whose copies no other test takes or gives back: the
    session's are shared by every test of the worker, whose databases come back in any
    order."""
    templates = MigratedTemplates(tmp_path, request)
    yield templates
    templates.close()
    drop_database(postgres.set(database=templates.postgres()))


@pytest.fixture
def handed_out(migrated_templates: MigratedTemplates) -> Iterator[Callable[[], URL]]:
    """Take databases as a test's fixture does; each is dropped at the end."""
    taken: list[URL] = []

    def take() -> URL:
        taken.append(migrated_templates.postgres_copy())
        return taken[-1]

    yield take
    for url in taken:
        drop_database(url)


def _take_until(take: Callable[[], URL], name: str | None) -> list[URL]:
    """Databases taken until the one named `name` (the copies made ahead come first)."""
    taken = [take()]
    while taken[-1].database != name and len(taken) < MigratedTemplates.AHEAD + 3:
        taken.append(take())
    return taken


def test_a_database_given_back_is_handed_out_again_as_a_new_copy_under_a_new_name(
    migrated_templates: MigratedTemplates,
    handed_out: Callable[[], URL],
    postgres: URL,
    tmp_path: Path,
) -> None:
    template = postgres.set(database=migrated_templates.postgres())
    fresh = handed_out()
    assert _rows_by_table(fresh) == _rows_by_table(template)

    used = migrated_templates.postgres_copy()
    url = used.render_as_string(hide_password=False)
    projection = Projection(migrated_settings(url, tmp_path, migrate=False))
    try:
        for n in range(3):
            registered = external_event(
                "PartnerCityRegistered", sample_partner(n), aggregate_id=f"p-{n}"
            )
            assert projection.apply(registered) == ["applied"]
    finally:
        projection.close()
    assert _rows_by_table(used)["partner_cities"] == 3
    assert _query(used, "SELECT last_value FROM pg_sequences WHERE last_value IS NOT NULL")

    retired = migrated_templates.give_back(used)
    assert retired is not None and retired.database != used.database
    assert used.database not in _databases(postgres)

    again = _take_until(handed_out, retired.database)[-1]
    assert again.database == retired.database, "the given-back database was not handed out"
    assert _rows_by_table(again) == _rows_by_table(template)
    assert _query(again, "SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL") == []
    assert schema_of(again) == schema_of(template)


def test_a_database_whose_schema_its_test_changed_is_dropped_not_handed_out(
    migrated_templates: MigratedTemplates, handed_out: Callable[[], URL], postgres: URL
) -> None:
    used = migrated_templates.postgres_copy()
    _query(used, "ALTER TABLE partner_cities ADD COLUMN nickname text")

    retired = migrated_templates.give_back(used)
    assert retired is not None

    taken = _take_until(handed_out, retired.database)
    assert retired.database not in {url.database for url in taken}
    wait_for(
        lambda: retired.database not in _databases(postgres),
        timeout=DEADLINE,
        what="the changed database to be dropped",
    )
