"""Through the real stack (API, relay, broker, worker with its rendering process): a partner
registered through the API appears in the published PDF leaflet, without a token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from conftest import Stack, sample_partner, wait_for
from publicity_support import pdf_text
from twinning.streams.worker import render_scratch


def test_a_registered_partner_appears_in_the_leaflet_the_rendering_worker_publishes(
    make_stack: Callable[..., Stack],
) -> None:
    """A worker started with TWINNING_RENDER_DOCUMENTS=false only projects: the leaflet waits
    for a worker of the group that renders. That worker renders in a process of its own, which
    ends when the worker is killed (one system for both: each renders every document once)."""
    stack = make_stack(render_documents=False)
    partner = {**sample_partner(7), "names": {"zh-TW": "高雄測試市", "en": "Testport"}}
    answer = stack.client.post("/partners", json=partner)
    assert answer.status_code == 202
    stack.wait_applied([answer.json()["event_id"]])
    public = httpx.Client(base_url=stack.settings.base_url(), timeout=30)

    def leaflet_text() -> str | None:
        response = public.get("/publicity/leaflet", params={"lang": "zh-TW", "format": "pdf"})
        return pdf_text(response.content) if response.status_code == 200 else None

    try:
        (projecting,) = stack.workers
        assert _children(projecting.pid) == set()  # no rendering process
        assert "高雄測試市" not in (leaflet_text() or "")
        rendering = stack.start_worker(render_documents=True)
        text = wait_for(
            lambda: (t := leaflet_text()) and "高雄測試市" in t and t,
            timeout=120,
            what="the zh-TW leaflet to show the new partner",
        )
    finally:
        public.close()
    assert "城市外交" in text
    assert "日本" in text  # the partner's country, named by CLDR in Chinese

    renderers = _children(rendering.pid)
    assert renderers, "the worker has no rendering process"
    # Its temporary files (WeasyPrint's font folders) in a folder of its own under the data
    # directory, not the system's temporary directory (tests/test_scratch.py).
    scratch = render_scratch(stack.settings)
    assert {f.name.split("-")[0] for f in scratch.iterdir() if f.is_dir()} & {
        str(pid) for pid in renderers
    }
    assert stack.workers[-1] is rendering
    stack.kill_worker()
    wait_for(
        lambda: not any(_alive(pid) for pid in renderers),
        timeout=20,
        what="the rendering process to end with its worker",
    )


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc: this runs on Linux)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its entry waits for its new parent
