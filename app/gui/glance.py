"""Mining and VPN "at a glance": one model the Overview row and the tray icon both follow.

:class:`GlanceModel` polls the mining service (a cheap snapshot, once a second), receives VPN
status changes from any thread, and compares wallet views; it emits the new states and the
notifications :mod:`app.notifications` decides on. :class:`GlanceRow` is the Overview's
compact row: two buttons that say the state and open the page.
"""

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.core import WalletView
from app.mining.service import MiningService
from app.notifications import (
    STOPPED,
    MiningState,
    WalletHistory,
    describe_mining,
    describe_vpn,
    mining_notifications,
    mining_state,
    payment_notifications,
    vote_reminder_notifications,
    vpn_notifications,
)
from app.vpn.state import VpnStatus
from spv.params import NetworkParams

POLL_MS = 1000


class GlanceModel(QObject):
    mining_changed = Signal(object)  # MiningState
    vpn_changed = Signal(object)  # VpnStatus
    notification = Signal(object)  # app.notifications.Notification
    vote_reminder_changed = Signal(str)  # "" when no vote expires soon
    _vpn_status = Signal(object)  # from the VPN service's threads, queued to this thread

    def __init__(
        self, params: NetworkParams, mining: MiningService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.params = params
        self.service = mining
        self.mining = STOPPED
        self.vpn = VpnStatus()
        self._wallet: WalletHistory | None = None
        self._vote_reminder = ""
        self._vpn_status.connect(self.show_vpn)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll_mining)
        self.timer.start(POLL_MS)

    # --- wallet ---

    def wallet_opened(self) -> None:
        """The next view is a freshly opened wallet's: its history is not news."""
        self._wallet = None

    def show_wallet(self, view: WalletView) -> None:
        new = WalletHistory(view.name, view.history)
        for note in payment_notifications(self._wallet, new, self.params):
            self.notification.emit(note)
        self._wallet = new
        if view.vote_reminder != self._vote_reminder:
            for note in vote_reminder_notifications(self._vote_reminder, view.vote_reminder):
                self.notification.emit(note)
            self._vote_reminder = view.vote_reminder
            self.vote_reminder_changed.emit(view.vote_reminder)

    # --- mining ---

    def poll_mining(self) -> None:
        self.show_mining(mining_state(self.service.snapshot()))

    def show_mining(self, state: MiningState) -> None:
        if state == self.mining:
            return
        notes = mining_notifications(self.mining, state)
        self.mining = state
        self.mining_changed.emit(state)
        for note in notes:
            self.notification.emit(note)

    # --- VPN ---

    def vpn_status_from_any_thread(self, status: VpnStatus) -> None:
        """The VPN service's ``on_change``: called from its worker threads."""
        self._vpn_status.emit(status)

    def show_vpn(self, status: VpnStatus) -> None:
        notes = vpn_notifications(self.vpn, status)
        self.vpn = status
        self.vpn_changed.emit(status)
        for note in notes:
            self.notification.emit(note)


class GlanceRow(QWidget):
    """Two buttons side by side, "Mining: …" and "VPN: …"; clicking one opens its page. A third,
    "Vote: expires soon", shows while a Network Steward vote expires within four weeks."""

    mining_clicked = Signal()
    vpn_clicked = Signal()
    vote_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.mining_button = QPushButton()
        self.vpn_button = QPushButton()
        for button in (self.mining_button, self.vpn_button):
            button.setFlat(True)
            button.setStyleSheet("text-align: left; padding: 4px 8px")
            layout.addWidget(button, 1)
        self.mining_button.setToolTip("Open the Mining page")
        self.vpn_button.setToolTip("Open the VPN page")
        self.mining_button.clicked.connect(self.mining_clicked)
        self.vpn_button.clicked.connect(self.vpn_clicked)
        # shown only while a Network Steward vote expires within four weeks
        self.vote_button = QPushButton()
        self.vote_button.setFlat(True)
        self.vote_button.setStyleSheet("text-align: left; padding: 4px 8px; color: #8a5300")
        self.vote_button.setToolTip("Open the Steward page to vote again")
        self.vote_button.clicked.connect(self.vote_clicked)
        self.vote_button.hide()
        layout.addWidget(self.vote_button, 1)
        self.show_mining(STOPPED)
        self.show_vpn(VpnStatus())

    def show_mining(self, state: MiningState) -> None:
        self.mining_button.setText(f"Mining: {describe_mining(state)}")

    def show_vpn(self, status: VpnStatus) -> None:
        self.vpn_button.setText(f"VPN: {describe_vpn(status)}")

    def show_vote_reminder(self, reminder: str) -> None:
        self.vote_button.setText("Vote: expires soon, vote again" if reminder else "")
        self.vote_button.setToolTip(reminder or "Open the Steward page")
        self.vote_button.setVisible(bool(reminder))
