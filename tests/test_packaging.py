"""Packaging: one `twinning` namespace, and the repository root never shadows the stdlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT


def test_running_from_the_repository_root_keeps_the_standard_library_calendar() -> None:
    script = (
        "import aiohttp, http.cookiejar, calendar\n"
        "assert calendar.timegm((2024, 1, 1, 0, 0, 0)) == 1704067200\n"
        "import twinning.calendar\n"
        "assert twinning.calendar.__name__ == 'twinning.calendar'\n"
        "print(calendar.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "site-packages" not in result.stdout and result.stdout.strip().endswith("calendar.py")
    assert str(REPO_ROOT) not in result.stdout


def test_the_worker_imports_from_the_repository_root() -> None:
    """faust pulls in aiohttp, which needs `calendar.timegm` at import time."""
    result = subprocess.run(
        [sys.executable, "-c", "import twinning.streams.worker"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_top_level_folder_is_a_twinning_subpackage() -> None:
    import twinning.api
    import twinning.auth
    import twinning.calendar
    import twinning.crm
    import twinning.i18n
    import twinning.streams

    for module, folder in [
        (twinning.api, "api"),
        (twinning.auth, "auth"),
        (twinning.calendar, "calendar"),
        (twinning.crm, "crm"),
        (twinning.i18n, "i18n"),
        (twinning.streams, "streams"),
    ]:
        # The README's install lays a tree of links to the source (editable_mode=strict).
        assert module.__file__ is not None
        assert Path(module.__file__).resolve() == REPO_ROOT / folder / "__init__.py"
