"""Receive: the current address as text and QR code, with an optional amount and message."""

import io

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from spv.errors import ParseError
from spv.params import NetworkParams
from spv.units import parse_amount
from spv.uri import PaymentURI, format_payment_uri


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class ReceivePage(QWidget):
    def __init__(self, params: NetworkParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params = params
        self.address = ""
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        form = QFormLayout()
        self.address_label = QLabel("—")
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(f"optional, in {params.coin_symbol}")
        self.label = QLineEdit()
        self.message = QLineEdit()
        form.addRow("Address", self.address_label)
        form.addRow("Amount", self.amount)
        form.addRow("Label", self.label)
        form.addRow("Message", self.message)
        left.addLayout(form)
        self.uri = QLabel()
        self.uri.setWordWrap(True)
        self.uri.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        copy_address = QPushButton("Copy address")
        copy_uri = QPushButton("Copy payment request")
        copy_address.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.address))
        copy_uri.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.uri.text()))
        buttons = QHBoxLayout()
        buttons.addWidget(copy_address)
        buttons.addWidget(copy_uri)
        left.addWidget(self.uri)
        left.addWidget(self.error)
        left.addLayout(buttons)
        left.addStretch(1)
        layout.addLayout(left, 1)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.qr)
        for edit in (self.amount, self.label, self.message):
            edit.textChanged.connect(self._update)

    def show_address(self, address: str) -> None:
        if address != self.address:
            self.address = address
            self.address_label.setText(address)
            self._update()

    def _update(self) -> None:
        amount_units = None
        self.error.clear()
        text = self.amount.text().strip()
        if text:
            try:
                amount_units = parse_amount(text, self.params.units_per_coin)
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
