"""A data directory has one owner at a time (issue 20, item 2): a second `twinning up` — or a
worker or broker beside a running `up` — is refused in one line naming the running one, and
the running system's files are left as they were. The manual multi-process setup (`broker`,
`worker`s, `relay`, `api` on one directory) still shares it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import start_up
from twinning.processes import DataDirHold, DataDirInUse


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINNING_")}
    return subprocess.run(
        [sys.executable, "-m", "twinning", *args, "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_system_on_a_running_data_dir_is_refused_naming_the_running_one(
    tmp_path: Path,
) -> None:
    up, _port, _printed = start_up(tmp_path)
    address = tmp_path / "data" / "broker.json"
    try:
        written = address.read_text()
        for args in (("up", "--port", "0"), ("worker",), ("broker",), ("api", "--port", "0")):
            second = _run(tmp_path, *args)
            message = second.stderr.strip()
            assert second.returncode == 1, (args, second.stdout, second.stderr)
            assert "\n" not in message and "Traceback" not in message, (args, message)
            assert f"in use by `twinning up` (pid {up.pid}," in message, (args, message)
        assert address.read_text() == written  # the running broker's address, untouched
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    assert up.returncode == 0, rest
    assert not address.exists()
    assert list((tmp_path / "data" / "run").iterdir()) == []  # its note went with it
    # The owner gone, the kernel dropped its lock: the directory is free again.
    with DataDirHold(tmp_path / "data", "up", alone=True):
        pass


def test_the_parts_share_a_directory_but_never_with_an_up(tmp_path: Path) -> None:
    """The holds' rules, in one process (each open file holds its own lock; the names of the
    holders, which are noted per process, are the test above's)."""
    with (
        DataDirHold(tmp_path, "broker", alone=False, roles=("broker",)),
        DataDirHold(tmp_path, "worker", alone=False),
        DataDirHold(tmp_path, "worker", alone=False),
        DataDirHold(tmp_path, "relay", alone=False),
        DataDirHold(tmp_path, "api", alone=False, roles=("api",)),
    ):
        for second in (
            DataDirHold(tmp_path, "broker", alone=False, roles=("broker",)),
            DataDirHold(tmp_path, "api", alone=False, roles=("api",)),  # one API on SQLite
            DataDirHold(tmp_path, "up", alone=True),
        ):
            with pytest.raises(DataDirInUse, match="is in use by"):
                second.__enter__()
    with (
        DataDirHold(tmp_path, "up", alone=True),
        pytest.raises(DataDirInUse, match="is in use by"),
    ):
        DataDirHold(tmp_path, "worker", alone=False).__enter__()
