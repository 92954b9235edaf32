"""New or restored wallet from the Wallet menu: the start page's forms in a dialog."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from spv.params import NetworkParams

from .calls import GuiCalls
from .wallet_setup import WalletSetup


class WalletSetupDialog(QDialog):
    """Emits `wallet_ready(name)` and closes once the new wallet is on disk (for a new one:
    after its seed words were confirmed)."""

    wallet_ready = Signal(str)
    open_requested = Signal()

    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        calls: GuiCalls,
        *,
        restore: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore a wallet" if restore else "New wallet")
        self.setMinimumSize(560, 440)
        self.setup = WalletSetup(params, datadir, calls)
        layout = QVBoxLayout(self)
        layout.addWidget(self.setup)
        self.setup.wallet_ready.connect(self._ready)
        self.setup.open_requested.connect(self._open_instead)
        if restore:
            self.setup.show_restore()
        else:
            self.setup.show_create()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Enter is the fields' own (create, restore, check the words): never a button that
        Qt made the dialog's default because it once had the focus ("Back", "Cancel")."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)

    def reject(self) -> None:  # Cancel, Escape or the close button
        self.setup.abandon()
        super().reject()

    def _ready(self, name: str) -> None:
        self.wallet_ready.emit(name)
        self.accept()

    def _open_instead(self) -> None:
        self.open_requested.emit()
        self.reject()
