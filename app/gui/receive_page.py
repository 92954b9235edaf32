"""Receive: the current address as text and QR code, with an optional amount and message; a
fresh address on demand; the wallet's address list (balances, use, labels)."""

import io

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.wallet import AddressInfo
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.uri import PaymentURI, format_payment_uri

from .calls import GuiCalls
from .money import coins, parse_coins, unit_changes, unit_symbol
from .widgets import page_header

RECEIVING, CHANGE, ALL = "Receiving", "Change", "All"


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def shown_in(info: AddressInfo, which: str) -> bool:
    """Whether an address belongs in the list filtered by `which` (receiving/change/all);
    the second script form watched for some change keys is never listed on its own."""
    if not info.primary:
        return False
    if which == RECEIVING:
        return info.path == "imported" or info.branch == 0
    if which == CHANGE:
        return info.path != "imported" and info.branch == 1
    return True


class ReceivePage(QWidget):
    """Without a core (tests of the request panel alone) the address list is hidden."""

    def __init__(
        self,
        params: NetworkParams,
        core: AppCore | None = None,
        calls: GuiCalls | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.params = params
        self.core = core
        self.calls = calls or GuiCalls()
        self.address = ""
        self.wallet_address = ""  # the wallet's first unused receive address
        self.chosen: str | None = None  # an address the user picked (new or from the list)
        self.infos: list[AddressInfo] = []
        outer = QVBoxLayout(self)
        request = QHBoxLayout()
        left = QVBoxLayout()
        form = QFormLayout()
        self.address_label = QLabel("—")
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label.setWordWrap(True)
        self.amount = QLineEdit()
        self._show_unit()
        unit_changes().unit_changed.connect(self._unit_changed)  # a slot: ends with the page
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional: who pays, what for (shown to the payer)")
        self.message = QLineEdit()
        form.addRow("Address", self.address_label)
        form.addRow("Amount", self.amount)
        form.addRow("Label", self.label)
        form.addRow("Message", self.message)
        left.addWidget(page_header("Receive", "Share your address or a payment request."))
        left.addLayout(form)
        self.uri = QLabel()
        self.uri.setWordWrap(True)
        self.uri.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        copy_address = QPushButton("Copy address")
        copy_uri = QPushButton("Copy payment request")
        copy_address.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.address))
        copy_uri.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.uri.text()))
        self.new_button = QPushButton("New address")
        self.new_button.setToolTip(
            "A fresh address that was never shown before: use one per payer for privacy."
        )
        self.new_button.clicked.connect(self.new_address)
        buttons = QHBoxLayout()
        buttons.addWidget(copy_address)
        buttons.addWidget(copy_uri)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        left.addWidget(self.uri)
        left.addWidget(self.error)
        left.addLayout(buttons)
        left.addStretch(1)
        request.addLayout(left, 1)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        request.addWidget(self.qr)
        outer.addLayout(request)

        self.list_box = QGroupBox("Addresses")
        list_layout = QVBoxLayout(self.list_box)
        filters = QHBoxLayout()
        self.which = QComboBox()
        self.which.addItems([RECEIVING, CHANGE, ALL])
        self.which.setAccessibleName("Which addresses to list")
        self.which.currentTextChanged.connect(lambda _: self._fill_table())
        self.count_label = QLabel()
        filters.addWidget(self.which)
        filters.addWidget(self.count_label, 1)
        list_layout.addLayout(filters)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Address", "Label", "Balance", "Used", "Path"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setToolTip("Click to request a payment to this address; double-click to label")
        self.table.cellClicked.connect(self._row_chosen)
        self.table.cellDoubleClicked.connect(self._edit_label)
        list_layout.addWidget(self.table)
        outer.addWidget(self.list_box, 1)
        self.list_box.setVisible(core is not None)
        self.new_button.setVisible(core is not None)
        for edit in (self.amount, self.label, self.message):
            edit.textChanged.connect(self._update)

    def _unit_changed(self, _unit: str) -> None:
        self._show_unit()
        self._fill_table()
        self._update()

    def _show_unit(self) -> None:
        self.amount.setPlaceholderText(f"optional, in {unit_symbol(self.params)}")

    # --- the address shown ---

    def show_address(self, address: str) -> None:
        """The wallet's current receive address (from each WalletView). An address the user
        chose stays shown until it has received something."""
        self.wallet_address = address
        if self.core is not None:
            self.refresh_list()
        if self.chosen is None:
            self._show(address)

    def _show(self, address: str) -> None:
        if address != self.address:
            self.address = address
            self.address_label.setText(address)
            self._update()

    def new_address(self) -> None:
        if self.core is None:
            return
        self.new_button.setEnabled(False)
        self.calls.watch(self.core.new_receive_address(), self._got_new, self._failed)

    def _got_new(self, address: str) -> None:
        self.new_button.setEnabled(True)
        self.chosen = address
        self._show(address)
        self.refresh_list()

    def _failed(self, exc: BaseException) -> None:
        self.new_button.setEnabled(True)
        self.error.setText(f"Could not do that: {exc}")

    # --- the list ---

    def refresh_list(self) -> None:
        if self.core is None:
            return
        self.calls.watch(self.core.addresses(), self._got_addresses, self._failed)

    def _got_addresses(self, infos: list[AddressInfo]) -> None:
        self.infos = infos
        if self.chosen is not None and any(i.address == self.chosen and i.used for i in infos):
            self.chosen = None  # it was paid: follow the wallet again
            self._show(self.wallet_address)
        self._fill_table()

    def _fill_table(self) -> None:
        which = self.which.currentText()
        rows = [i for i in self.infos if shown_in(i, which)]
        self.table.setRowCount(len(rows))
        for row, info in enumerate(rows):
            balance = QTableWidgetItem(coins(info.balance, self.params))
            balance.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cells = [
                QTableWidgetItem(info.address),
                QTableWidgetItem(info.label),
                balance,
                QTableWidgetItem("yes" if info.used else "no"),
                QTableWidgetItem(info.path),
            ]
            for col, item in enumerate(cells):
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        used = sum(1 for i in rows if i.used)
        self.count_label.setText(f"{len(rows)} addresses, {used} used")

    def _row_chosen(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        self.chosen = item.text()
        self._show(item.text())

    def _edit_label(self, row: int, _column: int) -> None:
        address_item, label_item = self.table.item(row, 0), self.table.item(row, 1)
        if self.core is None or address_item is None:
            return
        text, ok = QInputDialog.getText(
            self,
            "Label",
            f"Label for {address_item.text()}",
            text=label_item.text() if label_item else "",
        )
        if ok:
            self.set_address_label(address_item.text(), text)

    def set_address_label(self, address: str, text: str) -> None:
        if self.core is not None:
            self.calls.watch(self.core.set_label(address, text), self._label_set, self._failed)

    def _label_set(self, _none: None) -> None:
        self.refresh_list()

    # --- the request ---

    def _update(self) -> None:
        amount_units = None
        self.error.clear()
        text = self.amount.text().strip()
        if text:
            try:
                amount_units = parse_coins(text, self.params)  # in the display unit
            except ParseError as exc:
                self.error.setText(str(exc))
        if not self.address:
            return
        uri = PaymentURI(
            self.address,
            amount_units,
            self.label.text().strip() or None,
            self.message.text().strip() or None,
        )
        text_uri = format_payment_uri(uri, self.params)
        self.uri.setText(text_uri)
        self.qr.setPixmap(qr_pixmap(text_uri))
