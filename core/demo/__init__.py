"""Demo data, loaded through the API like any staff member's input (`twinning up --demo`).

`partners.json` holds the partner cities; `crm.json` the missions, contacts, exchanges and
trips, which name partners and missions by their English name (ids are only known once the
API has accepted them); `city_events.json` the city's coming events, in days from today.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

DATA = Path(__file__).parent


def demo_partners() -> list[dict[str, object]]:
    return list(json.loads((DATA / "partners.json").read_text(encoding="utf-8")))


class _Loader:
    def __init__(self, client: httpx.Client, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.event_ids: list[str] = []

    def post(self, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(url, json=body)
        response.raise_for_status()
        accepted: dict[str, Any] = response.json()
        self.event_ids.append(accepted["event_id"])
        return accepted

    def wait_applied(self) -> None:
        deadline = time.monotonic() + self.timeout
        waiting = list(self.event_ids)
        while waiting and time.monotonic() < deadline:
            waiting = [
                e
                for e in waiting
                if self.client.get(f"/events/{e}").json().get("status") != "applied"
            ]
            if waiting:
                time.sleep(0.1)
        if waiting:
            raise TimeoutError(
                f"{len(waiting)} demo events were not applied within {self.timeout}s"
            )


def _load_crm(loader: _Loader, partner_ids: dict[str, str]) -> None:
    crm = json.loads((DATA / "crm.json").read_text(encoding="utf-8"))
    missions = {m["names"]["en"]: loader.post("/missions", m)["id"] for m in crm["missions"]}
    for contact in crm["contacts"]:
        owner = (
            {"partner_id": partner_ids[contact.pop("partner")]}
            if "partner" in contact
            else {"mission_id": missions[contact.pop("mission")]}
        )
        loader.post("/contacts", {**contact, **owner})
    for exchange in crm["exchanges"]:
        partners = [partner_ids[name] for name in exchange.pop("partners")]
        loader.post("/exchanges", {**exchange, "partner_ids": partners})
    completions = []
    for entry in crm["trips"]:
        trip = entry["trip"]
        for leg in trip["legs"]:
            leg["partner_ids"] = [partner_ids[name] for name in leg.pop("partners")]
        trip_id = loader.post("/trips", trip)["id"]
        if "complete" in entry:
            completions.append((trip_id, entry["complete"]))
    loader.wait_applied()  # completing a trip needs its plan applied
    for trip_id, completion in completions:
        loader.post(f"/trips/{trip_id}/complete", completion)


def _load_city_events(loader: _Loader) -> None:
    """The city's coming events, dated from today so that they are always ahead."""
    today = datetime.now(UTC).date()
    for entry in json.loads((DATA / "city_events.json").read_text(encoding="utf-8")):
        day = today + timedelta(days=entry.pop("days_from_now"))
        zone = ZoneInfo(entry["timezone"])
        start, end = (datetime.combine(day, clock_time(hour), zone) for hour in entry.pop("hours"))
        loader.post(
            "/city-events", {**entry, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
        )


def load_demo(base_url: str, *, token: str, timeout: float = 30) -> int:
    """POST the demo records with the API token `token` (of a staff user) and wait until the
    worker has applied them; returns how many."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=10, headers=headers) as client:
        loader = _Loader(client, timeout)
        partner_ids = {
            partner["names"]["en"]: loader.post("/partners", partner)["id"]  # type: ignore[index]
            for partner in demo_partners()
        }
        _load_crm(loader, partner_ids)
        _load_city_events(loader)
        loader.wait_applied()
    return len(loader.event_ids)
