"""`twinning up` keeps its parts alive (issue 20, item 3): a worker or broker killed outright
(SIGKILL) is restarted with a log line; meanwhile /health answers 503 naming the part that is
down, and every command accepted before, during and after is applied exactly once."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
from conftest import TLS, bearer, start_up, wait_for
from sqlalchemy import create_engine, func, select
from twinning.crm.models import PartnerCity
from twinning.streams.store import ArchivedEvent


def _health(base: str) -> tuple[int, dict[str, Any]]:
    try:
        answer = httpx.get(f"{base}/health", timeout=5, verify=TLS)
    except httpx.HTTPError:
        return 0, {}
    return answer.status_code, answer.json()


def _worker_pid(body: dict[str, Any]) -> int | None:
    workers = body.get("workers") or []
    return int(workers[0]["worker_id"].rsplit(":", 1)[1]) if workers else None


def test_a_killed_worker_and_broker_are_restarted_and_nothing_is_lost(tmp_path: Path) -> None:
    # Short heartbeats, so that a dead worker shows within seconds (`.env` of the directory
    # `up` runs in: start_up passes no TWINNING_ setting of its own).
    (tmp_path / ".env").write_text(
        "TWINNING_HEARTBEAT_INTERVAL=0.5\nTWINNING_HEARTBEAT_TIMEOUT=3\n"
    )
    up, port, printed = start_up(tmp_path)
    base = f"http://127.0.0.1:{port}"
    token = printed.split("shown this once:")[1].split()[0]
    client = httpx.Client(base_url=base, headers=bearer(token), timeout=10)
    accepted: list[str] = []

    def register(n: int) -> None:
        body = {"names": {"en": f"Keeper {n}"}, "country": "JP", "timezone": "Asia/Tokyo"}
        answer = client.post("/partners", json={**body, "kind": "sister"})
        assert answer.status_code == 202, answer.text
        accepted.append(answer.json()["id"])

    try:
        wait_for(lambda: _health(base)[0] == 200, timeout=60, what="/health to say ok")
        first = _worker_pid(_health(base)[1])
        assert first is not None
        register(1)

        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: _health(base)[1].get("worker", {}).get("status") == "down",
            timeout=30,
            what="/health to report the worker down",
        )
        code, body = _health(base)
        assert (code, body["status"]) == (503, "degraded"), body
        assert "no worker has sent a heartbeat" in body["worker"]["detail"]
        register(2)  # accepted while no worker runs
        wait_for(
            lambda: _worker_pid(_health(base)[1]) not in (None, first),
            timeout=60,
            what="a new worker's heartbeat",
        )

        broker_pid = json.loads((tmp_path / "data" / "broker.json").read_text())["pid"]
        os.kill(broker_pid, signal.SIGKILL)  # back within a second or two: too quick to see
        wait_for(
            lambda: (
                json.loads((tmp_path / "data" / "broker.json").read_text()).get("pid")
                not in (None, broker_pid)
            ),
            timeout=60,
            what="a new broker",
        )
        register(3)
        wait_for(lambda: _health(base)[0] == 200, timeout=90, what="/health to say ok again")
        wait_for(
            lambda: all(client.get(f"/partners/{pid}").status_code == 200 for pid in accepted),
            timeout=120,
            what="every accepted command to be applied",
            state=lambda: (
                f"{[client.get(f'/partners/{pid}').status_code for pid in accepted]}"
                f" {_health(base)}"
            ),
        )
    finally:
        client.close()
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    log = printed + rest
    assert "the worker ended (exit code -9); restarting it in 1 s" in log, log
    assert "the broker ended (exit code -9); restarting it in 1 s" in log, log
    assert up.returncode == 0, log
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'twinning.db'}")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(PartnerCity)) == 3
        assert connection.scalar(select(func.count()).select_from(ArchivedEvent)) == 3
    engine.dispose()
