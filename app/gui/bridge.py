"""Turns core events (delivered on the network thread) into Qt signals on the GUI thread."""

from PySide6.QtCore import QObject, Signal

from spv.node import SyncProgress


class CoreBridge(QObject):
    """Lives on the GUI thread; `deliver` may be called from any thread (queued signals)."""

    sync_progress = Signal(object)  # SyncProgress
    core_event = Signal(str, object)  # any other event: kind, payload

    def deliver(self, kind: str, payload: object) -> None:
        if kind == "sync" and isinstance(payload, SyncProgress):
            self.sync_progress.emit(payload)
        else:
            self.core_event.emit(kind, payload)
