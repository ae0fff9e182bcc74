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

import ctypes
import os
import signal
import sys
from collections.abc import Callable
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
