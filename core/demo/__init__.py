"""Demo data, loaded through the API like any staff member's input (`twinning up --demo`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

DATA = Path(__file__).parent


def demo_partners() -> list[dict[str, object]]:
    return list(json.loads((DATA / "partners.json").read_text(encoding="utf-8")))


def load_demo(base_url: str, *, token: str, timeout: float = 30) -> int:
    """POST the demo records with the API token `token` (of a staff user) and wait until the
    worker has applied them; returns how many."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=10, headers=headers) as client:
        event_ids = []
        for partner in demo_partners():
            response = client.post("/partners", json=partner)
            response.raise_for_status()
            event_ids.append(response.json()["event_id"])
        deadline = time.monotonic() + timeout
        waiting = list(event_ids)
        while waiting and time.monotonic() < deadline:
            waiting = [
                e for e in waiting if client.get(f"/events/{e}").json().get("status") != "applied"
            ]
            if waiting:
                time.sleep(0.1)
        if waiting:
            raise TimeoutError(f"{len(waiting)} demo events were not applied within {timeout}s")
    return len(event_ids)
