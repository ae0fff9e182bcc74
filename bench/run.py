"""The twinning benchmark: one command, every figure beside a baseline measured in the same run.

    python bench/run.py [--events 50000] [--database-url postgresql://...] [--json out.json]

Runs against the embedded broker on this machine and prints a readable table and JSON:
1. projection throughput (topic -> read models) against a plain kafka-python consumer reading
   the same topics, and against a faust agent that takes the same batches and does nothing
   (`bench/faust_ceiling.py`: what faust itself costs);
2. freshness: p50/p99 from a command's 202 (an itinerary item renamed) to the change being
   visible in the official's iCal feed, against the round trip of a plain GET of that feed;
3. feeds: a 1,000-entry feed rendered cold against icalendar building the same feed naively,
   the first request of a feed, and requests/s for an unchanged feed and for 304 answers;
5. scale: throughput of two workers against one;
6. memory: peak resident memory of the worker and of the API, and whether the worker grows
   over a second run of the same load;
7. leaflets: the leaflet as HTML in every locale, and as PDF per locale against a naive
   WeasyPrint render of the same page; after an exchange; and the cost of an event that
   changes nothing a document shows (expected: no render). `--only leaflets` runs just this.
8. brochures (`--only brochures`, not in the default run: at 1,000 partners it renders 5,000
   brochure PDFs per policy, most of an hour each on 2 cores): partners registered at a steady
   pace on a running worker, every registration marking the leaflet stale again; the time from
   each registration to its brochure in every locale, and how often the leaflet was rendered,
   against the same burst on a worker that renders the leaflet first at every look (the order
   before issue 20). `--burst-partners 20 --burst-rate 2` is a smoke run.
9. briefing: a visit's briefing book (zh-TW) and its delegation programme (en), a programme of
   `--briefing-items` items over three days: the content gathered, the HTML, and the PDF with
   twinning's subset fonts (cold, then warm) against a naive WeasyPrint render of the same
   page. `--only briefing` runs just this.
10. documents: the year's progress report and a briefing book, each as PDF in zh-TW and in en
   (cold, then warm fonts): what the publicity consumer renders for a new version of each.
   (`python -c "import run; print(run.document_renders(...))"` from bench/ runs just this.)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar, Event
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from twinning.calendar import ical
from twinning.calendar.describe import EntryRow, vevent
from twinning.calendar.models import CalendarEntry
from twinning.config import Settings
from twinning.db.migrate import upgrade
from twinning.i18n import force_locale
from twinning.processes import die_with_parent
from twinning.streams.broker import EmbeddedBroker, free_port
from twinning.streams.events import PARTNERS, VISITS
from twinning.streams.store import ArchivedEvent

PARTITIONS = 6
#: The first admin's API token in the benchmark's systems (commands need a staff token).
ADMIN_TOKEN = "twn_bench-" + secrets.token_urlsafe(32)
AS_ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FEED_ENTRIES = 1000
ZONES = ("Asia/Taipei", "Asia/Tokyo", "America/Los_Angeles")


def envelope(event_type: str, aggregate_id: str, payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": event_type,
            "schema_version": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "aggregate_id": aggregate_id,
            "actor": "bench",
            "payload": payload,
        }
    ).encode()


#: The mixed workload: a city's few hundred partners, its officials and venues, and visits.
MIX_TOPICS = (PARTNERS, VISITS)
MIX_PARTNERS = 500
MIX_OFFICIALS = 20
ITEMS_PER_VISIT = 40


def mixed_events(count: int) -> list[tuple[str, str, bytes]]:
    """`count` events as (topic, key, value), each aggregate's in order: partner cities
    registered then updated (a name now and then, which the leaflet and brochure show;
    mostly facts they do not), officials and venues, and visits requested, approved and
    given itineraries whose items are added and then renamed (calendar entries in the
    officials' feeds). About half partner events, half visit events."""
    events: list[tuple[str, str, bytes]] = []
    partners = [str(uuid.uuid4()) for _ in range(MIX_PARTNERS)]
    for n, partner in enumerate(partners):
        payload = {
            "names": {"zh-TW": f"城市{n}", "en": f"City {n}"},
            "country": "JP",
            "kind": "friendly",
            "timezone": "Asia/Tokyo",
        }
        events.append((PARTNERS, partner, envelope("PartnerCityRegistered", partner, payload)))
    officials = [str(uuid.uuid4()) for _ in range(MIX_OFFICIALS)]
    hall = str(uuid.uuid4())
    events.extend(_officials_and_hall(officials, hall))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    visit_events: list[tuple[str, str, bytes]] = []
    partner_updates: list[tuple[str, str, bytes]] = []
    half = max(0, count - len(events)) // 2
    v = 0
    while len(visit_events) < half:
        visit = str(uuid.uuid4())
        visit_events += [
            (VISITS, visit, envelope("VisitRequested", visit, _visit_request(v))),
            (VISITS, visit, envelope("VisitApproved", visit, {})),
        ]
        for n in range(ITEMS_PER_VISIT):
            at = start + timedelta(hours=2 * (v * ITEMS_PER_VISIT + n))
            item = {
                "item_id": f"bench-{v}-{n}",
                "starts_at": at.isoformat(),
                "ends_at": (at + timedelta(hours=1)).isoformat(),
                "official_ids": [officials[(v + n) % MIX_OFFICIALS]],
                "titles": {"zh-TW": f"會議 {n}", "en": f"Meeting {n}"},
                "venue_id": hall,
            }
            visit_events.append((VISITS, visit, envelope("ItineraryItemAdded", visit, item)))
        for n in range(0, ITEMS_PER_VISIT, 2):
            renamed = {"item_id": f"bench-{v}-{n}", "titles": {"en": f"Meeting {n}, moved"}}
            visit_events.append((VISITS, visit, envelope("ItineraryItemChanged", visit, renamed)))
        v += 1
    round_ = 0
    while len(events) + len(visit_events) + len(partner_updates) < count:
        for n, partner in enumerate(partners):
            changes = (
                {"names": {"ja": f"都市{n}-{round_}"}}
                if (n + round_) % 10 == 0
                else {"region": f"r{round_}", "website": f"https://city{n}.example/{round_}"}
            )
            partner_updates.append(
                (PARTNERS, partner, envelope("PartnerCityUpdated", partner, changes))
            )
        round_ += 1
    events += [event for pair in zip(visit_events, partner_updates, strict=False) for event in pair]
    events += visit_events[len(partner_updates) :] + partner_updates[len(visit_events) :]
    return events[:count]


def _officials_and_hall(officials: list[str], hall: str) -> list[tuple[str, str, bytes]]:
    registered = [
        (
            VISITS,
            official,
            envelope(
                "OfficialRegistered",
                official,
                {
                    "names": {"zh-TW": f"官員{n}", "en": f"Official {n}"},
                    "title": {"en": "Deputy Mayor" if n else "Mayor"},
                    "protocol_rank": 1 + n,
                },
            ),
        )
        for n, official in enumerate(officials)
    ]
    venue = {
        "names": {"zh-TW": "市府大禮堂", "en": "City Hall Auditorium"},
        "capacity": 300,
        "timezone": ZONES[0],
    }
    return [*registered, (VISITS, hall, envelope("VenueRegistered", hall, venue))]


def _visit_request(n: int) -> dict[str, Any]:
    return {
        "delegation": {"organisation": {"en": f"Delegation {n}"}},
        "head_of_delegation": {
            "names": {"en": "Head"},
            "title": {"en": "Chair"},
            "protocol_rank": 1,
        },
        "members": 5,
        "purpose": {"en": "Exchange"},
        "requested_from": "2026-01-01",
        "requested_to": "2026-12-31",
    }


def produce(broker: EmbeddedBroker, events: list[tuple[str, str, bytes]]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=20, batch_size=256 * 1024
    )
    for topic, key, value in events:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def raw_consume_rate(broker: EmbeddedBroker, expected: int) -> float:
    """Baseline: a plain kafka-python consumer reading the same topic from the start."""
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    partitions = [TopicPartition(t, p) for t in MIX_TOPICS for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen, start = 0, time.perf_counter()
    while seen < expected:
        for records in consumer.poll(timeout_ms=500, max_records=10000).values():
            seen += len(records)
    elapsed = time.perf_counter() - start
    consumer.close()
    return expected / elapsed


def faust_ceiling_rate(
    broker: EmbeddedBroker, expected: int, data_dir: Path
) -> tuple[float, float]:
    """Baseline: a faust agent that takes the worker's batches and does nothing with them;
    its events per second and its microseconds of CPU per event."""
    finished = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("faust_ceiling.py")),
            broker.bootstrap_servers[0],
            ",".join(MIX_TOPICS),
            str(PARTITIONS),
            str(expected),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=die_with_parent(),
    )
    lines = finished.stdout.splitlines()
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"the faust baseline failed: {finished.stderr[-2000:]}")
    rate, cpu = lines[-1].split()
    return float(rate), float(cpu)


def own_database(server: str | None, workdir: Path) -> str:
    """A new, empty database for one part of the run: a SQLite file in `workdir`, or a new
    database on the PostgreSQL server of `--database-url` (every part starts from nothing)."""
    if server is None:
        return f"sqlite:///{workdir / 'twinning.db'}"
    url = make_url(server)
    name = f"twinning_bench_{workdir.name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    engine = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


class System:
    """A database plus worker processes (and optionally the API) on the shared broker."""

    def __init__(
        self, broker: EmbeddedBroker, workdir: Path, database_url: str | None, group: str
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        url = own_database(database_url, workdir)
        self.settings = Settings(database_url=url, data_dir=workdir, _env_file=None)  # type: ignore[call-arg]
        upgrade(self.settings.sync_database_url)
        self.engine = create_engine(self.settings.sync_database_url)
        self.env = {
            **os.environ,
            "TWINNING_BROKER": ",".join(broker.bootstrap_servers),
            "TWINNING_DATA_DIR": str(workdir),
            "TWINNING_DATABASE_URL": self.settings.sync_database_url.render_as_string(
                hide_password=False
            ),
            "TWINNING_CONSUMER_GROUP": group,
            "TWINNING_TOPIC_PARTITIONS": str(PARTITIONS),
            "TWINNING_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "twinning", *args],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),  # a killed bench leaves no process behind
        )
        self.processes.append(process)
        return process

    def applied(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(ArchivedEvent)) or 0)

    def apply_bounds(self) -> tuple[float, float]:
        """When the first and the last event were applied (Unix time; start-up excluded)."""
        with self.engine.connect() as connection:
            first, last = connection.execute(
                select(func.min(ArchivedEvent.applied_at), func.max(ArchivedEvent.applied_at))
            ).one()
        if isinstance(first, str):  # SQLite returns text
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        return _utc(first).timestamp(), _utc(last).timestamp()

    def wait(
        self, condition: Callable[[], bool], timeout: float, what: str, every: float = 0.1
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not happen within {timeout}s")
            time.sleep(every)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.engine.dispose()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _interpolated(samples: list[tuple[float, float]], at: float) -> float:
    """The value of a series of (time, value) samples at `at`, linearly between the two
    samples around it (the first or last sample outside them)."""
    before = max((s for s in samples if s[0] <= at), default=samples[0])
    after = min((s for s in samples if s[0] >= at), default=samples[-1])
    if after[0] == before[0]:
        return before[1]
    return before[1] + (after[1] - before[1]) * (at - before[0]) / (after[0] - before[0])


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    status = Path(f"/proc/{process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def projection_run(
    broker: EmbeddedBroker,
    root: Path,
    database_url: str | None,
    events: int,
    workers: int,
    name: str,
    *,
    rebuild: bool = False,
) -> dict[str, Any]:
    system = System(broker, root / name, database_url, group=f"bench-{name}")
    try:
        procs = [system.spawn("worker") for _ in range(workers)]
        # The workers' CPU (their own processes: not the rendering process, the broker or
        # the database server) against the clock, to read it at the apply window's ends.
        cpu_at: list[tuple[float, float]] = []

        def all_applied() -> bool:
            """A CPU sample every 20 ms; the database asked every 100 ms, as before (its
            count of a growing archive costs the cores the workers run on)."""
            if ended := [p for p in procs if p.poll() is not None]:
                raise RuntimeError(
                    f"a worker ended with {ended[0].returncode} ({name}): see {system.workdir}"
                )
            cpu_at.append((time.time(), sum(_cpu_s(p.pid) for p in procs)))
            return len(cpu_at) % 5 == 0 and system.applied() >= events

        system.wait(
            all_applied,
            timeout=1800,
            what=f"{events} events applied ({name})",
            every=0.02,
        )
        first, last = system.apply_bounds()
        used = _interpolated(cpu_at, last) - _interpolated(cpu_at, first)
        result: dict[str, Any] = {
            "events": events,
            "workers": workers,
            "events_per_s": round(events / max(last - first, 1e-6)),
            "worker_cpu_us_per_event": round(1e6 * used / events),
        }
        result["worker_peak_rss_mb"] = round(max(peak_rss_mb(p) for p in procs), 1)
        if rebuild:
            system.stop()  # `twinning rebuild` wants the workers stopped
            replay, wall = rebuild_seconds(system)
            # As the projection's figure (from the first event applied to the last), the
            # replay's own time; the command's wall time, its start-up included, beside it.
            result["rebuild_events_per_s"] = round(events / replay)
            result["rebuild_wall_s"] = round(wall, 2)
        return result
    finally:
        system.stop()


def rebuild_seconds(system: System) -> tuple[float, float]:
    """`twinning rebuild` over a system's archive (the worker's batch path, replaying the
    archive a page at a time): the replay's seconds as the command reports them, and the
    command's wall time, its start-up included."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "twinning", "rebuild", "--json"],
        env=system.env,
        cwd=system.workdir,
        capture_output=True,
        timeout=1800,
        check=True,
        preexec_fn=die_with_parent(),
        text=True,
    )
    wall = time.perf_counter() - start
    return float(json.loads(done.stdout)["seconds"]), wall


def feed_events(entries: int) -> tuple[str, list[tuple[str, str, bytes]]]:
    """An official with `entries` itinerary items over visits of 100 items each, in three zones."""
    official, hall = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        (
            VISITS,
            official,
            envelope(
                "OfficialRegistered",
                official,
                {
                    "names": {"zh-TW": "林市長", "en": "Mayor Lin"},
                    "title": {"en": "Mayor"},
                    "protocol_rank": 1,
                },
            ),
        ),
        (
            VISITS,
            hall,
            envelope(
                "VenueRegistered",
                hall,
                {
                    "names": {"zh-TW": "市府大禮堂", "en": "City Hall Auditorium"},
                    "capacity": 300,
                    "timezone": ZONES[0],
                },
            ),
        ),
    ]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for v in range(0, entries, 100):
        visit = str(uuid.uuid4())
        events.append((VISITS, visit, envelope("VisitRequested", visit, _visit_request(v))))
        events.append((VISITS, visit, envelope("VisitApproved", visit, {})))
        for n in range(v, min(v + 100, entries)):
            at = start + timedelta(hours=2 * n)
            where = (
                {"venue_id": hall}
                if n % 3 == 0
                else {
                    "place": {
                        "names": {"en": f"Place {n}", "ja": f"場所{n}"},
                        "timezone": ZONES[n % 3],
                    }
                }
            )
            events.append(
                (
                    VISITS,
                    visit,
                    envelope(
                        "ItineraryItemAdded",
                        visit,
                        {
                            "item_id": f"bench-{official[:8]}-{n}",
                            "starts_at": at.isoformat(),
                            "ends_at": (at + timedelta(hours=1)).isoformat(),
                            "official_ids": [official],
                            "titles": {
                                "zh-TW": f"會議 {n}，討論；合作",
                                "en": f"Meeting {n}, on cooperation; with partners",
                            },
                            "interpreter": "Ms Chen" if n % 2 else True,
                            "notes_shared": "Enter by the east gate",
                            **where,
                        },
                    ),
                )
            )
    return official, events


def sample_rows(entries: int) -> list[EntryRow]:
    """What the feed of `feed_events` holds, as the rendering reads it."""
    start = datetime(2026, 5, 1, tzinfo=UTC)
    rows = []
    for n in range(entries):
        at = start + timedelta(hours=2 * n)
        facts = {
            "title": {
                "zh-TW": f"會議 {n}，討論；合作",
                "en": f"Meeting {n}, on cooperation; with partners",
            },
            "location": {"names": {"en": f"Place {n}", "ja": f"場所{n}"}, "address": None},
            "delegation": {"en": f"Delegation {n // 100}"},
            "officials": [{"zh-TW": "林市長", "en": "Mayor Lin"}],
            "interpreter": "Ms Chen",
            "notes": "Enter by the east gate",
        }
        rows.append(
            EntryRow(
                uid=f"itinerary-bench-{n}@twinning",
                kind="itinerary",
                starts_at=at,
                ends_at=at + timedelta(hours=1),
                timezone=ZONES[n % 3],
                status="confirmed",
                sequence=1,
                created_at=start,
                changed_at=start,
                facts=facts,
            )
        )
    return rows


def cold_render(rows: list[EntryRow], rounds: int = 3) -> dict[str, Any]:
    """Seconds to render the whole feed from its rows: ours (VEVENT text written directly, the
    VTIMEZONE cache emptied) against icalendar's Event.new/Calendar.to_ical for the same texts."""

    def ours() -> bytes:
        ical.render_vtimezone.cache_clear()
        with force_locale("en"):
            events = [
                ical.render_vevent(vevent(row, public=False, cancelled=False)) for row in rows
            ]
        years = {zone: (2025, 2028) for zone in ZONES}
        return ical.render_calendar(
            name="Mayor Lin's calendar", refresh=timedelta(hours=1), events=events, timezones=years
        ).encode()

    def naive() -> bytes:
        calendar = Calendar.new(
            name="Mayor Lin's calendar",
            prodid=ical.PRODID,
            refresh_interval=timedelta(hours=1),
            uid="bench",
        )
        with force_locale("en"):
            for row in rows:
                e = vevent(row, public=False, cancelled=False)
                calendar.add_component(
                    Event.new(
                        uid=e.uid,
                        stamp=e.stamp,
                        last_modified=e.stamp,
                        created=e.created,
                        sequence=e.sequence,
                        start=e.start.astimezone(ZoneInfo(e.timezone)),
                        end=e.end.astimezone(ZoneInfo(e.timezone)),
                        summary=e.summary,
                        location=e.location,
                        description=e.description,
                        categories=list(e.categories),
                        status=e.status.upper(),
                    )
                )  # type: ignore[union-attr]
        calendar.add_missing_timezones()
        return calendar.to_ical()

    timings = {}
    for name, build in (("ours", ours), ("naive", naive)):
        build()  # imports and first-use costs out of the figure
        best = min(_timed(build) for _ in range(rounds))
        timings[name] = best
    return {
        "entries": len(rows),
        "ms": round(1000 * timings["ours"], 1),
        "baseline_icalendar_ms": round(1000 * timings["naive"], 1),
        "ratio": round(timings["naive"] / timings["ours"], 1),
    }


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


#: The HTTP load tool (Debian's `wrk`): one thread, a few keep-alive connections, on loopback.
WRK_THREADS = 1
WRK_CONNECTIONS = 8


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far (/proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str, *, seconds: float, server: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Requests/s of `wrk` against `url` for `seconds`, with the CPU that wrk itself and the
    server process (`server`, a pid) used meanwhile, in percent of one core."""
    command = [
        "wrk",
        f"--threads={WRK_THREADS}",
        f"--connections={WRK_CONNECTIONS}",
        f"--duration={max(1, round(seconds))}s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    server_before = _cpu_s(server)
    start = time.perf_counter()
    wrk = subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)
    output = wrk.stdout.read() if wrk.stdout else ""
    _, status, usage = os.wait4(wrk.pid, 0)
    elapsed = time.perf_counter() - start
    wrk.returncode = os.waitstatus_to_exitcode(status)
    server_cpu = _cpu_s(server) - server_before
    if wrk.returncode != 0 or "Requests/sec:" not in output:
        raise RuntimeError(f"wrk failed ({wrk.returncode}): {output}")
    lines = [line.strip() for line in output.splitlines()]
    non_2xx = sum(
        int(line.split(":")[1]) for line in lines if line.startswith("Non-2xx or 3xx responses:")
    )
    socket_errors = sum(
        int(word.rstrip(","))
        for line in lines
        if line.startswith("Socket errors:")
        for word in line.split(":")[1].split()
        if word.rstrip(",").isdigit()
    )
    latency = {
        f"latency_p{line.split()[0].rstrip('%')}_ms": _ms(line.split()[1])
        for line in output.split("Latency Distribution")[-1].splitlines()[1:]
        if line.strip().startswith(("50%", "99%"))
    }
    return {
        "tool": f"wrk, {WRK_THREADS} thread, {WRK_CONNECTIONS} connections",
        "seconds": round(elapsed, 2),
        "requests": int(output.split(" requests in ")[0].split()[-1]),
        "requests_per_s": round(float(output.split("Requests/sec:")[1].split()[0])),
        "non_2xx_3xx": non_2xx,
        "socket_errors": socket_errors,
        **latency,
        "load_tool_cpu_percent": round(100 * (usage.ru_utime + usage.ru_stime) / elapsed, 1),
        "api_cpu_percent": round(100 * server_cpu / elapsed, 1),
    }


def _ms(text: str) -> float:
    """A wrk duration (`812.00us`, `1.20ms`, `2.01s`) in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 3)
    return float(text)


def _rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Resident memory of a running process now (VmRSS), in MB."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return round(int(line.split()[1]) / 1024, 1)


def feeds(
    broker: EmbeddedBroker,
    root: Path,
    database_url: str | None,
    samples: int,
    load_seconds: float,
) -> dict[str, Any]:
    """An official's 1,000-entry feed through one API process and the worker: the first
    request, `wrk` on the unchanged feed and on 304 answers, and freshness from a command's
    202 to the change in the feed; then a second run (another official's feed, the same
    loads), and the processes' memory after each."""
    system = System(broker, root / "feeds", database_url, group="bench-feeds")
    port = free_port()
    try:
        api = system.spawn("api", "--port", str(port), "--with-relay")
        worker = system.spawn("worker")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=AS_ADMIN)
        system.wait(lambda: _answers(client), timeout=60, what="the API to answer")
        runs: list[dict[str, Any]] = []
        for run in (1, 2):
            official, events = feed_events(FEED_ENTRIES)
            produce(broker, events)
            expected = run * FEED_ENTRIES
            system.wait(
                lambda expected=expected: _entries(system) >= expected,  # type: ignore[misc]
                timeout=600,
                what=f"{expected} calendar entries",
            )
            link = client.post(
                "/feed-links",
                json={"audience": {"kind": "official", "official_id": official}, "language": "en"},
            ).json()
            url = link["url"]
            start = time.perf_counter()
            first = httpx.get(url, timeout=30)
            cold_ms = 1000 * (time.perf_counter() - start)
            etag = first.headers["etag"]
            assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
            figures: dict[str, Any] = {
                "entries": first.text.count("BEGIN:VEVENT"),
                "bytes": len(first.content),
                "first_request_ms": round(cold_ms, 1),
                "warm": load(url, seconds=load_seconds, server=api.pid),
                "not_modified": load(
                    url, seconds=load_seconds, server=api.pid, headers={"If-None-Match": etag}
                ),
            }
            if run == 1:
                figures["freshness"] = freshness(client, url, official, samples)
            figures["api_rss_mb"], figures["worker_rss_mb"] = _rss_mb(api), _rss_mb(worker)
            runs.append(figures)
        client.close()
        one, two = runs
        return {
            "feed": {
                **{key: one[key] for key in ("entries", "bytes", "first_request_ms")},
                "warm": one["warm"],
                "not_modified": one["not_modified"],
                "second_run": {"warm": two["warm"], "not_modified": two["not_modified"]},
            },
            "freshness": {
                **one["freshness"],
                "api_peak_rss_mb": round(peak_rss_mb(api), 1),
                "worker_peak_rss_mb": round(peak_rss_mb(worker), 1),
            },
            "memory": {
                "api_rss_mb_run_1": one["api_rss_mb"],
                "api_rss_mb_run_2": two["api_rss_mb"],
                "api_growth_mb": round(two["api_rss_mb"] - one["api_rss_mb"], 1),
                "feeds_worker_rss_mb_run_1": one["worker_rss_mb"],
                "feeds_worker_rss_mb_run_2": two["worker_rss_mb"],
                "feeds_worker_growth_mb": round(two["worker_rss_mb"] - one["worker_rss_mb"], 1),
            },
        }
    finally:
        system.stop()


def _entries(system: System) -> int:
    with system.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(CalendarEntry)) or 0)


def freshness(client: httpx.Client, url: str, official: str, samples: int) -> dict[str, Any]:
    """From the 202 of renaming an itinerary item to the new title in the official's feed.

    The feed is polled as calendar clients poll it, with its ETag: 304 until it changes, then
    the new body. (Fetching the whole feed in a tight loop would load the two cores that the
    API and the worker share, and measure the poller.)"""
    visits = client.get("/visits", params={"limit": 1}).json()
    visit = visits[0]["id"]
    item = client.get(f"/visits/{visit}/itinerary").json()[0]["id"]
    feed = httpx.Client(timeout=30)
    etag = feed.get(url).headers["etag"]
    visible, round_trips = [], []
    for n in range(samples):
        start = time.perf_counter()
        assert feed.get(url, headers={"If-None-Match": etag}).status_code == 304
        round_trips.append(time.perf_counter() - start)
        marker = f"Renamed {n} {uuid.uuid4().hex[:6]}"
        accepted = client.patch(
            f"/visits/{visit}/itinerary/{item}", json={"titles": {"en": marker}}
        )
        start = time.perf_counter()  # the office has its 202: from here on, it waits
        assert accepted.status_code == 202, accepted.text
        while True:
            answer = feed.get(url, headers={"If-None-Match": etag})
            if answer.status_code == 200:
                etag = answer.headers["etag"]
                if marker in answer.text:
                    break
        visible.append(time.perf_counter() - start)
    feed.close()
    return {
        "samples": samples,
        "p50_ms": round(1000 * statistics.median(visible), 1),
        "p99_ms": round(1000 * statistics.quantiles(visible, n=100)[98], 1),
        "max_ms": round(1000 * max(visible), 1),
        "baseline_304_p50_ms": round(1000 * statistics.median(round_trips), 2),
    }


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


# --- start-up ------------------------------------------------------------------------------

#: The first command of the start-up run: a partner city registered.
FIRST_PARTNER = {
    "names": {"zh-TW": "測試市", "en": "Testville"},
    "country": "JP",
    "kind": "sister",
    "timezone": "Asia/Tokyo",
}


def _up(workdir: Path, *options: str) -> tuple[subprocess.Popen[str], int]:
    """`twinning up` as a user starts it (no TWINNING_ setting of this environment but the
    first admin's token), on a free port with its data in a new directory under `workdir`."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINNING_")}
    env["TWINNING_BOOTSTRAP_TOKEN"] = ADMIN_TOKEN
    workdir.mkdir(parents=True)
    data_dir = str(workdir / "data")
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twinning",
            "up",
            *options,
            "--port",
            str(port),
            "--data-dir",
            data_dir,
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )
    return up, port


def _stop_up(up: subprocess.Popen[str]) -> None:
    up.send_signal(signal.SIGINT)
    try:
        up.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        up.kill()
        up.communicate()


def startup(root: Path) -> dict[str, Any]:
    """From `twinning up` on a new data directory to the API answering and to the first
    command applied (a partner city registered, then readable through the API); and from
    `twinning up --demo` to its "twinning is up." (every demo record applied by then)."""
    up, port = _up(root / "startup")
    start = time.perf_counter()
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=10, headers=AS_ADMIN
        ) as client:
            _until(lambda: _answers(client), 60, "the API of `twinning up` to answer")
            answers = time.perf_counter() - start
            accepted = client.post("/partners", json=FIRST_PARTNER)
            assert accepted.status_code == 202, accepted.text
            partner = accepted.json()["id"]
            _until(
                lambda: client.get(f"/partners/{partner}").status_code == 200,
                60,
                "the first command to be applied",
            )
            applied = time.perf_counter() - start
    finally:
        _stop_up(up)
    up, _ = _up(root / "startup-demo", "--demo")
    start = time.perf_counter()
    demo_loaded = None
    try:
        assert up.stdout is not None
        for line in up.stdout:
            if line.strip() == "twinning is up.":
                demo_loaded = time.perf_counter() - start
                break
    finally:
        _stop_up(up)
    if demo_loaded is None:
        raise RuntimeError("`twinning up --demo` ended before it was up")
    return {
        "api_answers_s": round(answers, 2),
        "first_applied_s": round(applied, 2),
        "demo_loaded_s": round(demo_loaded, 2),
    }


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)


# --- leaflets ------------------------------------------------------------------------------

LEAFLET_PARTNERS = [
    ({"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"}, "JP", "Asia/Tokyo", (43.06, 141.35)),
    (
        {"zh-TW": "釜山廣域市", "en": "Busan", "ko": "부산광역시"},
        "KR",
        "Asia/Seoul",
        (35.18, 129.08),
    ),
    ({"zh-TW": "奧斯汀市", "en": "Austin"}, "US", "America/Chicago", (30.27, -97.74)),
    (
        {"zh-TW": "瓦倫西亞", "en": "Valencia", "es": "Valencia"},
        "ES",
        "Europe/Madrid",
        (39.47, -0.38),
    ),
    ({"zh-TW": "宿霧市", "en": "Cebu City"}, "PH", "Asia/Manila", (10.32, 123.89)),
    ({"zh-TW": "伯斯", "en": "Perth"}, "AU", "Australia/Perth", (-31.95, 115.86)),
    ({"zh-TW": "大阪市", "en": "Osaka", "ja": "大阪市"}, "JP", "Asia/Tokyo", (34.69, 135.50)),
    (
        {"zh-TW": "仁川廣域市", "en": "Incheon", "ko": "인천광역시"},
        "KR",
        "Asia/Seoul",
        (37.46, 126.71),
    ),
]
SUMMARIES = [
    {
        "zh-TW": "青年交流營",
        "en": "Youth exchange camp",
        "ja": "青少年交流キャンプ",
        "ko": "청소년 교류 캠프",
        "es": "Campamento juvenil",
    },
    {
        "zh-TW": "智慧城市論壇",
        "en": "Smart-city forum",
        "ja": "スマートシティ・フォーラム",
        "ko": "스마트시티 포럼",
        "es": "Foro de ciudad inteligente",
    },
    {
        "zh-TW": "藝術節共同演出",
        "en": "Joint arts festival show",
        "ja": "芸術祭の共同公演",
        "ko": "예술제 공동 공연",
        "es": "Espectáculo conjunto",
    },
]


def leaflet_history(exchanges: int) -> list[Any]:
    """Partners in four scripts, `exchanges` exchanges over five years, two coming events."""
    from twinning.streams.events import (
        CityEventScheduled,
        ExchangeRecorded,
        PartnerCityRegistered,
        new_event,
    )

    events, ids = [], []
    for names, country, zone, (lat, lon) in LEAFLET_PARTNERS:
        payload = PartnerCityRegistered.model_validate(
            {
                "names": names,
                "country": country,
                "kind": "sister",
                "timezone": zone,
                "agreement_date": "2012-06-01",
                "location": {"latitude": lat, "longitude": lon},
            }
        )
        events.append(new_event(payload, aggregate_id=str(uuid.uuid4()), actor="bench"))
        ids.append(events[-1].aggregate_id)
    fields = ["education", "culture", "sports", "tourism", "technology", "youth"]
    for n in range(exchanges):
        payload = ExchangeRecorded.model_validate(
            {
                "partner_ids": [ids[n % len(ids)]],
                "date": f"{2021 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "field": fields[n % len(fields)],
                "direction": "inbound",
                "summary": SUMMARIES[n % len(SUMMARIES)],
            }
        )
        events.append(new_event(payload, aggregate_id=str(uuid.uuid4()), actor="bench"))
    start = datetime.now(UTC) + timedelta(days=30)
    for n, title in enumerate(
        ({"zh-TW": "國際燈會", "en": "Lantern Festival"}, {"zh-TW": "城市論壇", "en": "City Forum"})
    ):
        payload = CityEventScheduled.model_validate(
            {
                "kind": "festival",
                "title": title,
                "starts_at": start + timedelta(days=n),
                "ends_at": start + timedelta(days=n, hours=3),
                "timezone": "Asia/Taipei",
            }
        )
        events.append(new_event(payload, aggregate_id=str(uuid.uuid4()), actor="bench"))
    return events


def _apply(settings: Settings, events: list[Any]) -> None:
    import asyncio

    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.streams.projection import EventProcessor, Message
    from twinning.streams.registry import PROJECTORS

    async def run() -> None:
        engine = make_async_engine(settings.async_database_url)

        async def sink(record: Any) -> None:
            raise RuntimeError(record.reason)

        processor = EventProcessor(
            async_sessionmaker(engine, expire_on_commit=False), PROJECTORS, sink
        )
        await processor.process_batch(
            [Message(e.envelope.to_bytes(), e.event_type.topic) for e in events]
        )
        await engine.dispose()

    asyncio.run(run())


def _refresh(settings: Settings, render: Callable[..., Any] | None = None) -> tuple[float, Any]:
    import asyncio

    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.publicity.refresh import Refresher

    async def run() -> Any:
        engine = make_async_engine(settings.async_database_url)
        options = {"render": render} if render is not None else {}
        report = await Refresher(
            async_sessionmaker(engine, expire_on_commit=False), settings, **options
        ).refresh()
        await engine.dispose()
        return report

    start = time.perf_counter()
    report = asyncio.run(run())
    return time.perf_counter() - start, report


def _gather_leaflets(settings: Settings) -> dict[str, Any]:
    import asyncio

    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.i18n import supported_locales
    from twinning.publicity.refresh import gather

    async def run() -> dict[str, Any]:
        engine = make_async_engine(settings.async_database_url)
        async with async_sessionmaker(engine)() as session:
            found = {
                locale: await gather(
                    session,
                    document="leaflet",
                    locale=locale,
                    now=datetime.now(UTC),
                    settings=settings,
                )
                for locale in supported_locales()
            }
        await engine.dispose()
        return found

    return asyncio.run(run())


def leaflets(
    root: Path, database_url: str | None, exchanges: int, naive_locales: int | None = None
) -> dict[str, Any]:
    """The leaflet in every locale: HTML; PDF with twinning's subset fonts (cold, then warm
    font cache) against a naive WeasyPrint render of the same HTML; what an exchange costs;
    and what an event that changes nothing shown costs (expected: no render)."""
    from twinning.publicity import fonts
    from twinning.publicity.render import render_html, render_pdf, subset_cache
    from twinning.streams.events import (
        ContactRegistered,
        ExchangeRecorded,
        PartnerCityUpdated,
        new_event,
    )
    from weasyprint import HTML

    workdir = root / "leaflets"
    workdir.mkdir()
    settings = Settings(
        database_url=own_database(database_url, workdir),
        data_dir=workdir,
        _env_file=None,
    )  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    history = leaflet_history(exchanges)
    _apply(settings, history)
    contents = _gather_leaflets(settings)
    locales = list(contents)

    start = time.perf_counter()
    pages = {locale: render_html(content) for locale, content in contents.items()}
    html_all = time.perf_counter() - start

    def naive_pdf(html: str) -> bytes:
        """What WeasyPrint does on its own with the same page: system fonts, its own subsetting."""
        return HTML(string=html).write_pdf()  # type: ignore[no-any-return]

    fonts._MEMORY.clear()
    cold_cache = subset_cache(str(workdir / "fonts-cold"))
    cold = {
        locale: _timed(partial(render_pdf, pages[locale], locale, cold_cache)) for locale in locales
    }
    warm = {
        locale: _timed(partial(render_pdf, pages[locale], locale, cold_cache)) for locale in locales
    }
    # The naive baseline (10 s a locale where WeasyPrint subsets with fontTools, under 1 s with
    # the system's HarfBuzz subsetter): `--quick` measures it in the first locale only.
    naive = {
        locale: _timed(partial(naive_pdf, pages[locale])) for locale in locales[:naive_locales]
    }

    # One more exchange: new characters in the text, so the regular face needs a new subset.
    first_partner = history[0].aggregate_id
    recorded = ExchangeRecorded.model_validate(
        {
            "partner_ids": [first_partner],
            "date": "2026-01-05",
            "field": "health",
            "direction": "outbound",
            "summary": {
                "zh-TW": "醫療器材展覽與研討",
                "en": "Medical devices fair",
                "ja": "医療機器展示会",
                "ko": "의료기기 박람회",
                "es": "Feria de dispositivos médicos",
            },
        }
    )
    _refresh(settings, render=lambda document, font_dir: ("", b""))  # publish the history first
    _apply(settings, [new_event(recorded, aggregate_id=str(uuid.uuid4()), actor="bench")])
    changed_contents = _gather_leaflets(settings)
    changed = {
        locale: _timed(
            partial(render_pdf, render_html(changed_contents[locale]), locale, cold_cache)
        )
        for locale in locales
    }

    renders: list[Any] = []

    def counting(document: Any, font_dir: str | None) -> tuple[str, bytes]:
        renders.append(document)
        return "", b""

    contact = ContactRegistered.model_validate(
        {"partner_id": first_partner, "name": "A. Person", "email": "a.person@example.org"}
    )
    languages = PartnerCityUpdated(languages=["ja"])
    same_name = PartnerCityUpdated.model_validate({"names": LEAFLET_PARTNERS[0][0]})
    unseen = [
        new_event(contact, aggregate_id=str(uuid.uuid4()), actor="bench"),
        new_event(languages, aggregate_id=first_partner, actor="bench"),
    ]
    _refresh(settings, render=counting)  # the exchange above is published: start from rest
    renders.clear()
    apply_start = time.perf_counter()
    _apply(settings, unseen)
    unseen_apply = time.perf_counter() - apply_start
    unseen_check, unseen_report = _refresh(settings, render=counting)
    _apply(settings, [new_event(same_name, aggregate_id=first_partner, actor="bench")])
    restated_check, restated_report = _refresh(settings, render=counting)

    def summary(times: dict[str, float]) -> dict[str, float]:
        return {locale: round(seconds, 3) for locale, seconds in times.items()}

    return {
        "exchanges": exchanges,
        "partners": len(LEAFLET_PARTNERS),
        "html_all_locales_s": round(html_all, 3),
        "pdf_cold_fonts_s": summary(cold),
        "pdf_warm_fonts_s": summary(warm),
        "pdf_after_an_exchange_s": summary(changed),
        "naive_weasyprint_s": summary(naive),
        "pdf_warm_max_s": round(max(warm.values()), 3),
        "pdf_after_an_exchange_max_s": round(max(changed.values()), 3),
        "naive_max_s": round(max(naive.values()), 3),
        "ratio_naive_to_warm": round(
            sum(naive.values()) / sum(warm[locale] for locale in naive), 1
        ),
        "font_subsets_cut": cold_cache.cuts,
        "event_changing_nothing": {
            "events": "ContactRegistered, PartnerCityUpdated(languages)",
            "apply_s": round(unseen_apply, 4),
            "documents_checked": len(unseen_report.checked),
            "renders": len(unseen_report.rendered),
        },
        "restated_partner_name": {
            "documents_checked": len(restated_report.checked),
            "renders": len(restated_report.rendered),
            "check_s": round(restated_check, 3),
        },
        "nothing_due_check_s": round(unseen_check, 3),
    }


#: The renderer's order before issue 20, item 8: the leaflet first at every look, then the
#: rest by when they were marked. The brochure section's baseline runs a worker with it.
LEAFLET_FIRST_WORKER = """
import sys
from sqlalchemy import case, select
from twinning.cli import main
from twinning.publicity import refresh
from twinning.publicity.models import LEAFLET, PublicityDocument as D

async def leaflet_first(self, now, limit):
    query = (
        select(D.document, D.locale)
        .where(refresh._is_due(now), refresh._unclaimed(now))
        .order_by(case((D.document == LEAFLET, 0), else_=1), D.marked_at, D.document, D.locale)
        .limit(limit)
    )
    async with self.sessions() as session:
        return [tuple(row) for row in (await session.execute(query)).all()]

refresh.Refresher._due = leaflet_first
sys.argv = ["twinning", "worker"]
main()
"""


def brochure_burst(
    root: Path, database_url: str | None, partners: int, rate: float, leaflet_first: bool
) -> dict[str, Any]:
    """`partners` partner cities registered at `rate` a second on a running worker (its own
    broker and database), each registration marking its brochure and the leaflet stale; waits
    until every brochure is rendered in every locale. Per partner: from the registration
    (the event's time) to its brochure's first version in its last locale (the worker's
    clock; one machine)."""
    from twinning.i18n import supported_locales
    from twinning.publicity.models import LEAFLET, PublicityVersion, brochure

    name = "brochures-leaflet-first" if leaflet_first else "brochures"
    with EmbeddedBroker(data_dir=root / f"{name}-broker", partitions=PARTITIONS) as broker:
        system = System(broker, root / name, database_url, group=f"bench-{name}")
        try:
            if leaflet_first:
                log = open(system.workdir / "worker-leaflet-first.log", "wb")  # noqa: SIM115
                system.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", LEAFLET_FIRST_WORKER],
                        env=system.env,
                        cwd=system.workdir,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=die_with_parent(),
                    )
                )
            else:
                system.spawn("worker")
            producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
            # The worker is up when it has projected (and rendered) a first partner.
            warm_up = str(uuid.uuid4())
            payload = {"names": {"en": "Warm-up"}, "country": "JP", "kind": "friendly"}
            payload["timezone"] = "Asia/Tokyo"
            producer.send(
                PARTNERS,
                key=warm_up.encode(),
                value=envelope("PartnerCityRegistered", warm_up, payload),
            )
            producer.flush()
            locales = len(supported_locales())

            def versions(document: str) -> int:
                """Versions of `document`; of every brochure if it is the prefix "brochure:"."""
                query = select(func.count()).select_from(PublicityVersion)
                if document == brochure(""):
                    query = query.where(PublicityVersion.document.startswith(document))
                else:
                    query = query.where(PublicityVersion.document == document)
                with system.engine.connect() as connection:
                    return int(connection.scalar(query) or 0)

            system.wait(
                lambda: versions(brochure(warm_up)) >= locales,
                timeout=600,
                what="the worker to render a first brochure",
            )
            leaflets_before = versions(LEAFLET)
            ids = [str(uuid.uuid4()) for _ in range(partners)]
            start = time.monotonic()
            for n, partner in enumerate(ids):
                time.sleep(max(0.0, start + n / rate - time.monotonic()))
                payload = {
                    "names": {"zh-TW": f"城市{n}", "en": f"City {n}"},
                    "country": "JP",
                    "kind": "friendly",
                    "timezone": "Asia/Tokyo",
                }
                producer.send(
                    PARTNERS,
                    key=partner.encode(),
                    value=envelope("PartnerCityRegistered", partner, payload),
                )
                producer.flush()
            burst_s = time.monotonic() - start
            producer.close()
            system.wait(
                lambda: versions(brochure("")) >= (partners + 1) * locales,
                timeout=max(600, 30 * partners * locales),
                what=f"{partners} brochures in every locale ({name})",
            )
            all_done_s = time.monotonic() - start
            with system.engine.connect() as connection:
                registered = {
                    row.aggregate_id: _instant(row.occurred_at)
                    for row in connection.execute(
                        select(ArchivedEvent.aggregate_id, ArchivedEvent.occurred_at).where(
                            ArchivedEvent.aggregate_id.in_(ids)
                        )
                    )
                }
                rendered = {
                    row.document: _instant(row.last)
                    for row in connection.execute(
                        select(
                            PublicityVersion.document,
                            func.max(PublicityVersion.created_at).label("last"),
                        )
                        .where(
                            PublicityVersion.document.in_([brochure(p) for p in ids]),
                            PublicityVersion.number == 1,
                        )
                        .group_by(PublicityVersion.document)
                    )
                }
                # Every render since the burst began, in order: what each brochure waited for.
                renders = [
                    (row.document, _instant(row.created_at))
                    for row in connection.execute(
                        select(PublicityVersion.document, PublicityVersion.created_at)
                        .where(PublicityVersion.created_at >= min(registered.values()))
                        .order_by(PublicityVersion.created_at)
                    )
                ]
            waits = sorted((rendered[brochure(p)] - registered[p]).total_seconds() for p in ids)
            ahead = sorted(
                sum(
                    1
                    for document, at in renders
                    if registered[p] < at <= rendered[brochure(p)] and document != brochure(p)
                )
                for p in ids
            )
            leaflet_renders = (versions(LEAFLET) - leaflets_before) / locales
        finally:
            system.stop()
    return {
        "partners": partners,
        "rate_per_s": rate,
        "burst_s": round(burst_s, 1),
        "all_brochures_s": round(all_done_s, 1),
        "registration_to_brochure_p50_s": round(statistics.median(waits), 1),
        "registration_to_brochure_p99_s": round(_percentile(waits, 99), 1),
        "registration_to_brochure_max_s": round(waits[-1], 1),
        "leaflet_renders_per_locale": round(leaflet_renders, 1),
        # Renders of other documents between a registration and its brochure: the same figure
        # in renders instead of seconds, which the machine's speed does not move.
        "renders_ahead_p50": statistics.median(ahead),
        "renders_ahead_max": ahead[-1],
    }


def _instant(value: Any) -> datetime:
    """A timestamp read with plain SQL: text on SQLite, an aware datetime on PostgreSQL."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _percentile(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return values[-1]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def brochures(root: Path, database_url: str | None, partners: int, rate: float) -> dict[str, Any]:
    ours = brochure_burst(root, database_url, partners, rate, leaflet_first=False)
    baseline = brochure_burst(root, database_url, partners, rate, leaflet_first=True)
    return {**ours, "baseline_leaflet_first": baseline}


def _brochure_table(b: dict[str, Any]) -> str:
    base = b["baseline_leaflet_first"]
    rows = [
        (
            f"registration to brochure p50 / p99 / max, s ({b['partners']} at {b['rate_per_s']}/s)",
            f"{b['registration_to_brochure_p50_s']} / {b['registration_to_brochure_p99_s']}"
            f" / {b['registration_to_brochure_max_s']}",
            f"leaflet first {base['registration_to_brochure_p50_s']} / "
            f"{base['registration_to_brochure_p99_s']} / {base['registration_to_brochure_max_s']}",
        ),
        (
            "other renders before its brochure, p50 / max",
            f"{b['renders_ahead_p50']} / {b['renders_ahead_max']}",
            f"leaflet first {base['renders_ahead_p50']} / {base['renders_ahead_max']}",
        ),
        (
            "leaflet renders per locale during the burst",
            f"{b['leaflet_renders_per_locale']}",
            f"leaflet first {base['leaflet_renders_per_locale']}",
        ),
        (
            "every brochure rendered after, s",
            f"{b['all_brochures_s']}",
            f"leaflet first {base['all_brochures_s']}",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:>18}  {r[2]}" for r in rows)


# --- briefing books ----------------------------------------------------------------------------


def briefing_history(items: int) -> tuple[str, list[Any]]:
    """A partner city with exchanges, three officials, a venue, and a scheduled visit whose
    programme has `items` items over three days, each with talking points."""
    from twinning.streams.events import (
        ExchangeRecorded,
        ItineraryItemAdded,
        OfficialRegistered,
        PartnerCityRegistered,
        VenueRegistered,
        VisitApproved,
        VisitRequested,
        VisitScheduled,
        new_event,
    )

    def event(payload: Any, aggregate_id: str | None = None) -> Any:
        return new_event(payload, aggregate_id=aggregate_id or str(uuid.uuid4()), actor="bench")

    partner = event(
        PartnerCityRegistered.model_validate(
            {
                "names": {"zh-TW": "札幌市", "en": "Sapporo", "ja": "札幌市"},
                "country": "JP",
                "kind": "sister",
                "timezone": "Asia/Tokyo",
                "agreement_date": "2011-05-20",
                "agreement_scope": "Culture, tourism and winter sports",
            }
        )
    )
    officials = [
        event(
            OfficialRegistered.model_validate(
                {
                    "names": {"zh-TW": f"官員{n}", "en": f"Official {n}"},
                    "title": {"zh-TW": "副市長", "en": "Deputy Mayor"},
                    "protocol_rank": n,
                }
            )
        )
        for n in (1, 2, 3)
    ]
    hall = event(
        VenueRegistered.model_validate(
            {
                "names": {"zh-TW": "市府大禮堂", "en": "City Hall"},
                "capacity": 300,
                "timezone": "Asia/Taipei",
            }
        )
    )
    exchanges = [
        event(
            ExchangeRecorded.model_validate(
                {
                    "partner_ids": [partner.aggregate_id],
                    "date": f"{2012 + n}-06-01",
                    "field": "culture",
                    "direction": "inbound",
                    "summary": {"zh-TW": f"文化交流第{n}次", "en": f"Cultural exchange {n}"},
                }
            )
        )
        for n in range(12)
    ]
    visit_id = str(uuid.uuid4())
    requested = VisitRequested.model_validate(
        {
            "delegation": {"partner_id": partner.aggregate_id},
            "head_of_delegation": {
                "names": {"en": "Katsuhiro Akimoto"},
                "title": {"en": "Mayor of Sapporo"},
                "protocol_rank": 1,
            },
            "members": 12,
            "purpose": {"en": "Snow festival cooperation", "zh-TW": "雪祭合作"},
            "requested_from": "2026-05-01",
            "requested_to": "2026-05-03",
            "languages": ["en"],
            "dietary_notes": "Two vegetarians",
            "contact": {"name": "Hanako Sato", "email": "sato@example.jp"},
            "talking_points": "Thank Sapporo for the snow sculptures",
        }
    )
    programme = [
        event(
            ItineraryItemAdded.model_validate(
                {
                    "item_id": str(uuid.uuid4()),
                    "starts_at": f"2026-05-0{1 + n % 3}T{8 + n // 3:02d}:00:00+08:00",
                    "ends_at": f"2026-05-0{1 + n % 3}T{8 + n // 3:02d}:50:00+08:00",
                    "venue_id": hall.aggregate_id,
                    "official_ids": [o.aggregate_id for o in officials[: 1 + n % 3]],
                    "titles": {"zh-TW": f"行程{n}", "en": f"Programme item {n}"},
                    "interpreter": "Chen Yu-ting",
                    "gift_exchange": "Hakka fan" if n == 0 else None,
                    "talking_points": f"Point {n}: raise the direct flight",
                }
            ),
            visit_id,
        )
        for n in range(items)
    ]
    steps = [event(requested, visit_id), event(VisitApproved(), visit_id), *programme]
    history = [partner, *officials, hall, *exchanges, *steps, event(VisitScheduled(), visit_id)]
    return visit_id, history


def briefing(root: Path, database_url: str | None, items: int) -> dict[str, Any]:
    """A visit's briefing book (zh-TW) and delegation programme (en): gathered, as HTML, and as
    PDF with twinning's subset fonts (cold, then warm) against a naive WeasyPrint render."""
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.publicity import briefing as content
    from twinning.publicity import fonts
    from twinning.publicity.render import render_html, render_pdf, subset_cache
    from weasyprint import HTML

    workdir = root / "briefing"
    workdir.mkdir()
    settings = Settings(
        database_url=own_database(database_url, workdir), data_dir=workdir, _env_file=None
    )  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    visit_id, history = briefing_history(items)
    _apply(settings, history)

    async def gathered() -> tuple[dict[str, Any], float]:
        engine = make_async_engine(settings.async_database_url)
        try:
            async with async_sessionmaker(engine)() as session:
                start = time.perf_counter()
                documents = {
                    "book_zh-TW": await content.gather(
                        session,
                        document=content.briefing_book(visit_id),
                        locale="zh-TW",
                        settings=settings,
                    ),
                    "programme_en": await content.gather(
                        session,
                        document=content.delegation_programme(visit_id),
                        locale="en",
                        settings=settings,
                    ),
                }
                return documents, time.perf_counter() - start
        finally:
            await engine.dispose()

    import asyncio

    documents, gather_s = asyncio.run(gathered())
    fonts._MEMORY.clear()
    cache = subset_cache(str(workdir / "fonts"))
    figures: dict[str, Any] = {"items": items, "gather_both_s": round(gather_s, 4)}
    for name, document in documents.items():
        assert document is not None, name
        html_s = _timed(partial(render_html, document))
        page = render_html(document)
        cold = _timed(partial(render_pdf, page, document.locale, cache))
        warm = _timed(partial(render_pdf, page, document.locale, cache))
        naive = _timed(partial(lambda html: HTML(string=html).write_pdf(), page))
        figures[name] = {
            "html_s": round(html_s, 4),
            "pdf_cold_fonts_s": round(cold, 3),
            "pdf_warm_fonts_s": round(warm, 3),
            "naive_weasyprint_s": round(naive, 3),
            "ratio_naive_to_warm": round(naive / warm, 1),
        }
    return figures


def _briefing_table(figures: dict[str, Any]) -> str:
    lines = [
        f"briefing documents ({figures['items']} programme items; gathered both in "
        f"{figures['gather_both_s']} s)"
    ]
    for name in ("book_zh-TW", "programme_en"):
        f = figures[name]
        lines.append(
            f"  {name:<14} html {f['html_s']} s · pdf cold {f['pdf_cold_fonts_s']} s, warm "
            f"{f['pdf_warm_fonts_s']} s · naive WeasyPrint {f['naive_weasyprint_s']} s "
            f"(x{f['ratio_naive_to_warm']})"
        )
    return "\n".join(lines)


# --- the progress report and the briefing book per locale ------------------------------------


def document_renders(root: Path, database_url: str | None, items: int) -> dict[str, Any]:
    """The year's progress report (the demo's 2024 plan, its KPIs counted from 200 exchanges
    and 8 agreements) and a briefing book (`items` programme items), each as PDF in zh-TW and
    in en with twinning's subset fonts (cold, then warm): what the publicity consumer renders
    for a new version. Self-contained: its own database, history and font cache."""
    import asyncio

    from sqlalchemy.ext.asyncio import async_sessionmaker
    from twinning.db import make_async_engine
    from twinning.demo import demo_plans
    from twinning.plans import documents as reports
    from twinning.publicity import briefing as books
    from twinning.publicity import fonts
    from twinning.publicity.render import render_html, render_pdf, subset_cache
    from twinning.streams.events import PlanAdopted, new_event

    workdir = root / "documents"
    workdir.mkdir()
    settings = Settings(
        database_url=own_database(database_url, workdir), data_dir=workdir, _env_file=None
    )  # type: ignore[call-arg]
    upgrade(settings.sync_database_url)
    plan = next(p for p in demo_plans(datetime.now(UTC).date())[0] if p["year"] == 2024)
    adopted = new_event(PlanAdopted.model_validate(plan), aggregate_id="2024", actor="bench")
    visit_id, book_history = briefing_history(items)
    _apply(settings, [adopted, *leaflet_history(200), *book_history])
    # The book comes in the office's language and in each attending official's feed language.
    official = next(
        e.aggregate_id for e in book_history if type(e.payload).__name__ == "OfficialRegistered"
    )
    engine = create_engine(settings.sync_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO calendar_feed_links (id, audience, language, token_hash,"
                " token_prefix, created_at, created_by) VALUES (:id, :audience, 'en', :hash,"
                " 'bench', :now, 'bench')"
            ),
            {"id": str(uuid.uuid4()), "audience": f"official:{official}",
             "hash": secrets.token_hex(32), "now": datetime.now(UTC)},
        )  # fmt: skip
    engine.dispose()

    async def gathered() -> dict[str, Any]:
        engine = make_async_engine(settings.async_database_url)
        found: dict[str, Any] = {}
        try:
            async with async_sessionmaker(engine)() as session:
                for locale in ("zh-TW", "en"):
                    found[f"report_{locale}"] = await reports.gather(
                        session,
                        document=reports.report_document("2024", "year"),
                        locale=locale,
                        now=datetime.now(UTC),
                        settings=settings,
                    )
                    found[f"briefing_book_{locale}"] = await books.gather(
                        session,
                        document=books.briefing_book(visit_id),
                        locale=locale,
                        settings=settings,
                    )
        finally:
            await engine.dispose()
        return found

    contents = asyncio.run(gathered())
    fonts._MEMORY.clear()
    cache = subset_cache(str(workdir / "fonts"))
    figures: dict[str, Any] = {"briefing_items": items}
    for name, document in contents.items():
        assert document is not None, name
        start = time.perf_counter()
        page = render_html(document)
        html_s = time.perf_counter() - start
        figures[name] = {
            "html_s": round(html_s, 4),
            "pdf_cold_fonts_s": round(_timed(partial(render_pdf, page, document.locale, cache)), 3),
            "pdf_warm_fonts_s": round(_timed(partial(render_pdf, page, document.locale, cache)), 3),
        }
    return figures


def _document_renders_table(figures: dict[str, Any]) -> str:
    lines = [
        f"progress report (2024, the year) and briefing book ({figures['briefing_items']} items), PDF"
    ]
    for name, f in figures.items():
        if isinstance(f, dict):
            lines.append(
                f"  {name:<20} html {f['html_s']} s · pdf cold {f['pdf_cold_fonts_s']} s, "
                f"warm {f['pdf_warm_fonts_s']} s"
            )
    return "\n".join(lines)


#: Figures every run writes, full or `--quick` (a JSON path each: `section.figure`), so that a
#: quick run can be compared with a full one.
REPORT_KEYS = (
    "projection.events_per_s",
    "projection.ratio_to_idle_faust_agent",
    "projection.worker_cpu_us_per_event",
    "projection.cpu_ratio_to_idle_faust_agent",
    "projection.rebuild_events_per_s",
    "scale.ratio",
    "freshness.p50_ms",
    "freshness.p99_ms",
    "freshness.max_ms",
    "feeds.first_request_ms",
    "feeds.warm.requests_per_s",
    "feeds.warm.load_tool_cpu_percent",
    "feeds.not_modified.requests_per_s",
    "feeds.not_modified.load_tool_cpu_percent",
    "startup.first_applied_s",
    "startup.demo_loaded_s",
    "memory.worker_peak_rss_mb_run_1",
    "memory.worker_peak_rss_mb_run_2",
    "memory.api_rss_mb_run_1",
    "memory.api_rss_mb_run_2",
    "leaflets.pdf_warm_max_s",
    "briefing",
)


def missing_keys(report: dict[str, Any]) -> list[str]:
    """The `REPORT_KEYS` that `report` lacks."""
    missing = []
    for key in REPORT_KEYS:
        value: Any = report
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                missing.append(key)
                break
            value = value[part]
    return missing


#: The loads of a full run and of `--quick`: (argument, full, quick).
QUICK = [
    ("events", 50_000, 3_000),
    ("freshness_samples", 1_000, 100),
    ("load_seconds", 10.0, 2.0),
    ("leaflet_exchanges", 200, 20),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every section on a small load (under 3 minutes), with the same JSON keys as a "
        "full run: to check a change for a regression",
    )
    parser.add_argument("--events", type=int, default=None, help="default 50,000 (quick 3,000)")
    parser.add_argument(
        "--freshness-samples", type=int, default=None, help="default 1,000 (quick 100)"
    )
    parser.add_argument(
        "--load-seconds", type=float, default=None, help="each wrk load, s (default 10, quick 2)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server to create a database on for each part of the run "
        "(default: SQLite files in a temporary directory)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--leaflet-exchanges",
        type=int,
        default=None,
        help="exchanges in the leaflets' history (default 200, quick 20)",
    )
    parser.add_argument(
        "--only",
        choices=["leaflets", "brochures", "briefing", "feeds", "startup", "projection"],
        default=None,
        help="run one section only (leaflets: a smoke run; brochures: not in the default run;"
        " projection: the projection, its baselines, `rebuild` and two workers)",
    )
    parser.add_argument(
        "--burst-partners", type=int, default=1000, help="partners in the brochure burst"
    )
    parser.add_argument(
        "--briefing-items", type=int, default=12, help="programme items of the briefed visit"
    )
    parser.add_argument(
        "--burst-rate", type=float, default=5.0, help="partners registered a second in it"
    )
    args = parser.parse_args()
    for name, full, quick in QUICK:
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)

    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count()},
        "database": "postgresql" if args.database_url else "sqlite",
        "quick": args.quick,
    }
    if args.only == "brochures":
        with tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp:
            report["brochures"] = brochures(
                Path(tmp), args.database_url, args.burst_partners, args.burst_rate
            )
        print(json.dumps(report, indent=2))
        print(_brochure_table(report["brochures"]))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return
    if args.only == "briefing":
        with tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp:
            report["briefing"] = briefing(Path(tmp), args.database_url, args.briefing_items)
        print(json.dumps(report, indent=2))
        print(_briefing_table(report["briefing"]))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return
    if args.only in ("feeds", "startup"):
        with tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp:
            if args.only == "startup":
                report["startup"] = startup(Path(tmp))
            else:
                with EmbeddedBroker(data_dir=Path(tmp) / "broker", partitions=PARTITIONS) as idle:
                    report.update(
                        feeds(
                            idle,
                            Path(tmp),
                            args.database_url,
                            args.freshness_samples,
                            args.load_seconds,
                        )
                    )
        print(json.dumps(report, indent=2))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return
    if args.only == "leaflets":
        with tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp:
            report["leaflets"] = leaflets(Path(tmp), args.database_url, args.leaflet_exchanges)
        print(json.dumps(report, indent=2))
        print(_leaflet_table(report["leaflets"]))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return
    with (
        tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp,
        EmbeddedBroker(data_dir=Path(tmp) / "broker", partitions=PARTITIONS) as broker,
    ):
        root = Path(tmp)
        events = mixed_events(args.events)
        produce(broker, events)
        raw = raw_consume_rate(broker, len(events))
        ceiling, ceiling_cpu = faust_ceiling_rate(broker, len(events), root / "faust-ceiling")
        one = projection_run(
            broker, root, args.database_url, len(events), 1, "one-worker", rebuild=True
        )
        again = projection_run(broker, root, args.database_url, len(events), 1, "one-worker-again")
        two = projection_run(broker, root, args.database_url, len(events), 2, "two-workers")
        report["projection"] = {
            **one,
            "baseline_raw_consumer_events_per_s": round(raw),
            "ratio_to_raw": round(one["events_per_s"] / raw, 3),
            "baseline_idle_faust_agent_events_per_s": round(ceiling),
            "ratio_to_idle_faust_agent": round(one["events_per_s"] / ceiling, 3),
            # The same comparison in CPU per event, which the other processes on the cores
            # and the machine's speed move less than events per second.
            "baseline_idle_faust_agent_cpu_us_per_event": round(ceiling_cpu),
            "cpu_ratio_to_idle_faust_agent": round(
                ceiling_cpu / max(one["worker_cpu_us_per_event"], 1), 3
            ),
            "rebuild_ratio_to_projection": round(
                one["rebuild_events_per_s"] / one["events_per_s"], 2
            ),
        }
        report["scale"] = {
            "one_worker_events_per_s": one["events_per_s"],
            "two_workers_events_per_s": two["events_per_s"],
            "ratio": round(two["events_per_s"] / one["events_per_s"], 2),
        }
        report["memory"] = {
            "worker_peak_rss_mb_run_1": one["worker_peak_rss_mb"],
            "worker_peak_rss_mb_run_2": again["worker_peak_rss_mb"],
            "growth_mb": round(again["worker_peak_rss_mb"] - one["worker_peak_rss_mb"], 1),
        }
        if args.only == "projection":
            print(json.dumps(report, indent=2))
            if args.json:
                args.json.write_text(json.dumps(report, indent=2))
            return
        # On a broker of its own: the topics above hold 50,000 partner events that a worker
        # in a new group would project first, and freshness is measured on an idle system.
        with EmbeddedBroker(data_dir=root / "feeds-broker", partitions=PARTITIONS) as idle:
            measured = feeds(
                idle, root, args.database_url, args.freshness_samples, args.load_seconds
            )
        report["freshness"] = measured["freshness"]
        report["memory"]["api_peak_rss_mb"] = report["freshness"]["api_peak_rss_mb"]
        report["memory"].update(measured["memory"])
        report["startup"] = startup(root)
        report["feeds"] = {
            "cold_render": cold_render(sample_rows(FEED_ENTRIES)),
            **measured["feed"],
        }
        report["leaflets"] = leaflets(
            root, args.database_url, args.leaflet_exchanges, naive_locales=1 if args.quick else None
        )
        report["briefing"] = briefing(root, args.database_url, args.briefing_items)
        report["document_renders"] = document_renders(root, args.database_url, args.briefing_items)

    if missing := missing_keys(report):
        raise RuntimeError(f"the report lacks {', '.join(missing)}")
    print(json.dumps(report, indent=2))
    print(_table(report))
    print(_leaflet_table(report["leaflets"]))
    print(_briefing_table(report["briefing"]))
    print(_document_renders_table(report["document_renders"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def _table(report: dict[str, Any]) -> str:
    p, s, f, m, c, u = (
        report["projection"],
        report["scale"],
        report["freshness"],
        report["memory"],
        report["feeds"],
        report["startup"],
    )
    rows = [
        (
            "projection, events/s (1 worker)",
            f"{p['events_per_s']:,}",
            f"raw consumer {p['baseline_raw_consumer_events_per_s']:,}/s",
            f"x{p['ratio_to_raw']}",
        ),
        (
            "  the same, against faust alone",
            f"{p['events_per_s']:,}",
            f"idle faust agent {p['baseline_idle_faust_agent_events_per_s']:,}/s",
            f"x{p['ratio_to_idle_faust_agent']}",
        ),
        (
            "  the same in CPU per event, µs",
            f"{p['worker_cpu_us_per_event']:,}",
            f"idle faust agent {p['baseline_idle_faust_agent_cpu_us_per_event']:,} µs",
            f"x{p['cpu_ratio_to_idle_faust_agent']}",
        ),
        (
            "`twinning rebuild`, events/s (the replay)",
            f"{p['rebuild_events_per_s']:,}",
            f"projection {p['events_per_s']:,}/s; {p['rebuild_wall_s']} s with its start",
            f"x{p['rebuild_ratio_to_projection']}",
        ),
        (
            "scale, events/s (2 workers)",
            f"{s['two_workers_events_per_s']:,}",
            f"1 worker {s['one_worker_events_per_s']:,}/s",
            f"x{s['ratio']}",
        ),
        (
            f"freshness p50 / p99 / max, ms ({f['samples']})",
            f"{f['p50_ms']} / {f['p99_ms']} / {f['max_ms']}",
            f"a 304 answer p50 {f['baseline_304_p50_ms']} ms",
            "",
        ),
        (
            f"feed cold render, ms ({c['cold_render']['entries']})",
            f"{c['cold_render']['ms']}",
            f"icalendar {c['cold_render']['baseline_icalendar_ms']} ms",
            f"x{c['cold_render']['ratio']}",
        ),
        (
            "feed first request, ms",
            f"{c['first_request_ms']}",
            f"{c['entries']} entries, {c['bytes']:,} bytes",
            "",
        ),
        *(
            (
                f"feed {what}, requests/s",
                f"{c[key]['requests_per_s']:,}",
                f"wrk CPU {c[key]['load_tool_cpu_percent']}%, API {c[key]['api_cpu_percent']}%",
                f"p99 {c[key].get('latency_p99_ms')} ms",
            )
            for what, key in (("unchanged", "warm"), ("304", "not_modified"))
        ),
        (
            "start-up: up to first command applied, s",
            f"{u['first_applied_s']}",
            f"API answers at {u['api_answers_s']} s",
            f"up --demo loaded {u['demo_loaded_s']} s",
        ),
        (
            "worker peak RSS, MB",
            f"{m['worker_peak_rss_mb_run_1']}",
            f"second run {m['worker_peak_rss_mb_run_2']}",
            f"growth {m['growth_mb']}",
        ),
        (
            "API RSS after a run, MB",
            f"{m['api_rss_mb_run_1']}",
            f"after a second run {m['api_rss_mb_run_2']}",
            f"growth {m['api_growth_mb']}",
        ),
        (
            "feeds worker RSS after a run, MB",
            f"{m['feeds_worker_rss_mb_run_1']}",
            f"after a second run {m['feeds_worker_rss_mb_run_2']}",
            f"growth {m['feeds_worker_growth_mb']}",
        ),
        ("API peak RSS, MB", f"{m['api_peak_rss_mb']}", "", ""),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:>14}  {r[2]:<32} {r[3]}" for r in rows)


def _leaflet_table(leaflets: dict[str, Any]) -> str:
    rows = [("leaflet HTML, all locales, s", f"{leaflets['html_all_locales_s']}", "", "")]
    naive = leaflets["naive_weasyprint_s"]  # a quick run renders it in one locale only
    for locale, warm in leaflets["pdf_warm_fonts_s"].items():
        rows.append(
            (
                f"leaflet PDF {locale}, s (warm fonts)",
                f"{warm}",
                f"naive WeasyPrint {naive[locale]} s" if locale in naive else "",
                f"cold {leaflets['pdf_cold_fonts_s'][locale]} s, after an exchange {leaflets['pdf_after_an_exchange_s'][locale]} s",
            )
        )
    nothing = leaflets["event_changing_nothing"]
    rows.append(
        (
            "event changing nothing: renders",
            f"{nothing['renders']}",
            f"checked {nothing['documents_checked']} documents",
            "",
        )
    )
    restated = leaflets["restated_partner_name"]
    rows.append(
        (
            "restated partner name: renders",
            f"{restated['renders']}",
            f"checked {restated['documents_checked']} in {restated['check_s']} s",
            "",
        )
    )
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:>8}  {r[2]:<28} {r[3]}" for r in rows)


if __name__ == "__main__":
    main()
