"""A rendering process keeps its temporary files (WeasyPrint's font folders) in a folder of its
own under the data directory (`own_scratch`): the folder of one killed outright is removed by
the next one that starts, a running one's never."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOLD = (
    "import pathlib, sys; from twinning.processes import own_scratch;"
    " print(own_scratch(pathlib.Path(sys.argv[1])), flush=True); sys.stdin.read()"
)


def _holder(base: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process that takes a scratch folder under `base` and holds it until its stdin ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(base)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    folder = process.stdout.readline().strip()
    assert folder, f"the process took no scratch folder (exit {process.poll()})"
    return process, Path(folder)


def test_a_killed_process_folder_is_removed_by_the_next_one_and_a_running_ones_kept(
    tmp_path: Path,
) -> None:
    base = tmp_path / "data" / "worker" / "render-scratch"
    held: list[subprocess.Popen[str]] = []
    try:
        first, first_folder = _holder(base)
        held.append(first)
        second, second_folder = _holder(base)
        held.append(second)
        assert first_folder.parent == second_folder.parent == base
        assert first_folder != second_folder
        # What a render killed mid-way leaves: a font folder of WeasyPrint's.
        (first_folder / "weasyprint-x1").mkdir()
        (first_folder / "weasyprint-x1" / "NotoSansCJK.otf").write_bytes(b"subset")
        assert first_folder.is_dir() and second_folder.is_dir()

        first.kill()
        first.wait()
        third, third_folder = _holder(base)
        held.append(third)
        assert not first_folder.exists()
        folders = sorted(p for p in base.iterdir() if p.is_dir())
        assert folders == sorted([second_folder, third_folder])
    finally:
        for process in held:
            process.kill()
            process.wait()
