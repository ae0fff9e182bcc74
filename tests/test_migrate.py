"""Every twinning command migrates its database on start. One at the newest schema is left
alone without Alembic (importing it and reading every migration script cost each start 0.2 s
of CPU); one a migration behind, or a new one, is migrated by Alembic as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from twinning.db import migrate
from twinning.db.migrate import MIGRATED, migrated_versions, upgrade


def test_a_migrated_database_holds_exactly_the_versions_that_need_no_alembic(
    database_url: str,
) -> None:
    """`MIGRATED` is what a full migration leaves: a new migration fails this until it is
    named there (the message shows the set to write)."""
    assert migrated_versions(make_url(database_url)) == MIGRATED


def test_upgrade_leaves_a_migrated_database_to_itself_and_migrates_one_a_step_behind(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(database_url)
    runs: list[str] = []
    alembic_upgrade = command.upgrade
    monkeypatch.setattr(
        command,
        "upgrade",
        lambda config, target: runs.append(target) or alembic_upgrade(config, target),
    )
    upgrade(url)
    assert runs == []

    # A database from before the newest migration of one branch: Alembic runs that one.
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            # (its parent is an ancestor of another head, which stands for it in the table)
            connection.execute(
                text("DELETE FROM alembic_version WHERE version_num = '0031_publicity_asks'")
            )
            connection.execute(text("ALTER TABLE publicity_documents DROP COLUMN asked_at"))
        upgrade(url)
        assert runs == ["heads"]
        assert migrated_versions(url) == MIGRATED
        columns = {c["name"] for c in inspect(engine).get_columns("publicity_documents")}
        assert "asked_at" in columns
    finally:
        engine.dispose()


def test_upgrade_makes_a_new_sqlite_database(tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'new' / 'twinning.db'}")
    assert migrated_versions(url) is None
    upgrade(url)
    assert migrated_versions(url) == MIGRATED
    assert migrate.require_database(url) is None
