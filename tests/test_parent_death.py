"""A process killed outright (SIGKILL, a crash) runs no cleanup: the embedded broker and the
worker it started must end by themselves, not run on forever without it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import start_up, wait_for

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="children end with their parent on Linux only"
)

OWNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from twinning.streams.broker import EmbeddedBroker

    broker = EmbeddedBroker(data_dir=Path(sys.argv[1]), partitions=1).start()
    print(broker.process.pid, flush=True)
    sys.stdin.read()  # until the test kills us (or, should the test die, closes our stdin)
    broker.stop()
    """
)


def test_the_embedded_broker_ends_with_a_killed_owner(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path / "broker")],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    broker: Process | None = None
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        assert line.strip().isdigit(), f"the owner printed no broker pid: {line!r}"
        broker = Process(int(line))
        assert broker.running()

        owner.kill()
        owner.wait(10)

        wait_for(lambda: not broker.running(), timeout=10, what="the broker to end")
    finally:
        _kill(owner, broker)


def test_twinning_up_killed_leaves_neither_broker_nor_worker_nor_mailer(tmp_path: Path) -> None:
    up, _, printed = start_up(tmp_path)
    children: list[Process] = []
    try:
        assert up.poll() is None, printed
        broker_pid = json.loads((tmp_path / "data" / "broker.json").read_text())["pid"]
        children = _children(up.pid)
        commands = {" ".join(child.cmdline[-3:]) for child in children}
        assert len(children) == 3, commands
        assert broker_pid in {child.pid for child in children}
        assert {"-m twinning worker", "-m twinning mailer"} <= commands
        worker = next(child for child in children if child.cmdline[-1] == "worker")
        # A worker at work, not one still starting: it has started its renderer.
        wait_for(
            lambda: any("spawn_main" in " ".join(p.cmdline) for p in _descendants(worker.pid)),
            what="the worker to start its renderer",
        )
        children += _descendants(worker.pid)

        up.kill()
        up.wait(10)

        wait_for(
            lambda: not any(child.running() for child in children),
            timeout=30,  # the worker stops as on SIGTERM: faust takes a few seconds
            what="the broker, the worker and the mailer to end",
            state=lambda: (
                "still running: " + "; ".join(" ".join(c.cmdline) for c in children if c.running())
            ),
        )
    finally:
        _kill(up, *children)


class Process:
    """A process seen through /proc, told apart from a later one that reuses its pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.started = _stat(pid)[19]  # starttime: field 22 of /proc/<pid>/stat
        self.cmdline = Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")

    def running(self) -> bool:
        """Still there; a zombie (dead, not reaped yet) counts as gone."""
        try:
            stat = _stat(self.pid)
        except (FileNotFoundError, ProcessLookupError):
            return False
        return stat[19] == self.started and stat[0] != "Z"


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat from the state on (the command name may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[Process]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(Process(int(entry.name)))
            except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
                pass
    return found


def _descendants(pid: int) -> list[Process]:
    return [found for child in _children(pid) for found in [child, *_descendants(child.pid)]]


def _kill(owner: subprocess.Popen[str], *known: Process | None) -> None:
    """Leave nothing running, whatever the test saw (or failed to see). The children first:
    they may hold the owner's stdout open, and reading it to the end waits for them."""
    leftovers = [process for process in known if process is not None]
    if owner.poll() is None:
        leftovers += _descendants(owner.pid)
        owner.kill()
    for process in leftovers:
        if process.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    owner.communicate(timeout=10)
