"""Coin control: the wallet's coins with checkboxes; the checked ones are spent (exactly those),
and can be frozen (never spent automatically) or unfrozen."""

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.coin_view import CoinView

from .calls import GuiCalls
from .money import coins

_ERROR = "color: #b00020"
COLUMNS = ("Coin", "Address", "Amount", "Confirmations", "Label", "Frozen")


class CoinControlDialog(QDialog):
    """Lists the coins (fetched from the core off the GUI thread). After `accept()`,
    `chosen()` holds the checked coins (empty: let the wallet choose)."""

    def __init__(
        self,
        core: AppCore,
        calls: GuiCalls,
        checked: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.setWindowTitle("Choose coins")
        self.resize(820, 420)
        self._coins: dict[str, CoinView] = {}
        self._checked: set[str] = set(checked)
        self.loaded = False
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Check the coins to spend; the payment then uses exactly those. "
                "Frozen coins are never spent unless you unfreeze them."
            )
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
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
        self.table.itemChanged.connect(self._item_changed)
        self.freeze_button.clicked.connect(lambda: self._freeze(True))
        self.unfreeze_button.clicked.connect(lambda: self._freeze(False))
        self._set_busy(True)
        self.reload()

    # --- loading ---

    def reload(self) -> None:
        self.calls.watch(self.core.coins(), self._show, self._failed)

    def _show(self, views: list[CoinView]) -> None:
        self._coins = {v.outpoint: v for v in views}
        self._checked &= set(self._coins)
        self.table.blockSignals(True)
        self.table.setRowCount(len(views))
        for row, view in enumerate(views):
            coin_item = QTableWidgetItem(view.short_outpoint)
            coin_item.setData(Qt.ItemDataRole.UserRole, view.outpoint)
            coin_item.setToolTip(view.outpoint)
            coin_item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            coin_item.setCheckState(
                Qt.CheckState.Checked if view.outpoint in self._checked else Qt.CheckState.Unchecked
            )
            amount = QTableWidgetItem(coins(view.value, self.params))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            confirmations = QTableWidgetItem(
                str(view.confirmations) if view.confirmations else "unconfirmed"
            )
            if not view.usable:
                confirmations.setText(f"{confirmations.text()} (not spendable yet)")
            cells = (
                coin_item,
                QTableWidgetItem(view.address or "(no address)"),
                amount,
                confirmations,
                QTableWidgetItem(view.label),
                QTableWidgetItem("frozen" if view.frozen else ""),
            )
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        self.loaded = True
        self._set_busy(False)
        self.status.setStyleSheet("")
        self.status.setText("" if views else "This wallet has no coins yet.")
        self._update_total()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._say(f"Could not read the coins: {exc}", error=True)

    # --- checking ---

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        outpoint = str(item.data(Qt.ItemDataRole.UserRole))
        if item.checkState() == Qt.CheckState.Checked:
            self._checked.add(outpoint)
        else:
            self._checked.discard(outpoint)
        self._update_total()

    def set_checked(self, outpoint: str, checked: bool) -> None:
        """Check or uncheck one coin (as a click on its box does)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == outpoint:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                return
        raise KeyError(outpoint)

    def chosen(self) -> list[CoinView]:
        """The checked coins, in the wallet's order (oldest first)."""
        return [v for op, v in self._coins.items() if op in self._checked]

    def _update_total(self) -> None:
        chosen = self.chosen()
        total = sum(v.value for v in chosen)
        self.total.setText(f"Checked: {len(chosen)} coin(s), {coins(total, self.params)}")
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
                f"{len(frozen)} checked coin(s) are frozen: unfreeze them or uncheck them",
                error=True,
            )
            return
        if unusable:
            self._say(
                f"{len(unusable)} checked coin(s) cannot be spent yet (an immature mining "
                "reward or an expiring Network Steward payment): uncheck them",
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
