"""A transaction's details (inputs, outputs, fee, label; abandon and bump buttons) and the
dialog choosing a bumped fee's rate."""

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.wallet.model import HistoryEntry, TxDetails, TxPart
from spv.params import NetworkParams

from .fee_choice import FeeChoice
from .money import coins
from .widgets import make_primary, page_header


class DetailsDialog(QDialog):
    def __init__(
        self, entry: HistoryEntry, params: NetworkParams, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transaction")
        form = QFormLayout(self)
        txid = QLabel(entry.txid)
        txid.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Transaction id", txid)
        when = (
            datetime.fromtimestamp(entry.timestamp).strftime("%Y-%m-%d %H:%M:%S")
            if entry.timestamp
            else "—"
        )
        form.addRow("Date", QLabel(when))
        form.addRow("Block", QLabel("unconfirmed" if entry.height is None else f"{entry.height:,}"))
        form.addRow("Confirmations", QLabel(str(entry.confirmations)))
        form.addRow("Amount", QLabel(coins(entry.amount, params, signed=True)))
        if entry.coinbase:
            fee_text = "none (a mining reward)"
        elif entry.fee is None:
            fee_text = "unknown (paid by someone else)"
        else:
            fee_text = coins(entry.fee, params)
        self.fee_label = QLabel(fee_text)
        form.addRow("Fee", self.fee_label)
        kind = entry.direction + (" (mining reward)" if entry.coinbase else "")
        form.addRow("Kind", QLabel(kind))
        self.size_label = QLabel("…")
        form.addRow("Size", self.size_label)
        self.inputs = _parts_table()
        self.outputs = _parts_table()
        form.addRow("Inputs", self.inputs)
        form.addRow("Outputs", self.outputs)
        self.label = QLineEdit(entry.label)
        form.addRow("Label", self.label)
        self.params = params
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.abandon_button: QPushButton | None = None
        if entry.height is None and not entry.coinbase:
            self.abandon_button = buttons.addButton(
                "Abandon…", QDialogButtonBox.ButtonRole.DestructiveRole
            )
            self.abandon_button.setToolTip(
                "Forget this unconfirmed transaction, if it will never confirm"
            )
            self.abandon_button.clicked.connect(self._ask_abandon)
        self.bump_button = buttons.addButton("Bump fee…", QDialogButtonBox.ButtonRole.ActionRole)
        self.bump_button.setToolTip("Send it again with a higher fee, so it confirms sooner")
        self.bump_button.setVisible(False)  # shown once the details say it is replaceable
        self.bump_button.clicked.connect(self._ask_bump)
        form.addRow(buttons)
        self.txid: str = entry.txid

    abandon_requested = Signal(str)  # txid
    bump_requested = Signal(str)  # txid

    def _ask_bump(self) -> None:
        self.bump_requested.emit(self.txid)

    def _ask_abandon(self) -> None:
        answer = QMessageBox.question(
            self,
            "Abandon the transaction?",
            "Forget this unconfirmed transaction? Only do this if it will never confirm (a "
            "peer rejected it, or it was replaced). Its coins become spendable again; if it "
            "does confirm later, the wallet sees it again.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.abandon_requested.emit(self.txid)
            self.reject()

    def show_details(self, details: TxDetails) -> None:
        """Fill the inputs and outputs (asked of the core after the dialog opened)."""
        if details.vsize is None or details.size is None:
            self.size_label.setText("not kept (the wallet keeps only its own outputs of it)")
        else:
            self.size_label.setText(f"{details.vsize:,} vbytes ({details.size:,} bytes)")
        if details.coinbase:
            _fill_parts(self.inputs, [], self.params, "new coins (the block's reward)")
        else:
            _fill_parts(self.inputs, details.inputs, self.params)
        _fill_parts(self.outputs, details.outputs, self.params, more=details.other_outputs)
        if details.fee is not None and details.vsize:
            rate = details.fee / details.vsize
            self.fee_label.setText(f"{coins(details.fee, self.params)} ({rate:.3g} units/vbyte)")
        self.bump_button.setVisible(details.replaceable)
        self.adjustSize()  # as wide as the addresses and amounts

    def details_failed(self, exc: BaseException) -> None:
        self.size_label.setText(f"details not available: {exc}")


PARTS_ROWS_SHOWN = 8  # rows of inputs/outputs shown before the table scrolls


def _parts_table() -> QTableWidget:
    """Inputs or outputs: as wide as their addresses and amounts (the dialog grows to fit, no
    column cut), as tall as their rows up to PARTS_ROWS_SHOWN."""
    table = QTableWidget(0, 3)
    table.setHorizontalHeaderLabels(["Address", "Amount", ""])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


def _fit_rows(table: QTableWidget) -> None:
    rows = min(max(table.rowCount(), 1), PARTS_ROWS_SHOWN)
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(rows)) if table.rowCount() else 24
    table.setFixedHeight(height)


def _fill_parts(
    table: QTableWidget, parts: list[TxPart], params: NetworkParams, note: str = "", more: int = 0
) -> None:
    """`more`: outputs paying others that the wallet did not keep (a pool's coinbase)."""
    table.setRowCount((len(parts) or (1 if note else 0)) + (1 if more else 0))
    if more:
        table.setItem(
            table.rowCount() - 1,
            0,
            QTableWidgetItem(f"… and {more:,} more to others (not kept by this wallet)"),
        )
    if note and not parts:
        table.setItem(0, 0, QTableWidgetItem(note))
        table.resizeColumnsToContents()
        _fit_rows(table)
        return
    for row, part in enumerate(parts):
        address = QTableWidgetItem(part.address or part.outpoint)
        address.setToolTip(part.outpoint)
        amount = QTableWidgetItem("?" if part.value is None else coins(part.value, params))
        amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, 0, address)
        table.setItem(row, 1, amount)
        table.setItem(row, 2, QTableWidgetItem("this wallet" if part.mine else ""))
    table.resizeColumnsToContents()
    _fit_rows(table)


class BumpFeeDialog(QDialog):
    """Choose the new fee rate of a replacement."""

    def __init__(self, params: NetworkParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bump fee")
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                "Bump fee",
                "The same payment again with a higher fee, taken from the change (a payment "
                "of everything, with no change, gives the recipient that much less).",
            )
        )
        self.fee = FeeChoice(params)
        self.fee.select("Priority")
        layout.addWidget(self.fee)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.preview_button = make_primary(
            buttons.addButton("Preview…", QDialogButtonBox.ButtonRole.AcceptRole)
        )
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _accept_if_valid(self) -> None:
        problem = self.fee.problem()
        self.error.setText(problem or "")
        if problem is None:
            self.accept()
