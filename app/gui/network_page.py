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
        self.filter_heights.setText(
            f"headers to {info['filter_header_height']:,}, scanned to {info['filter_height']:,}"
        )
        peers = info.get("peers", [])
        self.peers.clear()
        if isinstance(peers, list):
            self.peers.addItems([str(p) for p in peers])
