"""The worker's renderer gives way to the projection while it works off a backlog, for a
bounded time, and never on a quiet system."""

from __future__ import annotations

from twinning.streams.worker import (
    BACKLOG_BATCH,
    BACKLOG_QUIET,
    RENDER_DEFER_AT_MOST,
    Backlog,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_quiet_system_renders_at_once() -> None:
    clock = Clock()
    backlog = Backlog(clock)
    assert backlog.may_render()
    for _ in range(100):  # the usual trickle: batches of one or a few events
        backlog.saw(3)
        clock.now += 0.1
        assert backlog.may_render()


def test_rendering_waits_for_a_backlog_and_resumes_when_it_is_worked_off() -> None:
    clock = Clock()
    backlog = Backlog(clock)
    assert backlog.idle()
    backlog.saw(BACKLOG_BATCH)  # a look under way stops before its next document
    assert not backlog.idle()
    assert not backlog.may_render()
    clock.now += BACKLOG_QUIET / 2
    backlog.saw(BACKLOG_BATCH - 1)  # batches shrink: the backlog is gone
    assert not backlog.may_render()
    clock.now += BACKLOG_QUIET / 2
    assert backlog.idle()
    assert backlog.may_render()


def test_a_load_that_never_ends_still_gets_its_documents_rendered() -> None:
    clock = Clock()
    backlog = Backlog(clock)
    looks = []
    for _ in range(int(3 * RENDER_DEFER_AT_MOST)):  # a full batch every second, for 90 s
        backlog.saw(1000)
        looks.append(backlog.may_render())
        clock.now += 1.0
    renders = [second for second, look in enumerate(looks) if look]
    assert renders == [int(RENDER_DEFER_AT_MOST), int(2 * RENDER_DEFER_AT_MOST)]
