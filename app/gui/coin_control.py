"""Coin control: the wallet's coins with checkboxes; the checked ones are spent (exactly those),
and can be frozen (never spent automatically) or unfrozen. The coins are read a page at a time
as the list scrolls (a miner's wallet holds hundreds of thousands), sorted by the wallet."""

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.coin_view import CoinView
from spv.params import NetworkParams

from .calls import GuiCalls
from .money import coins
from .paged_model import PagedTableModel

_ERROR = "color: #b00020"
COLUMNS = ("Coin", "Address", "Amount", "Confirmations", "Label", "Frozen")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class CoinModel(PagedTableModel):
    """Unspent coins, oldest first (or by value), with a checkbox each."""

    checked_changed = Signal()

    def __init__(
        self,
        calls: GuiCalls,
        params: NetworkParams,
        checked: dict[str, CoinView],
        parent: QObject,
    ) -> None:
        super().__init__(calls, COLUMNS, key=lambda v: v.outpoint, parent=parent)
        self.params = params
        self.checked = checked  # outpoint -> the coin as last read
        self.order = "age"
        self.descending = False

    def cell(self, row: Any, column: int, role: int) -> Any:
        view: CoinView = row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(view, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            checked = view.outpoint in self.checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return view.outpoint
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(_RIGHT.value)
        if role == Qt.ItemDataRole.UserRole:
            return view
        return None

    def _text(self, view: CoinView, column: int) -> str:
        if column == 0:
            return view.short_outpoint
        if column == 1:
            return view.address or "(no address)"
        if column == 2:
            return coins(view.value, self.params)
        if column == 3:
            text = f"{view.confirmations:,}" if view.confirmations else "unconfirmed"
            return text if view.usable else f"{text} (not spendable yet)"
        if column == 4:
            return view.label
        return "frozen" if view.frozen else ""

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else base

    def setData(  # noqa: N802 - Qt's name
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = 0
    ) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        view: CoinView = self.rows[index.row()]
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self.checked[view.outpoint] = view
        else:
            self.checked.pop(view.outpoint, None)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.order = "value" if column == 2 else "age"
        self.descending = order == Qt.SortOrder.DescendingOrder
        if column == 3:  # more confirmations: older
            self.descending = not self.descending
        self.reload()

    def fetcher(self, core: AppCore) -> Any:
        def fetch(offset: int, limit: int) -> Any:
            return core.coins_page(offset, limit, self.order, self.descending)

        return fetch

    def note_rows(self) -> None:
        """Checked coins read again take their new state (frozen, confirmations)."""
        for view in self.rows:
            if view.outpoint in self.checked:
                self.checked[view.outpoint] = view


class CoinControlDialog(QDialog):
    """Lists the coins (read from the core off the GUI thread, a page at a time). After
    `accept()`, `chosen()` holds the checked coins (empty: let the wallet choose)."""

    def __init__(
        self,
        core: AppCore,
        calls: GuiCalls,
        checked: Iterable[CoinView] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.setWindowTitle("Choose coins")
        self.resize(860, 440)
        self.loaded = False
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Check the coins to spend; the payment then uses exactly those. "
            "Frozen coins are never spent unless you unfreeze them."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = CoinModel(calls, self.params, {v.outpoint: v for v in checked}, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setResizeContentsPrecision(0)
        layout.addWidget(self.table, 1)
        self.total = QLabel()
        self.status = QLabel("Loading coins…")
        self.status.setWordWrap(True)
        actions = QHBoxLayout()
        self.freeze_button = QPushButton("Freeze checked")
        self.unfreeze_button = QPushButton("Unfreeze checked")
        self.freeze_button.setToolTip("Keep these coins out of every payment until unfrozen")
        actions.addWidget(self.total, 1)
        actions.addWidget(self.freeze_button)
        actions.addWidget(self.unfreeze_button)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.use_button = buttons.addButton(
            "Use checked coins", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._use)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.model.loaded.connect(self._shown)
        self.model.failed.connect(self._failed)
        self.model.checked_changed.connect(self._update_total)
        self.freeze_button.clicked.connect(lambda: self._freeze(True))
        self.unfreeze_button.clicked.connect(lambda: self._freeze(False))
        self._set_busy(True)
        self.model.set_source(self.model.fetcher(core))

    # --- loading ---

    def reload(self) -> None:
        self.model.reload()

    def _shown(self) -> None:
        self.model.note_rows()
        self.loaded = True
        self._set_busy(False)
        self.status.setStyleSheet("")
        total = self.model.total
        self.status.setText(
            f"{_plural(total, 'coin')} in this wallet" if total else "This wallet has no coins yet."
        )
        self._update_total()

    def _failed(self, why: str) -> None:
        self._set_busy(False)
        self._say(f"Could not read the coins: {why}", error=True)

    # --- checking ---

    def set_checked(self, outpoint: str, checked: bool) -> None:
        """Check or uncheck one coin of the rows read (as a click on its box does)."""
        for number, view in enumerate(self.model.rows):
            if view.outpoint == outpoint:
                state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                self.model.setData(
                    self.model.index(number, 0), state, Qt.ItemDataRole.CheckStateRole
                )
                return
        raise KeyError(outpoint)

    def chosen(self) -> list[CoinView]:
        """The checked coins."""
        return list(self.model.checked.values())

    def _update_total(self) -> None:
        chosen = self.chosen()
        total = sum(v.value for v in chosen)
        self.total.setText(f"Checked: {_plural(len(chosen), 'coin')}, {coins(total, self.params)}")
        self.freeze_button.setEnabled(any(not v.frozen for v in chosen))
        self.unfreeze_button.setEnabled(any(v.frozen for v in chosen))

    # --- freezing and choosing ---

    def _freeze(self, frozen: bool) -> None:
        targets = [v.outpoint for v in self.chosen() if v.frozen != frozen]
        if not targets:
            return
        self._set_busy(True)
        self._say("Freezing…" if frozen else "Unfreezing…")
        self.calls.watch(
            self.core.freeze(targets, frozen),
            lambda _: self.reload(),
            self._freeze_failed,
        )

    def _freeze_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._say(f"Not changed: {exc}", error=True)

    def _use(self) -> None:
        chosen = self.chosen()
        frozen = [v for v in chosen if v.frozen]
        unusable = [v for v in chosen if not v.usable]
        if frozen:
            self._say(
                f"{_plural(len(frozen), 'checked coin')} frozen: unfreeze them or uncheck them",
                error=True,
            )
            return
        if unusable:
            self._say(
                f"{_plural(len(unusable), 'checked coin')} cannot be spent yet (an immature "
                "mining reward or an expiring Network Steward payment): uncheck them",
                error=True,
            )
            return
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        self.table.setEnabled(not busy)
        self.use_button.setEnabled(not busy)
        if busy:
            self.freeze_button.setEnabled(False)
            self.unfreeze_button.setEnabled(False)
        else:
            self._update_total()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR if error else "")
        self.status.setText(text)
