"""Shared fixtures: real databases (SQLite and PostgreSQL), the embedded broker, the worker
process and the API on free loopback ports, all under temporary directories."""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import queue
import secrets
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import closing, suppress
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import twinning
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal
from compiled_cache import share_compiled_statements
from postgres import (
    Template,
    create_database,
    drop_database,
    emptied,
    postgres_server,
    retire,
)
from sqlalchemy import create_engine, func, select, union
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from twinning.api.app import create_app, ensure_first_admin
from twinning.cli import UP_SESSION_TIMEOUT
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import upgrade
from twinning.processes import die_with_parent
from twinning.streams import outbox
from twinning.streams.broker import EmbeddedBroker, free_port
from twinning.streams.events import Event, decode
from twinning.streams.projection import (
    DeadLetterRecord,
    EventProcessor,
    Message,
    Outcome,
    rebuild,
)
from twinning.streams.registry import PROJECTORS
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent, ParkedEvent

try:  # pytest 9.2 and later: a node's id is an `item._id` (see pytest_collection_modifyitems)
    from _pytest.nodeid import NodeId
except ImportError:  # earlier: xdist's own `item._nodeid` is read, nothing to do
    NodeId = None

share_compiled_statements()

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60.0
#: The first admin's API token in every test system (its TWINNING_BOOTSTRAP_TOKEN).
ADMIN_TOKEN = "twn_test-admin-" + secrets.token_urlsafe(32)


def bearer(token: str) -> dict[str, str]:
    """The header that authenticates a request with an API token."""
    return {"Authorization": f"Bearer {token}"}


def accepted(response: httpx.Response) -> Any:
    """The body of a command's answer, which must be 202 Accepted."""
    assert response.status_code == 202, response.text
    return response.json()


def shots_dir() -> Path | None:
    """Where the tests leave pictures for a person to look at (screenshots of pages, PDFs and
    their pages as PNGs): the directory `TWINNING_TEST_SHOTS` names, made if need be; None
    when it is not set, and then none are made. They are not assertions: a full-page
    screenshot or a PDF drawn by pdftoppm costs CPU that only a person looking needs."""
    named = os.environ.get("TWINNING_TEST_SHOTS")
    if not named:
        return None
    directory = Path(named)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


#: The TLS settings of the tests' HTTP clients, made once. Every server they call is on
#: loopback over plain HTTP, but httpx makes a context for each new client, loading the CA
#: bundle into it: some 10 ms of CPU a client, 9 s over a run of the suite.
TLS = ssl.create_default_context()


def wait_for(
    condition: Callable[[], Any],
    *,
    timeout: float = DEADLINE,
    what: str = "condition",
    state: Callable[[], str] | None = None,
) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout`,
    and with what `state` says of how things stand then."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}{_describe(state)}")
        time.sleep(0.05)


def _describe(state: Callable[[], str] | None) -> str:
    if state is None:
        return ""
    try:
        return f"; {state()}"
    except Exception as exc:  # the failure to report is the timeout, not this
        return f"; (how things stand is unknown: {type(exc).__name__}: {exc})"


def start_up(
    tmp_path: Path, *options: str, timeout: float = DEADLINE
) -> tuple[subprocess.Popen[str], int, str]:
    """`twinning up` as a user runs it (no TWINNING_ setting of this environment), on a free
    port with its data in `tmp_path / "data"`: returns the process, its port and what it
    printed, once it says it is up (or has ended); fails the test after `timeout` seconds
    without either. The caller stops it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINNING_")}
    data_dir = tmp_path / "data"
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twinning",
            "up",
            *options,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    # Read on a thread of its own: a `readline` here would block past the deadline when the
    # process stops printing without ending (a start-up stuck on the database), and the test
    # would hang instead of failing. It stops at the line that says the system is up, or at
    # the output's end; the caller reads the rest (`communicate`).
    said: queue.Queue[str] = queue.Queue()

    def read_until_up() -> None:
        assert up.stdout is not None
        for line in up.stdout:
            said.put(line)
            if "Press Ctrl-C" in line:
                return
        said.put("")  # the end of the output

    def up_or_ended() -> bool:
        while not said.empty():
            output.append(said.get())
            if "Press Ctrl-C" in output[-1] or not output[-1]:
                return True
        return False

    reader = threading.Thread(target=read_until_up, daemon=True)
    reader.start()
    try:
        wait_for(
            up_or_ended,
            timeout=timeout,
            what="the URLs",
            state=lambda: f"it printed:\n{''.join(output)[-4000:]}",
        )
    except BaseException:
        up.kill()
        up.wait()
        raise
    reader.join()
    return up, port, "".join(output)


def pytest_configure(config: pytest.Config) -> None:
    """Compile twinning's modules once, before the xdist workers start: the editable install
    writes no bytecode, and where PYTHONDONTWRITEBYTECODE is set (this machine, CI) every
    process the tests start (a worker, `twinning up`, each CLI command) compiled them all
    again, some 0.15 s of CPU each. A pip install compiles them; so does this."""
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(str(Path(twinning.__file__).parent), quiet=1)
    config.pluginmanager.register(BrowserGroups(), "twinning-browser-groups")


#: Fixtures made once per module that cost seconds to make (a module's documents, rendered):
#: the tests that use one are kept together (`pytest_itemcollected`).
COSTLY_MODULE_FIXTURES = frozenset({"documents"})
#: The xdist groups the browser tests are split into, each a whole number of modules, each
#: run in a row on one worker with one browser (`SharedBrowser`): two, so that both workers
#: get browser work (a third of the suite's time).
BROWSER_GROUPS = 2


def pytest_itemcollected(item: pytest.Item) -> None:
    """Keep each module's tests that use a costly module fixture on one xdist worker:
    `--dist loadgroup` hands the other tests out one at a time, and each worker that got one
    made the fixture again (a browser, a minute of rendering), and again whenever another
    module's test ran in between. Marked as each test is collected: xdist reads the groups in
    its `pytest_collection_modifyitems`. A test with a group of its own keeps it."""
    if item.get_closest_marker("xdist_group") is not None:
        return
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    shared = COSTLY_MODULE_FIXTURES.intersection(info.name2fixturedefs)
    if any(info.name2fixturedefs[name][-1].scope == "module" for name in shared):
        module = item.path.relative_to(REPO_ROOT).as_posix()
        item.add_marker(pytest.mark.xdist_group(f"module:{module}"))


class BrowserGroups:
    """Put the tests that use the `browser` (and have no group of their own) into one of
    `BROWSER_GROUPS` xdist groups, `browser:<n>`, whole modules each, the modules dealt out
    largest first (by their browser tests) to the group with the fewest tests so far. Under
    `--dist loadgroup` a group runs in a row on one worker, with one browser launch. Runs
    before the hooks that read the groups (xdist's, and `pytest_collection_modifyitems`)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        modules: dict[str, list[pytest.Item]] = {}
        for item in items:
            if _uses_browser(item) and item.get_closest_marker("xdist_group") is None:
                modules.setdefault(item.path.relative_to(REPO_ROOT).as_posix(), []).append(item)
        loads = [0] * BROWSER_GROUPS
        for _module, tests in sorted(modules.items(), key=lambda entry: (-len(entry[1]), entry[0])):
            group = loads.index(min(loads))
            loads[group] += len(tests)
            for item in tests:
                item.add_marker(pytest.mark.xdist_group(f"browser:{group + 1}"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker with `--dist loadgroup`: put each test's group at the end of its
    node id (`<id>@<group>`), which is how the controller learns the groups. xdist 3.8 does it
    by setting `item._nodeid`, which pytest 9.2 no longer reads (a node's id is `item._id`):
    without this, no group held, and a module's costly fixture was made on every worker.

    First, on pytest 9.2 (any run): give each test whose id another test shares an id of its own,
    its name's (schemathesis names each operation's test `test_…[GET /health]`, but pytest 9.2
    builds the id without it). xdist hands tests out by id: of the 138 operations' tests of
    `test_openapi_conformance.py`, which all had one id, only the first ran under `-n 2`."""
    if NodeId is None:
        return
    ids = Counter(item.nodeid for item in items)
    for item in items:
        if ids[item.nodeid] > 1 and item.parent is not None:
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")  # type: ignore[attr-defined]
    repeated = [id for id, count in Counter(item.nodeid for item in items).items() if count > 1]
    assert not repeated, f"tests that share an id run only once under xdist: {repeated}"
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        )
        if names and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres() -> Iterator[URL]:
    with postgres_server() as url:
        yield url


def new_database_url(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, *, migrated: bool = True
) -> str:
    """A new database of `kind` ("sqlite" or "postgresql") that holds no data: with the newest
    schema (a copy of the session's migrated template, as `twinning up` would leave it), or with
    no tables at all when `migrated` is false."""
    if kind == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "twinning.db"
        if migrated:
            request.getfixturevalue("migrated_templates").copy_sqlite(path)
        return f"sqlite:///{path}"
    templates: MigratedTemplates = request.getfixturevalue("migrated_templates")
    if migrated:
        url = templates.postgres_copy()
        request.addfinalizer(lambda: templates.give_back(url))
    else:
        url = create_database(request.getfixturevalue("postgres"))
        request.addfinalizer(lambda: drop_database(url))
    return url.render_as_string(hide_password=False)


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's backup API: a consistent copy of a database file, whatever its journal."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


class MigratedTemplates:
    """One database of each kind migrated once per test session (per xdist worker); each test's
    database is a copy of it. Running the migrations takes about half a second per database,
    a copy much less (and a PostgreSQL test is most often given an earlier test's database,
    emptied: `postgres_copy`): across a thousand tests, minutes. The migrations themselves
    are tested on databases made empty (`migrated=False`) and by every `twinning up`."""

    #: PostgreSQL copies of the template made ahead of the tests that will ask for them.
    AHEAD = 2

    def __init__(self, root: Path, request: pytest.FixtureRequest) -> None:
        self.root = root
        self.request = request
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._copies: queue.Queue[URL] | None = None
        self._stopped = threading.Event()
        self._failure: Exception | None = None
        self._made_but_unused: list[URL] = []
        #: Tests' databases to be emptied and handed out again (`give_back`).
        self._given_back: queue.Queue[URL] = queue.Queue(maxsize=self.AHEAD + 2)
        self._template: Template | None = None

    def copy_sqlite(self, target: Path) -> None:
        if self._sqlite is None:
            template = self.root / "template.db"
            upgrade(make_url(f"sqlite:///{template}"))
            self._sqlite = template
        copy_sqlite(self._sqlite, target)

    def postgres(self) -> str:
        if self._postgres is None:
            url = create_database(self.request.getfixturevalue("postgres"))
            upgrade(url.set(drivername="postgresql+psycopg"))
            assert url.database is not None
            self._postgres = url.database
        return self._postgres

    def postgres_copy(self) -> URL:
        """A database as a new copy of the PostgreSQL template is, made ahead by a thread of
        this process while the previous test runs.

        It is an earlier test's database, emptied, when one was given back (`give_back`),
        else a new copy. A copy (CREATE DATABASE … TEMPLATE) costs the server about 0.3 s of
        CPU, writing the template's 9 MB again (mostly PostgreSQL's own catalogs): some
        500 copies, a tenth of the suite's CPU. Emptying a given-back database (a DELETE per
        table, its sequences restarted, after checking that its schema is still the
        template's) costs a few hundredths. Either way the database is only this test's, under
        a name no earlier test used (`retire`)."""
        if self._copies is None:
            server = self.request.getfixturevalue("postgres")
            template = self.postgres()
            self._template = Template.of(server.set(database=template))
            self._copies = queue.Queue(maxsize=self.AHEAD)
            threading.Thread(target=self._make_copies, args=(server, template), daemon=True).start()
        try:
            return self._copies.get(timeout=DEADLINE)
        except queue.Empty:
            raise RuntimeError(
                f"no copy of the PostgreSQL template was made in {DEADLINE} s: {self._failure!r}"
            ) from None

    def _make_copies(self, server: URL, template: str) -> None:
        assert self._copies is not None
        while not self._stopped.is_set():
            try:
                url = self._reused() or create_database(server, template=template)
            except Exception as exc:  # told to the test that waits for a copy
                self._failure = exc
                self._stopped.wait(0.5)
                continue
            while True:
                try:
                    self._copies.put(url, timeout=1)
                    break
                except queue.Full:
                    if self._stopped.is_set():
                        self._made_but_unused.append(url)
                        return

    def give_back(self, url: URL) -> URL | None:
        """A test's database, at the test's end: retired (cut off from whoever is still
        connected, renamed: the new name is returned), to be emptied and handed to a later
        test; dropped (None) if it stays in use or more are waiting already."""
        try:
            retired = retire(url)
        except Exception:
            drop_database(url)
            return None
        try:
            self._given_back.put_nowait(retired)
        except queue.Full:
            drop_database(retired)
            return None
        return retired

    def _reused(self) -> URL | None:
        """A given-back database emptied, or None: none waiting, or one whose test changed its
        schema (dropped)."""
        while True:
            try:
                url = self._given_back.get_nowait()
            except queue.Empty:
                return None
            assert self._template is not None  # read before the thread that calls this starts
            try:
                if emptied(url, self._template):
                    return url
            except Exception:  # it cannot be emptied here (a server's user may lack the right)
                pass
            drop_database(url)

    def close(self) -> None:
        """Stop making copies and drop those made for no test (the session's own server is
        removed whole; a server of TWINNING_TEST_POSTGRES_URL keeps nothing of the tests)."""
        self._stopped.set()
        if self._copies is not None:
            while not self._copies.empty():
                self._made_but_unused.append(self._copies.get_nowait())
        while not self._given_back.empty():
            self._made_but_unused.append(self._given_back.get_nowait())
        for url in self._made_but_unused:
            with suppress(Exception):  # the session's own server may be gone already
                drop_database(url)


class SeededDatabases:
    """Databases seeded once (per kind, for a module or a session), whose copies then replace
    the database of each test that starts from that seed: a test that needs a history applied
    and its documents rendered copies them in a few milliseconds instead of making them again
    (seconds each). Each test still has a database of its own."""

    def __init__(self, root: Path, request: pytest.FixtureRequest) -> None:
        self.root = root
        self.request = request
        self._seeded: dict[tuple[str, Callable[[Projection], Any]], tuple[Any, str]] = {}

    def restore(self, projection: Projection, seed: Callable[[Projection], Any]) -> Any:
        """Make `projection`'s database (a new one, empty) a copy of the one `seed` made, the
        first time, on a database of the same kind; return what `seed` returned then."""
        url = projection.settings.sync_database_url
        kind = url.get_backend_name()
        if (kind, seed) not in self._seeded:
            self._seeded[kind, seed] = self._seed(kind, seed)
        made, template = self._seeded[kind, seed]
        projection.disconnect()  # the test's database is replaced under it
        if kind == "sqlite":
            assert url.database is not None
            copy_sqlite(Path(template), Path(url.database))
        else:
            drop_database(url)
            server = self.request.getfixturevalue("postgres")
            create_database(server, template=template, name=url.database)
        return made

    def _seed(self, kind: str, seed: Callable[[Projection], Any]) -> tuple[Any, str]:
        path = self.root / f"{kind}-{len(self._seeded)}"
        url = new_database_url(kind, path, self.request)
        seeded = Projection(migrated_settings(url, path, migrate=False))
        try:
            made = seed(seeded)
        finally:
            seeded.close()
        database = make_url(url).database
        assert database is not None
        return made, database


@pytest.fixture(scope="module")
def seeded_databases(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> SeededDatabases:
    """The module's seeded databases (`SeededDatabases`), dropped when the module ends."""
    return SeededDatabases(tmp_path_factory.mktemp("seeded"), request)


@pytest.fixture(scope="session")
def migrated_templates(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"), request)
    yield templates
    templates.close()


#: A test that reads pages or documents in a language (a browser's, a PDF's): in Traditional
#: Chinese on SQLite and in English on PostgreSQL. Each such test still runs on both databases and
#: in both of the languages the tests read (zh-TW, the users', and one in a Latin script), each
#: once, instead of in every pairing of them: four runs of a test that costs seconds each became
#: two (issue 17). Used instead of `database_url`'s own parameters and a locale parameter.
in_two_languages = pytest.mark.parametrize(
    ("database_url", "locale"),
    [("sqlite", "zh-TW"), ("postgresql", "en")],
    indirect=["database_url"],
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, migrated, empty database of each kind."""
    return new_database_url(request.param, tmp_path, request)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(data_dir=tmp_path / "broker", partitions=3) as running:
        yield running


class Stack:
    """One twinning system: the API (with its relay) in this process, the worker as a child."""

    def __init__(self, settings: Settings, broker: EmbeddedBroker, tmp_path: Path) -> None:
        self.settings = settings
        self.broker = broker
        self.tmp_path = tmp_path
        self.workers: list[subprocess.Popen[bytes]] = []
        self.worker_starts = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        # Pinged at checkout: a test that stops and restarts the database (test_faults) leaves
        # the pool's connections dead, and `wait_applied` reads through it.
        self.engine: Engine = create_engine(settings.sync_database_url, pool_pre_ping=True)
        self.client = httpx.Client(
            base_url=settings.base_url(), timeout=30, headers=bearer(ADMIN_TOKEN), verify=TLS
        )

    # --- parts ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TWINNING_BROKER": ",".join(self.broker.bootstrap_servers),
            "TWINNING_DATA_DIR": str(self.settings.data_dir),
            "TWINNING_DATABASE_URL": self.settings.sync_database_url.render_as_string(
                hide_password=False
            ),
            "TWINNING_TOPIC_PARTITIONS": str(self.settings.topic_partitions),
            "TWINNING_PARK_TIMEOUT": str(self.settings.park_timeout),
            "TWINNING_RENDER_DOCUMENTS": str(self.settings.render_documents).lower(),
            **(
                {"TWINNING_SESSION_TIMEOUT": str(self.settings.session_timeout)}
                if self.settings.session_timeout is not None
                else {}
            ),
        }

    def start_worker(self, *, render_documents: bool | None = None) -> subprocess.Popen[bytes]:
        """Start one more worker process in the consumer group (rendering documents as the
        stack's settings say, unless told)."""
        env = self.env()
        if render_documents is not None:
            env["TWINNING_RENDER_DOCUMENTS"] = str(render_documents).lower()
        self.worker_starts += 1
        log = open(self.tmp_path / f"worker-{self.worker_starts}.log", "wb")  # noqa: SIM115 - the child owns it
        worker = subprocess.Popen(
            [sys.executable, "-m", "twinning", "worker"],
            env=env,
            cwd=self.tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),  # a killed pytest leaves no worker behind
        )
        self.workers.append(worker)
        return worker

    def kill_worker(self) -> None:
        """SIGKILL the newest worker: no shutdown, no offset commit."""
        worker = self.workers.pop()
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    def stop_worker(self, worker: subprocess.Popen[bytes] | None = None) -> None:
        """Stop one worker (or all) the way an operator does: SIGTERM, then wait. A worker
        that does not stop by itself is a failure (it is killed, then reported): every test
        with a worker checks that a stop is a stop, whatever it was doing."""
        stuck = []
        for running in [worker] if worker is not None else list(self.workers):
            if running.poll() is None:
                running.terminate()
                try:
                    running.wait(DEADLINE)
                except subprocess.TimeoutExpired:
                    running.kill()
                    running.wait()
                    stuck.append(running.pid)
            self.workers.remove(running)
        assert not stuck, f"workers {stuck} did not stop within {DEADLINE} s of SIGTERM"

    def start_api(self, *, with_relay: bool = True) -> None:
        app = create_app(self.settings, with_relay=with_relay)
        self.app = app
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.settings.api_port,
                log_level="warning",
                lifespan="on",
                # Stopping waits at most this long for open responses (a live page's stream).
                timeout_graceful_shutdown=2,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(
            lambda: self._server is not None and self._server.started,
            timeout=20,
            what="the API to start",
        )

    def stop_api(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(20)
            self._server = None

    def close(self) -> None:
        try:
            self.stop_worker()
        finally:
            self.stop_api()
            self.client.close()
            self.engine.dispose()

    # --- what a user sees ------------------------------------------------------------------

    def event_status(self, event_id: str) -> str:
        response = self.client.get(f"/events/{event_id}")
        return (
            str(response.json()["status"])
            if response.status_code == 200
            else f"http {response.status_code}"
        )

    def wait_applied(self, event_ids: list[str], timeout: float = DEADLINE) -> None:
        """Wait until the API says `applied` of each event. While some are not, the archive
        (what `applied` means) is polled with one query, instead of a request per event per
        look: hundreds of requests a look, after a burst, slowed the worker they waited for."""
        remaining = set(event_ids)

        def all_applied() -> bool:
            ids = list(remaining)
            with self.engine.connect() as connection:
                for start in range(0, len(ids), 500):
                    remaining.difference_update(
                        connection.scalars(
                            select(ArchivedEvent.event_id).where(
                                ArchivedEvent.event_id.in_(ids[start : start + 500])
                            )
                        )
                    )
            return not remaining

        def still_waiting() -> str:
            statuses = ", ".join(
                f"{event_id}: {self.event_status(event_id)}" for event_id in remaining
            )
            return f"still {statuses}; the worker logs are in {self.tmp_path}"

        wait_for(
            all_applied,
            timeout=timeout,
            what=f"{len(remaining)} events to be applied",
            state=still_waiting,
        )
        told = {event_id: self.event_status(event_id) for event_id in event_ids}
        assert all(status == "applied" for status in told.values()), {
            event_id: status for event_id, status in told.items() if status != "applied"
        }

    def concurrently(self, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
        """Send (method, url, json) requests at once, each on its own connection, and return
        their responses in the same order: two commands racing each other."""

        async def send_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(
                base_url=self.settings.base_url(),
                timeout=30,
                headers=bearer(ADMIN_TOKEN),
                verify=TLS,
            ) as client:
                return list(
                    await asyncio.gather(
                        *(client.request(method, url, json=body) for method, url, body in requests)
                    )
                )

        return asyncio.run(send_all())

    def count(self, model: Any) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)

    def post_partner(self, **overrides: Any) -> dict[str, str]:
        response = self.client.post("/partners", json={**sample_partner(), **overrides})
        assert response.status_code == 202, response.text
        return dict(response.json())


def sample_partner(n: int = 0) -> dict[str, Any]:
    return {
        "names": {"zh-TW": f"測試市{n}", "en": f"Testville {n}", "ja": f"テスト市{n}"},
        "country": "JP",
        "kind": "sister",
        "timezone": "Asia/Tokyo",
        "agreement_date": "2010-05-01",
    }


def chromium_executable() -> str:
    """The browser the browser tests drive: `TWINNING_TEST_CHROMIUM` if set, else Debian's
    `chromium-headless-shell` (Chromium's own headless build of the same release: Blink and V8
    as in the full browser, without its windowing and UI, which is what Playwright itself runs
    headless; the browser tests take half the time they take in the full `chromium`), else
    Debian's full `chromium`."""
    chosen = os.environ.get("TWINNING_TEST_CHROMIUM")
    if chosen:
        return shutil.which(chosen) or chosen
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if found is None:
        pytest.fail(
            "no Chromium: `apt-get install -y chromium-headless-shell` (.ci/run does),"
            " or set TWINNING_TEST_CHROMIUM to a Chromium's path"
        )
    return found


#: Chromium, headless, with nothing that reaches outside this machine.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class SharedBrowser:
    """One real browser (Debian's Chromium, driven by Playwright) for the browser tests that run
    one after another on a worker (`--dist loadgroup` keeps each of the `BROWSER_GROUPS` groups
    of browser modules on one worker, its tests in a row): launched when a test first needs it,
    closed after a test that the next one does not need it (`pytest_runtest_teardown`).
    Never open while another test runs: while Playwright's sync API is open it keeps an event
    loop running in this thread, and the rest of the suite runs its own (`asyncio.run`) here;
    a browser test seeds its data from another thread. One per module before: a launch (about
    two seconds) for each of some twenty modules."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        if self._browser is not None and not self._browser.is_connected():
            self.close()  # a test crashed it: the next one gets a new one
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=chromium_executable(),
                    args=CHROMIUM_ARGS,
                )
            except BaseException:
                self.close()
                raise
        return self._browser

    @property
    def is_open(self) -> bool:
        return self._playwright is not None

    def close(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                with suppress(Exception):  # gone already (crashed): nothing to close
                    browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_shared_browser = SharedBrowser()


@pytest.fixture
def browser() -> Any:
    """The worker's browser (`SharedBrowser`); each test opens its own context."""
    return _shared_browser.get()


def locked_keys() -> dict[str, int]:
    """Key -> how many commands on this event loop hold or await the key's lock in
    `outbox.settle` (a look inside, for the tests of its locking)."""
    return {key: users for key, (_lock, users) in outbox._locks_of_this_loop()._locks.items()}


def sample_visit(**overrides: Any) -> dict[str, Any]:
    """A visit request with no personal data."""
    return {
        "delegation": {"organisation": {"en": "Kyoto Chamber of Commerce"}},
        "head_of_delegation": {
            "names": {"en": "Ichiro Sato"},
            "title": {"en": "Chairman"},
            "protocol_rank": 3,
        },
        "members": 8,
        "purpose": {"en": "Smart-city exchange"},
        "requested_from": "2026-05-01",
        "requested_to": "2026-05-03",
        **overrides,
    }


def start_stack(
    database_url: str,
    broker: EmbeddedBroker,
    tmp_path: Path,
    *,
    worker: bool = True,
    api: bool = True,
    with_relay: bool = True,
    migrate: bool = True,
    **overrides: Any,
) -> Stack:
    """A migrated system on `database_url` and `broker`, its files under `tmp_path`, with the
    API (and its relay) and a worker started as asked. The caller closes it. `migrate=False`
    for a database that is migrated already (a copy of the template: `database_url`).

    Its workers render no documents unless `render_documents=True`: a worker that renders
    starts a WeasyPrint process that lays out every leaflet and brochure in five languages
    after each partner's change, seconds of CPU per test that only the publicity tests read.

    Its workers have the session timeout `twinning up` gives its worker on the embedded broker
    (unless `session_timeout=` says otherwise): the broker holds a new group's first join for
    about half of it, 3 s of every stack's start with the default of 6 s, 1 s with this.
    The worker is started before the API, whose start (a second of imports and building the
    app) then overlaps the worker's own imports and its joining the group."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    settings = Settings(
        database_url=database_url,
        broker=",".join(broker.bootstrap_servers),
        data_dir=data_dir,
        api_port=free_port(),
        topic_partitions=3,
        relay_poll_interval=0.2,
        redeliver_after=3.0,
        **{
            "bootstrap_token": ADMIN_TOKEN,
            "render_documents": False,
            "session_timeout": UP_SESSION_TIMEOUT,
            **overrides,
        },
        _env_file=None,  # type: ignore[call-arg]
    )
    if migrate:
        upgrade(settings.sync_database_url)
    stack = Stack(settings, broker, tmp_path)
    try:
        if worker:
            stack.start_worker()
        if api:
            stack.start_api(with_relay=with_relay)
    except BaseException:
        stack.close()
        raise
    return stack


@pytest.fixture
def make_stack(
    database_url: str, broker: EmbeddedBroker, tmp_path: Path
) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(
        *, worker: bool = True, api: bool = True, with_relay: bool = True, **overrides: Any
    ) -> Stack:
        stack = start_stack(
            database_url,
            broker,
            tmp_path,
            worker=worker,
            api=api,
            with_relay=with_relay,
            migrate=False,  # `database_url` is a copy of the migrated template
            **overrides,
        )
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack()


def on_a_shared_stack(group: str) -> pytest.MarkDecorator:
    """Parametrize `shared_stack` over both databases: the tests marked with one `group` share
    one started system per database (`group:kind`), kept on one xdist worker. The broker, the
    API and the worker are started once per group and database instead of once per test
    (issue 17). A module's tests make a group, or the end-to-end tests of a few modules that
    have one each (keep a group under a minute of tests: one xdist worker runs it all)."""
    return pytest.mark.parametrize(
        "stack_group",
        [
            pytest.param(
                f"{group}:{kind}", id=kind, marks=pytest.mark.xdist_group(f"{group}:{kind}")
            )
            for kind in ("sqlite", "postgresql")
        ],
        indirect=True,
    )


#: One started system per database for the end-to-end tests of the modules that have one each
#: (a contact, a visit, a trip, a feed, two races): each makes its own partner, official,
#: visit or city event, and reads those.
end_to_end = on_a_shared_stack("end-to-end")


class SharedStacks:
    """The shared systems of a test session by `group:kind`: each started when a test first
    needs it, and stopped as soon as the next test does not (`shared_stack`), not at the end
    of the session: an idle system costs a sixth of a core (its worker polls the
    broker every few milliseconds). Should a later test need it again, it is started again."""

    def __init__(
        self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        self.request = request
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, Stack] = {}
        self.databases: dict[str, URL] = {}

    def get(self, key: str) -> Stack:
        if key not in self.running:
            self.running[key] = self._start(key)
        return self.running[key]

    def _start(self, key: str) -> Stack:
        kind = key.rpartition(":")[2]
        tmp_path = self.tmp_path_factory.mktemp(f"stack-{key.replace(':', '-')}")
        if kind == "sqlite":
            url = new_database_url(kind, tmp_path, self.request)
        else:  # dropped when the system stops (`stop`), while the server surely runs
            database = self.request.getfixturevalue("migrated_templates").postgres_copy()
            self.databases[key] = database
            url = database.render_as_string(hide_password=False)
        broker = EmbeddedBroker(data_dir=tmp_path / "broker", partitions=3).start()
        try:
            return start_stack(url, broker, tmp_path, migrate=False)
        except BaseException:
            broker.stop()
            raise

    def stop(self, key: str) -> None:
        system, database = self.running.pop(key, None), self.databases.pop(key, None)
        try:
            if system is not None:
                try:
                    system.close()
                finally:
                    system.broker.stop()
        finally:
            if database is not None:
                drop_database(database)

    def stop_all(self) -> None:
        for key in list(self.running):
            self.stop(key)


_shared_stacks: SharedStacks | None = None
#: The test that runs after the one being torn down (`pytest_runtest_teardown`).
_next_item: pytest.Item | None = None


def _stack_group_of(item: pytest.Item | None) -> str | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("stack_group")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Tell `shared_stack` which test comes next, before the fixtures are torn down; once they
    are (the test's browser contexts closed), close the browser unless the next test uses it."""
    global _next_item
    _next_item = nextitem
    try:
        return (yield)
    finally:
        if _shared_browser.is_open and not _uses_browser(nextitem):
            _shared_browser.close()


def _uses_browser(item: pytest.Item | None) -> bool:
    return item is not None and "browser" in getattr(item, "fixturenames", ())


def pytest_sessionfinish(session: pytest.Session) -> None:
    _shared_browser.close()


@pytest.fixture(scope="session")
def shared_stacks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStacks]:
    global _shared_stacks
    _shared_stacks = SharedStacks(request, tmp_path_factory)
    yield _shared_stacks
    _shared_stacks.stop_all()
    _shared_stacks = None


@pytest.fixture(scope="session")
def stack_group(request: pytest.FixtureRequest) -> str:
    """The `group:kind` of the shared system a test uses (`on_a_shared_stack`): a session-scoped
    parameter, so that pytest runs the tests of each group and database together."""
    return str(request.param)


@pytest.fixture
def shared_stack(stack_group: str, shared_stacks: SharedStacks) -> Iterator[Stack]:
    """The group's started system (`on_a_shared_stack`), shared by tests that each make what
    they read (a partner, a visit of their own) and assert on what they made, never on what
    the database or a topic holds in all. A test leaves it as it found it: its overrides of
    the API's dependencies are undone after it, and a test that stopped, killed or added a
    worker, or stopped the broker, fails here (such a test needs a `stack` of its own)."""
    system = shared_stacks.get(stack_group)
    workers = list(system.workers)
    overrides = dict(system.app.dependency_overrides)
    yield system
    system.app.dependency_overrides.clear()
    system.app.dependency_overrides.update(overrides)
    as_found = False
    try:
        assert system.workers == workers, "a test on a shared stack changed its workers"
        assert all(worker.poll() is None for worker in workers), "the shared stack's worker ended"
        broker = system.broker.process
        assert broker is not None and broker.poll() is None, "the shared stack's broker is down"
        as_found = True
    finally:
        # pytest runs the tests of one `stack_group`, a session-scoped parameter, one after
        # another: when the next test uses another, none uses this system again. One that a
        # test left broken is not passed on: the next test gets a new one.
        if not as_found or _stack_group_of(_next_item) != stack_group:
            shared_stacks.stop(stack_group)


class Projection:
    """The worker's projection path without Kafka, for fast projector tests: raw messages go
    through the same `EventProcessor` (decode, apply, park, dead-letter) on a real database."""

    def __init__(self, settings: Settings, *, mail: bool = False) -> None:
        self.settings = settings
        #: Whether the worker's mail notifier follows each batch, as in the worker.
        self.mail = mail
        self.engine: Engine = create_engine(settings.sync_database_url)
        self.dead_letters: list[DeadLetterRecord] = []
        # One event loop and one async engine for the helper's life, as a worker has: a new
        # loop, engine and first connection for each call cost about 0.1 s of every command
        # of every API test (issue 17), and a new engine compiles every statement again.
        self._runner: asyncio.Runner | None = None
        self._processor: EventProcessor | None = None

    async def _processor_here(self) -> EventProcessor:
        """The processor, made on first use in the loop that runs it (its engine's
        connections belong to that loop)."""
        if self._processor is None:

            async def sink(record: DeadLetterRecord) -> None:
                self.dead_letters.append(record)

            engine = make_async_engine(self.settings.async_database_url)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            after = None
            if self.mail:
                from twinning.streams.worker import mail_notifier  # faust's imports: if asked

                after = mail_notifier(sessions)
            self._processor = EventProcessor(sessions, PROJECTORS, sink, after=after)
        return self._processor

    def _call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` in the helper's own event loop."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(work())

    def _run(self, work: Callable[[EventProcessor], Awaitable[T]]) -> T:
        async def run() -> T:
            return await work(await self._processor_here())

        return self._call(run)

    def disconnect(self) -> None:
        """Close every connection the helper holds (the next call opens new ones): before its
        database's file is changed under it, and at the end."""
        if self._processor is not None:
            engine = self._processor.sessions.kw["bind"]
            self._call(engine.dispose)
            self._processor = None
        self.engine.dispose()

    def close(self) -> None:
        self.disconnect()
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def expire_parked(self, older_than: timedelta) -> int:
        return self._run(lambda processor: processor.expire_parked(older_than))

    def apply(self, *events: Event | bytes, topic: str | None = None) -> list[Outcome]:
        """Apply each event on its own, as the worker does one message at a time."""
        messages = self._messages(events, topic)

        async def apply_all(processor: EventProcessor) -> list[Outcome]:
            return [await processor.process(message) for message in messages]

        return self._run(apply_all)

    def apply_batch(self, *events: Event | bytes, topic: str | None = None) -> list[Outcome]:
        """Apply the events as one batch (one transaction), as the worker does under load."""
        messages = self._messages(events, topic)
        return self._run(lambda processor: processor.process_batch(messages))

    @staticmethod
    def _messages(events: Sequence[Event | bytes], topic: str | None) -> list[Message]:
        return [
            Message(e.envelope.to_bytes(), topic or e.event_type.topic)
            if isinstance(e, Event)
            else Message(e, topic or "twinning.partners")
            for e in events
        ]

    def rows(self, model: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.scalars(select(model)).all())

    def rebuild(self) -> int:
        """`twinning rebuild`: recompute every read model from the archive."""
        return self._run(lambda processor: rebuild(processor.sessions, PROJECTORS))


def migrated_settings(database_url: str, tmp_path: Path, *, migrate: bool = True) -> Settings:
    """The settings of a test system on `database_url`, which is migrated first unless
    `migrate` is false: the `database_url` fixture's is a copy of the session's migrated
    template already, and Alembic finding nothing to do still costs a fifth of a second (it
    reads every migration script), on each of a thousand tests."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        bootstrap_token=ADMIN_TOKEN,
        _env_file=None,  # type: ignore[call-arg]
    )
    if migrate:
        upgrade(settings.sync_database_url)
    return settings


@pytest.fixture
def projection(database_url: str, tmp_path: Path) -> Iterator[Projection]:
    helper = Projection(migrated_settings(database_url, tmp_path, migrate=False))
    yield helper
    helper.close()


def external_event(
    kind: str,
    payload: dict[str, Any],
    *,
    aggregate_id: str,
    actor: str = "another-system",
    occurred_at: str = "2024-05-02T03:04:05+08:00",
    **extra: Any,
) -> bytes:
    """A message as another system writes it to a topic: plain JSON, no twinning code
    (`extra` adds or replaces envelope fields)."""
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": kind,
            "schema_version": 1,
            "occurred_at": occurred_at,
            "aggregate_id": aggregate_id,
            "actor": actor,
            "payload": payload,
            **extra,
        }
    ).encode()


def command(api: InlineApi, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """Send a command that must be accepted (202); its events are applied when it returns."""
    response = api.request(method, url, **kwargs)
    assert response.status_code == 202, response.text
    return dict(response.json())


class InlineApi(Projection):
    """The API in this process (over ASGI, no relay, no broker, no worker process) with the
    worker's projection path applying every committed event as soon as each response is back:
    commands that settle the outbox see the read model current. For fast API tests; the
    `stack` proves the real path."""

    def __init__(self, settings: Settings, portal: BlockingPortal) -> None:
        super().__init__(settings)
        self.app = create_app(settings, with_relay=False)
        self.portal = portal
        # ASGITransport runs no lifespan: make the first admin here, and act as that admin.
        portal.call(ensure_first_admin, self.app.state.sessions, settings)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://inline",
            headers=bearer(ADMIN_TOKEN),
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.portal.call(partial(self.client.request, method, url, **kwargs))
        pending = self.pending()
        if pending:
            self.apply(*pending)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def pending(self) -> list[Event]:
        """Committed outbox events that the projection path has not seen yet, oldest first."""
        seen = union(
            select(ArchivedEvent.event_id),
            select(ParkedEvent.event_id),
            select(DeadLetter.event_id).where(DeadLetter.event_id.is_not(None)),
        )
        with Session(self.engine) as session:
            bodies = session.scalars(
                select(OutboxEvent.body)
                .where(OutboxEvent.event_id.not_in(seen))
                .order_by(OutboxEvent.id)
            )
            return [decode(body) for body in bodies]

    def _call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` in the portal's event loop, the app's."""
        return self.portal.call(work)

    def close(self) -> None:
        self.disconnect()
        self.portal.call(self.client.aclose)
        self.portal.call(self.app.state.sessions.kw["bind"].dispose)


def each_database_in_turn(group: str) -> pytest.MarkDecorator:
    """Parametrize `shared_api` over both databases, each database's tests kept on one xdist
    worker (`group:kind`): the system is made once per database instead of once per test."""
    return pytest.mark.parametrize(
        "shared_api",
        [
            pytest.param(kind, marks=pytest.mark.xdist_group(f"{group}:{kind}"))
            for kind in ("sqlite", "postgresql")
        ],
        indirect=True,
    )


@pytest.fixture(scope="module")
def shared_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InlineApi]:
    """An `InlineApi` on a new database of the kind `each_database_in_turn` names, shared by a
    module's tests where each makes what it reads (a city event of its own) and checks what it
    changed, not what the database holds in all. A new database and app for each test was most
    of the time of such modules' hundreds of short tests (issue 17)."""
    kind = request.param
    tmp_path = tmp_path_factory.mktemp(f"shared-{kind}")
    url = new_database_url(kind, tmp_path, request)
    with start_blocking_portal() as portal:
        api = InlineApi(migrated_settings(url, tmp_path, migrate=False), portal)
        yield api
        api.close()


@pytest.fixture
def inline_api(database_url: str, tmp_path: Path) -> Iterator[InlineApi]:
    settings = migrated_settings(database_url, tmp_path, migrate=False)
    with start_blocking_portal() as portal:
        api = InlineApi(settings, portal)
        yield api
        api.close()
