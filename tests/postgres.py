"""A throwaway PostgreSQL server for the test session (initdb in a temp dir, loopback only).

Set TWINNING_TEST_POSTGRES_URL to use an existing server instead. If neither works the
tests that need PostgreSQL fail: they never skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from twinning.streams.broker import free_port


def _pg_bin() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return Path(candidates[-1]).parent


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class TemporaryPostgres:
    """A PostgreSQL cluster in a temporary directory on a free loopback port.

    `stop()` is an immediate shutdown: for the data on disk, a crash. The server keeps every
    commit through it all the same: a commit returns only once its WAL is written (the
    default synchronous_commit=on). With synchronous_commit=off it would return before, and
    a restart would lose what was committed in the last few hundred milliseconds, or longer
    while a busy machine keeps the WAL writer waiting: a row the API had already answered 202
    for could be gone. fsync=off only skips handing the written WAL to the disk, which
    matters to a machine that crashes, not to a server that does.
    """

    def __init__(self) -> None:
        self.bin_dir = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="twinning-pg-"))
        self.data, sockets = self.root / "data", self.root / "sock"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(sockets, "postgres")
            self.root.chmod(0o755)
        self.port = free_port()
        self.options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sockets} "
            "-c fsync=off -c max_connections=200"
        )
        initdb = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
        subprocess.run(_as_postgres_user(initdb), check=True, capture_output=True)

    @property
    def url(self) -> URL:
        return make_url(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        done = subprocess.run(_as_postgres_user(command), capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(
                f"pg_ctl {' '.join(args)} exited with {done.returncode}: "
                f"{done.stdout}{done.stderr}\nserver log:\n{self.log_tail()}"
            )

    def start(self) -> None:
        """Start the server and return once it accepts connections (pg_ctl -w)."""
        self._pg_ctl("-o", self.options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Stop at once, as a crash would: connections cut, no checkpoint."""
        self._pg_ctl("-m", "immediate", "stop", check=False)

    @property
    def log(self) -> Path:
        return self.root / "log"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no server log: {exc})"

    def describe(self) -> str:
        """Whether the server accepts connections now, and the end of its log: for a failure
        message."""
        try:
            with psycopg.connect(self.url.render_as_string(), connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            state = "PostgreSQL accepts connections"
        except psycopg.Error as exc:
            state = f"PostgreSQL does not accept connections ({type(exc).__name__}: {exc})"
        return f"{state}; the end of its log:\n{self.log_tail()}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[URL]:
    configured = os.environ.get("TWINNING_TEST_POSTGRES_URL")
    if configured:
        yield make_url(configured)
        return
    server = TemporaryPostgres()
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


@cache
def _admin_engine(server: str) -> Engine:
    """An engine on the server's own database that creates and drops the tests' databases: one
    per server for the session (a new engine and connection for each of a thousand tests' two
    statements cost more than the statements). Its connections are checked before use: a test
    may restart its server."""
    return create_engine(
        make_url(server).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
    )


def _on_server(url: URL) -> str:
    return url.set(database="postgres").render_as_string(hide_password=False)


def create_database(server: URL, template: str | None = None, name: str | None = None) -> URL:
    """A new database on `server` (named `name`, else a new name): empty, or a copy of the
    database named `template` (which no one may be connected to meanwhile)."""
    name = name or f"twinning_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    deadline = time.monotonic() + 20
    while True:
        try:
            with _admin_engine(
                server.render_as_string(hide_password=False)
            ).connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server.set(database=name)


def drop_database(url: URL) -> None:
    """Drop the database of `url`, cutting whoever is still connected (a test's leftovers).

    A test's database is dropped when the test ends unless it is handed to a later test
    (`MigratedTemplates.give_back`): a copy of the template is some 9 MB of files, and the
    session's hundreds of them were otherwise removed at its end, half a minute of one test's
    teardown per xdist worker; dropped within seconds, most never reach the disk."""
    with _admin_engine(_on_server(url)).connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


#: What makes two databases of the server the same schema: the tables' columns (type, null,
#: default), constraints and indexes, the sequences, and the migrations Alembic recorded.
_SCHEMA = text(
    """
    SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(':', c.relname, c.relkind, a.attname,
                                   format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                   pg_get_expr(d.adbin, d.adrelid)),
                         ',' ORDER BY c.relname, a.attnum)
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'),
      (SELECT string_agg(concat_ws(':', conrelid::regclass, conname, pg_get_constraintdef(oid)),
                         ',' ORDER BY conrelid::regclass::text, conname)
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
      (SELECT string_agg(indexdef, ',' ORDER BY indexname) FROM pg_indexes
        WHERE schemaname = 'public'),
      (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace),
      (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version)))
    """
)


@contextmanager
def connected(url: URL, *, begin: bool = False) -> Iterator[Connection]:
    """One connection to the database of `url`, closed after (no pool kept), in a transaction
    committed at the end if `begin`."""
    engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with engine.begin() if begin else engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def schema_of(url: URL) -> str:
    """A digest of the database's schema (`_SCHEMA`)."""
    with connected(url) as connection:
        return str(connection.scalar(_SCHEMA))


@dataclass(frozen=True)
class Template:
    """What a given-back database is checked against and emptied by: the template's schema
    digest, and the statement that deletes every row (Alembic's kept) and restarts every
    sequence. Both are read from the template once: a database whose digest is the template's
    has the same tables and sequences."""

    schema: str
    emptying: str

    @classmethod
    def of(cls, url: URL) -> Template:
        with connected(url) as connection:
            schema = str(connection.scalar(_SCHEMA))
            tables = connection.scalars(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            ).all()
            sequences = connection.scalars(
                text(
                    "SELECT quote_ident(sequencename) FROM pg_sequences "
                    "WHERE schemaname = 'public' ORDER BY sequencename"
                )
            ).all()
        # Foreign keys are not checked while the rows go (every row goes).
        statements = [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {table}" for table in tables),
            *(f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences),
        ]
        return cls(schema, ";\n".join(statements))


def retire(url: URL) -> URL:
    """Cut whoever is still connected to a test's database and give the database a new name,
    which no leftover of that test knows: a process that outlived its test cannot reach it
    again, as after a drop. `RuntimeError` if it stays in use."""
    renamed = url.set(database=f"twinning_{uuid.uuid4().hex[:12]}")
    with _admin_engine(_on_server(url)).connect() as connection:
        for _ in range(20):
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": url.database},
            )
            try:
                connection.execute(
                    text(f'ALTER DATABASE "{url.database}" RENAME TO "{renamed.database}"')
                )
                return renamed
            except DBAPIError:  # a backend cut a moment ago has not ended yet
                time.sleep(0.05)
    raise RuntimeError(f"database {url.database} is still in use")


def emptied(url: URL, template: Template) -> bool:
    """Empty a retired test database whose schema is still the template's (which holds no
    rows but Alembic's), its sequences back at their start: then it is as a new copy of the
    template. False, and nothing changed, if the schema is another."""
    with connected(url, begin=True) as connection:
        if connection.scalar(_SCHEMA) != template.schema:
            return False
        connection.exec_driver_sql(template.emptying)
    return True
