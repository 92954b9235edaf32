"""History: every transaction, newest first, read from the wallet a page at a time (a miner's
wallet holds hundreds of thousands); sorted and searched by the wallet's database; details with
an editable label, fee bump and abandon; CSV export."""

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, WalletView
from app.wallet.model import HistoryEntry
from app.wallet.wallet import TxPreview
from spv.params import NetworkParams

from .calls import GuiCalls
from .history_details import BumpFeeDialog, DetailsDialog
from .money import coins
from .paged_model import PagedTableModel
from .send_page import PreviewDialog
from .widgets import page_header

COLUMNS = ("Date", "Label", "Amount", "Balance", "Confirmations", "Transaction")
# The wallet's sort for each column, and whether "descending" means newest first there.
COLUMN_SORTS = ("date", "label", "amount", "date", "date", "txid")
SEARCH_DELAY_MS = 250
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class HistoryModel(PagedTableModel):
    """History rows, read from the core page by page in the wallet's order."""

    def __init__(self, calls: GuiCalls, params: NetworkParams, parent: QObject) -> None:
        super().__init__(calls, COLUMNS, key=lambda e: e.txid, parent=parent)
        self.params = params
        self.sort_key = "date"
        self.newest_first = True
        self.search = ""

    def cell(self, row: Any, column: int, role: int) -> Any:
        e: HistoryEntry = row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(e, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return int(_RIGHT.value)
        if role == Qt.ItemDataRole.ToolTipRole and column == 5:
            return e.txid
        if role == Qt.ItemDataRole.UserRole:
            return e
        return None

    def _text(self, e: HistoryEntry, column: int) -> str:
        if column == 0:
            return (
                datetime.fromtimestamp(e.timestamp).strftime("%Y-%m-%d %H:%M")
                if e.timestamp
                else "pending"
            )
        if column == 1:
            return e.label
        if column == 2:
            return coins(e.amount, self.params, signed=True)
        if column == 3:
            return coins(e.balance, self.params)
        if column == 4:
            return f"{e.confirmations:,}" if e.height is not None else "unconfirmed"
        return f"{e.txid[:10]}…{e.txid[-6:]}"  # the whole id: its tooltip and the details

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        if column == 4:  # more confirmations: older
            descending = not descending
        self.sort_key, self.newest_first = COLUMN_SORTS[column], descending
        self.reload()

    def set_search(self, text: str) -> None:
        self.search = text.strip()
        self.reload()

    def fetcher(self, core: AppCore) -> Any:
        def fetch(offset: int, limit: int) -> Any:
            return core.history_page(
                offset,
                limit,
                newest_first=self.newest_first,
                sort=self.sort_key,
                search=self.search,
            )

        return fetch


class HistoryPage(QWidget):
    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.wallet_name: str | None = None
        self._columns_fitted = True  # False: fit them when the page is shown
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header("History", "Every payment in and out. Double-click one for details.")
        )
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search label or transaction id")
        self.search.setClearButtonEnabled(True)
        self.export_button = QPushButton("Export CSV…")
        top.addWidget(self.search, 1)
        top.addWidget(self.export_button)
        layout.addLayout(top)
        self.model = HistoryModel(calls, self.params, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(0)  # fit the visible rows
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self.status = QLabel()  # how many transactions
        self.notice = QLabel()  # what the last action (abandon, label, export) did
        self.notice.setWordWrap(True)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status)
        status_row.addWidget(self.notice, 1)
        layout.addLayout(status_row)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.model.set_search(self.search.text()))
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.model.loaded.connect(self._loaded)
        self.model.failed.connect(lambda why: self.notice.setText(f"History not read: {why}"))
        self.table.doubleClicked.connect(self._open_details)
        self.export_button.clicked.connect(self._export)
        self.dialog: DetailsDialog | None = None
        self.bump_dialog: BumpFeeDialog | None = None
        self.preview_dialog: PreviewDialog | None = None
        self._loaded()

    def show_wallet(self, view: WalletView) -> None:
        """A wallet was opened (read its history from the start) or changed (read the rows
        shown again: new ones slide in at the top, the view keeps its place)."""
        if view.name != self.wallet_name:
            self.wallet_name = view.name
            self.model.set_source(self.model.fetcher(self.core))
        else:
            self.model.refresh()
            self.table.viewport().update()  # amounts in the unit chosen now

    @property
    def entries(self) -> dict[str, HistoryEntry]:
        """The rows read so far, by transaction id."""
        return {e.txid: e for e in self.model.rows}

    def clear(self) -> None:
        """No wallet open."""
        self.wallet_name = None
        self.model.set_source(None)
        self._loaded()

    def _loaded(self) -> None:
        model = self.model
        if model.search:
            self.status.setText(f"{plural(model.total, 'transaction')} match")
        else:
            self.status.setText(plural(model.total, "transaction") if model.known else "")
        if model.known and model.total == 0:
            self.empty.setText(
                f"No transaction matches “{model.search}”."
                if model.search
                else "No transactions yet. Payments you receive and mining rewards show here."
            )
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.table)
        if model.rows:
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Fit the columns to the rows on screen (only then: on a hidden page it measures
        every row)."""
        if not self.isVisible():
            self._columns_fitted = False
            return
        self.table.resizeColumnsToContents()
        self._columns_fitted = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._columns_fitted:
            self._fit_columns()

    def _open_details(self, index: object) -> None:
        entry: HistoryEntry = self.model.row(index.row())  # type: ignore[attr-defined]
        txid = entry.txid
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
        entry = self.entries.get(txid)
        old_fee = entry.fee if entry is not None else None
        self.calls.watch(
            self.core.prepare_fee_bump(txid, rate),
            lambda preview: self._bump_preview(preview, old_fee),
            self._bump_failed,
        )

    def _bump_preview(self, preview: TxPreview, old_fee: int | None = None) -> None:
        reduced_by = (
            preview.fee - old_fee
            if preview.reduced_output is not None and old_fee is not None
            else None
        )
        self.preview_dialog = PreviewDialog(preview, self.params, self, reduced_by=reduced_by)
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
