"""Backup and restore (issue 22): a backup taken while commands pour in restores to a system
that holds every command its manifest counts, consistent with its archive, and that starts and
answers as the original did; a truncated or altered archive, a directory or database that is
not new, are refused in one line with the reason."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import (
    ADMIN_TOKEN,
    Stack,
    bearer,
    new_database_url,
    sample_partner,
    sample_visit,
    start_up,
    wait_for,
)
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine
from twinning import backup
from twinning.backup import BackupSchedule
from twinning.config import Settings
from twinning.db.migrate import alembic_config, upgrade
from twinning.processes import DataDirHold
from twinning.streams.registry import PROJECTORS
from twinning.streams.store import OutboxEvent


def _cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in this process, from `cwd` (its `.env` and relative paths): its exit code
    and what it writes, with no interpreter to start each time. Only `twinning up` is started
    as a process (start_up): the restored system is a real one."""
    from twinning.cli import cli
    from typer.testing import CliRunner

    clean: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), env={**clean, **(env or {})})
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # what a user would have seen as a traceback
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def _refused(result: subprocess.CompletedProcess[str], *reasons: str) -> str:
    message = result.stderr.strip()
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "\n" not in message and "Traceback" not in message, message
    assert any(reason in message for reason in reasons), message
    return message


#: Not reproduced by a replay: which documents are due is partly the renderer's own state (it
#: adds the rows of documents no event marked yet, and claims and checks them), not the events'.
NOT_REPLAYED = {"publicity_documents"}


def _read_models(engine: Engine) -> dict[str, list[str]]:
    """A canonical dump of every read model: each table's rows as sorted JSON, in order."""
    dump: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for projector in PROJECTORS:
            for model in projector.tables:
                table: Any = model.__table__
                if table.name not in NOT_REPLAYED:
                    rows = connection.execute(select(table)).mappings().all()
                    dump[table.name] = sorted(
                        json.dumps(dict(row), default=str, sort_keys=True) for row in rows
                    )
    return dump


def _manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return dict(json.loads(member.read()))


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
            for name in inspect(connection).get_table_names()
        }


def test_a_backup_taken_during_a_burst_restores_every_command_it_counts(
    make_stack: Any, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    stack: Stack = make_stack()
    visit = stack.client.post("/visits", json=sample_visit()).json()
    seeded = [stack.post_partner(**sample_partner(n)) for n in range(3)]
    stack.wait_applied([visit["event_id"], *(p["event_id"] for p in seeded)])

    accepted: list[str] = []  # event ids the API answered 202 for, in order
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(
            base_url=stack.settings.base_url(), headers=bearer(ADMIN_TOKEN), timeout=30
        ) as client:
            n = 100
            while not stop.is_set():
                answer = client.post("/partners", json=sample_partner(n))
                assert answer.status_code == 202, answer.text
                accepted.append(answer.json()["event_id"])
                n += 1

    pouring = threading.Thread(target=burst)
    pouring.start()
    try:
        wait_for(lambda: len(accepted) >= 5, what="the burst to begin")
        before = len(accepted)
        archive = tmp_path / "backup.tar.gz"
        backed_up = _cli("backup", "--to", str(archive), env=stack.env())
        after = len(accepted)
        wait_for(lambda: len(accepted) >= after + 5, what="the burst to go on")
    finally:
        stop.set()
        pouring.join(60)
    assert backed_up.returncode == 0, backed_up.stderr
    assert str(archive) in backed_up.stdout
    stack.wait_applied(accepted)
    stack.stop_worker()
    manifest = _manifest(archive)
    kind = stack.settings.sync_database_url.get_backend_name()
    assert manifest["database"]["backend"] == kind
    assert len(manifest["database"]["schema_revisions"]) > 1  # one head per domain's branch
    counted = manifest["database"]["tables"]["outbox"]
    assert 4 + before <= counted <= 4 + after + 1, (before, counted, after)
    settings_in_archive = json.loads(_member(archive, "settings.json"))
    assert "bootstrap_token" not in settings_in_archive
    assert "session_secret" not in settings_in_archive

    # Restore into a new data directory (and, on PostgreSQL, a new database named in `.env`).
    home = tmp_path / "restored"
    home.mkdir()
    if kind == "postgresql":
        new_url = new_database_url(kind, home, request, migrated=False)
        (home / ".env").write_text(f"TWINNING_DATABASE_URL={new_url}\n")
    restored = _cli("restore", str(archive), "--data-dir", "data", cwd=home)
    assert restored.returncode == 0, restored.stderr
    assert "start it with `twinning up --data-dir data`" in restored.stdout
    settings = Settings(data_dir=home / "data", _env_file=home / ".env")  # type: ignore[call-arg]
    engine = create_engine(settings.sync_database_url)
    try:
        counts = _counts(engine)
        assert {t: counts[t] for t in manifest["database"]["tables"]} == manifest["database"][
            "tables"
        ]
        with engine.connect() as connection:
            in_outbox = list(
                connection.scalars(select(OutboxEvent.event_id).order_by(OutboxEvent.id))
            )
        seed_ids = [visit["event_id"], *(p["event_id"] for p in seeded)]
        # Every command accepted before the backup began is there, and nothing but commands
        # that were accepted: a prefix of what the API answered, in its order.
        assert in_outbox[4:] == accepted[: counted - 4]
        assert in_outbox[:4] == seed_ids

        # Consistent: the read models are what the archive makes of them.
        models = _read_models(engine)
        rebuilt = _cli("rebuild", "--data-dir", "data", cwd=home)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert f"from {counts['event_archive']} archived events" in rebuilt.stdout
        assert _read_models(engine) == models
    finally:
        engine.dispose()
    if kind == "sqlite":  # from SQLite to PostgreSQL: the same backup, restored there
        _restores_into_postgres(archive, manifest, models, tmp_path / "moved", request)

    # It starts, applies what was accepted but not yet applied, and answers as the original.
    partner_ids = [p["id"] for p in stack.client.get("/partners", params={"limit": 500}).json()]
    registered_before = len(in_outbox) - 1  # every outbox row but the visit's registers one
    originals = {pid: stack.client.get(f"/partners/{pid}").json() for pid in partner_ids}
    original_visit = stack.client.get(f"/visits/{visit['id']}").json()
    up, port, printed = start_up(home)
    try:
        assert "twinning is up" in printed, printed
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=bearer(ADMIN_TOKEN), timeout=30
        ) as client:
            wait_for(
                lambda: (
                    len(client.get("/partners", params={"limit": 500}).json()) == registered_before
                ),
                what="the restored system to apply every command of the backup",
            )
            answered = client.get("/partners", params={"limit": 500}).json()
            for partner in answered:
                assert client.get(f"/partners/{partner['id']}").json() == originals[partner["id"]]
            assert client.get(f"/visits/{visit['id']}").json() == original_visit
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    assert up.returncode == 0, rest


def _restores_into_postgres(
    archive: Path,
    manifest: dict[str, Any],
    models: dict[str, list[str]],
    home: Path,
    request: pytest.FixtureRequest,
) -> None:
    url = new_database_url("postgresql", home, request, migrated=False)
    restored = _cli(
        "restore",
        str(archive),
        "--data-dir",
        str(home / "data"),
        env={"TWINNING_DATABASE_URL": url},
    )
    assert restored.returncode == 0, restored.stderr
    engine = create_engine(Settings(database_url=url, _env_file=None).sync_database_url)  # type: ignore[call-arg]
    try:
        counts = _counts(engine)
        assert {t: counts[t] for t in manifest["database"]["tables"]} == manifest["database"][
            "tables"
        ]
        assert _read_models(engine) == models
        with engine.connect() as connection:  # new rows get new ids
            top = connection.scalar(select(func.max(OutboxEvent.id)))
            following = connection.scalar(
                text("SELECT nextval(pg_get_serial_sequence('outbox', 'id'))")
            )
        assert following > top
    finally:
        engine.dispose()


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_a_truncated_or_altered_archive_and_a_directory_in_use_are_refused(
    tmp_path: Path,
) -> None:
    made = _cli("migrate", "--init", "--data-dir", str(tmp_path / "source"))
    assert made.returncode == 0, made.stderr
    archive = tmp_path / "backup.tar.gz"
    taken = _cli("backup", "--to", str(archive), "--data-dir", str(tmp_path / "source"))
    assert taken.returncode == 0, taken.stderr
    whole = archive.read_bytes()

    # One byte changed anywhere: in gzip's header (its time, which gzip does not check), in
    # the compressed data, in gzip's closing checksum.
    for offset in (5, 300, len(whole) // 2, len(whole) - 3):
        altered = bytearray(whole)
        altered[offset] ^= 0x01
        (tmp_path / "altered.tar.gz").write_bytes(altered)
        _refused(
            _cli("restore", str(tmp_path / "altered.tar.gz"), "--data-dir", str(tmp_path / "new")),
            "is altered",
            "is damaged or altered",
        )
        assert not (tmp_path / "new").exists()  # nothing made
    for length in (len(whole) * 2 // 3, 100):
        (tmp_path / "truncated.tar.gz").write_bytes(whole[:length])
        _refused(
            _cli(
                "restore", str(tmp_path / "truncated.tar.gz"), "--data-dir", str(tmp_path / "new")
            ),
            "is truncated",
        )
    assert not (tmp_path / "new").exists()

    # A directory that holds anything is refused: a system's, one in use by a running `up`.
    (tmp_path / "held").mkdir()
    with DataDirHold(tmp_path / "held", "up", alone=True):
        for taken_dir in ("source", "held"):
            _refused(
                _cli("restore", str(archive), "--data-dir", str(tmp_path / taken_dir)),
                "is not empty",
            )
    restored = _cli("restore", str(archive), "--data-dir", str(tmp_path / "new"))
    assert restored.returncode == 0, restored.stderr
    listed = _cli("users", "list", "--data-dir", str(tmp_path / "new"))
    assert listed.returncode == 0, listed.stderr


def test_a_database_that_is_there_is_refused(database_url: str, tmp_path: Path) -> None:
    """Restore writes only into a new database: a SQLite file, or a PostgreSQL database that
    holds tables, is refused (and left as it was)."""
    made = _cli("migrate", "--init", "--data-dir", str(tmp_path / "source"))
    assert made.returncode == 0, made.stderr
    archive = tmp_path / "backup.tar.gz"
    taken = _cli("backup", "--to", str(archive), "--data-dir", str(tmp_path / "source"))
    assert taken.returncode == 0, taken.stderr
    settings = Settings(database_url=database_url, data_dir=tmp_path / "x", _env_file=None)  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    _refused(
        _cli(
            "restore",
            str(archive),
            "--data-dir",
            str(tmp_path / "new"),
            env={"TWINNING_DATABASE_URL": database_url},
        ),
        "there is a database at",
        "already holds tables",
    )
    assert not (tmp_path / "new").exists()


def test_an_older_schema_is_migrated_on_restore(tmp_path: Path) -> None:
    """A backup of a database without the newest migration of one domain's branch restores to
    the newest schema."""
    source = Settings(data_dir=tmp_path / "source", _env_file=None)  # type: ignore[call-arg]
    source.data_dir.mkdir()
    config = alembic_config(source.sync_database_url)
    heads = ScriptDirectory.from_config(config).get_heads()
    for head in heads:
        if head != "0010_worker_heartbeats":
            command.upgrade(config, head)
    archive = tmp_path / "backup.tar.gz"
    taken = _cli("backup", "--to", str(archive), "--data-dir", str(tmp_path / "source"))
    assert taken.returncode == 0, taken.stderr
    assert "0010_worker_heartbeats" not in _manifest(archive)["database"]["schema_revisions"]
    restored = _cli("restore", str(archive), "--data-dir", str(tmp_path / "new"))
    assert restored.returncode == 0, restored.stderr
    assert "migrated to the newest schema" in restored.stdout
    engine = create_engine(f"sqlite:///{tmp_path / 'new' / 'twinning.db'}")
    try:
        with engine.connect() as connection:
            found = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
            assert (
                connection.scalar(select(func.count()).select_from(text("worker_heartbeats"))) == 0
            )
    finally:
        engine.dispose()
    # Every head is applied: recorded, or (a head another branch `depends_on`) below one.
    reached = {
        r.revision
        for r in ScriptDirectory.from_config(config).iterate_revisions(tuple(found), "base")
    }
    assert found <= set(heads) and set(heads) <= reached


def test_up_takes_backups_on_schedule_and_keeps_the_last_ones(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        backup_interval_hours=1.5 / 3600,
        backup_keep=2,
        _env_file=None,  # type: ignore[call-arg]
    )
    settings.data_dir.mkdir()
    upgrade(settings.sync_database_url)
    log = logging.getLogger("test-backups")
    written: list[str] = []
    log.info = lambda *args, **_: written.append(args[1])  # type: ignore[method-assign]
    schedule = BackupSchedule(settings, log, first_after=0).start()
    try:
        wait_for(lambda: len(written) >= 3, what="three scheduled backups")
    finally:
        schedule.stop()
    kept = sorted(p.name for p in (settings.data_dir / "backups").glob("twinning-*.tar.gz"))
    assert len(kept) == 2 and set(kept) <= set(written), (kept, written)


def test_without_pg_dump_a_postgres_backup_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda _name: None)
    monkeypatch.setattr(backup, "glob", lambda _pattern: [])
    with pytest.raises(backup.BackupProblem) as refused:
        backup.postgres_tool("pg_dump")
    message = str(refused.value)
    assert "\n" not in message and "pg_dump is not on this machine" in message
    assert "apt-get install postgresql-client" in message


def test_an_altered_postgresql_backup_and_a_directory_in_use_are_refused(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """As on SQLite: a PostgreSQL backup (pg_dump's archive inside) altered by one byte is
    refused before anything is made, and so is a data directory that is not empty."""
    source = {
        "TWINNING_DATABASE_URL": new_database_url("postgresql", tmp_path, request, migrated=False)
    }
    made = _cli("migrate", "--init", "--data-dir", str(tmp_path / "source"), env=source)
    assert made.returncode == 0, made.stderr
    archive = tmp_path / "backup.tar.gz"
    taken = _cli("backup", "--to", str(archive), "--data-dir", str(tmp_path / "source"), env=source)
    assert taken.returncode == 0, taken.stderr
    assert _manifest(archive)["database"]["backend"] == "postgresql"
    target_url = new_database_url("postgresql", tmp_path, request, migrated=False)
    target = {"TWINNING_DATABASE_URL": target_url}

    altered = bytearray(archive.read_bytes())
    altered[len(altered) // 2] ^= 0x01
    (tmp_path / "altered.tar.gz").write_bytes(altered)
    _refused(
        _cli(
            "restore",
            str(tmp_path / "altered.tar.gz"),
            "--data-dir",
            str(tmp_path / "new"),
            env=target,
        ),
        "is altered",
        "is damaged or altered",
    )
    assert not (tmp_path / "new").exists()
    engine = create_engine(Settings(database_url=target_url, _env_file=None).sync_database_url)  # type: ignore[call-arg]
    try:
        assert _counts(engine) == {}  # the new database left empty
    finally:
        engine.dispose()
    (tmp_path / "held").mkdir()
    with DataDirHold(tmp_path / "held", "up", alone=True):  # a running system's
        _refused(
            _cli("restore", str(archive), "--data-dir", str(tmp_path / "held"), env=target),
            "is not empty",
        )
    restored = _cli("restore", str(archive), "--data-dir", str(tmp_path / "new"), env=target)
    assert restored.returncode == 0, restored.stderr


def test_a_sqlite_backup_restored_into_postgresql_copies_every_table(tmp_path: Path) -> None:
    """The copy into PostgreSQL goes table by table over the models' metadata: every table the
    migrations make must be in it (the mail outbox, gifts, plans, the schedule's and the
    letters' tables were once left behind, empty after the move)."""
    url = f"sqlite:///{tmp_path / 'twinning.db'}"
    upgrade(Settings(database_url=url, _env_file=None).sync_database_url)  # type: ignore[call-arg]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            made = set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    # In a process of its own, as `twinning restore` runs it: this one has imported every
    # model already.
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from twinning import backup; backup._import_models();"
            " from twinning.db import Base; print(json.dumps(sorted(Base.metadata.tables)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert made - set(json.loads(listed.stdout)) == set()
