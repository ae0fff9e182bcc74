"""The README's run command: `twinning up --demo` serves the demo data (what an office holds
after a couple of years, all of it applied by the time the URLs are printed), publishes the
leaflet at the URL it prints, and stops cleanly."""

from __future__ import annotations

import json
import re
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from conftest import (
    TLS,
    Projection,
    bearer,
    external_event,
    migrated_settings,
    sample_partner,
    start_up,
    wait_for,
)
from icalendar import Calendar
from sqlalchemy import create_engine, func, select
from twinning.config import Settings
from twinning.demo import demo_partners
from twinning.streams.store import OutboxEvent
from twinning.visits.lifecycle import VisitStatus


def test_up_with_demo_serves_the_demo_partners_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    # The demo's 300 events take 15 s on an idle machine, a minute on a crowded one.
    up, port, printed = start_up(tmp_path, "--demo", timeout=180)
    try:
        assert f"http://127.0.0.1:{port}/docs" in printed, printed
        admin_token = printed.split("shown this once:")[1].split()[0]
        assert printed.count(admin_token) == 1
        assert (
            httpx.get(f"http://127.0.0.1:{port}/partners", timeout=10, verify=TLS).status_code
            == 401
        )
        partners = httpx.get(
            f"http://127.0.0.1:{port}/partners", headers=bearer(admin_token), timeout=10, verify=TLS
        ).json()
        assert sorted(p["names"]["en"] for p in partners) == sorted(
            p["names"]["en"] for p in demo_partners()
        )
        _check_demo_holdings(f"http://127.0.0.1:{port}", admin_token)
        leaflet = next(
            line.split()[1] for line in printed.splitlines() if line.strip().startswith("leaflet")
        )
        assert leaflet == f"http://127.0.0.1:{port}/publicity/leaflet?lang=zh-TW&format=pdf"
        wait_for(
            lambda: httpx.get(leaflet, timeout=10, verify=TLS).content.startswith(b"%PDF"),
            timeout=120,
            what="the worker to publish the leaflet",
        )

        # `up --demo` places the demo's city (no office location is configured here): the
        # leaflet's map marks it, and each partner's brochure maps the two cities. A version
        # rendered while the demo was still loading may lack it: waited for, as a reader would.
        def home_on_map() -> str | None:
            page = httpx.get(
                leaflet.replace("format=pdf", "format=html"), timeout=10, verify=TLS
            ).text
            return page if re.search(r"<svg[^>]*>.*?示範市.*?</svg>", page, re.S) else None

        wait_for(home_on_map, timeout=300, what="the leaflet's map to mark the demo's city")
        sapporo = next(p["id"] for p in partners if p["names"]["en"] == "Sapporo")

        def pair_map() -> str | None:
            page = httpx.get(
                f"http://127.0.0.1:{port}/partners/{sapporo}/brochure",
                params={"lang": "en", "format": "html"},
                timeout=10,
                verify=TLS,
            ).text
            found = re.search(r'<figure class="map pair">(.*?)</figure>', page, re.S)
            return found.group(1) if found else None

        # The renderer lays out the leaflet and every demo brochure in five languages, oldest
        # stale first: minutes of CPU on a loaded machine (it took over 120 s at a load of 8).
        mapped = wait_for(pair_map, timeout=300, what="Sapporo's brochure with its map")
        assert "Demo City" in mapped and " km from Demo City" in mapped, mapped[:2000]
        _check_demo_feeds(printed)
        broker_pid = int(
            (tmp_path / "data" / "broker.json").read_text().split('"pid": ')[1].rstrip("}")
        )
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    assert up.returncode == 0, rest
    assert "twinning stopped." in rest
    assert not (tmp_path / "data" / "broker.json").exists()
    assert _actors_of_the_outbox(tmp_path / "data" / "twinning.db") == {"user:demo"}
    recorded = _outbox_rows(tmp_path / "data" / "twinning.db")
    assert (
        not Path(f"/proc/{broker_pid}").exists()
        or "zombie" in Path(f"/proc/{broker_pid}/status").read_text()
    )

    # The README's command again on the same data directory (as a user runs it the next day):
    # the demo is there already and is not loaded a second time; a new password signs in.
    again, port, printed = start_up(tmp_path, "--demo", timeout=180)
    try:
        assert "The demo is in this data directory already" in printed, printed
        assert f"staff make new ones at http://127.0.0.1:{port}/ui/calendar/feeds." in printed
        assert "Loaded" not in printed
        base = f"http://127.0.0.1:{port}"
        partners = httpx.get(
            f"{base}/partners", headers=bearer(admin_token), timeout=10, verify=TLS
        ).json()
        assert len(partners) == len(demo_partners())
        password = printed.split("password `")[1].split("`")[0]
        with httpx.Client(base_url=base, timeout=10, verify=TLS) as browser:
            signed_in = browser.post(
                "/ui/signin", data={"name": "demo", "password": password, "next": "/ui/"}
            )
            assert signed_in.status_code == 303, signed_in.text
            assert browser.get("/ui/").status_code == 200
            assert browser.get("/ui/calendar/feeds").status_code == 200  # the page it names
    finally:
        again.send_signal(signal.SIGINT)
        rest, _ = again.communicate(timeout=60)
    assert again.returncode == 0, rest
    assert _outbox_rows(tmp_path / "data" / "twinning.db") == recorded


#: The continent of each country the demo may name (Central America counts as North America).
CONTINENTS = {
    **dict.fromkeys(["JP", "KR", "PH", "VN", "TH", "ID", "MY", "SG", "IN"], "Asia"),
    **dict.fromkeys(["US", "CA", "MX", "GT", "BZ", "HN", "SV", "NI", "CR", "PA"], "North America"),
    **dict.fromkeys(["PY", "CL", "AR", "BR", "PE", "CO", "UY"], "South America"),
    **dict.fromkeys(["ES", "LT", "CZ", "FR", "DE", "IT", "PL", "GB", "NL", "SK"], "Europe"),
    **dict.fromkeys(["AU", "NZ", "PW", "MH", "TV", "FJ"], "Oceania"),
    **dict.fromkeys(["SZ", "ZA", "KE", "NG", "SN", "SO"], "Africa"),
}


def _check_demo_holdings(base: str, token: str) -> None:
    """What an office really holds, read through the API once `up` has printed its URLs (so
    everything is applied): partner cities on five continents, visits over the past year and
    the coming one in every state of their lifecycle, itineraries, city events with every
    kind of answer, trips across time zones, missions and contacts, all labelled invented."""
    with httpx.Client(base_url=base, headers=bearer(token), timeout=10, verify=TLS) as api:

        def get(url: str, **params: Any) -> Any:
            response = api.get(url, params=params)
            assert response.status_code == 200, (url, response.text)
            return response.json()

        partners = get("/partners", limit=500)
        assert len(partners) >= 12
        assert {p["kind"] for p in partners} >= {"sister", "friendly"}
        assert len({CONTINENTS[p["country"]] for p in partners}) >= 5
        for partner in partners:  # the brochures name them in every shipped language
            assert set(partner["names"]) >= {"zh-TW", "en", "ja", "ko", "es"}, partner["names"]
            assert partner["location"] is not None and partner["timezone"]

        visits = get("/visits", limit=500)
        assert len(visits) >= 30
        states = Counter(v["status"] for v in visits)
        assert set(states) == {status.value for status in VisitStatus}, states
        today = date.today()
        first = min(date.fromisoformat(v["requested_from"]) for v in visits)
        last = max(date.fromisoformat(v["requested_to"]) for v in visits)
        assert first <= today - timedelta(days=300) and last >= today + timedelta(days=300)
        assert {"partner" if v["delegation"]["partner_id"] else "other" for v in visits} == {
            "partner",
            "other",
        }  # missions and organisations visit too
        overrides = 0
        for visit in visits:
            if visit["status"] not in ("scheduled", "completed"):
                continue
            items = get(f"/visits/{visit['id']}/itinerary")
            assert items, visit
            assert all(item["official_ids"] for item in items)
            overrides += sum(1 for item in items if item["overrides"])
            if visit["status"] == "completed" and visit["delegation"]["partner_id"]:
                assert visit["exchange_id"], visit  # the exchange the visit recorded
        assert overrides == 1  # the one deliberate double booking, with its reason

        events = get("/city-events", limit=500)
        assert len(events) >= 5
        assert {e["status"] for e in events} == {"scheduled", "cancelled", "completed"}
        answers: Counter[str] = Counter()
        overdue = 0
        for event in events:
            summary = get(f"/city-events/{event['id']}/invitations/summary")
            answers.update({k: n for k, n in summary["counts"].items() if n})
            overdue += len(summary["not_replied_after_answer_by"])
        assert set(answers) == {
            "accepted-in-person",
            "accepted-by-video",
            "declined",
            "no-reply",
        }, answers
        assert sum(answers.values()) >= 20 and overdue >= 1

        trips = get("/trips", limit=500)
        assert {t["status"] for t in trips} >= {"planned", "completed", "cancelled"}
        assert len({leg["timezone"] for t in trips for leg in t["legs"]}) >= 5
        assert any(len({leg["timezone"] for leg in t["legs"]}) > 1 for t in trips)
        assert len(get("/exchanges", limit=500)) >= 25

        missions = get("/missions", limit=500)
        contacts = get("/contacts", limit=500)
        assert len(missions) >= 8 and len(contacts) >= 15
        assert all(m["names"]["en"].startswith("DEMO") for m in missions)
        assert all(c["email"].endswith("@example.org") for c in contacts if c["email"])
        assert {bool(c["partner_id"]) for c in contacts} == {True, False}


def _check_demo_feeds(printed: str) -> None:
    """The feed links printed work without an API token, as a calendar client uses them, and
    `?lang=` switches the language."""
    feeds = dict(
        line.split()[:2]
        for line in printed.split("Calendar feeds of the demo")[1].splitlines()
        if "/feeds/" in line
    )
    names = {}
    for lang in ("zh-TW", "en", "ja"):
        url = feeds["mayor"].split("?")[0] + f"?lang={lang}"
        mayor = httpx.get(url, timeout=10, verify=TLS)
        assert mayor.headers["content-type"] == "text/calendar; charset=utf-8"
        names[lang] = Calendar.from_ical(mayor.content)["X-WR-CALNAME"]
        assert len(Calendar.from_ical(mayor.content).events) >= 2  # the demo visit's items
    assert names == {
        "zh-TW": "林市長（示範）的行事曆",
        "en": "Mayor Lin (demo)'s calendar",
        "ja": "林市長（デモ）のカレンダー",
    }
    office = Calendar.from_ical(httpx.get(feeds["office"], timeout=10, verify=TLS).content)
    assert office["X-WR-CALNAME"] == "國際事務辦公室"


def _outbox_rows(database: Path) -> int:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(OutboxEvent))
    engine.dispose()
    return int(rows or 0)


def _actors_of_the_outbox(database: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        bodies = connection.scalars(select(OutboxEvent.body)).all()
    engine.dispose()
    return {json.loads(body)["actor"] for body in bodies}


def test_a_demo_that_cannot_be_loaded_stops_up_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """A load that fails half-way (an API answer the loader cannot get past) ends `up` with
    the reason, instead of a system left up with part of the demo and no word of it."""
    from twinning import cli

    def refused(settings: Settings, base: str) -> Any:
        raise RuntimeError("demo: POST /photos answered 500: boom")

    monkeypatch.setattr(cli, "_load_demo", refused)
    settings = migrated_settings(f"sqlite:///{tmp_path / 'twinning.db'}", tmp_path)
    server, failed, printed = _announced(settings, capsys)
    assert failed.is_set() and server.should_exit
    assert "the demo could not be loaded (demo: POST /photos answered 500: boom)" in printed.err
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [
        "the demo could not be loaded"
    ]
    assert "twinning is up" not in printed.out + printed.err


def test_up_demo_leaves_a_data_dir_that_holds_other_records_alone(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """`--demo` on a data directory with an office's own records would mix invented ones
    into them: refused with the reason, and nothing is loaded."""
    from twinning import cli

    def never(settings: Settings, base: str) -> Any:
        raise AssertionError("the demo was loaded")

    monkeypatch.setattr(cli, "_load_demo", never)
    settings = migrated_settings(f"sqlite:///{tmp_path / 'twinning.db'}", tmp_path)
    projection = Projection(settings)
    try:
        projection.apply(
            external_event("PartnerCityRegistered", sample_partner(1), aggregate_id="p-1")
        )
    finally:
        projection.close()
    server, failed, printed = _announced(settings, capsys)
    assert failed.is_set() and server.should_exit
    assert "holds 1 records that are not the demo's, and --demo adds" in printed.err, printed.err
    assert not [r.getMessage() for r in caplog.records if r.exc_info]  # a refusal, not a crash
    assert "twinning is up" not in printed.out + printed.err


def _announced(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> tuple[SimpleNamespace, threading.Event, Any]:
    """What `up --demo` says once its API listens (`_announce`), and whether it stops."""
    from twinning import cli

    server = SimpleNamespace(started=True, should_exit=False)
    mailer_started, failed = threading.Event(), threading.Event()
    mailer_started.set()
    cli._announce(server, settings, True, None, mailer_started, failed)
    return server, failed, capsys.readouterr()


def test_the_demo_loader_sends_an_upload_again_after_a_503() -> None:
    """A photo upload the API could not take then (503, `Retry-After`) is sent again, as
    commands are: on a busy machine the database can be busy for a moment."""
    from twinning.demo import _Loader

    answers = iter([503, 503, 201])
    seen: list[bytes] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        status = next(answers)
        if status == 503:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"status": 503})
        return httpx.Response(201, json={"sha256": "ab" * 32})

    with (
        httpx.Client(base_url="http://api", transport=httpx.MockTransport(api)) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        loader = _Loader(client, 10, date(2026, 1, 1), pool)
        answer = loader.send("/photos/images", files={"file": ("a.jpg", b"JPEG", "image/jpeg")})
    assert answer == {"sha256": "ab" * 32}
    assert len(seen) == 3 and all(b"JPEG" in body for body in seen)
