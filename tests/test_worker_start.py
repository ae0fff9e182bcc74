"""The worker's consumer-group timing (issue 17, a quick start): the session timeout is a
setting, by default what it was (twice the rebalance timeout, at least 6 s), and `twinning up`
gives its one worker on the embedded broker a short one; faust's table manager starts
without its fixed second of sleep."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from twinning.config import Settings
from twinning.streams.worker import _TableManager, create_app


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
