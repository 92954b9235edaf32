"""Start the desktop app: the Qt application, the core on its network thread, the window."""

import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.core import AppCore
from app.resources import resource_path
from app.settings import apply_http_proxy, load_settings
from app.threadguard import mark_gui_thread
from spv.params import NetworkParams

from .bridge import CoreBridge
from .calls import GuiCalls
from .errors import install_excepthook
from .main_window import MainWindow
from .money import set_unit
from .theme import apply_theme

ICON = resource_path("icons/pkt-wallet.svg")
EXIT_WHEN_SHOWN_ENV = "PKT_WALLET_EXIT_WHEN_SHOWN"
"""Set to 1 (bench/cold_start.py): print "window shown" once the window is up and the event
loop idle, then quit."""


GIL_SWITCH_SECONDS = 0.001
"""How long a thread waiting for Python's interpreter lock waits before asking for it (5 ms by
default): the Qt thread shares it with the network thread and the miners' helpers, and with
several of them busy it lost the race for whole tens of milliseconds (bench/gui_latency.py)."""


def prefer_the_gui_thread() -> None:
    """Interpreter settings for a responsive window (called before any thread starts)."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def run_gui(params: NetworkParams, datadir: Path, peers: list[tuple[str, int]]) -> int:
    prefer_the_gui_thread()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("PKT Wallet")
    mark_gui_thread()  # sync, wallet I/O and mining must never run here
    apply_theme(app)
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))
    settings = load_settings(datadir)  # Settings page: unit, proxy, extra peers, DNS seeds
    set_unit(settings.units)
    apply_http_proxy(settings.proxy)
    peers = peers + [p for p in settings.peer_addresses(params.default_port) if p not in peers]
    bridge = CoreBridge()
    core = AppCore(
        params,
        datadir,
        peers=peers,
        use_dns_seeds=settings.use_dns_seeds,
        on_event=bridge.deliver,
    )
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls(), ask_unlock=True)
        errors = install_excepthook(datadir, lambda: window)
        window.show()
        if os.environ.get(EXIT_WHEN_SHOWN_ENV) == "1":
            QTimer.singleShot(0, lambda: _report_shown_and_quit(app))
        try:
            return app.exec()
        finally:
            errors.uninstall()
    finally:
        core.stop()


def _report_shown_and_quit(app: QApplication) -> None:
    elapsed = _seconds_since_process_start()
    shown = f"{elapsed:.3f} s after process start" if elapsed is not None else "(no /proc)"
    print(f"window shown {shown}", flush=True)
    app.quit()


def _seconds_since_process_start() -> float | None:
    """Linux: from /proc (10 ms resolution); None elsewhere."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime") as up:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
