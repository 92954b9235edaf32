"""The self-test's window check (app/selftest.py, in its own process): the real main window on
a real core, on the real display unless QT_QPA_PLATFORM says otherwise.

The core runs on regtest in an empty data directory with no peers and no DNS seeds, so nothing
leaves the machine. The window must be mapped by the display (exposed) and draw something.
"""

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon, QImage
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
EXPOSE_SECONDS = 20.0
"""How long the display may take to map the window (a slow remote X server)."""


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
        # Qt may end the process (no platform plugin): the parent reads why from stderr
        print(text, file=sys.stderr, flush=True)

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
        handle = window.windowHandle()
        if handle is None:
            raise WindowCheckError("the display gave the main window no native window")
        waited = 0.0
        while not handle.isExposed() and waited < EXPOSE_SECONDS:
            _run_event_loop(100)
            waited += 0.1
        if not handle.isExposed():
            raise WindowCheckError(
                f"the display did not show the main window within {EXPOSE_SECONDS:.0f} s"
            )
        drawn = window.grab().toImage()
        if drawn.isNull() or _one_colour(drawn):
            raise WindowCheckError("the main window drew nothing")
        size = f"{drawn.width()}×{drawn.height()}"
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
    return (
        f"{app.platformName()}: {size} window shown and drawn, icon drawn, pages {', '.join(pages)}"
    )


def _one_colour(image: QImage) -> bool:
    """True when a sample of the image's pixels are all the same colour (nothing drawn)."""
    first = image.pixel(0, 0)
    step_x, step_y = max(1, image.width() // 40), max(1, image.height() // 40)
    return all(
        image.pixel(x, y) == first
        for y in range(0, image.height(), step_y)
        for x in range(0, image.width(), step_x)
    )


def _run_event_loop(milliseconds: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()
