"""Backups of a running system, and their restore into a new data directory.

A backup is one gzip-compressed tar archive:

- `manifest.json`, first: the archive's format, the twinning version that took it, when, the
  database's kind, its schema revisions (the Alembic heads: one per domain's branch), the rows
  of each table, and the size and SHA-256 of every other member;
- `database.sqlite` (SQLite's online backup API: one read transaction, so one consistent
  state, while the API and the worker go on writing) or `database.pgdump` (`pg_dump`'s custom
  format, taken in the snapshot that the manifest's counts were read in);
- `settings.json`: the settings that are not secrets (no `SecretStr`, no database password).

The rendered leaflets and brochures are in the database (`publicity_versions`), so in the
snapshot; the data directory's other files are caches (font subsets), addresses of running
processes, locks, or a secret (`session.key`: a restored system signs its web sessions with a
new key, so its users sign in again; API tokens are in the database and go on working).

A restore reads the whole archive before it makes anything: the gzip layer's CRC and length,
every member's SHA-256 and size, the manifest's list, and the exact header twinning writes (the
bytes gzip does not check), so a truncated or altered archive is refused with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from glob import glob
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretStr
from sqlalchemy.engine import URL
from twinning import __version__
from twinning.config import Settings

FORMAT = "twinning-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
POSTGRES_MEMBER = "database.pgdump"
SETTINGS_MEMBER = "settings.json"
#: Where `up` and `twinning backup` put backups by default, inside the data directory.
BACKUPS = "backups"
#: What a restore leaves in the new data directory: the settings the backup was taken with.
RESTORED_SETTINGS = "settings-of-the-backup.json"
#: The gzip header twinning writes (no name, no time, "unknown" OS); gzip checks the rest.
_GZIP_LEVEL = 6
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_CHUNK = 1 << 20


class BackupProblem(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]

    @property
    def events(self) -> int:
        return int(self.manifest["database"]["tables"].get("event_archive", 0))


# --- what goes in ----------------------------------------------------------------------------


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings without the secrets: no `SecretStr` field, no password in the database URL."""
    secret = {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    }
    values = settings.model_dump(mode="json", exclude=secret)
    values["database_url"] = settings.sync_database_url.set(
        drivername=settings.sync_database_url.get_backend_name()
    ).render_as_string(hide_password=True)
    values["data_dir"] = str(settings.data_dir.resolve())
    return values


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def postgres_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise BackupProblem(
        f"{name} is not on this machine (PATH, /usr/lib/postgresql/*/bin): a PostgreSQL"
        f" database is backed up and restored with PostgreSQL's client tools, install them"
        f" (`apt-get install postgresql-client`, the server's major version or newer)"
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else "no message"


@dataclass(frozen=True)
class _Snapshot:
    file: Path
    member: str
    backend: str
    revisions: list[str]
    tables: dict[str, int]


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupProblem("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_facts(path: Path) -> tuple[list[str], dict[str, int]]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        names = [
            str(row[0])
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        tables = {
            name: int(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names
        }
        revisions = (
            sorted(str(row[0]) for row in db.execute("SELECT version_num FROM alembic_version"))
            if "alembic_version" in tables
            else []
        )
    return revisions, tables


def _snapshot_sqlite(url: URL, work: Path) -> _Snapshot:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupProblem(f"no database at {source_path}")
    target = work / SQLITE_MEMBER
    try:
        with (
            closing(sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=rw", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.execute("PRAGMA busy_timeout=15000")
            src.backup(dst)  # all pages in one step: one read transaction, one state
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            found = [str(row[0]) for row in dst.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise BackupProblem(f"cannot back up the database {source_path}: {exc}") from None
    if found != ["ok"]:
        raise BackupProblem(
            f"the database {source_path} is damaged (SQLite's quick check: {found[0][:200]}):"
            " a backup of it would not restore"
        )
    revisions, tables = _sqlite_facts(target)
    return _Snapshot(target, SQLITE_MEMBER, "sqlite", revisions, tables)


def _postgres_facts(connection: Any) -> tuple[list[str], dict[str, int]]:
    names = [
        str(row[0])
        for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    ]
    tables = {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for name in names
    }
    revisions = (
        sorted(str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version"))
        if "alembic_version" in tables
        else []
    )
    return revisions, tables


def _snapshot_postgres(url: URL, work: Path) -> _Snapshot:
    import psycopg

    pg_dump = postgres_tool("pg_dump")
    conninfo, env = _libpq(url)
    target = work / POSTGRES_MEMBER
    shown = url.render_as_string(hide_password=True)
    try:
        connection = psycopg.connect(conninfo, password=url.password)
    except psycopg.Error as exc:
        raise BackupProblem(f"cannot reach the database {shown}: {_first_line(str(exc))}") from None
    with connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        # The counts and pg_dump read the same snapshot: the one this transaction exported.
        [snapshot] = connection.execute("SELECT pg_export_snapshot()").fetchone() or [None]
        revisions, tables = _postgres_facts(connection)
        dumped = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(target),
                "--dbname",
                conninfo,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        connection.rollback()
    if dumped.returncode != 0:
        raise BackupProblem(f"pg_dump failed: {_first_line(dumped.stderr)}")
    return _Snapshot(target, POSTGRES_MEMBER, "postgresql", revisions, tables)


# --- taking a backup -------------------------------------------------------------------------


def backups_dir(settings: Settings) -> Path:
    return settings.data_dir / BACKUPS


def _new_name(folder: Path, now: datetime) -> Path:
    stem = f"twinning-{now:%Y%m%dT%H%M%SZ}"
    path, n = folder / f"{stem}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.tar.gz"
    return path


def create_backup(settings: Settings, target: Path | None = None) -> Backup:
    """Snapshot the database while the system runs and write the archive to `target` (by
    default a new file in the data directory's `backups/`); written beside it under another
    name first, then renamed: a file of that name is always a whole backup."""
    now = datetime.now(UTC)
    if target is None:
        folder = backups_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        target = _new_name(folder, now)
    elif target.is_dir():
        target = _new_name(target, now)
    target = target.resolve()
    if not target.parent.is_dir():
        raise BackupProblem(f"there is no directory {target.parent} to write the backup in")
    try:
        return _create_backup(settings, target, now)
    except OSError as exc:  # a full disk, a folder not writable
        raise BackupProblem(f"cannot write the backup {target}: {exc.strerror or exc}") from None


def _create_backup(settings: Settings, target: Path, now: datetime) -> Backup:
    url = settings.sync_database_url
    with tempfile.TemporaryDirectory(prefix=".twinning-backup-", dir=target.parent) as temp:
        work = Path(temp)
        if url.get_backend_name() == "sqlite":
            snapshot = _snapshot_sqlite(url, work)
        else:
            snapshot = _snapshot_postgres(url, work)
        settings_file = work / SETTINGS_MEMBER
        settings_file.write_text(
            json.dumps(public_settings(settings), indent=2, sort_keys=True, ensure_ascii=False)
        )
        members = [(snapshot.member, snapshot.file), (SETTINGS_MEMBER, settings_file)]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "twinning_version": __version__,
            "created_at": now.isoformat(timespec="seconds"),
            "database": {
                "backend": snapshot.backend,
                "file": snapshot.member,
                "schema_revisions": snapshot.revisions,
                "tables": snapshot.tables,
            },
            "documents": "the rendered leaflets and brochures are rows of publicity_versions",
            "files": {
                name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
                for name, path in members
            },
        }
        partial = work / "archive.partial"
        _write_archive(partial, manifest, members)
        os.replace(partial, target)
    return Backup(target, manifest)


def _write_archive(path: Path, manifest: dict[str, Any], members: list[tuple[str, Path]]) -> None:
    with (
        path.open("wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=_GZIP_LEVEL, mtime=0
        ) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        tar.addfile(info, io.BytesIO(data))
        for name, member in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = member.stat().st_size, 0o600, int(time.time())
            with member.open("rb") as source:
                tar.addfile(info, source)
    # gzip leaves its header's flags byte as given; twinning writes exactly _GZIP_HEADER
    with path.open("rb") as written:
        assert written.read(len(_GZIP_HEADER)) == _GZIP_HEADER, "unexpected gzip header"


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups (`twinning-*.tar.gz`) of `folder`."""
    found = sorted(folder.glob("twinning-*.tar.gz"), key=lambda path: path.stat().st_mtime)
    removed = found[: max(len(found) - keep, 0)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


class BackupSchedule:
    """The backups `twinning up` takes: every `backup_interval_hours` (counted from the newest
    backup in the data directory's `backups/`, so a restarted `up` keeps the rhythm), keeping
    the newest `backup_keep`. A daemon thread that only sets an event to stop: it never holds
    up `up`'s shutdown (a backup cut short leaves only a temporary folder, removed next time)."""

    def __init__(self, settings: Settings, log: Any, *, first_after: float = 60.0) -> None:
        self.settings = settings
        self.log = log
        self.first_after = first_after
        self.interval = settings.backup_interval_hours * 3600
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="twinning-backups", daemon=True)

    def start(self) -> BackupSchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def due_in(self) -> float:
        folder = backups_dir(self.settings)
        newest = max((p.stat().st_mtime for p in folder.glob("twinning-*.tar.gz")), default=None)
        due = 0.0 if newest is None else newest + self.interval - time.time()
        return max(due, self.first_after)

    def _run(self) -> None:
        wait = self.due_in()
        while not self._stop.wait(wait):
            folder = backups_dir(self.settings)
            for stale in folder.glob(".twinning-backup-*"):
                if time.time() - stale.stat().st_mtime > 3600:
                    shutil.rmtree(stale, ignore_errors=True)
            try:
                taken = create_backup(self.settings)
            except Exception as exc:  # tried again in an hour (or the interval, if shorter)
                self.log.warning("the scheduled backup failed: %s", exc)
                wait = min(self.interval, 3600.0)
                continue
            removed = prune(folder, self.settings.backup_keep)
            self.log.info(
                "backup %s written (%d archived events); %d older removed",
                taken.path.name,
                taken.events,
                len(removed),
            )
            wait = self.interval


# --- reading an archive ----------------------------------------------------------------------


@contextmanager
def _refusing(archive: Path) -> Iterator[None]:
    """Turn what gzip and tar report into one line about the archive."""
    try:
        yield
    except EOFError:
        raise BackupProblem(
            f"the backup {archive} is truncated: it ends before its compressed data does"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BackupProblem(f"the backup {archive} is damaged or altered: {exc}") from None
    except tarfile.TarError as exc:
        if "unexpected end of data" in str(exc) or "empty file" in str(exc):
            raise BackupProblem(
                f"the backup {archive} is truncated: it ends before its last member does"
            ) from None
        raise BackupProblem(f"the backup {archive} is damaged or altered: {exc}") from None


def read_archive(archive: Path, into: Path) -> dict[str, Any]:
    """Check the whole archive and unpack its members into `into`; return its manifest.
    Raise `BackupProblem` saying what is wrong (truncated, altered, not a backup)."""
    try:
        raw = archive.open("rb")
    except OSError as exc:
        raise BackupProblem(f"cannot read the backup {archive}: {exc.strerror}") from None
    with raw, _refusing(archive):
        header = raw.read(len(_GZIP_HEADER))
        if header[:2] != _GZIP_HEADER[:2]:
            raise BackupProblem(f"{archive} is not a twinning backup (not gzip-compressed)")
        if len(header) < len(_GZIP_HEADER):
            raise EOFError
        if header != _GZIP_HEADER:
            raise BackupProblem(
                f"the backup {archive} is altered: its gzip header is not the one twinning writes"
            )
        raw.seek(0)
        gz = gzip.GzipFile(fileobj=raw, mode="rb")
        with tarfile.open(fileobj=gz, mode="r|") as tar:
            manifest, missing = _unpack(archive, tar, into)
        while chunk := gz.read(_CHUNK):  # to the end: gzip checks its CRC and length there
            if chunk.strip(b"\0"):
                raise BackupProblem(f"the backup {archive} is altered: data after its end")
        # Members missing from a whole stream: not a cut file (that ends before gzip's end,
        # above) but one rewritten; a byte changed can also make tar end early, and then the
        # stream's own check above says so first.
        if missing:
            raise BackupProblem(
                f"the backup {archive} is altered: it lacks {', '.join(missing)}, which its"
                " manifest lists"
            )
    # Only now, the whole archive checked: a manifest altered in transit reads as altered,
    # not as a backup of another version.
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupProblem(
            f"the backup {archive} has format version {manifest.get('format_version')}; this"
            f" twinning reads version {FORMAT_VERSION}: restore it with a newer twinning"
        )
    return manifest


def _unpack(archive: Path, tar: tarfile.TarFile, into: Path) -> tuple[dict[str, Any], list[str]]:
    """The manifest, each member checked against it and unpacked, and the members it lists
    that the archive lacks."""
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise BackupProblem(
            f"{archive} is not a twinning backup (it does not begin with a manifest)"
        )
    manifest_file = tar.extractfile(first)
    assert manifest_file is not None
    try:
        manifest = json.loads(manifest_file.read())
        listed: dict[str, dict[str, Any]] = dict(manifest["files"])
        if manifest["format"] != FORMAT:
            raise ValueError(manifest["format"])
    except (ValueError, KeyError, TypeError):
        raise BackupProblem(
            f"the backup {archive} is altered: its manifest is not readable"
        ) from None
    seen = set()
    while (member := tar.next()) is not None:
        name = member.name
        if name not in listed or name in seen or not member.isfile() or "/" in name:
            raise BackupProblem(f"the backup {archive} is altered: {name!r} is not in its manifest")
        seen.add(name)
        digest, size = hashlib.sha256(), 0
        source = tar.extractfile(member)
        assert source is not None
        with source, (into / name).open("wb") as target:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        if size != listed[name].get("bytes") or digest.hexdigest() != listed[name].get("sha256"):
            raise BackupProblem(
                f"the backup {archive} is altered: {name} does not match its checksum in the"
                " manifest"
            )
    return dict(manifest), sorted(set(listed) - seen)


# --- restoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    database: str
    settings_differ: list[str]
    migrated: bool


def check_target(settings: Settings) -> None:
    """Refuse a data directory that is a file or holds anything, and a database that is there."""
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupProblem(f"{data_dir} is a file: restore into a new, empty directory")
    if data_dir.is_dir() and any(data_dir.iterdir()):
        raise BackupProblem(
            f"the directory {data_dir} is not empty: restore into a new, empty directory"
            " (a restore never writes over a system)"
        )
    url = settings.sync_database_url
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        for taken in (path, Path(f"{path}-wal")):
            if taken.exists():
                raise BackupProblem(
                    f"there is a database at {taken} already: restore into a new one"
                    " (set TWINNING_DATABASE_URL, or leave it unset for one in the data directory)"
                )
        return
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError
    from twinning.db import make_engine

    shown = url.render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    except DBAPIError as exc:
        reason = _first_line(str(exc.orig)) if exc.orig is not None else ""
        raise BackupProblem(f"cannot reach the database {shown}: {reason}") from None
    finally:
        engine.dispose()
    if tables:
        raise BackupProblem(
            f"the database {shown} already holds tables ({', '.join(sorted(tables)[:3])}…):"
            " restore into an empty database"
        )


def _check_revisions(manifest: dict[str, Any], url: URL) -> bool:
    """Refuse a schema newer than this code's; say whether it is older (to be migrated)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from twinning.db.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(url))
    for revision in manifest["database"]["schema_revisions"]:
        try:
            scripts.get_revision(revision)
        except CommandError:
            raise BackupProblem(
                f"the backup's schema (revision {revision}) is newer than this twinning knows:"
                f" restore it with twinning {manifest.get('twinning_version')} or newer"
            ) from None
    return set(manifest["database"]["schema_revisions"]) != set(scripts.get_heads())


def _compare_counts(manifest: dict[str, Any], found: dict[str, int]) -> None:
    expected: dict[str, int] = manifest["database"]["tables"]
    for table, rows in sorted(expected.items()):
        if found.get(table) != rows:
            raise BackupProblem(
                f"the restored database holds {found.get(table, 'no')} rows in {table}, the"
                f" backup's manifest {rows}: the restore is incomplete"
            )


def restore_backup(
    settings: Settings, archive: Path, *, hold: Callable[[], Any] | None = None
) -> Restored:
    """Restore `archive` into the data directory and database of `settings`, both new. `hold`
    holds the new data directory while the restore runs (so no `up` starts on it meanwhile)."""
    check_target(settings)
    url = settings.sync_database_url
    data_dir = settings.data_dir
    parent = data_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".twinning-restore-", dir=parent) as temp:
        work = Path(temp)
        manifest = read_archive(archive, work)
        older = _check_revisions(manifest, url)
        backend = manifest["database"]["backend"]
        target = url.get_backend_name()
        if backend == "postgresql" and target != "postgresql":
            raise BackupProblem(
                "this backup is of a PostgreSQL database: restore it into PostgreSQL (set"
                " TWINNING_DATABASE_URL to an empty database)"
            )
        made_dir = not data_dir.exists()
        data_dir.mkdir(parents=True, exist_ok=True)
        held = hold() if hold is not None else None
        try:
            if backend == "sqlite":
                snapshot = work / SQLITE_MEMBER
                _compare_counts(manifest, _sqlite_facts(snapshot)[1])
                if target == "sqlite":
                    path = _sqlite_path(url)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(snapshot, path)
                else:
                    _copy_sqlite_into(snapshot, url)
            else:
                _pg_restore(work / POSTGRES_MEMBER, url)
                _compare_counts(manifest, _postgres_counts(url))
            from twinning.db.migrate import upgrade

            upgrade(url)
            shutil.copyfile(work / SETTINGS_MEMBER, data_dir / RESTORED_SETTINGS)
        except BaseException:
            if held is not None:
                held.release()
                held = None
            _undo(settings, made_dir)
            raise
        finally:
            if held is not None:
                held.release()
        backed_up = json.loads((data_dir / RESTORED_SETTINGS).read_text())
    now = public_settings(settings)
    differ = sorted(
        key
        for key, value in backed_up.items()
        if key not in {"data_dir", "database_url", "broker", "api_port", "api_host"}
        and key in now
        and now[key] != value
    )
    return Restored(
        manifest,
        url.set(drivername=target).render_as_string(hide_password=True),
        differ,
        migrated=older,
    )


def _undo(settings: Settings, made_dir: bool) -> None:
    """What a failed restore made goes again, so that the same command can be run again: the
    directory was empty (or not there) and held by the restore alone, so all it holds is ours.
    (A PostgreSQL database keeps what `pg_restore` committed; it restores in one transaction.)"""
    url = settings.sync_database_url
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            made.unlink(missing_ok=True)
    if made_dir:
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    elif settings.data_dir.is_dir():
        for made in settings.data_dir.iterdir():
            if made.is_dir() and not made.is_symlink():
                shutil.rmtree(made, ignore_errors=True)
            else:
                made.unlink(missing_ok=True)


def _pg_restore(dump: Path, url: URL) -> None:
    pg_restore = postgres_tool("pg_restore")
    conninfo, env = _libpq(url)
    restored = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            conninfo,
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if restored.returncode != 0:
        raise BackupProblem(f"pg_restore failed: {_first_line(restored.stderr)}")


def _postgres_counts(url: URL) -> dict[str, int]:
    import psycopg

    conninfo, _env = _libpq(url)
    with psycopg.connect(conninfo, password=url.password) as connection:
        return _postgres_facts(connection)[1]


def _copy_sqlite_into(snapshot: Path, url: URL) -> None:
    """A SQLite backup into PostgreSQL: the snapshot brought to the newest schema, then each
    table's rows copied (parents before children), then the sequences moved past them."""
    from sqlalchemy import func, insert, select, text
    from twinning.db import Base, make_engine
    from twinning.db.migrate import upgrade

    _import_models()
    source_url = URL.create("sqlite+pysqlite", database=str(snapshot))
    upgrade(source_url)
    upgrade(url)
    source, target = make_engine(source_url), make_engine(url)
    try:
        with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:
                rows = reading.execute(select(table)).mappings()
                while batch := rows.fetchmany(1000):
                    writing.execute(insert(table), [dict(row) for row in batch])
                for column in table.primary_key.columns:
                    if column.autoincrement is True:
                        top = writing.scalar(select(func.max(column)))
                        if top is not None:
                            writing.execute(
                                text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                                {"t": table.name, "c": column.name, "v": top},
                            )
    finally:
        source.dispose()
        target.dispose()


def _import_models() -> None:
    """Every module that declares tables (each domain's `models`, and the backbone's `store`),
    so that `Base.metadata` is complete: a table it lacks is not copied into PostgreSQL."""
    import importlib
    import pkgutil

    import twinning

    for module in pkgutil.walk_packages(twinning.__path__, "twinning."):
        if module.name.rsplit(".", 1)[-1] in ("models", "store"):
            importlib.import_module(module.name)


__all__ = [
    "BACKUPS",
    "Backup",
    "BackupProblem",
    "BackupSchedule",
    "create_backup",
    "prune",
    "read_archive",
    "restore_backup",
]
