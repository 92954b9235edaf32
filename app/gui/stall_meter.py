"""Measuring the Qt event loop's stalls (bench/gui_latency.py): a timer ticking every few ms on
the Qt thread records the gaps between its ticks, the Qt thread's own CPU time in each and, on
Linux, its time waiting for a CPU; a watchdog thread can sample where the Qt thread is when a
tick is late."""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

TICK_MS = 5
LATE_MS = 30
"""A tick this late gets the Qt thread's stack sampled (with `why`)."""


def qt_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    return app


def run_event_loop_until(done: Callable[[], bool], poll_ms: int = 100) -> None:
    """Run the Qt event loop until `done()` (asked every `poll_ms`) returns True."""
    app = qt_application()
    checker = QTimer()
    checker.timeout.connect(lambda: app.quit() if done() else None)
    checker.start(poll_ms)
    app.exec()
    checker.stop()


class StallMeter:
    """Ticks every TICK_MS on the Qt thread; records the gaps between ticks."""

    def __init__(self, why: bool) -> None:
        self.gaps: list[float] = []
        self.busy: list[float] = []  # the Qt thread's own CPU time in each gap
        self.queued: list[float] = []  # time it was ready to run but had no CPU (Linux)
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self.last_queued = self._run_queue_ms()
        self.times: list[float] = []
        self.ready_at: float | None = None  # the wallet's pages were built by then
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.places: collections.Counter[str] = collections.Counter()
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True) if why else None

    def start(self) -> None:
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.last_queued = self._run_queue_ms()
        self.timer.start()
        if self._watchdog is not None:
            self._watchdog.start()

    def stop(self) -> None:
        self.timer.stop()
        self._stop.set()

    def _tick(self) -> None:
        now, cpu, queued = time.perf_counter(), time.thread_time(), self._run_queue_ms()
        self.gaps.append((now - self.last) * 1000)
        self.busy.append((cpu - self.last_cpu) * 1000)
        self.queued.append(queued - self.last_queued)
        self.times.append(now)
        self.last, self.last_cpu, self.last_queued = now, cpu, queued

    def _run_queue_ms(self) -> float:
        """The Qt thread's total time waiting on a run queue (0 where /proc has no schedstat)."""
        try:
            return int(self._schedstat.read_text().split()[1]) / 1e6
        except (OSError, IndexError, ValueError):
            return 0.0

    def _watch(self) -> None:
        """Sample the Qt thread's stack while a tick is overdue."""
        while not self._stop.wait(0.01):
            if (time.perf_counter() - self.last) * 1000 < LATE_MS:
                continue
            frame = sys._current_frames().get(self._gui_ident)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-6:]
            where = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)
            )
            self.places[where] += 1
