"""VPN: the exits (country, name, load, price, premium), search, one switch, the state with its
current step, a diagnostics run, and buying premium with the open wallet. All cjdns, network
and wallet work runs off the Qt thread."""

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, WalletView
from app.vpn.cjdroute import CjdrouteInfo
from app.vpn.diagnostics import DiagStep
from app.vpn.directory import ExitList, ExitServer
from app.vpn.errors import PremiumError
from app.vpn.premium import PremiumGrant, SignedPayment, pkt_to_units
from app.vpn.service import VpnService
from app.vpn.state import VpnState, VpnStatus
from spv.params import MAINNET

from .calls import GuiCalls
from .money import coins
from .premium_dialog import PremiumDialog, PremiumQuote
from .widgets import make_primary, page_header

ServiceFactory = Callable[[Callable[[VpnStatus], None]], VpnService]

_WALLET_WAIT = 120.0  # seconds a worker waits for the core (signing derives the key)

_STEP_TEXT = {
    VpnState.OFF: "Off",
    VpnState.STARTING_CJDNS: "Starting cjdns…",
    VpnState.PEERING: "Connecting to the network…",
    VpnState.AUTHORIZING: "Asking the exit for access…",
    VpnState.CONNECTING: "Opening the tunnel…",
    VpnState.CONNECTED: "Connected",
    VpnState.DISCONNECTING: "Disconnecting…",
    VpnState.ERROR: "Not connected",
}


NOT_INSTALLED = (
    "cjdroute (the cjdns router) is not installed, so the VPN cannot connect. Install cjdns "
    "(https://github.com/cjdelisle/cjdns; it is not packaged in Debian 12) and start it, or "
    "give its path in Settings ▸ VPN: cjdns."
)


class _StatusSignal(QObject):
    changed = Signal(object)  # VpnStatus, from any thread


class DiagnosticsList(QListWidget):
    """The connection test's steps; while empty it says what the test does."""

    EMPTY = (
        "Test connection checks each link in turn: cjdroute, its admin interface, the exit "
        "directory, the chosen exit and the tunnel. Nothing is changed."
    )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            self.viewport().rect().adjusted(8, 6, -8, -6),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            self.EMPTY,
        )


def readiness(service: VpnService) -> tuple[VpnStatus, CjdrouteInfo]:
    """Worker: cjdroute's state as it is now (connected by another process, not running, not
    installed), before the user presses anything."""
    return service.live_status(), service.detect()


def describe(status: VpnStatus) -> str:
    text = _STEP_TEXT.get(status.state, status.state.value)
    if status.state == VpnState.CONNECTED:
        addresses = ", ".join(a for a in (status.ip4, status.ip6) if a)
        text += f" to {status.exit_name or status.exit_key} ({addresses})"
    if status.state == VpnState.ERROR and status.error:
        step = f" while {status.failed_step}" if status.failed_step else ""
        text += f"{step}: {status.error}"
    return text


class VpnPage(QWidget):
    def __init__(
        self, make_service: ServiceFactory, calls: GuiCalls, core: AppCore | None = None
    ) -> None:
        super().__init__()
        self.calls = calls
        self.core = core  # pays for premium with its open wallet
        self._wallet_open = False
        self._premium_busy = False  # asking for an offer or paying: premium_status says so
        self.premium_dialog: PremiumDialog | None = None
        self._signal = _StatusSignal()
        self._signal.changed.connect(self.show_status)
        self.service: VpnService | None = None
        self.exits: list[ExitServer] = []
        layout = QVBoxLayout(self)
        layout.addWidget(page_header("VPN", "Browse privately through a PKT network exit."))
        self.state_label = QLabel("Off")
        font = self.state_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.state_label.setFont(font)
        self.state_label.setWordWrap(True)
        self.switch = make_primary(QPushButton("Connect"))
        self.switch.setMinimumHeight(40)
        top = QHBoxLayout()
        top.addWidget(self.state_label, 1)
        top.addWidget(self.switch)
        layout.addLayout(top)
        self.ready_note = QLabel()  # e.g. cjdroute is not installed: said before any click
        self.ready_note.setWordWrap(True)
        self.ready_note.setStyleSheet("color: #8a5a00")
        self.ready_note.setVisible(False)
        layout.addWidget(self.ready_note)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search exits by name or country")
        layout.addWidget(self.search)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Country", "Name", "Load", "Price", ""])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.diagnose_button = QPushButton("Test connection")
        self.refresh_button = QPushButton("Refresh list")
        self.list_note = QLabel()
        self.list_note.setWordWrap(True)
        bottom.addWidget(self.list_note, 1)
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.diagnose_button)
        layout.addLayout(bottom)
        premium_row = QHBoxLayout()
        self.premium_status = QLabel()
        self.premium_status.setWordWrap(True)
        self.premium_status.setStyleSheet("color: palette(mid)")
        self.premium_button = QPushButton("Buy premium…")
        premium_row.addWidget(self.premium_status, 1)
        premium_row.addWidget(self.premium_button)
        layout.addLayout(premium_row)
        self.diagnostics = DiagnosticsList()
        self.diagnostics.setMaximumHeight(140)
        layout.addWidget(self.diagnostics)
        self.switch.clicked.connect(self.toggle)
        self.search.textChanged.connect(self._fill_table)
        self.diagnose_button.clicked.connect(self.diagnose)
        self.refresh_button.clicked.connect(self.reload_exits)
        self.premium_button.clicked.connect(self.ask_premium)
        self.table.itemSelectionChanged.connect(self._update_premium_button)
        self._make_service = make_service
        self._status = VpnStatus()
        self._settings_pending = False  # new settings wait for the tunnel to close
        self._listed = False  # the exit list is fetched when the page is first shown
        self._update_premium_button()
        try:
            self.service = make_service(self._signal.changed.emit)
        except Exception as exc:  # noqa: BLE001 - cjdns missing or misconfigured: say why
            self._service_failed(exc)
        self._update_premium_button()

    def _service_failed(self, exc: BaseException) -> None:
        self.service = None
        self.state_label.setText(f"The VPN needs cjdns: {exc}")
        for button in (self.switch, self.diagnose_button, self.refresh_button):
            button.setEnabled(False)
        self._update_premium_button()

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)  # type: ignore[arg-type]
        if self.service is not None and not self._listed:
            self._listed = True
            self.reload_exits()
            self.check_ready()

    # --- readiness, settings ---

    def check_ready(self) -> None:
        """Say up front what would stop a connection (cjdroute not installed or not
        running), and show a tunnel another process opened."""
        service = self.service
        if service is None:
            return
        self.calls.in_worker(lambda: readiness(service), self._ready_known, lambda _exc: None)

    def _ready_known(self, ready: tuple[VpnStatus, CjdrouteInfo]) -> None:
        status, info = ready
        if self._status.state not in (VpnState.OFF, VpnState.ERROR):
            return  # a connection started meanwhile: its own states speak
        if status.state == VpnState.CONNECTED:
            self.show_status(status)
            self.ready_note.setVisible(False)
            return
        if status.error and not info.found:
            self.ready_note.setText(NOT_INSTALLED)
            self.ready_note.setToolTip(status.error)
            self.ready_note.setVisible(True)
        elif status.error:
            self.ready_note.setText(f"Before connecting: {status.error}")
            self.ready_note.setToolTip("")
            self.ready_note.setVisible(True)
        else:
            self.ready_note.setVisible(False)
        if not info.found and status.error:
            self.switch.setEnabled(False)  # nothing to connect with: the note says why
            self.switch.setToolTip("cjdroute is not installed")
        else:
            self.switch.setToolTip("")

    def settings_changed(self) -> None:
        """Settings were saved (VPN directory, cjdns): use them now, or once disconnected."""
        if self._status.state not in (VpnState.OFF, VpnState.ERROR):
            self._settings_pending = True
            self.list_note.setText("The new VPN settings apply once you disconnect.")
            return
        self._settings_pending = False
        make = self._make_service
        notify = self._signal.changed.emit
        self.calls.in_worker(lambda: make(notify), self._service_rebuilt, self._service_failed)

    def _service_rebuilt(self, service: VpnService) -> None:
        self.service = service
        for button in (self.switch, self.diagnose_button, self.refresh_button):
            button.setEnabled(True)
        self.diagnostics.clear()
        self.state_label.setText(describe(service.status))
        self._update_premium_button()
        if self._listed or self.isVisible():
            self._listed = True
            self.reload_exits()
            self.check_ready()

    # --- exits ---

    def reload_exits(self) -> None:
        service = self.service
        assert service is not None
        self.calls.in_worker(
            lambda: service.directory.list_exits(),
            self._exits_loaded,
            lambda exc: self.list_note.setText(f"Cannot list the exits: {exc}"),
        )

    def _exits_loaded(self, result: ExitList) -> None:
        if self.service is None or result is None:
            return
        self.exits = result.exits
        note = "from the cache (the directory did not answer)" if result.from_cache else ""
        self.list_note.setText(note)
        self._fill_table()

    def visible_exits(self) -> list[ExitServer]:
        words = self.search.text().lower().split()
        return [
            e for e in self.exits if all(w in f"{e.name} {e.country_code}".lower() for w in words)
        ]

    def _fill_table(self) -> None:
        shown = self.visible_exits()
        params = self.core.params if self.core is not None else MAINNET
        self.table.setRowCount(len(shown))
        for row, e in enumerate(shown):
            cells = (
                e.country_code,
                e.name,
                f"{e.load:.0f} %",
                coins(pkt_to_units(e.cost, params.units_per_coin), params) if e.premium else "free",
                "premium" if e.premium else "",
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self._update_premium_button()

    def selected_exit(self) -> ExitServer | None:
        row = self.table.currentRow()
        shown = self.visible_exits()
        return shown[row] if 0 <= row < len(shown) else None

    # --- connect ---

    def toggle(self) -> None:
        service = self.service
        assert service is not None
        if service.status.state in (VpnState.OFF, VpnState.ERROR):
            target = self.selected_exit()
            if target is None:
                self.state_label.setText("Choose an exit first")
                return
            self.switch.setText("Cancel")
            self.diagnostics.clear()  # a test run before is not about this connection
            self.calls.in_worker(lambda: service.connect(target), self._done, self._failed)
        else:
            self.switch.setEnabled(False)
            self.calls.in_worker(service.disconnect, self._done, self._failed)

    def _done(self, status: VpnStatus) -> None:
        self.show_status(status)

    def _failed(self, exc: BaseException) -> None:
        assert self.service is not None
        self.show_status(self.service.status)
        if self.service.status.state != VpnState.ERROR:
            self.state_label.setText(f"Not connected: {exc}")

    def show_status(self, status: VpnStatus) -> None:
        before, self._status = self._status, status
        self.state_label.setText(describe(status))
        busy = status.state not in (VpnState.OFF, VpnState.ERROR, VpnState.CONNECTED)
        self.switch.setEnabled(True)
        if status.state == VpnState.OFF and before.state != VpnState.OFF:
            self.diagnostics.clear()  # about the tunnel that is gone
        if status.state != VpnState.OFF:
            self.ready_note.setVisible(False)
        self._update_premium_button()
        if self._settings_pending and status.state in (VpnState.OFF, VpnState.ERROR):
            self.list_note.setText("")
            self.settings_changed()
        if status.state == VpnState.CONNECTED:
            self.switch.setText("Disconnect")
        elif busy:
            self.switch.setText("Cancel")
        else:
            self.switch.setText("Connect")

    # --- diagnostics ---

    def diagnose(self) -> None:
        service = self.service
        assert service is not None
        self.diagnostics.clear()
        self.diagnostics.addItem("testing…")
        target = self.selected_exit()
        self.calls.in_worker(
            lambda: service.diagnose(target), self._diagnosed, self._diagnose_failed
        )

    def _diagnosed(self, steps: list[DiagStep]) -> None:
        self.diagnostics.clear()
        marks = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "–"}
        for step in steps:
            self.diagnostics.addItem(f"{marks.get(step.status, '?')} {step.name}: {step.detail}")

    def _diagnose_failed(self, exc: BaseException) -> None:
        self.diagnostics.clear()
        self.diagnostics.addItem(f"✗ {exc}")

    # --- premium ---

    def set_wallet(self, view: WalletView | None) -> None:
        """The open wallet (None: no wallet) — premium is paid from it."""
        self._wallet_open = view is not None
        self._update_premium_button()

    def _premium_blocked(self) -> str | None:
        """Why premium cannot be bought right now, or None."""
        if self.service is None:
            return "the VPN is not available"
        if self.core is None or not self._wallet_open:
            return "open a wallet to pay for premium"
        target = self.selected_exit()
        if target is None or not target.premium:
            return "choose an exit that sells premium (marked “premium”)"
        status = self._status
        if status.state != VpnState.CONNECTED or status.exit_key != target.public_key:
            return f"connect to {target.name} first: the exit grants premium to its tunnel"
        return None

    def _update_premium_button(self) -> None:
        reason = self._premium_blocked()
        self.premium_button.setEnabled(reason is None)
        self.premium_button.setToolTip(
            reason or "Pay the selected exit for one hour of premium bandwidth"
        )
        if self._premium_busy:
            return
        if reason:
            self.premium_status.setText(f"Premium: {reason}.")
        elif self.premium_status.text().startswith("Premium: "):
            self.premium_status.clear()  # the reason no longer holds; outcomes stay

    def ask_premium(self) -> None:
        """Fetch the selected exit's offer and prepare the wallet's payment, then show both."""
        service, core, target = self.service, self.core, self.selected_exit()
        reason = self._premium_blocked()
        if reason is not None or service is None or core is None or target is None:
            self.premium_status.setText(f"Cannot buy premium: {reason}")
            return
        self.premium_button.setEnabled(False)
        self._premium_busy = True
        self.premium_status.setText(f"Asking {target.name} for its price…")

        def quote() -> PremiumQuote:
            status = service.status
            if status.state != VpnState.CONNECTED:
                status = service.live_status()
            if status.state != VpnState.CONNECTED or status.exit_key != target.public_key:
                raise PremiumError(
                    f"connect to {target.name} first: the exit grants premium to the tunnel"
                )
            offer = service.premium_offer(target)
            payment = core.prepare_send(offer.address, offer.amount_units).result(_WALLET_WAIT)
            view = core.wallet_view().result(_WALLET_WAIT)
            return PremiumQuote(offer, payment, view.balance.spendable if view else 0)

        self.calls.in_worker(quote, self._show_offer, self._premium_failed)

    def _show_offer(self, quote: PremiumQuote) -> None:
        assert self.core is not None
        self._premium_busy = False
        self._update_premium_button()
        self.premium_status.setText("")
        self.premium_dialog = PremiumDialog(quote, self.core.params, self)
        self.premium_dialog.accepted.connect(lambda: self._pay(quote))
        self.premium_dialog.open()

    def _pay(self, quote: PremiumQuote) -> None:
        service, core, dialog = self.service, self.core, self.premium_dialog
        assert service is not None and core is not None and dialog is not None
        password = dialog.password.text()
        dialog.password.clear()
        self.premium_button.setEnabled(False)
        self._premium_busy = True
        self.premium_status.setText("Signing the payment and sending it to the exit…")

        def sign(address: str, amount_units: int) -> SignedPayment:
            preview = quote.payment
            paid = sum(o.value for o in preview.outputs if o.address == address)
            if address != quote.offer.address or paid != amount_units:
                raise PremiumError("the prepared payment does not match the offer; not signed")
            tx = core.sign_only(preview, password).result(_WALLET_WAIT)
            return SignedPayment(
                tx.serialize().hex(),
                tx.txid_hex,
                amount_units,
                preview.fee,
                on_accepted=lambda: core.record_pending(tx).result(_WALLET_WAIT),
            )

        def buy() -> PremiumGrant:
            # The user confirmed exactly this offer by pressing "Pay and activate".
            return service.buy_premium(quote.offer, sign, lambda offer: offer == quote.offer)

        self.calls.in_worker(buy, self._premium_bought, self._premium_failed)

    def _premium_bought(self, grant: PremiumGrant) -> None:
        self._premium_busy = False
        self._update_premium_button()
        until = time.strftime("%H:%M", time.localtime(grant.until))
        self.premium_status.setText(f"Premium until {until} (payment {grant.txid})")

    def _premium_failed(self, exc: BaseException) -> None:
        self._premium_busy = False
        self._update_premium_button()
        self.premium_status.setText(f"Premium not bought: {str(exc) or type(exc).__name__}")
