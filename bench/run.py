"""The twinning benchmark: one command, every figure beside a baseline measured in the same run.

    python bench/run.py [--events 50000] [--database-url postgresql://...] [--json out.json]

Runs against the embedded broker on this machine and prints a readable table and JSON:
1. projection throughput (topic -> read models) against a plain kafka-python consumer reading
   the same topics;
2. freshness: p50/p99 from a command's 202 to the change being visible through the API,
   against the round trip of a plain GET;
5. scale: throughput of two workers against one;
6. memory: peak resident memory of the worker and of the API, and whether the worker grows
   over a second run of the same load.
Figures that need parts not built yet (feeds, leaflets) are reported as "not measured".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import create_engine, func, select

from twinning.config import Settings
from twinning.db.migrate import upgrade
from twinning.streams.broker import EmbeddedBroker, free_port
from twinning.streams.events import PARTNERS
from twinning.streams.store import ArchivedEvent

PARTITIONS = 6


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


def mixed_events(count: int) -> list[tuple[str, str, bytes]]:
    """One registration then updates per partner: (topic, key, value), in per-partner order."""
    partners = max(1, count // 5)
    events: list[tuple[str, str, bytes]] = []
    ids = [str(uuid.uuid4()) for _ in range(partners)]
    for n, partner_id in enumerate(ids):
        payload = {"names": {"zh-TW": f"城市{n}", "en": f"City {n}"}, "country": "JP", "kind": "friendly", "timezone": "Asia/Tokyo"}
        events.append((PARTNERS, partner_id, envelope("PartnerCityRegistered", partner_id, payload)))
    round_ = 0
    while len(events) < count:
        for partner_id in ids:
            if len(events) >= count:
                break
            events.append((PARTNERS, partner_id, envelope("PartnerCityUpdated", partner_id, {"region": f"r{round_}"})))
        round_ += 1
    return events


def produce(broker: EmbeddedBroker, events: list[tuple[str, str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=20, batch_size=256 * 1024)
    for topic, key, value in events:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def raw_consume_rate(broker: EmbeddedBroker, expected: int) -> float:
    """Baseline: a plain kafka-python consumer reading the same topic from the start."""
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, enable_auto_commit=False, fetch_max_bytes=64 * 1024 * 1024)
    partitions = [TopicPartition(PARTNERS, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen, start = 0, time.perf_counter()
    while seen < expected:
        for records in consumer.poll(timeout_ms=500, max_records=10000).values():
            seen += len(records)
    elapsed = time.perf_counter() - start
    consumer.close()
    return expected / elapsed


class System:
    """A database plus worker processes (and optionally the API) on the shared broker."""

    def __init__(self, broker: EmbeddedBroker, workdir: Path, database_url: str | None, group: str) -> None:
        self.workdir = workdir
        url = database_url or f"sqlite:///{workdir / 'twinning.db'}"
        self.settings = Settings(database_url=url, data_dir=workdir, _env_file=None)  # type: ignore[call-arg]
        upgrade(self.settings.sync_database_url)
        self.engine = create_engine(self.settings.sync_database_url)
        self.env = {
            **os.environ,
            "TWINNING_BROKER": ",".join(broker.bootstrap_servers),
            "TWINNING_DATA_DIR": str(workdir),
            "TWINNING_DATABASE_URL": self.settings.sync_database_url.render_as_string(hide_password=False),
            "TWINNING_CONSUMER_GROUP": group,
            "TWINNING_TOPIC_PARTITIONS": str(PARTITIONS),
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([sys.executable, "-m", "twinning", *args], env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def applied(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(ArchivedEvent)) or 0)

    def apply_window(self) -> float:
        """Seconds between the first and the last event applied (worker start-up excluded)."""
        with self.engine.connect() as connection:
            first, last = connection.execute(select(func.min(ArchivedEvent.applied_at), func.max(ArchivedEvent.applied_at))).one()
        if isinstance(first, str):  # SQLite returns text
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        return max((last - first).total_seconds(), 1e-6)

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not happen within {timeout}s")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.engine.dispose()


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    status = Path(f"/proc/{process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def projection_run(broker: EmbeddedBroker, root: Path, database_url: str | None, events: int, workers: int, name: str) -> dict[str, Any]:
    system = System(broker, root / name, database_url, group=f"bench-{name}")
    try:
        procs = [system.spawn("worker") for _ in range(workers)]
        system.wait(lambda: system.applied() >= events, timeout=1800, what=f"{events} events applied ({name})")
        result: dict[str, Any] = {"events": events, "workers": workers, "events_per_s": round(events / system.apply_window())}
        result["worker_peak_rss_mb"] = round(max(peak_rss_mb(p) for p in procs), 1)
        return result
    finally:
        system.stop()


def freshness(broker: EmbeddedBroker, root: Path, database_url: str | None, samples: int) -> dict[str, Any]:
    system = System(broker, root / "freshness", database_url, group="bench-freshness")
    port = free_port()
    try:
        api = system.spawn("api", "--port", str(port), "--with-relay")
        worker = system.spawn("worker")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        system.wait(lambda: _answers(client), timeout=60, what="the API to answer")
        created = client.post("/partners", json={"names": {"en": "Fresh"}, "country": "JP", "kind": "sister", "timezone": "Asia/Tokyo"}).json()
        system.wait(lambda: client.get(f"/partners/{created['id']}").status_code == 200, timeout=60, what="the worker to join")
        visible, round_trips = [], []
        for n in range(samples):
            start = time.perf_counter()
            client.get(f"/partners/{created['id']}")
            round_trips.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.patch(f"/partners/{created['id']}", json={"region": f"r{n}"})
            while client.get(f"/partners/{created['id']}").json()["region"] != f"r{n}":
                pass
            visible.append(time.perf_counter() - start)
        client.close()
        return {
            "samples": samples,
            "p50_ms": round(1000 * statistics.median(visible), 1),
            "p99_ms": round(1000 * statistics.quantiles(visible, n=100)[98], 1),
            "baseline_get_p50_ms": round(1000 * statistics.median(round_trips), 2),
            "api_peak_rss_mb": round(peak_rss_mb(api), 1),
            "worker_peak_rss_mb": round(peak_rss_mb(worker), 1),
        }
    finally:
        system.stop()


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--freshness-samples", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: SQLite files in a temporary directory")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "database": "postgresql" if args.database_url else "sqlite"}
    with tempfile.TemporaryDirectory(prefix="twinning-bench-") as tmp, EmbeddedBroker(data_dir=Path(tmp) / "broker", partitions=PARTITIONS) as broker:
        root = Path(tmp)
        events = mixed_events(args.events)
        produce(broker, events)
        raw = raw_consume_rate(broker, len(events))
        one = projection_run(broker, root, args.database_url, len(events), 1, "one-worker")
        again = projection_run(broker, root, args.database_url, len(events), 1, "one-worker-again")
        two = projection_run(broker, root, args.database_url, len(events), 2, "two-workers")
        report["projection"] = {**one, "baseline_raw_consumer_events_per_s": round(raw), "ratio_to_raw": round(one["events_per_s"] / raw, 3)}
        report["scale"] = {"one_worker_events_per_s": one["events_per_s"], "two_workers_events_per_s": two["events_per_s"], "ratio": round(two["events_per_s"] / one["events_per_s"], 2)}
        report["memory"] = {
            "worker_peak_rss_mb_run_1": one["worker_peak_rss_mb"],
            "worker_peak_rss_mb_run_2": again["worker_peak_rss_mb"],
            "growth_mb": round(again["worker_peak_rss_mb"] - one["worker_peak_rss_mb"], 1),
        }
        report["freshness"] = freshness(broker, root, args.database_url, args.freshness_samples)
        report["memory"]["api_peak_rss_mb"] = report["freshness"]["api_peak_rss_mb"]
        report["feeds"] = "not measured: the calendar feeds are not built yet"
        report["leaflets"] = "not measured: the leaflets are not built yet"

    print(json.dumps(report, indent=2))
    print(_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def _table(report: dict[str, Any]) -> str:
    p, s, f, m = report["projection"], report["scale"], report["freshness"], report["memory"]
    rows = [
        ("projection, events/s (1 worker)", f"{p['events_per_s']:,}", f"raw consumer {p['baseline_raw_consumer_events_per_s']:,}/s", f"x{p['ratio_to_raw']}"),
        ("scale, events/s (2 workers)", f"{s['two_workers_events_per_s']:,}", f"1 worker {s['one_worker_events_per_s']:,}/s", f"x{s['ratio']}"),
        ("freshness p50 / p99, ms", f"{f['p50_ms']} / {f['p99_ms']}", f"plain GET p50 {f['baseline_get_p50_ms']} ms", ""),
        ("worker peak RSS, MB", f"{m['worker_peak_rss_mb_run_1']}", f"second run {m['worker_peak_rss_mb_run_2']}", f"growth {m['growth_mb']}"),
        ("API peak RSS, MB", f"{m['api_peak_rss_mb']}", "", ""),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:>14}  {r[2]:<32} {r[3]}" for r in rows)


if __name__ == "__main__":
    main()
