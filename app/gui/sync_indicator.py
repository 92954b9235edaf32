"""The multi-stage sync indicator: connecting → headers → filter headers → filters → up to date."""

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QWidget

from spv.node import SyncProgress

from .widgets import ElidedLabel

STAGES = ("connecting", "headers", "filter headers", "filters", "synced")
_LABELS = {
    "connecting": "Connecting to peers",
    "headers": "Downloading block headers",
    "filter headers": "Checking compact filters",
    "filters": "Scanning for your transactions",
    "blocks": "Fetching your transactions",
    "synced": "Up to date",
}


def describe(p: SyncProgress) -> str:
    """One line a person can read: what is happening, where, how long."""
    label = _LABELS.get(p.stage, p.stage)
    if p.stage == "synced":
        return f"{label} — block {p.height:,} · {p.peers} peer{'s' if p.peers != 1 else ''}"
    if p.stage == "connecting":
        return f"{label}…"
    where = (
        f"{p.height:,} / {p.target:,}"
        if p.stage == "headers"
        else f"{p.filter_height:,} / {p.target:,}"
    )
    eta = f" · about {_duration(p.eta)} left" if p.eta else ""
    return f"{label}: {where} · {p.peers} peer{'s' if p.peers != 1 else ''}{eta}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fraction(p: SyncProgress) -> float:
    """Overall progress 0..1: headers count for the first half, filters for the second."""
    if p.stage == "synced":
        return 1.0
    if p.target <= 0:
        return 0.0
    if p.stage in ("connecting", "headers"):
        return 0.5 * min(1.0, max(0.0, p.height / p.target))
    done = max(p.filter_height, p.filter_header_height if p.stage == "filter headers" else 0)
    return 0.5 + 0.5 * min(1.0, max(0.0, done / p.target))


class SyncIndicator(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.label = ElidedLabel("Connecting to peers…")  # a long error must not widen the window
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(160)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)

    def update_progress(self, p: SyncProgress) -> None:
        self.label.setStyleSheet("")
        self.label.setToolTip("")
        self.label.setText(describe(p))
        self.bar.setValue(int(1000 * fraction(p)))
        self.bar.setVisible(p.stage != "synced")

    def show_problem(self, reason: str) -> None:
        """The last sync attempt failed (no peer reachable, a peer dropped): say so until the
        next progress report; the core tries again by itself."""
        self.label.setText(f"Not connected: {reason} — trying again")
        self.label.setStyleSheet("color: #8a5a00")
        self.label.setToolTip(
            f"Not connected: {reason}\nCheck the internet connection. If PKT's public peers "
            "are down, add a peer you know on the Settings page (Extra peers)."
        )
