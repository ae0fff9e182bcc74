"""The README's run command: `twinning up --demo` serves the demo data, publishes the leaflet
at the URL it prints, and stops cleanly."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
from conftest import bearer, start_up, wait_for
from icalendar import Calendar
from sqlalchemy import create_engine, select
from twinning.demo import demo_partners
from twinning.streams.store import OutboxEvent


def test_up_with_demo_serves_the_demo_partners_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    up, port, printed = start_up(tmp_path, "--demo")
    try:
        assert f"http://127.0.0.1:{port}/docs" in printed, printed
        admin_token = printed.split("shown this once:")[1].split()[0]
        assert printed.count(admin_token) == 1
        assert httpx.get(f"http://127.0.0.1:{port}/partners", timeout=10).status_code == 401
        partners = httpx.get(
            f"http://127.0.0.1:{port}/partners", headers=bearer(admin_token), timeout=10
        ).json()
        assert sorted(p["names"]["en"] for p in partners) == sorted(
            p["names"]["en"] for p in demo_partners()
        )
        leaflet = next(
            line.split()[1] for line in printed.splitlines() if line.strip().startswith("leaflet")
        )
        assert leaflet == f"http://127.0.0.1:{port}/publicity/leaflet?lang=zh-TW&format=pdf"
        wait_for(
            lambda: httpx.get(leaflet, timeout=10).content.startswith(b"%PDF"),
            timeout=120,
            what="the worker to publish the leaflet",
        )
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
    assert (
        not Path(f"/proc/{broker_pid}").exists()
        or "zombie" in Path(f"/proc/{broker_pid}/status").read_text()
    )


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
        mayor = httpx.get(url, timeout=10)
        assert mayor.headers["content-type"] == "text/calendar; charset=utf-8"
        names[lang] = Calendar.from_ical(mayor.content)["X-WR-CALNAME"]
        assert len(Calendar.from_ical(mayor.content).events) >= 2  # the demo visit's items
    assert names == {
        "zh-TW": "林市長（示範）的行事曆",
        "en": "Mayor Lin (demo)'s calendar",
        "ja": "林市長（デモ）のカレンダー",
    }
    office = Calendar.from_ical(httpx.get(feeds["office"], timeout=10).content)
    assert office["X-WR-CALNAME"] == "國際事務辦公室"


def _actors_of_the_outbox(database: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        bodies = connection.scalars(select(OutboxEvent.body)).all()
    engine.dispose()
    return {json.loads(body)["actor"] for body in bodies}
