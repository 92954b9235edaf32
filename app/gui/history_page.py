"""History: every transaction, sortable and searchable; details with an editable label; CSV
export."""

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, WalletView
from app.wallet.model import HistoryEntry, TxDetails, TxPart
from app.wallet.wallet import TxPreview
from spv.params import NetworkParams

from .calls import GuiCalls
from .fee_choice import FeeChoice
from .money import coins
from .send_page import PreviewDialog
from .widgets import make_primary, page_header

COLUMNS = ("Date", "Label", "Amount", "Balance", "Confirmations", "Transaction")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILL_CHUNK = 100
"""History rows built per turn of the event loop (a few ms each)."""


def _item(text: str, sort_key: object, align_right: bool = False) -> QStandardItem:
    item = QStandardItem(text)
    item.setData(sort_key, SORT_ROLE)
    item.setEditable(False)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


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
        _fill_parts(self.outputs, details.outputs, self.params)
        if details.other_outputs:
            self.outputs.setToolTip(
                f"{details.other_outputs:,} more outputs paid others (not kept by the wallet)"
            )
        if details.fee is not None and details.vsize:
            rate = details.fee / details.vsize
            self.fee_label.setText(f"{coins(details.fee, self.params)} ({rate:.3g} units/vbyte)")
        self.bump_button.setVisible(details.replaceable)

    def details_failed(self, exc: BaseException) -> None:
        self.size_label.setText(f"details not available: {exc}")


def _parts_table() -> QTableWidget:
    table = QTableWidget(0, 3)
    table.setHorizontalHeaderLabels(["Address", "Amount", ""])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    table.setMinimumWidth(520)
    table.setMaximumHeight(table.fontMetrics().lineSpacing() * 8)
    return table


def _fill_parts(
    table: QTableWidget, parts: list[TxPart], params: NetworkParams, note: str = ""
) -> None:
    table.setRowCount(len(parts) or (1 if note else 0))
    if note and not parts:
        table.setItem(0, 0, QTableWidgetItem(note))
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


class BumpFeeDialog(QDialog):
    """Choose the new fee rate of a replacement."""

    def __init__(self, params: NetworkParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bump fee")
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header("Bump fee", "The same payment again, with a higher fee from the change.")
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


class HistoryPage(QWidget):
    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.entries: dict[str, HistoryEntry] = {}
        self._fill_generation = 0
        self._columns_fitted = True  # False: fit them when the page is shown
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header("History", "Every payment in and out. Double-click one for details.")
        )
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search label or transaction id")
        self.export_button = QPushButton("Export CSV…")
        top.addWidget(self.search, 1)
        top.addWidget(self.export_button)
        layout.addLayout(top)
        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(0)  # fit the visible rows
        layout.addWidget(self.table, 1)
        self.status = QLabel()  # how many transactions
        self.notice = QLabel()  # what the last action (abandon, label, export) did
        self.notice.setWordWrap(True)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status)
        status_row.addWidget(self.notice, 1)
        layout.addLayout(status_row)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table.doubleClicked.connect(self._open_details)
        self.export_button.clicked.connect(self._export)
        self.dialog: DetailsDialog | None = None
        self.bump_dialog: BumpFeeDialog | None = None
        self.preview_dialog: PreviewDialog | None = None

    def show_wallet(self, view: WalletView) -> None:
        """Show a wallet's history. The rows go into a new model, detached (rows added one by
        one behind the sorted proxy cost several times more), FILL_CHUNK per turn of the event
        loop so that a long history never stalls the window; it replaces the shown model when
        complete (bench/gui_latency.py)."""
        self.entries = {e.txid: e for e in view.history}
        self._fill_generation += 1
        model = QStandardItemModel(0, len(COLUMNS))
        model.setHorizontalHeaderLabels(list(COLUMNS))
        self._fill(model, view.history, 0, self._fill_generation)

    def _fill(
        self, model: QStandardItemModel, history: list[HistoryEntry], start: int, generation: int
    ) -> None:
        if generation != self._fill_generation:
            return  # a newer view came meanwhile
        end = min(len(history), start + FILL_CHUNK)
        for order in range(start, end):
            model.appendRow(self._row(order, history[order]))
        if end < len(history):
            QTimer.singleShot(0, self, lambda: self._fill(model, history, end, generation))
            return
        self.model = model
        self.proxy.setSourceModel(model)
        self._columns_fitted = False
        if self.isVisible():
            self._fit_columns()
        self.status.setText(f"{len(history)} transactions")

    def _fit_columns(self) -> None:
        """Fit the columns to the rows on screen (only then: on a hidden page it measures
        every row)."""
        self.table.resizeColumnsToContents()
        self._columns_fitted = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._columns_fitted:
            self._fit_columns()

    def _row(self, order: int, e: HistoryEntry) -> list[QStandardItem]:
        when = (
            datetime.fromtimestamp(e.timestamp).strftime("%Y-%m-%d %H:%M")
            if e.timestamp
            else "pending"
        )
        return [
            _item(when, (e.timestamp or 2**62, order)),
            _item(e.label, e.label.lower()),
            _item(coins(e.amount, self.params, signed=True), e.amount, align_right=True),
            _item(coins(e.balance, self.params), order, align_right=True),
            _item(
                str(e.confirmations) if e.height is not None else "unconfirmed",
                e.confirmations,
            ),
            _item(e.txid, e.txid),
        ]

    def _open_details(self, index: object) -> None:
        row = self.proxy.mapToSource(index).row()  # type: ignore[arg-type]
        txid = self.model.item(row, 5).text()
        entry = self.entries[txid]
        dialog = DetailsDialog(entry, self.params, self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._save_label(txid))
        dialog.abandon_requested.connect(self.abandon)
        dialog.bump_requested.connect(self.ask_bump)
        dialog.open()
        self.calls.watch(
            self.core.transaction_details(txid), dialog.show_details, dialog.details_failed
        )

    # --- fee bump: choose a rate, preview, password, send ---

    def ask_bump(self, txid: str) -> None:
        if self.dialog is not None:
            self.dialog.reject()
        self.bump_dialog = BumpFeeDialog(self.params, self)
        self.bump_dialog.accepted.connect(lambda: self._prepare_bump(txid))
        self.bump_dialog.open()

    def _prepare_bump(self, txid: str) -> None:
        assert self.bump_dialog is not None
        rate = self.bump_dialog.fee.rate_argument()
        self.calls.watch(
            self.core.prepare_fee_bump(txid, rate), self._bump_preview, self._bump_failed
        )

    def _bump_preview(self, preview: TxPreview) -> None:
        self.preview_dialog = PreviewDialog(preview, self.params, self)
        self.preview_dialog.accepted.connect(lambda: self._send_bump(preview))
        self.preview_dialog.open()

    def _send_bump(self, preview: TxPreview) -> None:
        assert self.preview_dialog is not None
        password = self.preview_dialog.password.text()
        self.preview_dialog.password.clear()
        self.notice.setText("Signing and sending the replacement…")
        self.calls.watch(
            self.core.sign_and_broadcast(preview, password), self._bumped, self._bump_failed
        )

    def _bumped(self, txid: str) -> None:
        self.notice.setText(f"Fee bumped: the payment is now transaction {txid}")

    def _bump_failed(self, exc: BaseException) -> None:
        self.notice.setText(f"Fee not bumped: {exc}")

    def abandon(self, txid: str) -> None:
        self.calls.watch(self.core.abandon(txid), self._abandoned, self._not_abandoned)

    def _abandoned(self, _none: None) -> None:
        self.notice.setText("Transaction abandoned; its coins are spendable again.")

    def _not_abandoned(self, exc: BaseException) -> None:
        self.notice.setText(f"Not abandoned: {exc}")

    def _save_label(self, txid: str) -> None:
        assert self.dialog is not None
        self.calls.watch(
            self.core.set_label(txid, self.dialog.label.text().strip()),
            lambda _: None,
            lambda exc: self.notice.setText(f"label not saved: {exc}"),
        )

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export history", "pkt-history.csv", "CSV (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        self.calls.watch(
            self.core.export_history(path),
            lambda _: self.notice.setText(f"exported to {path}"),
            lambda exc: self.notice.setText(f"export failed: {exc}"),
        )
