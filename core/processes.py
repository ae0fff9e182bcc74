"""Child processes that end with the process that started them.

The embedded broker and the workers run in their own session (`start_new_session=True`) so
that Ctrl-C reaches their parent only, which then stops them in order. The other side of that:
a parent killed outright (SIGKILL, a crash) runs no cleanup, and its children would go on
alone forever. On Linux, `die_with_parent()` asks the kernel to send them SIGTERM when that
happens (`prctl(PR_SET_PDEATHSIG)`, which an exec keeps); elsewhere it does nothing.

Caveats:
- The signal comes when the *thread* that started the child ends, not the process: start
  these children from a thread that lives as long as they should, never from
  `asyncio.to_thread` or a thread pool. Every caller uses the main thread: `twinning up` and
  `twinning broker`, the bench, and the tests' fixtures (pytest, and pytest-xdist's workers,
  run the tests on the main thread).
- The parent may die between the fork and the `prctl`; then no signal ever comes. So the
  child compares its parent with the one that started it, and ends at once if it changed.
- `preexec_fn` runs in the forked child while other threads of the parent may have held
  locks at the fork: it makes the pre-resolved `prctl` call, a `getppid` and perhaps an
  `_exit`, nothing else: no imports, no logging, nothing that could wait for a lock.
- With a `preexec_fn`, `subprocess` forks where it would otherwise use vfork/posix_spawn: a
  little slower for a big parent, which matters not for a few long-lived children.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def _resolve_prctl() -> Any:
    """libc's `prctl`, looked up here in the parent so that the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _resolve_prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for `subprocess.Popen` that gives the child SIGTERM when this process
    dies (None where the platform has no such thing). Call it for each Popen, in the thread
    that runs the Popen: it notes this process's pid for the child to check."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()
    sigterm = int(signal.SIGTERM)

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl: no signal will come
            os._exit(1)

    return in_child


# --- one owner of a data directory ---------------------------------------------------------

#: Set by `twinning up` for the children it starts: they run under its hold on the data
#: directory (honoured only when the named process is really the child's parent).
OWNER_ENV = "TWINNING_DATA_DIR_OWNER"


class DataDirInUse(Exception):
    """Another twinning process holds the data directory in a way this one cannot share."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class DataDirHold:
    """An OS lock on a data directory, held for the process's life (the kernel drops it when
    the process ends, however it ends: nothing stale to clean up).

    - `up` holds the directory alone: it runs the broker, the worker, the relay and the API
      itself, so any other twinning process on the directory would be a second system.
    - `worker`, `relay`, `api` and `broker` share it with each other (the manual multi-process
      setup, and scale-out workers), never with an `up`; on top of that one `broker` per
      directory (it owns `broker.json`), and on SQLite one `api` (its per-aggregate lock is
      per process).

    Each holder notes who it is in `run/<pid>.json`, removed when it ends, so that a refused
    process can name the one that holds the directory."""

    def __init__(self, data_dir: Path, command: str, *, alone: bool, roles: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.command = command
        self.alone = alone
        self.roles = roles
        self._files: list[Any] = []
        self._note: Path | None = None

    def __enter__(self) -> DataDirHold:
        import fcntl

        try:
            main = self._open("twinning.lock")
            fcntl.flock(main, (fcntl.LOCK_EX if self.alone else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            for role in self.roles:
                fcntl.flock(self._open(f"{role}.lock"), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise DataDirInUse(self._refusal()) from None
        run = self.data_dir / "run"
        run.mkdir(exist_ok=True)
        self._note = run / f"{os.getpid()}.json"
        self._note.write_text(
            json.dumps({"pid": os.getpid(), "command": self.command, "started": _now()})
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        if self._note is not None:
            self._note.unlink(missing_ok=True)  # ours: named by our pid
            self._note = None
        for handle in self._files:
            handle.close()  # closing drops the lock
        self._files.clear()

    def _open(self, name: str) -> Any:
        handle = open(self.data_dir / name, "a+b")  # noqa: SIM115 - held for the process's life
        self._files.append(handle)
        return handle

    def _refusal(self) -> str:
        holders = []
        for note in sorted((self.data_dir / "run").glob("*.json")):
            try:
                facts = json.loads(note.read_text())
                pid = int(facts["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if pid != os.getpid() and _alive(pid):
                holders.append(
                    f"`twinning {facts.get('command')}` (pid {pid}, since {facts.get('started')})"
                )
        running = ", ".join(holders) or "another twinning process"
        return (
            f"the data directory {self.data_dir} is in use by {running}: stop it first, or give"
            " this one another --data-dir"
        )


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def run_under_owner() -> bool:
    """Whether this process was started by the `up` that holds its data directory."""
    return os.environ.get(OWNER_ENV) == str(os.getppid())


# --- a temporary directory of a process's own ---------------------------------------------

#: The scratch folders' OS locks, held for the process's life.
_SCRATCH_HELD: list[Any] = []


def own_scratch(base: Path) -> Path:
    """A temporary directory of this process's own under `base` (for `tempfile`), held by an
    OS lock for the process's life. The folders of processes that ended without removing
    theirs (killed outright, or ended by `os._exit`) are removed first: nobody holds their
    lock any more. A process given its own under the data directory leaves nothing in the
    system's temporary directory, however it ends."""
    import fcntl
    import shutil
    import tempfile

    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "a+b") as setting_up:
        # One process at a time looks for abandoned folders and makes its own: a folder just
        # made is not taken for abandoned before its process has locked it.
        fcntl.flock(setting_up, fcntl.LOCK_EX)
        for folder in base.iterdir():
            if not folder.is_dir():
                continue
            try:
                with open(folder / ".held", "a+b") as held:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    shutil.rmtree(folder, ignore_errors=True)
            except (BlockingIOError, FileNotFoundError):  # its process runs; gone meanwhile
                continue
        own = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
        held = open(own / ".held", "a+b")  # noqa: SIM115 - held for the process's life
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _SCRATCH_HELD.append(held)
    return own


# --- a child started before the system is ready -------------------------------------------

#: Set by `twinning up` for the worker it starts before the database is migrated and the
#: embedded broker answers: the file descriptor of a pipe `up` writes one byte to once they are.
START_GATE_ENV = "TWINNING_START_GATE_FD"


class StartGate:
    """Lets `up` start a child at once, so that the child imports its code (a second of CPU)
    while `up` migrates the database and starts the broker, and have it wait for those
    before it goes on (`wait_at_start_gate`). `open(env)` lets it go on with the settings
    `env` (sent through the pipe: the child can be started before `up` knows them);
    `close()` without opening (`up` failed), or `up`'s end, ends it."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # neither inherited but where passed (pass_fds)

    def child_env(self) -> dict[str, str]:
        return {START_GATE_ENV: str(self._read)}

    def pass_fds(self) -> tuple[int, ...]:
        return (self._read,)

    def started(self) -> None:
        """The children are started: only they hold the reading end now."""
        os.close(self._read)

    def open(self, env: dict[str, str] | None = None) -> None:
        """Let the children go on, with `env` added to their environment (the settings `up`
        knows only now: the embedded broker's address, a data directory it created)."""
        sent = json.dumps(env or {}).encode()
        with contextlib.suppress(BrokenPipeError):  # the child ended: restarted without a gate
            while sent:
                sent = sent[os.write(self._write, sent) :]
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._write)


def wait_at_start_gate() -> bool:
    """In a child of `up`: wait until `up` opens the gate it was started with (True at once
    without one), and take the settings `up` sent through it into its environment; False
    when `up` closed it or ended without opening it."""
    fd = os.environ.pop(START_GATE_ENV, None)
    if fd is None:
        return True
    sent = b""
    try:
        while chunk := os.read(int(fd), 65536):
            sent += chunk
    finally:
        with contextlib.suppress(OSError):
            os.close(int(fd))
    if not sent:
        return False
    os.environ.update(json.loads(sent))
    return True


# --- keeping the children of `up` alive ----------------------------------------------------


class Keeper:
    """Restarts the parts of `twinning up` that die (the worker, the embedded broker), after a
    pause that doubles with each quick death (1 s up to 30 s; back to 1 s once a part has run
    for a minute), with a log line each time. A part it stops to start anew (a worker whose
    broker restarted) that has not ended `STOP_GRACE` seconds after SIGTERM is killed: a
    worker whose broker vanished could spend a minute in its shutdown, reporting nothing.

    It starts them from its own thread, which lives until `finish()`: the kernel's
    parent-death signal (`die_with_parent`) follows the thread that started a child. So
    `stop_restarting()` first, stop the parts in order, then `finish()`. A part kept with
    `keep_later` is started by that thread too, once its condition holds."""

    FIRST_PAUSE, LONGEST_PAUSE, SETTLED_AFTER = 1.0, 30.0, 60.0
    STOP_GRACE = 5.0
    LATER_POLL = 0.05

    def __init__(self, log: Any) -> None:
        import threading

        self.log = log
        self.parts: dict[str, tuple[Callable[[], Any], Any]] = {}
        self.dependents: dict[str, list[str]] = {}
        self._restarting = threading.Event()
        self._restarting.set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="twinning-keeper", daemon=True)
        self.later: dict[str, tuple[Callable[[], Any], Callable[[], bool], threading.Event]] = {}
        # Held while a later part starts: once `stop_restarting()` returns, none will.
        self._starting = threading.Lock()

    def keep(
        self, name: str, start: Callable[[], Any], process: Any, *, restarts_with: str = ""
    ) -> None:
        """Watch `process` (a Popen); when it ends, call `start()` for a new one. With
        `restarts_with`, it is also stopped (and so started anew) when that part restarts: a
        worker whose embedded broker came back empty starts afresh rather than wait on a
        consumer group the new broker never knew."""
        self.parts[name] = (start, process)
        if restarts_with:
            self.dependents.setdefault(restarts_with, []).append(name)

    def keep_later(
        self, name: str, start: Callable[[], Any], when: Callable[[], bool]
    ) -> threading.Event:
        """Start the part with `start()` as soon as `when()` is true (looked at every
        `LATER_POLL` s), then keep it as `keep` does; the event returned is set once it was
        started (or could not be). For a part that need not compete for the cores with what
        is starting before it."""
        started = threading.Event()
        self.later[name] = (start, when, started)
        return started

    def current(self, name: str) -> Any:
        return self.parts[name][1]

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop_restarting(self) -> None:
        with self._starting:
            self._restarting.clear()

    def finish(self) -> None:
        self.stop_restarting()
        self._done.set()
        self._thread.join(10)

    def _watch(self) -> None:
        import time

        pauses = dict.fromkeys(self.parts, self.FIRST_PAUSE)
        started = dict.fromkeys(self.parts, time.monotonic())
        stopping: dict[str, float] = {}  # a part told to stop -> when it is killed instead
        while not self._done.wait(self.LATER_POLL if self.later else 0.5):
            for name, (start_later, when, running) in list(self.later.items()):
                with self._starting:
                    if not self._restarting.is_set() or not when():
                        continue
                    del self.later[name]
                    try:
                        self.parts[name] = (start_later, start_later())
                    except Exception as exc:  # a part that cannot start is not kept
                        self.log.warning("could not start the %s: %s", name, exc)
                    else:
                        pauses[name], started[name] = self.FIRST_PAUSE, time.monotonic()
                    finally:
                        running.set()
            for name, (start, process) in list(self.parts.items()):
                code = process.poll()
                if code is None and name in stopping and time.monotonic() > stopping[name]:
                    self.log.warning(
                        "the %s did not stop within %g s of SIGTERM; killing it",
                        name,
                        self.STOP_GRACE,
                    )
                    process.kill()
                    stopping[name] = float("inf")
                if code is None or not self._restarting.is_set():
                    continue
                told_to_stop = stopping.pop(name, None) is not None
                if told_to_stop or time.monotonic() - started[name] > self.SETTLED_AFTER:
                    pauses[name] = self.FIRST_PAUSE
                pause = pauses[name]
                self.log.warning(
                    "the %s ended (exit code %s); restarting it in %g s", name, code, pause
                )
                if self._done.wait(pause) or not self._restarting.is_set():
                    return
                try:
                    self.parts[name] = (start, start())
                except Exception as exc:  # tried again after the next pause
                    self.log.warning("could not restart the %s: %s", name, exc)
                else:
                    self.log.warning("the %s runs again (pid %s)", name, self.parts[name][1].pid)
                    for dependent in self.dependents.get(name, []):
                        self.log.warning("stopping the %s to start it with the %s", dependent, name)
                        self.parts[dependent][1].terminate()
                        stopping[dependent] = time.monotonic() + self.STOP_GRACE
                started[name] = time.monotonic()
                pauses[name] = min(pause * 2, self.LONGEST_PAUSE)


# --- the start of a long-running command -------------------------------------------------

#: The commands that run until stopped: they start without the cycle collector (below).
LONG_RUNNING = frozenset({"up", "worker", "mailer", "api", "relay"})
#: The longest a command runs without the cycle collector, should it never say it started.
COLLECTOR_PAUSED_AT_MOST = 60.0


def prepare_start(argv: list[str]) -> None:
    """What `python -m twinning` (and the `twinning` command) does before importing anything
    else: for a long-running command, the cycle collector is paused until the command has
    started (`start_collecting`); for `twinning up`, its worker is started at once
    (`start_worker_early`)."""
    command = argv[1] if len(argv) > 1 else None
    if command not in LONG_RUNNING or "--help" in argv:
        return
    pause_collecting()
    if command == "up":
        start_worker_early()


def pause_collecting() -> None:
    """Start without Python's cycle collector. Importing the code (thousands of classes,
    pydantic schemas, SQLAlchemy mappers) makes objects that live as long as the process,
    and the collector's full passes walked them again and again as they grew: about a tenth
    of the CPU of a start (0.25 s of the API's import, 0.15 s of the worker's). Nothing of the
    start needs collecting; `start_collecting` ends the pause (or, should a command never
    call it, a timer after `COLLECTOR_PAUSED_AT_MOST` seconds)."""
    if not gc.isenabled():
        return
    gc.disable()
    timer = threading.Timer(COLLECTOR_PAUSED_AT_MOST, _collect_again)
    timer.daemon = True
    timer.start()


def start_collecting() -> None:
    """The command has started: the objects of its start are set apart from the collector's
    passes for good (`gc.freeze`: they live as long as the process) and it collects again.
    Called before any request or event is handled, so no garbage of the work is frozen."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _collect_again() -> None:
    gc.enable()  # not frozen: the command may be at work by now


# --- the worker of `twinning up`, started before anything else ------------------------------


@dataclass
class EarlyStart:
    """A child started before `up` imported its own code, waiting at `gate`."""

    process: subprocess.Popen[bytes]
    gate: StartGate


_early_worker: EarlyStart | None = None


def start_worker_early() -> None:
    """Start the worker of `twinning up` now, before `up` imports its code (0.6 s of CPU: the
    command line, its settings and the event contracts): the worker imports its own on the
    other core meanwhile, then waits at a gate until `up` has migrated the database and
    started the broker, and takes the settings `up` knows only then through it (`StartGate`).
    `up` takes it with `take_early_worker`; an `up` that ends without opening the gate
    (refused options, a data directory in use) ends it."""
    global _early_worker
    gate = StartGate()
    process = subprocess.Popen(
        [sys.executable, "-m", "twinning", "worker"],
        env={**os.environ, OWNER_ENV: str(os.getpid()), **gate.child_env()},
        start_new_session=True,  # as `up` starts its children: see `twinning.cli._spawn`
        preexec_fn=die_with_parent(),
        pass_fds=gate.pass_fds(),
    )
    gate.started()
    _early_worker = EarlyStart(process, gate)


def take_early_worker() -> EarlyStart | None:
    """The worker `start_worker_early` started in this process, once (None if it did not)."""
    global _early_worker
    early, _early_worker = _early_worker, None
    return early
