"""The main window: a navigation list, the pages, and the sync indicator in the status bar."""

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core import AppCore

from .bridge import CoreBridge
from .network_page import NetworkPage
from .sync_indicator import SyncIndicator


class MainWindow(QMainWindow):
    def __init__(self, core: AppCore, bridge: CoreBridge) -> None:
        super().__init__()
        self.core = core
        self.setWindowTitle(f"PKT Wallet — {core.params.name}")
        self.resize(QSize(980, 640))
        central = QWidget()
        layout = QHBoxLayout(central)
        self.nav = QListWidget()
        self.nav.setFixedWidth(170)
        self.pages = QStackedWidget()
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.network_page = NetworkPage(core.chain_info)
        self.add_page("Network", self.network_page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.sync_indicator = SyncIndicator()
        self.statusBar().addPermanentWidget(self.sync_indicator, 1)
        bridge.sync_progress.connect(self.sync_indicator.update_progress)
        if core.last_progress is not None:
            self.sync_indicator.update_progress(core.last_progress)

    def add_page(self, title: str, page: QWidget) -> None:
        self.nav.addItem(title)
        self.pages.addWidget(page)
