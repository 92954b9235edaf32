"""Turns core events (delivered on the network thread) into Qt signals on the GUI thread.

Sync progress comes in bursts (a header batch, a filter batch: tens per second); the window
gets at most ``PROGRESS_PER_SECOND`` of them, always the newest, so that a fast sync cannot
flood the Qt event loop."""

import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

from spv.node import SyncProgress

PROGRESS_PER_SECOND = 10


class CoreBridge(QObject):
    """Lives on the GUI thread; `deliver` may be called from any thread (queued signals)."""

    sync_progress = Signal(object)  # SyncProgress
    core_event = Signal(str, object)  # any other event: kind, payload
    _progress_waiting = Signal()  # the network thread's nudge: a newer progress is waiting

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: SyncProgress | None = None  # guarded by _lock
        self._nudged = False  # guarded by _lock
        self._last_emit = -1.0  # GUI thread only
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush_progress)
        self._progress_waiting.connect(self._progress_arrived)

    def deliver(self, kind: str, payload: object) -> None:
        if kind == "sync" and isinstance(payload, SyncProgress):
            with self._lock:
                self._latest = payload
                if self._nudged:
                    return  # the GUI thread will pick this newer one up
                self._nudged = True
            self._progress_waiting.emit()
        else:
            self.core_event.emit(kind, payload)

    def _progress_arrived(self) -> None:
        """GUI thread: pass the newest progress on now, or when the interval is over."""
        wait = self._last_emit + 1 / PROGRESS_PER_SECOND - time.monotonic()
        if wait > 0:
            if not self._flush_timer.isActive():
                self._flush_timer.start(int(wait * 1000) + 1)
            return
        self._flush_progress()

    def _flush_progress(self) -> None:
        with self._lock:
            progress, self._latest, self._nudged = self._latest, None, False
        if progress is not None:
            self._last_emit = time.monotonic()
            self.sync_progress.emit(progress)
