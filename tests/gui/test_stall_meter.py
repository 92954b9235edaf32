"""The stall meter behind bench/gui_latency.py sees a blocked Qt thread, and where it was."""

import gc
import time

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer  # noqa: E402

from app.gui.stall_meter import StallMeter, run_event_loop_until  # noqa: E402


def _block_the_gui_thread() -> None:
    time.sleep(0.15)


def _spin_the_gui_thread() -> None:
    end = time.thread_time() + 0.08
    while time.thread_time() < end:
        pass


def test_a_blocked_and_a_busy_qt_thread_show_as_stalls(qtbot) -> None:  # type: ignore[no-untyped-def]
    # what earlier tests left for the garbage collector is not collected in the middle of
    # the measured gaps (it counted as the Qt thread's own work)
    gc.collect()
    for _ in range(5):
        qtbot.wait(20)  # and their queued events are delivered first
    meter = StallMeter(why=True)
    meter.start()
    QTimer.singleShot(50, _block_the_gui_thread)
    QTimer.singleShot(300, _spin_the_gui_thread)
    start = time.perf_counter()
    run_event_loop_until(lambda: time.perf_counter() - start > 0.6, poll_ms=20)
    meter.stop()
    assert len(meter.gaps) > 20
    # the sleep: a long gap with little of the thread's own CPU (on a loaded machine the spin
    # may be the longest gap: it also waits for a CPU)
    assert any(g >= 140 and b < 50 for g, b in zip(meter.gaps, meter.busy, strict=True))
    busy = max(meter.busy)
    assert busy >= 70  # the spin is the thread's own CPU time
    assert sorted(meter.gaps)[len(meter.gaps) // 2] < 50  # most ticks on time
    assert any("_block_the_gui_thread" in place for place in meter.places)
