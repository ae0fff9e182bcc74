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
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
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
    """A PostgreSQL cluster in a temporary directory on a free loopback port."""

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
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
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
        subprocess.run(_as_postgres_user(command), check=check, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("-o", self.options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop", check=False)

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


def create_database(server: URL) -> URL:
    name = f"twinning_{uuid.uuid4().hex[:12]}"
    engine = create_engine(
        server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    engine.dispose()
    return server.set(database=name)
