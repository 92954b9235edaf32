"""Choose a wallet and unlock it with its password (checked off the Qt thread), optionally
remembering the password in the operating system's keyring."""

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.last_wallet import save_last_wallet
from app.wallet import unlock_cache
from app.wallet.wallet import PasswordError, Wallet, WalletError, key_path
from spv.params import NetworkParams

from .calls import GuiCalls
from .widgets import enter_submits, make_primary, page_header

log = logging.getLogger(__name__)


def check_wallet_password(datadir: Path, name: str, params: NetworkParams, password: str) -> None:
    """Raise PasswordError unless `password` opens wallet `name` (slow: scrypt/Argon2id).
    A watch-only copy (no key file) has no password to check."""
    if not key_path(datadir, name).exists():
        return
    Wallet.open(datadir, name, params, lock=False).check_password(password)


@dataclass(frozen=True)
class UnlockOutcome:
    name: str
    note: str  # for the status bar: e.g. why the password could not be remembered


def _unlock(
    datadir: Path, params: NetworkParams, name: str, password: str, remember: bool, forget: bool
) -> UnlockOutcome:
    """Worker-thread part of the dialog: check, then remember/forget, then note the choice."""
    check_wallet_password(datadir, name, params, password)
    note = ""
    if remember:
        try:
            unlock_cache.remember(params.name, name, password)
        except unlock_cache.KeyringUnavailable as exc:
            note = f"The password was not remembered: {exc}"
    elif forget:
        unlock_cache.forget(params.name, name)
    save_last_wallet(datadir, name)
    return UnlockOutcome(name, note)


class UnlockDialog(QDialog):
    """Emits `unlocked(UnlockOutcome)` and closes once the chosen wallet's password is right.
    With `auto_unlock`, a password remembered in the keyring for the preselected wallet is
    tried at once."""

    unlocked = Signal(object)

    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        calls: GuiCalls,
        wallets: list[str],
        selected: str | None,
        *,
        auto_unlock: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.params = params
        self.datadir = datadir
        self.calls = calls
        self._auto_unlock = auto_unlock
        self._recalled: dict[str, str] = {}  # wallet -> password found in the keyring
        self._checking = False
        self.setWindowTitle("Open a wallet")
        self.setMinimumWidth(420)

        self.wallet_list = QListWidget()
        self.wallet_list.addItems(wallets)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("the password of this wallet")
        self.remember = QCheckBox("Remember password on this computer")
        self.remember.setEnabled(False)
        self.remember_note = QLabel("Looking for a keyring…")
        self.remember_note.setWordWrap(True)
        self.remember_note.setStyleSheet("color: palette(mid)")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.open_button = make_primary(QPushButton("Open"), "Open the wallet")
        self.cancel_button = QPushButton("Not now")

        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with its text
        layout.addWidget(page_header("Open a wallet", "Choose a wallet and type its password."))
        self.wallet_list.setMaximumHeight(self.wallet_list.fontMetrics().lineSpacing() * 8)
        layout.addWidget(self.wallet_list)
        form = QFormLayout()
        form.addRow("Password", self.password)
        form.addRow(self.remember)
        form.addRow(self.remember_note)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)

        self.open_button.clicked.connect(self.try_unlock)
        self.cancel_button.clicked.connect(self.reject)
        enter_submits(self, self.open_button)  # Enter unlocks, never "Not now"
        matches = self.wallet_list.findItems(selected or "", Qt.MatchFlag.MatchExactly)
        self.wallet_list.setCurrentRow(self.wallet_list.row(matches[0]) if matches else 0)
        self.wallet_list.currentTextChanged.connect(self._wallet_chosen)  # later choices
        self.wallet_list.itemDoubleClicked.connect(lambda _item: self.password.setFocus())
        self.password.setFocus()
        self.calls.in_worker(unlock_cache.availability, self._keyring_known, self._keyring_failed)

    def chosen_wallet(self) -> str:
        item = self.wallet_list.currentItem()
        return item.text() if item is not None else ""

    # --- keyring ---

    def _keyring_known(self, reason: str | None) -> None:
        if reason is not None:
            self.remember_note.setText(f"Cannot remember passwords here: {reason}.")
            return
        self.remember.setEnabled(True)
        self.remember_note.setText("Stored in the operating system's keyring, never in a file.")
        self._recall(self.chosen_wallet())

    def _keyring_failed(self, exc: BaseException) -> None:
        self._keyring_known(f"the keyring did not answer ({type(exc).__name__})")

    def _recall(self, name: str) -> None:
        if not name:
            return
        network = self.params.name
        self.calls.in_worker(
            lambda: unlock_cache.recall(network, name),
            lambda password: self._recalled_password(name, password),
            lambda exc: log.info("keyring lookup failed: %s", exc),
        )

    def _recalled_password(self, name: str, password: str | None) -> None:
        if password is None or name != self.chosen_wallet() or self._checking:
            return
        self._recalled[name] = password
        if not self.password.text():
            self.password.setText(password)
            self.remember.setChecked(True)
            if self._auto_unlock:
                self.try_unlock()
        self._auto_unlock = False

    def _wallet_chosen(self, name: str) -> None:
        self.error.clear()
        self.password.clear()
        self.remember.setChecked(False)
        self._auto_unlock = False
        if self.remember.isEnabled():
            self._recall(name)

    # --- unlocking ---

    def try_unlock(self) -> None:
        name = self.chosen_wallet()
        password = self.password.text()
        if self._checking or not name:
            return
        if not password and key_path(self.datadir, name).exists():
            self.error.setText("Type the password of this wallet.")
            return
        remember = self.remember.isEnabled() and self.remember.isChecked()
        forget = not remember and name in self._recalled
        self._set_checking(True)
        datadir, params = self.datadir, self.params
        self.calls.in_worker(
            lambda: _unlock(datadir, params, name, password, remember, forget),
            self._unlocked,
            self._unlock_failed,
        )

    def _set_checking(self, checking: bool) -> None:
        self._checking = checking
        self.busy.setVisible(checking)
        self.error.setText("Checking the password…" if checking else "")
        for widget in (self.wallet_list, self.password, self.open_button):
            widget.setEnabled(not checking)

    def _unlocked(self, outcome: UnlockOutcome) -> None:
        self._set_checking(False)
        self.password.clear()
        if not self.isVisible():
            return  # closed meanwhile: the user changed their mind
        self.unlocked.emit(outcome)
        self.accept()

    def _unlock_failed(self, exc: BaseException) -> None:
        self._set_checking(False)
        if isinstance(exc, PasswordError):
            self._recalled.pop(self.chosen_wallet(), None)
            self.error.setText("Wrong password. Check it and try again.")
            self.password.selectAll()
        elif isinstance(exc, (WalletError, OSError)):
            self.error.setText(str(exc))
        else:
            log.exception("unlocking failed", exc_info=exc)
            self.error.setText(f"The wallet could not be opened: {exc}")
        self.password.setFocus()
