"""A damaged database is noticed (issue 20, item 7): `twinning up` runs SQLite's quick check and
refuses a damaged file with what to do; at run time an error the database reports is a 503
problem body with the reason (not a 500), and /health reports the database down."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal
from conftest import (
    InlineApi,
    Projection,
    command,
    external_event,
    migrated_settings,
    sample_partner,
    wait_for,
)
from sqlalchemy import text
from twinning.config import Settings
from twinning.db import make_engine
from twinning.db.migrate import DamagedDatabase, quick_check, upgrade
from twinning.streams.broker import EmbeddedBroker, free_port
from twinning.streams.relay import OutboxRelay

PARTNER_TABLE = "partner_cities"


def write_garbage_into(path: Path, table: str) -> None:
    """Overwrite the first page of `table` (in the middle of the file) with bytes that are no
    SQLite page, as a failing disk or a stray write would; nothing else may have it open."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
        page_size, pages = (
            connection.execute("PRAGMA page_size").fetchone()[0],
            connection.execute("PRAGMA page_count").fetchone()[0],
        )
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    assert 1 < root < pages, (root, pages)
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes((7 + 13 * n) % 256 for n in range(page_size)))


def a_system_with_partners(tmp_path: Path) -> Settings:
    """A data directory as `twinning up` makes it (SQLite in it), with a few partner cities."""
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    projection = Projection(settings)
    events = [
        external_event("PartnerCityRegistered", sample_partner(n), aggregate_id=f"p-{n}")
        for n in range(5)
    ]
    assert projection.apply(*events) == ["applied"] * 5
    projection.close()
    return settings


def database_file(settings: Settings) -> Path:
    assert settings.sync_database_url.database is not None
    return Path(settings.sync_database_url.database)


def test_the_quick_check_passes_a_whole_file_and_refuses_a_damaged_one(tmp_path: Path) -> None:
    settings = a_system_with_partners(tmp_path)
    quick_check(settings.sync_database_url)  # whole: no complaint

    write_garbage_into(database_file(settings), PARTNER_TABLE)

    with pytest.raises(DamagedDatabase) as refused:
        quick_check(settings.sync_database_url)
    message = str(refused.value)
    assert str(database_file(settings)) in message and "is damaged" in message
    assert "restore it from a backup, or move it away" in message
    assert "\n" not in message


def test_the_quick_check_refuses_a_file_whose_header_is_garbage(tmp_path: Path) -> None:
    settings = a_system_with_partners(tmp_path)
    with database_file(settings).open("r+b") as file:
        file.write(b"\x00garbage" * 12)

    with pytest.raises(DamagedDatabase, match=r"is damaged .*file is not a database"):
        quick_check(settings.sync_database_url)


def test_up_refuses_a_damaged_database_with_what_to_do(tmp_path: Path) -> None:
    settings = a_system_with_partners(tmp_path)
    write_garbage_into(database_file(settings), PARTNER_TABLE)
    damaged = database_file(settings).read_bytes()

    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twinning",
            "up",
            "--port",
            str(free_port()),
            "--data-dir",
            str(settings.data_dir),
        ],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("TWINNING_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = up.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        up.kill()
        out, err = up.communicate()
        pytest.fail(f"`twinning up` started on a damaged database: {out}{err}")

    assert up.returncode == 1, (out, err)
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert f"the database {database_file(settings)} is damaged" in err
    assert "restore it from a backup, or move it away" in err
    assert "twinning is up" not in out
    assert database_file(settings).read_bytes() == damaged  # not migrated, not touched


def damage(inline_api: InlineApi) -> None:
    """Damage the partner cities' table under the running API: on SQLite, garbage in its pages;
    on PostgreSQL (whose files the tests may not reach), a column the code reads gone."""
    inline_api.portal.call(inline_api.app.state.sessions.kw["bind"].dispose)
    inline_api.disconnect()
    url = inline_api.settings.sync_database_url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        write_garbage_into(Path(url.database), PARTNER_TABLE)
    else:
        with inline_api.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {PARTNER_TABLE} RENAME COLUMN names TO lost"))
        inline_api.engine.dispose()


def test_a_read_that_hits_the_damage_is_a_503_problem_and_health_reports_it(
    inline_api: InlineApi,
) -> None:
    partner = command(inline_api, "POST", "/partners", json=sample_partner(1))
    assert inline_api.get(f"/partners/{partner['id']}").status_code == 200
    assert inline_api.get("/health").json()["database"] == {"status": "up", "detail": None}

    damage(inline_api)
    read = inline_api.get(f"/partners/{partner['id']}")
    listed = inline_api.get("/partners")

    for answer in (read, listed):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert (problem["status"], problem["title"]) == (503, "Service Unavailable")
        assert problem["detail"].startswith("the database reports an error: "), problem
        assert problem["detail"].endswith("; nothing was changed"), problem
        # The database's reason, never the statement, its parameters or what is stored.
        assert "SELECT" not in answer.text and "Testville" not in answer.text, problem
    reason = read.json()["detail"].removeprefix("the database reports an error: ")
    reason = reason.removesuffix("; nothing was changed")
    assert reason

    health = inline_api.get("/health")
    assert health.status_code == 503
    database = health.json()["database"]
    assert database["status"] == "down"
    assert reason in database["detail"], database
    # What the damage does not touch still answers.
    assert inline_api.get("/me").status_code == 200


def test_the_worker_holds_an_event_while_the_database_is_damaged_and_applies_it_once_repaired(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The damage is the database's, not the event's: the event waits (and the log says why)
    instead of going to the dead letters, and is applied once the file is restored."""
    settings = a_system_with_partners(tmp_path)
    path = database_file(settings)
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    whole = tmp_path / "whole.db"
    shutil.copyfile(path, whole)
    write_garbage_into(path, PARTNER_TABLE)
    renamed = external_event("PartnerCityUpdated", {"names": {"en": "Renamed"}}, aggregate_id="p-1")
    projection = Projection(settings)
    outcomes: list[str] = []
    applying = threading.Thread(
        target=lambda: outcomes.extend(projection.apply(renamed)), daemon=True
    )
    caplog.set_level(logging.WARNING, logger="twinning")

    def holding() -> int:
        return sum("waits until it is repaired" in r.getMessage() for r in caplog.records)

    def tries() -> int:
        return sum("retrying in" in r.getMessage() for r in caplog.records)

    applying.start()
    try:
        wait_for(lambda: holding() >= 2, what="the worker to hold the event, twice")
        assert outcomes == [] and projection.dead_letters == []
    finally:
        # Restored in place, as copying the file from a backup does, and with the worker
        # trying again while the copy has emptied the file and not written it yet: its
        # connection then saw an empty database ("no such table"), and went on seeing one
        # after the copy had ended, until it connected afresh.
        with path.open("r+b") as restoring:
            restoring.truncate(0)
            restoring.flush()
            tried = tries()
            wait_for(lambda: tries() > tried, what="the worker to try again on the empty file")
            restoring.write(whole.read_bytes())
        applying.join(timeout=60)
    assert outcomes == ["applied"]
    assert projection.dead_letters == []
    with projection.engine.connect() as connection:
        names = connection.scalar(text(f"SELECT names FROM {PARTNER_TABLE} WHERE id = 'p-1'"))
    assert "Renamed" in str(names)
    projection.close()


def test_the_api_reads_a_file_restored_in_place_under_it(tmp_path: Path) -> None:
    """A SQLite file damaged, then restored in place while the API runs, with a request in
    the moment the copy has emptied the file: the API answers 503 then, and from the whole
    file once the copy has ended (a connection that opened the empty file would otherwise go
    on seeing no tables). A file is SQLite's alone: a server's connections are pinged."""
    settings = a_system_with_partners(tmp_path)
    path = database_file(settings)
    with start_blocking_portal() as portal:
        api = InlineApi(migrated_settings(f"sqlite:///{path}", tmp_path, migrate=False), portal)
        try:
            assert api.get("/partners/p-1").status_code == 200
            with closing(sqlite3.connect(path)) as connection:  # the backup: its first admin too
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            whole = path.read_bytes()
            write_garbage_into(path, PARTNER_TABLE)
            assert api.get("/partners/p-1").status_code == 503
            with path.open("r+b") as restoring:
                restoring.truncate(0)
                restoring.flush()
                assert api.get("/partners/p-1").status_code == 503  # nothing there
                restoring.write(whole)
            read = api.get("/partners/p-1")
            assert read.status_code == 200, read.text
            assert read.json()["id"] == "p-1"
        finally:
            api.close()


def test_the_relay_publishes_from_a_file_restored_in_place_under_it(
    tmp_path: Path, broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """The outbox relay, on SQLite, after the file it polls was damaged and then restored in
    place: the command accepted before the damage is published from the restored file (its
    connection would otherwise keep the damaged pages it had read)."""
    settings = a_system_with_partners(tmp_path)
    path = database_file(settings)
    with start_blocking_portal() as portal:
        api = InlineApi(migrated_settings(f"sqlite:///{path}", tmp_path, migrate=False), portal)
        try:
            accepted = api.post("/partners", json=sample_partner(9))
            assert accepted.status_code == 202, accepted.text
        finally:
            api.close()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    whole = path.read_bytes()

    def pending() -> int:
        with closing(sqlite3.connect(path)) as connection:
            return int(
                connection.execute(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                ).fetchone()[0]
            )

    assert pending() == 1
    engine = make_engine(settings.sync_database_url)
    relay = OutboxRelay(engine, lambda: broker.bootstrap_servers)
    caplog.set_level(logging.ERROR, logger="twinning.streams.relay")

    def failures() -> int:
        return sum(r.name == "twinning.streams.relay" for r in caplog.records)

    try:
        write_garbage_into(path, "outbox")
        relay.start()
        wait_for(lambda: failures() >= 2, what="the relay to meet the damage twice")
        path.write_bytes(whole)  # restored in place
        wait_for(lambda: pending() == 0, what="the command published from the restored file")
    finally:
        relay.stop()
        engine.dispose()
