"""Overview: balances, and the most recent transactions."""

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import WalletView
from spv.node import SyncProgress
from spv.params import NetworkParams

from .glance import GlanceRow
from .money import coins
from .payment_text import plural
from .sync_indicator import describe as describe_sync
from .widgets import page_header

RECENT = 12


class OverviewPage(QWidget):
    backup_requested = Signal()  # "Back up now" on the reminder

    def __init__(self, params: NetworkParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params = params
        layout = QVBoxLayout(self)
        layout.addWidget(page_header("Overview", "Your balance and latest payments."))
        self.backup_banner = QWidget()
        banner = QHBoxLayout(self.backup_banner)
        banner.setContentsMargins(8, 6, 8, 6)
        self.backup_banner.setStyleSheet(
            "background: #fff4e0; border: 1px solid #f0c36d; border-radius: 6px; color: #5c3d00;"
        )
        banner_text = QLabel(
            "Your seed words were never checked. Without a paper backup, a lost or broken "
            "computer means lost money."
        )
        banner_text.setWordWrap(True)
        banner_text.setStyleSheet("border: none;")
        self.backup_button = QPushButton("Back up now")
        self.backup_button.clicked.connect(self.backup_requested)
        banner.addWidget(banner_text, 1)
        banner.addWidget(self.backup_button)
        self.backup_banner.setVisible(False)
        layout.addWidget(self.backup_banner)
        box = QGroupBox("Balance")
        form = QFormLayout(box)
        self.total = QLabel("—")
        self.total.setObjectName("balance")
        font = self.total.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.total.setFont(font)
        self.confirmed = QLabel("—")
        self.unconfirmed = QLabel("—")
        self.immature = QLabel("—")
        self.immature.setToolTip(
            "Mining rewards become spendable 100 blocks after they were mined."
        )
        form.addRow(self.total)
        self.sync_note = QLabel()  # the balance is not up to date yet: say so, with why
        self.sync_note.setWordWrap(True)
        self.sync_note.setStyleSheet("color: #8a5a00")
        form.addRow(self.sync_note)
        form.addRow("Spendable", self.confirmed)
        form.addRow("Unconfirmed", self.unconfirmed)
        form.addRow("Immature (mining)", self.immature)
        layout.addWidget(box)
        self.glance = GlanceRow()  # mining and VPN at a glance, fed by the main window
        layout.addWidget(self.glance)
        recent = QGroupBox("Recent transactions")
        recent_layout = QVBoxLayout(recent)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Date", "Amount", "Status", "Description"])
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.empty = QLabel(
            "No transactions yet. Payments you receive or send, and mining rewards, show here."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid)")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setVisible(False)
        recent_layout.addWidget(self.empty)
        recent_layout.addWidget(self.table)
        layout.addWidget(recent, 1)
        self._synced = False
        self._sync_text = "Connecting to the network…"
        self._show_sync_note()

    # --- sync: the balance is only as good as the last sync ---

    def show_sync(self, progress: SyncProgress) -> None:
        self._synced = progress.stage == "synced"
        self._sync_text = describe_sync(progress)
        self._show_sync_note()

    def show_sync_problem(self, reason: str) -> None:
        self._synced = False
        self._sync_text = f"Not connected to the network: {reason}"
        self._show_sync_note()

    def _show_sync_note(self) -> None:
        self.sync_note.setVisible(not self._synced)
        self.sync_note.setText(
            f"Not up to date yet: payments may be missing from this balance. {self._sync_text}"
        )
        self.total.setStyleSheet("" if self._synced else "color: palette(mid)")

    def show_wallet(self, view: WalletView) -> None:
        self.backup_banner.setVisible(not view.backed_up)
        b = view.balance
        self.total.setText(coins(b.confirmed + b.unconfirmed + b.immature, self.params))
        self.confirmed.setText(coins(b.confirmed, self.params))
        self.unconfirmed.setText(coins(b.unconfirmed, self.params))
        self.immature.setText(coins(b.immature, self.params))
        entries = list(reversed(view.history))[:RECENT]
        self.table.setRowCount(len(entries))
        self.empty.setVisible(not entries)
        self.table.setVisible(bool(entries))
        for row, e in enumerate(entries):
            when = (
                datetime.fromtimestamp(e.timestamp).strftime("%Y-%m-%d %H:%M")
                if e.timestamp
                else ""
            )
            status = "unconfirmed" if e.height is None else plural(e.confirmations, "confirmation")
            if e.coinbase:
                status = "mining reward · " + status
            amount = QTableWidgetItem(coins(e.amount, self.params, signed=True))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 0, QTableWidgetItem(when))
            self.table.setItem(row, 1, amount)
            self.table.setItem(row, 2, QTableWidgetItem(status))
            self.table.setItem(row, 3, QTableWidgetItem(e.label))
