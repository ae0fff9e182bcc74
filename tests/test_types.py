"""Types stay on: mypy resolves the project after the README's install, and finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

PROBE = """\
from twinning.config import Settings
from twinning.refusals import NotFound

reveal_type(Settings)
reveal_type(NotFound("visit", "v-1").ids)
"""


def test_mypy_sees_the_package_and_finds_no_error(tmp_path: Path) -> None:
    """One run: the whole package, and a file outside it that imports it as any user would
    (an editor, another project). Were the install's import hook hiding the package, every
    name would be `Any` and `ignore_missing_imports` would keep that quiet."""
    (tmp_path / "twinning_probe.py").write_text(PROBE)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "twinning", "-m", "twinning_probe"],
        cwd=REPO_ROOT,
        env={**os.environ, "MYPYPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.splitlines()
    revealed = [line for line in lines if "Revealed type" in line]
    errors = [line for line in lines if ": error:" in line]
    assert errors == [], (
        "mypy finds errors (if it cannot find `twinning`, install as the README says: "
        "editable_mode=strict):\n" + run.stdout
    )
    assert len(revealed) == 2, run.stdout + run.stderr
    assert "data_dir:" in revealed[0]
    assert revealed[0].endswith('-> twinning.config.Settings"')
    assert revealed[1].endswith('Revealed type is "list[str]"')
