"""Change the open wallet's password: the key file is re-encrypted off the Qt thread; a password
remembered in the keyring follows the change."""

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet import unlock_cache

from .calls import GuiCalls
from .widgets import enter_submits, make_primary, page_header

MIN_PASSWORD = 8


def new_password_problem(new: str, repeat: str) -> str:
    if len(new) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters for the new password."
    if new != repeat:
        return "The two new passwords differ."
    return ""


def _follow_in_keyring(network: str, wallet: str, old: str, new: str) -> None:
    """If the old password was remembered, remember the new one instead."""
    if unlock_cache.recall(network, wallet) == old:
        unlock_cache.remember(network, wallet, new)


class ChangePasswordDialog(QDialog):
    def __init__(
        self, core: AppCore, calls: GuiCalls, wallet: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.calls = calls
        self.wallet = wallet
        self.setWindowTitle("Change password")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with its text
        layout.addWidget(
            page_header("Change password", f"Of the wallet {wallet!r} on this computer.")
        )
        self.old = QLineEdit()
        self.new = QLineEdit()
        self.repeat = QLineEdit()
        for edit in (self.old, self.new, self.repeat):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Current password", self.old)
        form.addRow("New password", self.new)
        form.addRow("Repeat new password", self.repeat)
        layout.addLayout(form)
        note = QLabel("The seed words do not change: your paper backup stays valid.")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        layout.addWidget(self.busy)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.change_button = make_primary(QPushButton("Change"), "Change the password")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.change_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.change_button.clicked.connect(self.change)
        enter_submits(self, self.change_button)

    def change(self) -> None:
        problem = new_password_problem(self.new.text(), self.repeat.text())
        if not self.old.text():
            problem = "Type the current password."
        self.error.setText(problem)
        if problem:
            return
        self._set_busy(True)
        self.calls.watch(
            self.core.change_password(self.old.text(), self.new.text()),
            self._changed,
            self._failed,
        )

    def _changed(self, _none: None) -> None:
        old, new = self.old.text(), self.new.text()
        network, wallet = self.core.params.name, self.wallet
        self.calls.in_worker(
            lambda: _follow_in_keyring(network, wallet, old, new), self._done, self._done
        )

    def _done(self, _result: object) -> None:
        for edit in (self.old, self.new, self.repeat):
            edit.clear()
        self._set_busy(False)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.error.setText(
            "The current password is not right." if "wrong password" in str(exc) else str(exc)
        )

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.old, self.new, self.repeat, self.change_button):
            widget.setEnabled(not busy)
