"""The worker's consumer-group timing (issue 17, a quick start): the session timeout is a
setting, by default what it was (twice the rebalance timeout, at least 6 s), and `twinning up`
gives its one worker on the embedded broker a short one; faust's table manager starts
without its fixed second of sleep, and a stop ends without mode's last second of sleep. And
what `up` waits for less: the web pages imported on first use, the worker started before the
migrations (held at a gate), the mailer later."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import wait_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faust.types import TP
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.routing import Match
from twinning.config import Settings
from twinning.db import make_async_engine
from twinning.db.migrate import upgrade
from twinning.processes import Keeper, StartGate
from twinning.streams import worker as worker_module
from twinning.streams.events import PARTNERS
from twinning.streams.status import WorkerState, live_workers
from twinning.streams.worker import _TableManager, create_app
from twinning.web.app import PagesOnFirstUse


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, broker="127.0.0.1:9", **values
    )


def test_the_session_timeout_is_as_before_unless_set(tmp_path: Path) -> None:
    default = create_app(_settings(tmp_path)).conf
    long_rebalance = create_app(_settings(tmp_path, rebalance_timeout=15)).conf
    short = create_app(_settings(tmp_path, session_timeout=1.5)).conf

    assert default.broker_session_timeout == 6.0 and default.broker_heartbeat_interval == 1.0
    assert long_rebalance.broker_session_timeout == 30.0
    assert short.broker_session_timeout == 1.5 and short.broker_heartbeat_interval == 0.5


def test_the_first_beat_on_its_partitions_does_not_wait_for_the_lag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The beat that tells /health the worker is up comes as soon as it has its partitions,
    without the lag (which waits for the consumer to look up where each partition starts);
    the timer's beats carry the lag."""
    settings = _settings(tmp_path)
    upgrade(settings.sync_database_url)
    lag_asked = asyncio.Event()

    async def lag_that_never_comes(_app: object) -> int | None:
        lag_asked.set()
        await asyncio.Event().wait()
        return None

    monkeypatch.setattr(worker_module, "_lag", lag_that_never_comes)
    app = create_app(settings)

    async def assign_then_read() -> list[WorkerState]:
        await app.on_partitions_assigned.send({TP(PARTNERS, 0)})
        sessions = async_sessionmaker(make_async_engine(settings.async_database_url))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with sessions() as session:
                if workers := await live_workers(session, 60):
                    return workers
            await asyncio.sleep(0.05)
        return []

    workers = asyncio.run(assign_then_read())
    assert [w.lag for w in workers] == [None]
    assert not lag_asked.is_set()


def test_the_table_manager_starts_at_once(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    manager = app.tables
    assert isinstance(manager, _TableManager)

    async def start() -> float:
        began = time.monotonic()
        manager._update_channels = _nothing  # type: ignore[method-assign]
        manager.recovery.start = _nothing  # type: ignore[method-assign]
        await manager.on_start()
        return time.monotonic() - began

    async def _nothing() -> None:
        return None

    assert asyncio.run(start()) < 0.5  # faust's own sleeps a second first


def test_a_stopping_worker_waits_for_its_last_tasks_not_a_fixed_second(tmp_path: Path) -> None:
    """The last step of a stop, before the event loop is closed: mode's sleeps a second
    whatever is left; the worker's waits for the tasks still ending, at most that second."""
    worker = worker_module._Worker(
        create_app(_settings(tmp_path)), loglevel="warning", quiet=True, redirect_stdouts=False
    )

    async def last_step(task_takes: float) -> float:
        ending = asyncio.ensure_future(asyncio.sleep(task_takes))
        began = time.monotonic()
        await worker._sentinel_task()
        took = time.monotonic() - began
        assert ending.done() == (task_takes < worker_module.STOP_GRACE)
        ending.cancel()
        return took

    assert asyncio.run(last_step(0.05)) < worker_module.STOP_GRACE
    assert worker_module.STOP_GRACE <= asyncio.run(last_step(60)) < 10


def test_the_api_imports_neither_the_web_pages_nor_openpyxl() -> None:
    """The pages (and the spreadsheet library) are imported on first use, not by the API's
    start, which `twinning up` waits for (in a new interpreter: this one has them already)."""
    probe = (
        "import sys, twinning.api.app, twinning.web.app as web\n"
        "pages = [f'twinning.web.{name}' for name in web.PAGES]\n"
        "print(sorted(m for m in [*pages, 'openpyxl'] if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_pages_routes_are_added_on_the_first_request_under_ui() -> None:
    """A first request under /ui waits for the pages' routes to be added; /ui/static and the
    API's paths do not load them."""
    app = FastAPI()
    app.add_middleware(PagesOnFirstUse)

    def serves(path: str) -> bool:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": []}
        return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)

    with TestClient(app) as client:
        assert client.get("/ui/static/nothing.css").status_code == 404
        assert client.get("/partners").status_code == 404
        assert not serves("/ui/signin")
        assert client.get("/ui/no-such-page").status_code == 404
        assert serves("/ui/signin") and serves("/ui/partners/some-partner")


def _gated_child(gate: StartGate) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from twinning.processes import wait_at_start_gate as w; print(w())",
        ],
        env={**os.environ, **gate.child_env()},
        pass_fds=gate.pass_fds(),
        stdout=subprocess.PIPE,
        text=True,
    )
    gate.started()
    return child


def test_a_gated_child_goes_on_when_the_gate_opens_and_ends_when_it_closes() -> None:
    opened, closed = StartGate(), StartGate()
    going_on, ending = _gated_child(opened), _gated_child(closed)
    opened.open()
    closed.close()
    assert going_on.communicate(timeout=60)[0].strip() == "True"
    assert ending.communicate(timeout=60)[0].strip() == "False"


def test_the_gate_brings_the_child_the_settings_up_knows_only_when_it_opens() -> None:
    gate = StartGate()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os; from twinning.processes import wait_at_start_gate as w\n"
            "print(w(), os.environ.get('TWINNING_BROKER'), os.environ.get('TWINNING_DATA_DIR'))",
        ],
        env={**os.environ, **gate.child_env(), "TWINNING_DATA_DIR": "/as/up/was/started"},
        pass_fds=gate.pass_fds(),
        stdout=subprocess.PIPE,
        text=True,
    )
    gate.started()
    gate.open({"TWINNING_BROKER": "127.0.0.1:1234", "TWINNING_DATA_DIR": "/as/up/found"})
    assert child.communicate(timeout=60)[0].split() == ["True", "127.0.0.1:1234", "/as/up/found"]


def _prepared(argv: list[str], then: str, *, before: str = "") -> list[str]:
    """What `prepare_start(argv)` did, in a new interpreter (it starts a process and pauses
    the collector): `then` prints what the test asks about."""
    probe = (
        "import gc, sys\n"
        "from twinning.processes import prepare_start, start_collecting, take_early_worker\n"
        f"{before}\n"
        f"prepare_start({argv!r})\n"
        f"{then}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_up_starts_its_worker_before_importing_its_code_and_a_failed_up_ends_it() -> None:
    """`python -m twinning up` starts the worker first; an `up` that ends without opening
    the gate (refused options, a data directory in use) ends it."""
    seen = _prepared(
        ["twinning", "up", "--port", "0"],
        "early = take_early_worker()\n"
        "print('twinning.cli' in sys.modules, early.process.args[1:], take_early_worker())\n"
        "early.gate.close()\n"
        "print(early.process.wait(60))",
    )
    assert seen == ["False", "['-m',", "'twinning',", "'worker']", "None", "1"]
    assert _prepared(["twinning", "up", "--help"], "print(take_early_worker())") == ["None"]
    assert _prepared(["twinning", "worker"], "print(take_early_worker())") == ["None"]


def test_a_long_running_command_starts_without_the_cycle_collector_until_it_has_started() -> None:
    collecting = "print(gc.isenabled()); start_collecting(); print(gc.isenabled())"
    for command in ("worker", "mailer", "api", "relay"):
        assert _prepared(["twinning", command], collecting) == ["False", "True"], command
    # The objects of the start are set apart for good; those made later are collected.
    frozen = "start_collecting(); print(gc.get_freeze_count() > 0)"
    assert _prepared(["twinning", "worker"], frozen) == ["True"]
    # Other commands (a rebuild, an import: work from the start) keep it all along.
    for argv in (["twinning", "rebuild"], ["twinning", "worker", "--help"], ["twinning"]):
        assert _prepared(argv, "print(gc.isenabled())") == ["True"], argv


def test_the_collector_comes_back_by_itself_should_a_command_never_say_it_started() -> None:
    seen = _prepared(
        ["twinning", "worker"],
        "import time\n"
        "print(gc.isenabled())\n"
        "deadline = time.monotonic() + 120\n"
        "while not gc.isenabled() and time.monotonic() < deadline: time.sleep(0.05)\n"
        "print(gc.isenabled())",
        before="import twinning.processes as p; p.COLLECTOR_PAUSED_AT_MOST = 0.5",
    )
    assert seen == ["False", "True"]


def test_a_part_kept_for_later_starts_once_its_condition_holds() -> None:
    ready = threading.Event()
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
        return started[-1]

    keeper = Keeper(logging.getLogger("test"))
    running = keeper.keep_later("part", start, ready.is_set)
    keeper.start()
    try:
        assert not running.wait(0.3) and not started  # the condition does not hold yet
        ready.set()
        assert running.wait(30)
        assert keeper.current("part") is started[0] and len(started) == 1
    finally:
        keeper.finish()
        for process in started:
            process.kill()
            process.wait()


def test_a_part_stopped_with_its_broker_that_does_not_stop_is_killed_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the broker restarts, its worker is stopped to start anew; a worker that does not
    end on SIGTERM (its shutdown waiting on a broker that is gone: seen to take a minute) is
    killed after the grace, and a new one runs."""
    started: dict[str, list[subprocess.Popen[bytes]]] = {"broker": [], "worker": []}

    def start(name: str, code: str) -> subprocess.Popen[bytes]:
        started[name].append(subprocess.Popen([sys.executable, "-c", code]))
        return started[name][-1]

    def start_broker() -> subprocess.Popen[bytes]:
        return start("broker", "import time; time.sleep(120)")

    def start_worker() -> subprocess.Popen[bytes]:
        # Ignores SIGTERM, as a worker stuck in its shutdown does.
        return start(
            "worker",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)",
        )

    keeper = Keeper(logging.getLogger("test.keeper"))
    keeper.STOP_GRACE = 1.0
    keeper.keep("broker", start_broker, start_broker())
    keeper.keep("worker", start_worker, start_worker(), restarts_with="broker")
    keeper.start()
    stuck = started["worker"][0]
    try:
        with caplog.at_level(logging.WARNING, logger="test.keeper"):
            started["broker"][0].kill()
            wait_for(
                lambda: len(started["worker"]) == 2,
                timeout=30,
                what="a new worker",
                state=lambda: caplog.text,
            )
        assert stuck.poll() == -9  # SIGKILLed: it had ignored the SIGTERM
        assert keeper.current("worker") is started["worker"][1]
        assert started["worker"][1].poll() is None
        assert "stopping the worker to start it with the broker" in caplog.text
        assert "the worker did not stop within 1 s of SIGTERM; killing it" in caplog.text
        assert "the worker ended (exit code -9); restarting it in 1 s" in caplog.text
    finally:
        keeper.finish()
        for process in started["broker"] + started["worker"]:
            process.kill()
            process.wait()
