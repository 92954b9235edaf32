"""The system tray icon: a menu (show the window, start/stop mining, the VPN's state, quit) and
the notifications the glance model decides on. Only created where the desktop has a tray
(:func:`tray_available`); the window works the same without it."""

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from app.notifications import STOPPED, MiningState, Notification, describe_vpn
from app.resources import resource_path
from app.vpn.state import VpnStatus

ICON = "icons/pkt-wallet.svg"
MESSAGE_MS = 6000


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


def app_icon() -> QIcon:
    path = resource_path(ICON)
    if path.exists():
        return QIcon(str(path))
    app = QApplication.instance()
    return app.windowIcon() if isinstance(app, QApplication) else QIcon()


class TrayIcon(QSystemTrayIcon):
    show_window = Signal()
    toggle_mining = Signal()
    open_vpn = Signal()
    quit_app = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(app_icon(), parent)
        self.menu = QMenu()
        self.show_action = self.menu.addAction("Show window")
        self.mining_action = self.menu.addAction("Start mining")
        self.vpn_action = self.menu.addAction("VPN: off")
        self.vpn_action.setToolTip("Open the VPN page to connect or disconnect")
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit")
        self.show_action.triggered.connect(self.show_window)
        self.mining_action.triggered.connect(self.toggle_mining)
        self.vpn_action.triggered.connect(self.open_vpn)
        self.quit_action.triggered.connect(self.quit_app)
        self.setContextMenu(self.menu)
        self.activated.connect(self._activated)
        self.mining = STOPPED
        self.vpn = VpnStatus()
        self._update_tooltip()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_window.emit()

    def show_mining(self, state: MiningState) -> None:
        self.mining = state
        self.mining_action.setText("Stop mining" if state.running else "Start mining")
        self._update_tooltip()

    def show_vpn(self, status: VpnStatus) -> None:
        self.vpn = status
        self.vpn_action.setText(f"VPN: {describe_vpn(status)}")
        self._update_tooltip()

    def notify(self, note: Notification) -> None:
        self.showMessage(note.title, note.text, self.icon(), MESSAGE_MS)

    def _update_tooltip(self) -> None:
        mining = "mining" if self.mining.running else "not mining"
        self.setToolTip(f"PKT Wallet — {mining}, VPN {describe_vpn(self.vpn)}")
