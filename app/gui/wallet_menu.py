"""The "Wallet" menu: new, restore, open (chooser), close, the wallets to switch to, and Quit."""

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget


class WalletMenu(QMenu):
    """Emits what the user asked for; the window does it. `wallets()` and `current()` are
    asked each time the menu opens, so the list is never stale."""

    new_requested = Signal()
    restore_requested = Signal()
    open_requested = Signal()
    close_requested = Signal()
    change_password_requested = Signal()
    seed_requested = Signal()
    switch_requested = Signal(str)
    quit_requested = Signal()

    def __init__(
        self,
        wallets: Callable[[], list[str]],
        current: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("&Wallet", parent)
        self._wallets = wallets
        self._current = current
        self.new_action = self.addAction("&New wallet…")
        self.restore_action = self.addAction("&Restore wallet…")
        self.open_action = self.addAction("&Open wallet…")
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)  # Ctrl+O
        self.close_action = self.addAction("&Close wallet")
        self.addSeparator()
        self.seed_action = self.addAction("&Seed words…")
        self.password_action = self.addAction("Change &password…")
        self.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)  # Ctrl+Q
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.quit_requested)
        self._switch_group = QActionGroup(self)
        self._switch_group.setExclusive(True)
        self.switch_actions: list[QAction] = []  # inserted between these two separators
        self._quit_separator = self.addSeparator()
        self.addAction(self.quit_action)
        self.new_action.triggered.connect(self.new_requested)
        self.restore_action.triggered.connect(self.restore_requested)
        self.open_action.triggered.connect(self.open_requested)
        self.close_action.triggered.connect(self.close_requested)
        self.password_action.triggered.connect(self.change_password_requested)
        self.seed_action.triggered.connect(self.seed_requested)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list of wallets (the open one checked) and the Close action's state."""
        for action in self.switch_actions:
            self._switch_group.removeAction(action)
            self.removeAction(action)
            action.deleteLater()
        current = self._current()
        self.close_action.setEnabled(current is not None)
        self.password_action.setEnabled(current is not None)
        self.seed_action.setEnabled(current is not None)
        self.switch_actions = []
        for name in self._wallets():
            action = QAction(name, self)
            action.setCheckable(True)
            action.setChecked(name == current)
            action.setStatusTip(f"Switch to wallet {name}")
            action.triggered.connect(lambda _checked=False, n=name: self._switch(n))
            self._switch_group.addAction(action)
            self.insertAction(self._quit_separator, action)
            self.switch_actions.append(action)

    def _switch(self, name: str) -> None:
        if name != self._current():
            self.switch_requested.emit(name)
        else:
            self.refresh()  # keep the check mark on the open wallet
