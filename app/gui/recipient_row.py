"""One recipient of a payment: address checked as it is typed (a pasted pkt: payment request
fills the amount too), amount or "max"."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.display_units import format_in_unit
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.uri import parse_payment_uri

from .money import current_unit, parse_coins, unit_changes, unit_symbol
from .payment_text import address_problem

_ERROR = "color: #b00020"
_OK = "color: #1b7f3b"


class RecipientError(ValueError):
    """This recipient's address or amount is not usable (the message says why)."""


class RecipientRow(QWidget):
    changed = Signal()  # address, amount or max changed
    request_note = Signal(str)  # the label or message of a pasted pkt: payment request
    remove_requested = Signal(object)  # this row

    def __init__(
        self, params: NetworkParams, removable: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.params = params
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.address = QLineEdit()
        self.address.setPlaceholderText("address or pkt: payment request")
        self.address_state = QLabel()
        self.address_state.setWordWrap(True)  # a long reason must not widen the window
        self.amount = QLineEdit()
        self._show_unit()
        unit_changes().unit_changed.connect(self._unit_changed)  # a slot: ends with us
        self.max = QCheckBox("Send everything (max)")
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove this recipient")
        self.remove.setVisible(removable)
        address_row = QHBoxLayout()
        address_row.addWidget(self.address, 1)
        address_row.addWidget(self.remove)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount)
        amount_row.addWidget(self.max)
        form.addRow("Pay to", address_row)
        form.addRow("", self.address_state)
        form.addRow("Amount", amount_row)
        self.address.textChanged.connect(self._address_changed)
        self.max.toggled.connect(lambda on: self.amount.setEnabled(not on))
        self.address.textChanged.connect(self.changed)
        self.amount.textChanged.connect(self.changed)
        self.max.toggled.connect(self.changed)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def payment(self) -> tuple[str, int | str]:
        """(address, units or "max"); raises RecipientError with a message for the user."""
        address = self.address.text().strip()
        if not address:
            raise RecipientError("enter the address to pay")
        problem = address_problem(address, self.params)
        if problem is not None:
            raise RecipientError(problem)
        if self.max.isChecked():
            return address, "max"
        if not self.amount.text().strip():
            raise RecipientError(f"enter the amount to send, in {unit_symbol(self.params)}")
        try:
            amount = parse_coins(self.amount.text(), self.params)  # in the display unit
        except ParseError as exc:
            raise RecipientError(str(exc)) from None
        if amount == 0:
            raise RecipientError("enter an amount above zero")
        return address, amount

    def _unit_changed(self, _unit: str) -> None:
        self._show_unit()

    def _show_unit(self) -> None:
        self.amount.setPlaceholderText(f"in {unit_symbol(self.params)}")

    def clear(self) -> None:
        self.address.clear()
        self.amount.clear()
        self.max.setChecked(False)

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
                self.amount.setText(
                    format_in_unit(uri.amount_units, self.params.units_per_coin, current_unit())
                )
            text = uri.address
            note = " — ".join(part for part in (uri.label, uri.message) if part)
            if note:
                self.request_note.emit(note)
        if not text:
            self.address_state.clear()
            return
        problem = address_problem(text, self.params)
        if problem is not None:
            self._address_problem(problem)
            return
        self.address_state.setStyleSheet(_OK)
        self.address_state.setText("✓ valid address")

    def _address_problem(self, message: str) -> None:
        self.address_state.setStyleSheet(_ERROR)
        self.address_state.setText(message)
