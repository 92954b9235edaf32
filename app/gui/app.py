"""Start the desktop app: the Qt application, the core on its network thread, the window."""

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.core import AppCore
from spv.params import NetworkParams

from .bridge import CoreBridge
from .calls import GuiCalls
from .main_window import MainWindow

ICON = Path(__file__).resolve().parent.parent.parent / "resources" / "icons" / "pkt-wallet.svg"


def run_gui(params: NetworkParams, datadir: Path, peers: list[tuple[str, int]]) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("PKT Wallet")
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))
    bridge = CoreBridge()
    core = AppCore(params, datadir, peers=peers, on_event=bridge.deliver)
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls())
        window.show()
        return app.exec()
    finally:
        core.stop()
