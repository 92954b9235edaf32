"""Network page: the light client's chain heights, tip and connected peers."""

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from .calls import GuiCalls
from .widgets import page_header

ChainInfoSource = Callable[[], dict[str, object]]


def _height(value: object) -> int:
    return value if isinstance(value, int) else -1


def filter_text(info: dict[str, object]) -> str:
    """The compact filters' progress; "none yet" before the first (the stores say -1)."""
    headers = _height(info.get("filter_header_height"))
    scanned = _height(info.get("filter_height"))
    if headers < 0:
        return "none yet (they follow the block headers)"
    done = f"scanned to block {scanned:,}" if scanned >= 0 else "not scanned yet"
    return f"filter headers to block {headers:,}, {done}"


class NetworkPage(QWidget):
    def __init__(self, chain_info: ChainInfoSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chain_info = chain_info
        self._calls = GuiCalls()
        self._asking = False
        layout = QVBoxLayout(self)
        layout.addWidget(page_header("Network", "The light client's view of the PKT chain."))
        chain_box = QGroupBox("Chain")
        form = QFormLayout(chain_box)
        self.network_label = QLabel()
        self.height_label = QLabel()
        self.tip = QLabel()
        self.tip.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.filter_heights = QLabel()
        form.addRow("Network", self.network_label)
        form.addRow("Block height", self.height_label)
        form.addRow("Tip", self.tip)
        form.addRow("Compact filters", self.filter_heights)
        layout.addWidget(chain_box)
        peers_box = QGroupBox("Peers")
        peers_layout = QVBoxLayout(peers_box)
        self.peers = QListWidget()
        self.no_peers = QLabel(
            "No peer connected yet. The light client keeps looking for PKT nodes; if none "
            "answers, check the internet connection, or add a node you know in Settings ▸ "
            "Extra peers."
        )
        self.no_peers.setWordWrap(True)
        self.no_peers.setStyleSheet("color: palette(mid)")
        peers_layout.addWidget(self.no_peers)
        peers_layout.addWidget(self.peers)
        layout.addWidget(peers_box, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(2000)

    def refresh(self) -> None:
        """Ask for the chain state on a worker thread (the network thread may be busy
        syncing: waiting for it here would freeze the window); shown when it arrives."""
        if self._asking:
            return
        self._asking = True
        self._calls.in_worker(self._chain_info, self._show_info, self._info_failed)

    def _info_failed(self, exc: BaseException) -> None:
        self._asking = False
        self.height_label.setText(f"unavailable: {exc}")

    def _show_info(self, info: dict[str, object]) -> None:
        self._asking = False
        self.network_label.setText(str(info["network"]))
        self.height_label.setText(f"{info['height']:,}")
        self.tip.setText(str(info["tip"]))
        self.filter_heights.setText(filter_text(info))
        peers = info.get("peers", [])
        peers = [str(p) for p in peers] if isinstance(peers, list) else []
        self.peers.clear()
        self.peers.addItems(peers)
        self.peers.setVisible(bool(peers))
        self.no_peers.setVisible(not peers)
