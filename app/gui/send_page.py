"""Send: address checked as it is typed (pkt: payment requests can be pasted), amount or
"max", fee rate (presets or custom), optional coin control and RBF, a preview to check, then
the password, signing and broadcast."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.coin_view import CoinView
from app.wallet.wallet import SEQUENCE_RBF, TxPreview
from spv.address import decode_address
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.units import format_amount, parse_amount
from spv.uri import parse_payment_uri

from .calls import GuiCalls
from .coin_control import CoinControlDialog
from .fee_choice import FeeChoice, rate_text
from .money import coins

_ERROR = "color: #b00020"
_OK = "color: #1b7f3b"


class PreviewDialog(QDialog):
    """Shows exactly what will be signed; asks for the password."""

    def __init__(
        self, preview: TxPreview, params: NetworkParams, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Check the payment")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        for out in preview.outputs:
            who = out.address or out.script.hex()
            role = (
                "change (back to you)"
                if out.is_change
                else ("to yourself" if out.is_mine else "to")
            )
            form.addRow(f"{role}", QLabel(f"{coins(out.value, params)}  {who}"))
        form.addRow("Fee", QLabel(f"{coins(preview.fee, params)} ({preview.vsize} vbytes)"))
        form.addRow("Fee rate", QLabel(f"{rate_text(preview.fee_rate)} units/vbyte"))
        total = preview.sent + preview.fee
        total_label = QLabel(f"<b>{coins(total, params)}</b> leaves your wallet")
        form.addRow("Total", total_label)
        form.addRow("Coins spent", QLabel(str(len(preview.inputs))))
        replaceable = any(i.sequence <= SEQUENCE_RBF for i in preview.unsigned.inputs)
        form.addRow(
            "Fee bump (RBF)",
            QLabel("allowed later" if replaceable else "no (final once broadcast)"),
        )
        layout.addLayout(form)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("wallet password")
        layout.addWidget(self.password)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton(
            "Sign and send", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class SendPage(QWidget):
    sent = Signal(str)  # txid

    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.dialog: PreviewDialog | None = None
        self.coin_dialog: CoinControlDialog | None = None
        self.chosen_coins: list[CoinView] = []  # empty: the wallet chooses
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.address = QLineEdit()
        self.address.setPlaceholderText("address or pkt: payment request")
        self.address_state = QLabel()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(f"in {self.params.coin_symbol}")
        self.max = QCheckBox("Send everything (max)")
        self.fee = FeeChoice(self.params)
        self.rbf = QCheckBox("Allow fee bump later (RBF)")
        self.rbf.setToolTip(
            "Marks the payment replaceable (BIP125) so it can be sent again with a higher fee "
            "while unconfirmed. The recipient should wait for a confirmation."
        )
        self.choose_coins = QPushButton("Choose coins…")
        self.coins_state = QLabel("The wallet chooses the coins")
        self.reset_coins = QPushButton("Reset")
        self.reset_coins.setToolTip("Let the wallet choose the coins again")
        self.reset_coins.setVisible(False)
        coins_row = QHBoxLayout()
        coins_row.addWidget(self.coins_state, 1)
        coins_row.addWidget(self.reset_coins)
        coins_row.addWidget(self.choose_coins)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount)
        amount_row.addWidget(self.max)
        form.addRow("Pay to", self.address)
        form.addRow("", self.address_state)
        form.addRow("Amount", amount_row)
        form.addRow("Fee rate", self.fee)
        form.addRow("", self.rbf)
        form.addRow("Coins", coins_row)
        layout.addLayout(form)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.preview_button = QPushButton("Preview…")
        layout.addWidget(self.preview_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.address.textChanged.connect(self._address_changed)
        self.max.toggled.connect(lambda on: self.amount.setEnabled(not on))
        self.preview_button.clicked.connect(self.preview)
        self.address.textChanged.connect(self.fee.draft_changed)
        self.amount.textChanged.connect(self.fee.draft_changed)
        self.max.toggled.connect(self.fee.draft_changed)
        self.choose_coins.clicked.connect(self.open_coin_control)
        self.reset_coins.clicked.connect(lambda: self.use_coins([]))

    def _address_changed(self, text: str) -> None:
        text = text.strip()
        if text.lower().startswith("pkt:"):
            try:
                uri = parse_payment_uri(text, self.params)
            except ParseError as exc:
                self._address_problem(str(exc))
                return
            self.address.blockSignals(True)
            self.address.setText(uri.address)
            self.address.blockSignals(False)
            if uri.amount_units is not None:
                self.amount.setText(format_amount(uri.amount_units, self.params.units_per_coin))
            text = uri.address
        if not text:
            self.address_state.clear()
            return
        try:
            decode_address(text, self.params)
        except ParseError as exc:
            self._address_problem(str(exc))
            return
        self.address_state.setStyleSheet(_OK)
        self.address_state.setText("✓ valid address")

    def _address_problem(self, message: str) -> None:
        self.address_state.setStyleSheet(_ERROR)
        self.address_state.setText(message)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR if error else "")
        self.status.setText(text)

    def preview(self) -> None:
        address = self.address.text().strip()
        try:
            decode_address(address, self.params)
            amount: int | str = (
                "max"
                if self.max.isChecked()
                else parse_amount(self.amount.text(), self.params.units_per_coin)
            )
        except ParseError as exc:
            self._say(str(exc), error=True)
            return
        if amount == 0:
            self._say("enter an amount above zero", error=True)
            return
        rate = self.fee.rate_argument()
        if rate is None:
            self._say(self.fee.problem() or "choose a fee rate", error=True)
            return
        self._say("Preparing…")
        self.calls.watch(
            self.core.prepare_send(
                address,
                amount,
                rate,
                coins=[c.outpoint for c in self.chosen_coins] or None,
                rbf=self.rbf.isChecked(),
            ),
            self._show_preview,
            lambda exc: self._say(str(exc), error=True),
        )

    # --- coin control ---

    def open_coin_control(self) -> None:
        self.coin_dialog = CoinControlDialog(
            self.core, self.calls, [c.outpoint for c in self.chosen_coins], self
        )
        dialog = self.coin_dialog
        dialog.accepted.connect(lambda: self.use_coins(dialog.chosen()))
        dialog.open()

    def use_coins(self, chosen: list[CoinView]) -> None:
        """Spend exactly `chosen` (empty: let the wallet choose)."""
        self.chosen_coins = list(chosen)
        if chosen:
            total = coins(sum(c.value for c in chosen), self.params)
            self.coins_state.setText(f"Using {len(chosen)} chosen coin(s) ({total})")
        else:
            self.coins_state.setText("The wallet chooses the coins")
        self.reset_coins.setVisible(bool(chosen))
        self.fee.draft_changed()

    def _show_preview(self, preview: TxPreview) -> None:
        self._say("")
        self.fee.show_fee(preview.fee, preview.vsize, preview.fee_rate)
        self.dialog = PreviewDialog(preview, self.params, self)
        self.dialog.accepted.connect(lambda: self._send(preview))
        self.dialog.open()

    def _send(self, preview: TxPreview) -> None:
        assert self.dialog is not None
        password = self.dialog.password.text()
        self.dialog.password.clear()
        self._say("Signing and sending…")
        self.preview_button.setEnabled(False)
        self.calls.watch(
            self.core.sign_and_broadcast(preview, password), self._sent, self._send_failed
        )

    def _sent(self, txid: str) -> None:
        self.preview_button.setEnabled(True)
        self.address.clear()
        self.amount.clear()
        self.max.setChecked(False)
        self.use_coins([])  # they are spent now
        self._say(f"Sent. Transaction {txid}")
        self.sent.emit(txid)

    def _send_failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self._say(f"Not sent: {exc}", error=True)
