"""Send: address checked as it is typed (pkt: payment requests can be pasted), amount or
"max", fee rate, a preview to check, then the password, signing and broadcast."""

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
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.wallet import TxPreview
from spv.address import decode_address
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.units import format_amount, parse_amount
from spv.uri import parse_payment_uri

from .calls import GuiCalls
from .money import coins

_ERROR = "color: #b00020"
_OK = "color: #1b7f3b"


class PreviewDialog(QDialog):
    """Shows exactly what will be signed; asks for the password."""

    def __init__(
        self, preview: TxPreview, params: NetworkParams, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
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
        total = preview.sent + preview.fee
        total_label = QLabel(f"<b>{coins(total, params)}</b> leaves your wallet")
        form.addRow("Total", total_label)
        form.addRow("Coins spent", QLabel(str(len(preview.inputs))))
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
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.address = QLineEdit()
        self.address.setPlaceholderText("address or pkt: payment request")
        self.address_state = QLabel()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(f"in {self.params.coin_symbol}")
        self.max = QCheckBox("Send everything (max)")
        self.fee_rate = QSpinBox()
        self.fee_rate.setRange(1, 10_000)
        self.fee_rate.setSuffix(" units/vbyte")
        self.fee_rate.setToolTip("1 unit per vbyte is the minimum every node relays.")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount)
        amount_row.addWidget(self.max)
        form.addRow("Pay to", self.address)
        form.addRow("", self.address_state)
        form.addRow("Amount", amount_row)
        form.addRow("Fee rate", self.fee_rate)
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
        self._say("Preparing…")
        self.calls.watch(
            self.core.prepare_send(address, amount, str(self.fee_rate.value())),
            self._show_preview,
            lambda exc: self._say(str(exc), error=True),
        )

    def _show_preview(self, preview: TxPreview) -> None:
        self._say("")
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
        self._say(f"Sent. Transaction {txid}")
        self.sent.emit(txid)

    def _send_failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self._say(f"Not sent: {exc}", error=True)
