"""The benchmark's own tools (`bench/run.py`), without timed assertions: the HTTP load tool
(`wrk`, started by the benchmark) measured against a real loopback server, and the figures
every run writes, full or `--quick`."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("twinning_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _Feed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        self.send_response(200 if self.path == "/feed.ics" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """wrk drops its connections when its time is up: a reset is how a load ends, not an
        error (socketserver printed a traceback for each into the suite's output)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_wrk_counts_the_answers_and_the_cpu_of_both_sides(bench: ModuleType, server: str) -> None:
    import os

    ok = bench.load(f"{server}/feed.ics", seconds=1, server=os.getpid())
    not_modified = bench.load(
        f"{server}/feed.ics", seconds=1, server=os.getpid(), headers={"If-None-Match": '"v1"'}
    )
    missing = bench.load(f"{server}/nothing.ics", seconds=1, server=os.getpid())

    for figures in (ok, not_modified, missing):
        assert figures["requests"] > 0 and figures["requests_per_s"] > 0, figures
        assert figures["socket_errors"] == 0, figures
        assert figures["load_tool_cpu_percent"] > 0 and figures["api_cpu_percent"] > 0
        assert figures["latency_p50_ms"] <= figures["latency_p99_ms"]
    assert ok["non_2xx_3xx"] == not_modified["non_2xx_3xx"] == 0  # a 304 is an answer
    assert missing["non_2xx_3xx"] == missing["requests"]


def test_every_run_writes_the_figures_the_issue_names(bench: ModuleType) -> None:
    named = {
        "projection.ratio_to_idle_faust_agent",
        "feeds.warm.requests_per_s",
        "feeds.not_modified.requests_per_s",
        "freshness.p99_ms",
        "startup.first_applied_s",
    }
    report = {
        "projection": {"events_per_s": 1, "ratio_to_idle_faust_agent": 0.1},
        "feeds": {"warm": {"requests_per_s": 1}},
    }

    assert named <= set(bench.REPORT_KEYS)
    assert "feeds.not_modified.requests_per_s" in bench.missing_keys(report)
    assert "projection.ratio_to_idle_faust_agent" not in bench.missing_keys(report)
    assert {name for name, _full, _quick in bench.QUICK} >= {"events", "freshness_samples"}


def test_the_leaflet_table_of_a_quick_run_shows_the_naive_render_it_has(
    bench: ModuleType,
) -> None:
    """A quick run renders the naive WeasyPrint page in one locale only: the table prints
    the figures there are (it ended the run with a KeyError before)."""
    by_locale = {"zh-TW": 0.5, "en": 0.4}
    leaflets = {
        "html_all_locales_s": 1.0,
        "pdf_warm_fonts_s": by_locale,
        "pdf_cold_fonts_s": by_locale,
        "pdf_after_an_exchange_s": by_locale,
        "naive_weasyprint_s": {"zh-TW": 0.7},
        "event_changing_nothing": {"renders": 0, "documents_checked": 0},
        "restated_partner_name": {"renders": 0, "documents_checked": 10, "check_s": 0.1},
    }

    table = bench._leaflet_table(leaflets).splitlines()

    assert "naive WeasyPrint 0.7 s" in next(row for row in table if "PDF zh-TW" in row)
    assert "naive" not in next(row for row in table if "PDF en" in row)


def test_the_workers_cpu_is_read_at_the_apply_windows_ends(bench: ModuleType) -> None:
    """The projection's CPU per event counts the workers' CPU between the first and the last
    event applied, read from samples taken every 20 ms around those moments."""
    samples = [(100.0, 1.0), (100.02, 1.5), (100.04, 2.5)]
    assert bench._interpolated(samples, 100.03) == pytest.approx(2.0)
    assert bench._interpolated(samples, 100.02) == pytest.approx(1.5)
    assert bench._interpolated(samples, 99.0) == 1.0  # before the first sample: the first
    assert bench._interpolated(samples, 101.0) == 2.5  # after the last: the last
