"""The self-test's window check (app/selftest.py): the real main window on a real core.

The core runs on regtest in an empty data directory with no peers and no DNS seeds, so nothing
leaves the machine.
"""

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.core import AppCore
from app.resources import resource_path
from spv.params import REGTEST

from .bridge import CoreBridge
from .calls import GuiCalls
from .main_window import MainWindow

APP_ICON = "icons/pkt-wallet.svg"
SETTLE_MS = 200
"""How long the event loop runs with the window shown (paints, first core events)."""


class WindowCheckError(Exception):
    """The window did not come up as expected."""


def open_and_close_main_window(datadir: Path) -> str:
    """Open the main window, let the event loop run briefly, close it; a one-line summary.

    Qt's own messages (e.g. the offscreen platform's notes) stay out of the terminal; when the
    check fails they are added to the error.
    """
    messages: list[str] = []

    def keep(_kind: QtMsgType, _context: QMessageLogContext, text: str) -> None:
        messages.append(text)

    previous = qInstallMessageHandler(keep)
    try:
        return _open_and_close(datadir)
    except Exception as exc:
        what = str(exc) if isinstance(exc, WindowCheckError) else f"{type(exc).__name__}: {exc}"
        said = f" (Qt said: {' | '.join(messages[-3:])})" if messages else ""
        raise WindowCheckError(f"{what}{said}") from exc
    finally:
        qInstallMessageHandler(previous)


def _open_and_close(datadir: Path) -> str:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    icon_file = resource_path(APP_ICON)
    if QIcon(str(icon_file)).pixmap(32, 32).isNull():
        raise WindowCheckError(
            f"the app icon {icon_file} does not load (missing, or no SVG plugin)"
        )
    bridge = CoreBridge()
    core = AppCore(REGTEST, datadir, peers=[], use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    window: MainWindow | None = None
    try:
        window = MainWindow(core, bridge, GuiCalls())
        window.show()
        _run_event_loop(SETTLE_MS)
        if not window.isVisible():
            raise WindowCheckError("the main window is not visible after show()")
        pages = [window.nav.item(i).text() for i in range(window.nav.count())]
        if not pages:
            raise WindowCheckError("the main window has no pages")
        window.close()
        if window.isVisible():
            raise WindowCheckError("the main window did not close")
    finally:
        if window is not None:
            window.close()
        core.stop()  # before the window goes: no late core result reaches deleted widgets
        if window is not None:
            _run_event_loop(SETTLE_MS)  # results still on their way arrive while it exists
            window.deleteLater()
            _run_event_loop(0)
    return f"{app.platformName()}: icon drawn, pages {', '.join(pages)}"


def _run_event_loop(milliseconds: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()
