"""Network Steward vote: what a vote is, the candidate (checked as it is typed) or withdrawing,
a preview of the transaction with its fee, the password, then signing and broadcast through
the core (off the Qt thread), and the txid."""

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.steward.errors import StewardError
from app.steward.vote import EPOCH_BLOCKS, VOTE_LIFETIME_EPOCHS, vote_expiry, vote_target
from app.wallet.wallet import TxPreview

from .calls import GuiCalls
from .money import coins

_ERROR = "color: #b00020"
_OK = "color: #1b7f3b"

EXPLANATION = (
    "A Network Steward vote is carried by your own coins: the wallet moves its spendable coins "
    "to one of its own legacy addresses and appends the candidate's address to that output "
    "(<tt>&lt;candidate&gt; OP_0 OP_VOTE</tt>). The coins stay yours and vote with their value "
    "while they stay unspent; spending them withdraws the vote. Only the network fee is paid. "
    f"Votes expire after {VOTE_LIFETIME_EPOCHS} epochs of {EPOCH_BLOCKS} blocks (about a year)."
)


class VoteDialog(QDialog):
    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.previews: list[TxPreview] | None = None
        self.txids: list[str] = []
        self.setWindowTitle("Vote for the Network Steward")
        layout = QVBoxLayout(self)
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)
        form = QFormLayout()
        self.candidate = QLineEdit()
        self.candidate.setPlaceholderText("the candidate's address")
        self.candidate_state = QLabel()
        self.candidate_state.setWordWrap(True)
        self.withdraw = QCheckBox("Withdraw my vote instead (move the voting coins, no vote)")
        form.addRow("Vote for", self.candidate)
        form.addRow("", self.candidate_state)
        form.addRow("", self.withdraw)
        layout.addLayout(form)
        self.preview_button = QPushButton("Preview…")
        layout.addWidget(self.preview_button)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("wallet password")
        layout.addWidget(self.password)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outcome)
        buttons = QDialogButtonBox()
        self.vote_button = buttons.addButton("Sign and vote", QDialogButtonBox.ButtonRole.ApplyRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.candidate.textChanged.connect(self._choice_changed)
        self.withdraw.toggled.connect(self._choice_changed)
        self.password.textChanged.connect(self._update_buttons)
        self.preview_button.clicked.connect(self.preview)
        self.vote_button.clicked.connect(self.vote)
        self._busy = False
        self._choice_changed()

    # --- the choice ---

    def choice(self) -> tuple[bool, str | None]:
        """(valid, candidate address or None to withdraw); shows why an address is wrong."""
        if self.withdraw.isChecked():
            return True, None
        text = self.candidate.text().strip()
        if not text:
            return False, None
        try:
            target = vote_target(text, self.params, "candidate")
        except StewardError as exc:
            self._say(self.candidate_state, str(exc), error=True)
            return False, None
        if target is None:  # "none": there is a separate switch for withdrawing
            self._say(self.candidate_state, "enter an address, or withdraw below", error=True)
            return False, None
        self._say(self.candidate_state, "✓ valid address")
        self.candidate_state.setStyleSheet(_OK)
        return True, target.address

    def _choice_changed(self) -> None:
        self.candidate.setEnabled(not self.withdraw.isChecked())
        self.candidate_state.clear()
        self.previews = None  # a new choice needs a new preview
        self.summary.clear()
        self.choice()
        self._update_buttons()

    def _update_buttons(self) -> None:
        valid, _ = self.choice() if not self._busy else (False, None)
        self.preview_button.setEnabled(valid and not self._busy)
        self.password.setEnabled(self.previews is not None and not self._busy)
        self.vote_button.setEnabled(
            self.previews is not None and bool(self.password.text()) and not self._busy
        )

    # --- preview, sign, broadcast ---

    def preview(self) -> None:
        valid, candidate = self.choice()
        if not valid:
            return
        self._set_busy(True)
        self._say(self.summary, "Preparing…")
        self.calls.watch(self.core.prepare_vote(candidate), self._previewed, self._failed)

    def _previewed(self, previews: list[TxPreview]) -> None:
        self._busy = False
        self.previews = previews
        moved = sum(o.value for pv in previews for o in pv.outputs if o.is_mine)
        fee = sum(pv.fee for pv in previews)
        spent = sum(len(pv.inputs) for pv in previews)
        to = previews[0].outputs[0].address or "your own address"
        what = "carrying the vote" if self.choice()[1] is not None else "without a vote"
        self._say(
            self.summary,
            f"Moves {coins(moved, self.params)} ({spent} coin(s), {len(previews)} "
            f"transaction(s)) to {to}, {what}.\nNetwork fee: {coins(fee, self.params)}.",
        )
        self._update_buttons()
        self.password.setFocus()

    def vote(self) -> None:
        previews = self.previews
        if previews is None or not self.password.text():
            return
        password = self.password.text()
        self.password.clear()
        self._set_busy(True)
        self._say(self.outcome, "Signing and broadcasting…")
        self.calls.watch(
            self.core.sign_and_broadcast_all(previews, password), self._voted, self._failed
        )

    def _voted(self, txids: list[str]) -> None:
        self.txids = txids
        self.previews = None
        self._busy = False
        again = time.strftime("%Y-%m-%d", time.localtime(vote_expiry(time.time(), self.params)))
        if self.withdraw.isChecked():
            done = "Vote withdrawn."
        else:
            done = f"Vote sent; vote again before {again}."
        self._say(self.outcome, f"{done} Transaction {', '.join(txids)}")
        self.summary.clear()
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if self.previews is None:
            self.summary.clear()  # the preview failed: no "Preparing…" left behind
        self._say(self.outcome, f"Not sent: {str(exc) or type(exc).__name__}", error=True)
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.outcome.clear()
        self._update_buttons()

    @staticmethod
    def _say(label: QLabel, text: str, error: bool = False) -> None:
        label.setStyleSheet(_ERROR if error else "")
        label.setText(text)
