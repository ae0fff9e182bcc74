"""Bring a database to the newest schema; every twinning command calls this on start."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: URL) -> Config:
    from alembic.config import Config  # alembic only where it is used: a child of `up` skips it

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


#: What Alembic's version table holds once every migration has run: the heads of its branches
#: that no other revision depends on. A database that holds exactly these needs no Alembic,
#: which a command would otherwise import to read every migration script and find nothing to
#: do: about 0.4 s of CPU at each start of a worker, an API, a relay or a CLI command (measured
#: on 2026-12-08). `tests/test_migrate.py` checks that a migrated database holds exactly these.
MIGRATED = frozenset(
    {
        "0006_calendar",
        "0009_user_passwords",
        "0010_worker_heartbeats",
        "0013_schedule_items",
        "0014_gifts_press",
        "0016_briefing",
        "0017_delegation_members",
        "0018_outreach",
        "0019_letters",
        "0020_reports",
        "0022_mail_facts",
        "0022_partner_population",
        "0022_photos",
        "0030_ledger",
        "0031_publicity_asks",
    }
)


def upgrade(url: URL) -> None:
    """Migrate the database at `url` to the newest schema (making it first, for a SQLite file
    not there yet); one that is there already is left as it is, without Alembic."""
    if migrated_versions(url) == MIGRATED:
        return
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def migrated_versions(url: URL) -> frozenset[str] | None:
    """The revisions Alembic's version table at `url` holds, or None when there is none to
    read (no file, no table, no server): then Alembic itself says what is wrong, or makes it."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is None or not path.is_file():
            return None
        try:
            with closing(_open_sqlite(path)) as connection:
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:
            return None
        return frozenset(str(row[0]) for row in rows)
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from twinning.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except DBAPIError:
        return None
    finally:
        engine.dispose()


# --- is there a twinning database, and is it whole ------------------------------------------


class DatabaseProblem(Exception):
    """The database named by the settings cannot be used; the message says why, in one line."""


class NoDatabase(DatabaseProblem):
    """No twinning database there: no file, not a SQLite file, or never migrated."""


class DamagedDatabase(DatabaseProblem):
    """SQLite's quick check found the file damaged."""


def require_database(url: URL) -> None:
    """Raise `NoDatabase` unless `url` holds a twinning database (one that was migrated: it has
    Alembic's version table). Creates nothing: a SQLite file that is not there stays so."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is None:
            return
        if not path.is_file():
            raise NoDatabase(f"no database at {path}")
        try:
            with closing(_open_sqlite(path)) as connection:
                found = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                ).fetchone()
        except sqlite3.OperationalError as exc:
            raise DatabaseProblem(f"cannot open the database {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise NoDatabase(f"{path} is not a twinning database ({exc})") from None
        if found is None:
            raise NoDatabase(f"{path} holds no twinning database")
        return
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError
    from twinning.db import make_engine

    shown = url.render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        raise DatabaseProblem(f"cannot reach the database {shown}: {reason}") from None
    finally:
        engine.dispose()
    if not migrated:
        raise NoDatabase(f"the database {shown} holds no twinning database")


def quick_check(url: URL) -> None:
    """SQLite's `PRAGMA quick_check` of the database file (a read of every page, without the
    slower cross-checks of indexes): raise `DamagedDatabase` with what it found first. Nothing
    to check on a file not made yet, nor on PostgreSQL (the server looks after its pages)."""
    path = _sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if path is None or not path.is_file():
        return
    try:
        with closing(_open_sqlite(path)) as connection:
            found = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.OperationalError as exc:  # locked, unreadable: not a finding about the file
        raise DatabaseProblem(f"cannot check the database {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:  # too damaged to check: not a database, malformed
        found = [str(exc)]
    if found != ["ok"]:
        first = " ".join(found[0].split())[:200]
        more = f" (and {len(found) - 1} more findings)" if len(found) > 1 else ""
        raise DamagedDatabase(
            f"the database {path} is damaged (SQLite's quick check: {first}{more}): restore it"
            f" from a backup, or move it away with its -wal and -shm files to start anew"
        )


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database)


def _open_sqlite(path: Path) -> sqlite3.Connection:
    """An existing SQLite file, opened without creating it if it has gone meanwhile."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
