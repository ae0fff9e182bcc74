"""Demo data, loaded through the API like any staff member's input (`twinning up --demo`).

`partners.json` holds the partner cities; `crm.json` the missions, contacts, exchanges and
trips, which name partners and missions by their English name (ids are only known once the
API has accepted them); `calendar.json` the officials, venues, a delegation's visit with its
itinerary, and the calendar feeds whose links `twinning up --demo` prints; `city_events.json`
the city's coming events that partners are invited to (shown on the leaflet); `protocol.json`
visits in every other state of their lifecycle, and a city event with invitations and answers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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


@dataclass(frozen=True)
class DemoLoaded:
    """How many records the demo loaded, and the calendar feeds to subscribe to (name -> URL)."""

    records: int
    feeds: dict[str, str] = field(default_factory=dict)


def _load_crm(loader: _Loader, partner_ids: dict[str, str], official_ids: dict[str, str]) -> None:
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
        for official in trip["officials"]:  # the key of a demo official, as its id
            if official.get("official_id") in official_ids:
                official["official_id"] = official_ids[official["official_id"]]
        trip_id = loader.post("/trips", trip)["id"]
        if "complete" in entry:
            completions.append((trip_id, entry["complete"]))
    loader.wait_applied()  # completing a trip needs its plan applied
    for trip_id, completion in completions:
        loader.post(f"/trips/{trip_id}/complete", completion)


def _register_officials_and_venues(
    loader: _Loader, calendar: dict[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The demo officials' ids by key, and the demo venues (id and time zone) by key."""
    officials = {
        o["key"]: loader.post("/officials", o["official"])["id"] for o in calendar["officials"]
    }
    venues = {
        v["key"]: {
            "id": loader.post("/venues", v["venue"])["id"],
            "timezone": v["venue"]["timezone"],
        }
        for v in calendar["venues"]
    }
    return officials, venues


def _on_day(day: int, at: str, zone: str) -> str:
    """`at` o'clock, `day` days from today, in `zone` (so the demo always lies ahead)."""
    tz = ZoneInfo(zone)
    when = datetime.now(tz).date() + timedelta(days=day)
    return datetime.combine(when, clock_time.fromisoformat(at), tz).isoformat()


def _load_visit(
    loader: _Loader,
    visit: dict[str, Any],
    partner_ids: dict[str, str],
    official_ids: dict[str, str],
    venues: dict[str, dict[str, Any]],
) -> None:
    """A partner's delegation: requested, approved, its itinerary planned, then scheduled."""
    days = [item["day"] for item in visit["itinerary"]]
    today = date.today()
    request = {
        **visit["request"],
        "delegation": {"partner_id": partner_ids[visit["partner"]]},
        "requested_from": (today + timedelta(days=min(days))).isoformat(),
        "requested_to": (today + timedelta(days=max(days))).isoformat(),
    }
    visit_id = loader.post("/visits", request)["id"]
    loader.wait_applied()  # approving checks the request's state
    loader.post(f"/visits/{visit_id}/approve", {"reason": "DEMO"})
    for item in visit["itinerary"]:
        where = (
            {"venue_id": venues[item["venue"]]["id"]}
            if "venue" in item
            else {"place": item["place"]}
        )
        zone = venues[item["venue"]]["timezone"] if "venue" in item else item["place"]["timezone"]
        body = {
            key: value
            for key, value in item.items()
            if key in ("titles", "interpreter", "notes_shared")
        }
        loader.post(
            f"/visits/{visit_id}/itinerary",
            {
                **body,
                **where,
                "starts_at": _on_day(item["day"], item["from"], zone),
                "ends_at": _on_day(item["day"], item["to"], zone),
                "official_ids": [official_ids[key] for key in item["officials"]],
            },
        )
    loader.post(f"/visits/{visit_id}/schedule", {"reason": "DEMO programme agreed"})


def _load_protocol(loader: _Loader, partner_ids: dict[str, str]) -> None:
    """Visits in every state of their lifecycle; a city event with invitations and answers."""
    protocol = json.loads((DATA / "protocol.json").read_text(encoding="utf-8"))
    today = date.today()
    for visit in protocol["visits"]:
        request = dict(visit["request"])
        first, last = request.pop("days")
        visit_id = loader.post(
            "/visits",
            {
                **request,
                "delegation": {"partner_id": partner_ids[visit["partner"]]},
                "requested_from": (today + timedelta(days=first)).isoformat(),
                "requested_to": (today + timedelta(days=last)).isoformat(),
            },
        )["id"]
        for step, body in visit["steps"]:  # each step waits for the one before (the API settles)
            loader.post(f"/visits/{visit_id}/{step}", body)
    spec = protocol["city_event"]
    zone = spec["event"]["timezone"]
    start, end = (_on_day(spec["days_from_now"], f"{hour:02d}:00", zone) for hour in spec["hours"])
    event_id = loader.post("/city-events", {**spec["event"], "starts_at": start, "ends_at": end})[
        "id"
    ]
    answer_by = (today + timedelta(days=spec["answer_by_days_from_now"])).isoformat()
    invitees = [{"kind": "partner", "id": partner_ids[name]} for name in spec["answers"]]
    response = loader.client.post(
        f"/city-events/{event_id}/invitations", json={"answer_by": answer_by, "invitees": invitees}
    )
    response.raise_for_status()
    sent = response.json()
    loader.event_ids.extend(invitation["event_id"] for invitation in sent)
    for invitation, answer in zip(sent, spec["answers"].values(), strict=True):
        if answer is not None:  # None: no reply yet
            loader.post(f"/invitations/{invitation['id']}/rsvp", answer)


def _load_city_events(loader: _Loader, venues: dict[str, dict[str, Any]]) -> None:
    """The city's coming events, days counted from today like the visit's itinerary."""
    for entry in json.loads((DATA / "city_events.json").read_text(encoding="utf-8")):
        timing = {key: entry.pop(key) for key in ("day", "from", "to")}
        if "at_venue" in entry:
            entry["venue"] = {"venue_id": venues[entry.pop("at_venue")]["id"]}
        zone = entry["timezone"]
        starts_at = _on_day(timing["day"], timing["from"], zone)
        ends_at = _on_day(timing["day"], timing["to"], zone)
        loader.post("/city-events", {**entry, "starts_at": starts_at, "ends_at": ends_at})


def _feed_links(
    loader: _Loader, calendar: dict[str, Any], official_ids: dict[str, str]
) -> dict[str, str]:
    """The secret links of the demo's private feeds (name -> URL)."""
    links = {}
    for feed in calendar["feeds"]:
        audience = dict(feed["audience"])
        if "official" in audience:
            audience["official_id"] = official_ids[audience.pop("official")]
        body = {"audience": audience, "language": feed["language"], "label": feed["label"]}
        response = loader.client.post("/feed-links", json=body)
        response.raise_for_status()
        links[feed["name"]] = response.json()["url"]
    return links


def load_demo(base_url: str, *, token: str, timeout: float = 30) -> DemoLoaded:
    """POST the demo records with the API token `token` (of a staff user) and wait until the
    worker has applied them; returns how many, and the demo's calendar feeds."""
    headers = {"Authorization": f"Bearer {token}"}
    calendar = json.loads((DATA / "calendar.json").read_text(encoding="utf-8"))
    with httpx.Client(base_url=base_url, timeout=10, headers=headers) as client:
        loader = _Loader(client, timeout)
        partner_ids = {
            partner["names"]["en"]: loader.post("/partners", partner)["id"]  # type: ignore[index]
            for partner in demo_partners()
        }
        official_ids, venues = _register_officials_and_venues(loader, calendar)
        _load_crm(loader, partner_ids, official_ids)
        _load_visit(loader, calendar["visit"], partner_ids, official_ids, venues)
        _load_protocol(loader, partner_ids)
        _load_city_events(loader, venues)
        loader.wait_applied()  # a link to an official's feed needs the official
        feeds = _feed_links(loader, calendar, official_ids)
        partner = calendar["visit"]["partner"]
        feeds[f"{partner} (public)"] = f"{base_url}/partners/{partner_ids[partner]}/calendar.ics"
    return DemoLoaded(records=len(loader.event_ids), feeds=feeds)
