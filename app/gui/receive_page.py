"""Receive: the current address as text and QR code, with an optional amount and message; a
fresh address on demand; the wallet's address list (balances, use, labels)."""

import io
from typing import Any

import segno
from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
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
from .paged_model import PagedTableModel
from .widgets import page_header

RECEIVING, CHANGE, ALL = "Receiving", "Change", "All"
ADDRESS_COLUMNS = ("Address", "Label", "Balance", "Used", "Path")
COPIED_MS = 2000  # how long "copied" shows
LABEL_SAVE_MS = 800  # a request's label is saved to its address after typing stops


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class AddressModel(PagedTableModel):
    """The wallet's addresses (receiving, change or all), read a page at a time."""

    def __init__(self, calls: GuiCalls, params: NetworkParams, parent: QObject) -> None:
        super().__init__(calls, ADDRESS_COLUMNS, key=lambda i: i.address, parent=parent)
        self.params = params
        self.which = RECEIVING

    def cell(self, row: Any, column: int, role: int) -> Any:
        info: AddressInfo = row
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return info.address
            if column == 1:
                return info.label
            if column == 2:
                return coins(info.balance, self.params)
            if column == 3:
                return "yes" if info.used else "no"
            return info.path
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
        if role == Qt.ItemDataRole.UserRole:
            return info
        return None

    def fetcher(self, core: AppCore) -> Any:
        def fetch(offset: int, limit: int) -> Any:
            return core.addresses_page(self.which.lower(), offset, limit)

        return fetch


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
        copy_address.setObjectName("copy_address")
        copy_uri = QPushButton("Copy payment request")
        copy_uri.setObjectName("copy_request")
        copy_address.clicked.connect(lambda: self._copy(self.address, "Address copied"))
        copy_uri.clicked.connect(lambda: self._copy(self.uri.text(), "Payment request copied"))
        self.copied = QLabel()  # brief feedback after a copy
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_MS)
        self._copied_timer.timeout.connect(self.copied.clear)
        self._label_timer = QTimer(self)  # a request's label becomes the address's label
        self._label_timer.setSingleShot(True)
        self._label_timer.setInterval(LABEL_SAVE_MS)
        self._label_timer.timeout.connect(self._save_request_label)
        self.new_button = QPushButton("New address")
        self.new_button.setToolTip(
            "A fresh address that was never shown before: use one per payer for privacy."
        )
        self.new_button.clicked.connect(self.new_address)
        buttons = QHBoxLayout()
        buttons.addWidget(copy_address)
        buttons.addWidget(copy_uri)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.copied)
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
        self.which.currentTextChanged.connect(self._which_changed)
        self.count_label = QLabel()
        filters.addWidget(self.which)
        filters.addWidget(self.count_label, 1)
        list_layout.addLayout(filters)
        self.model = AddressModel(self.calls, params, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(0)
        self.table.setToolTip("Click to request a payment to this address; double-click to label")
        self.table.clicked.connect(self._row_chosen)
        self.table.doubleClicked.connect(self._edit_label)
        self.model.loaded.connect(self._list_loaded)
        self._columns_fitted = True
        list_layout.addWidget(self.table)
        outer.addWidget(self.list_box, 1)
        self.list_box.setVisible(core is not None)
        self.new_button.setVisible(core is not None)
        for edit in (self.amount, self.label, self.message):
            edit.textChanged.connect(self._update)
        self.label.textEdited.connect(lambda _: self._label_timer.start())

    def _unit_changed(self, _unit: str) -> None:
        self._show_unit()
        self.table.viewport().update()  # balances in the unit chosen now
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
        if self.model.known or self.model.rows:
            self.model.refresh()
        else:
            self.model.set_source(self.model.fetcher(self.core))
        self.calls.watch(
            self.core.address_summary(self.model.which.lower(), self.chosen or ""),
            self._got_summary,
            self._failed,
        )

    def _which_changed(self, which: str) -> None:
        self.model.which = which
        self.model.reload()
        self.refresh_list()

    def _list_loaded(self) -> None:
        """Fit the columns to the rows on screen, once, when the page is shown (on a hidden
        page Qt measures every row read: a stall with each wallet update)."""
        self._columns_fitted = False
        if self.isVisible():
            self._fit_columns()

    def _fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        self._columns_fitted = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._columns_fitted:
            self._fit_columns()

    def _got_summary(self, summary: tuple[int, int, bool]) -> None:
        total, used, chosen_used = summary
        self.count_label.setText(f"{total:,} address{'' if total == 1 else 'es'}, {used:,} used")
        if self.chosen is not None and chosen_used:
            self.chosen = None  # it was paid: follow the wallet again
            self._show(self.wallet_address)

    def _row_chosen(self, index: QModelIndex) -> None:
        info: AddressInfo = self.model.row(index.row())
        self.chosen = info.address
        self._show(info.address)

    def _edit_label(self, index: QModelIndex) -> None:
        if self.core is None:
            return
        info: AddressInfo = self.model.row(index.row())
        text, ok = QInputDialog.getText(self, "Label", f"Label for {info.address}", text=info.label)
        if ok:
            self.set_address_label(info.address, text)

    def set_address_label(self, address: str, text: str) -> None:
        if self.core is not None:
            self.calls.watch(self.core.set_label(address, text), self._label_set, self._failed)

    def _label_set(self, _none: None) -> None:
        self.refresh_list()

    def _save_request_label(self) -> None:
        """The label typed for a request is saved as the address's label (as Electrum does),
        so the payment shows it in the History."""
        text = self.label.text().strip()
        if text and self.address:
            self.set_address_label(self.address, text)

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.setText(f"✓ {what}")
        self._copied_timer.start()

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
