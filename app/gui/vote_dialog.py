"""Vote for the Network Steward (Electorium, the system counted since 2024): vote for an
address (checked as it is typed), stand as a candidate, or withdraw; from every address of the
wallet holding coins (one transaction each) or from one of them, optionally gathering the
other addresses' coins on it first; a preview of every transaction with the total fee and the
warnings; the password; then signing and broadcast through the core (off the Qt thread).

The 2019-2023 OP_VOTE vote stays reachable behind an explicit option, labelled as such.
"""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.voting import COUNTS_ONLY_IF, ONE_ADDRESS_PER_VOTE, VoteBatch, VotingAddress
from app.wallet.wallet import TxPreview
from spv.address import decode_address
from spv.errors import ParseError

from .calls import GuiCalls
from .money import coins
from .widgets import make_primary

_ERROR = "color: #b00020"
_OK = "color: #1b7f3b"
_NOTE = "color: palette(mid)"

EXPLANATION = (
    "Your vote chooses the Network Steward. Each of your addresses that holds coins votes with "
    "its balance: the wallet sends one small transaction from each address back to itself, "
    "with the vote attached. Your coins stay where they are; only the network fee is paid. "
    "A vote lasts 52 weeks (about a year): vote again to renew it."
)
WARNING = f"Note: {COUNTS_ONLY_IF}. Also, {ONE_ADDRESS_PER_VOTE}; this wallet never does that."
LEGACY = "Use the 2019–2023 system instead (today's count ignores it)"
ALL_ADDRESSES = -1


def fit_to_contents(dialog: QDialog) -> None:
    """Grow `dialog` so every wrapped text gets the height it needs at its width (Qt does not
    do this by itself for a window, so long texts and large fonts were cut)."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.activate()
    width = max(dialog.width(), dialog.minimumSizeHint().width())
    needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
    needed = max(needed, dialog.minimumSizeHint().height())
    dialog.setMinimumHeight(needed)
    if dialog.height() < needed or dialog.width() < width:
        dialog.resize(width, max(needed, dialog.height()))


def _wrapped(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class VoteDialog(QDialog):
    voted = Signal(list)  # the txids sent

    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.voters: list[VotingAddress] = []
        self.previews: list[TxPreview] | None = None
        self.gather: list[TxPreview] | None = None  # gather first, then vote (gather_then_vote)
        self.txids: list[str] = []
        self._busy = False
        self.setWindowTitle("Vote for the Network Steward")
        layout = QVBoxLayout(self)
        self.explanation = _wrapped(EXPLANATION)
        self.explanation.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
        layout.addWidget(self.explanation)

        self.vote_mode = QRadioButton("Vote for an address")
        self.stand_mode = QRadioButton("Stand as a candidate myself, voting for no one")
        self.withdraw_mode = QRadioButton("Withdraw my vote (no vote at all)")
        self.modes = QButtonGroup(self)
        for button in (self.vote_mode, self.stand_mode, self.withdraw_mode):
            self.modes.addButton(button)
            layout.addWidget(button)
        self.vote_mode.setChecked(True)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.candidate = QLineEdit()  # the address voted for
        self.candidate.setPlaceholderText("the address you vote for")
        self.candidate.setMinimumWidth(self.fontMetrics().averageCharWidth() * 50)
        self.candidate_state = _wrapped()
        self.also_stand = QCheckBox("Also stand as a candidate")
        self.from_combo = QComboBox()
        self.from_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.gather_check = QCheckBox("First move the coins of my other addresses to it")
        form.addRow("Vote for", self.candidate)
        form.addRow("", self.candidate_state)
        form.addRow("", self.also_stand)
        form.addRow("From", self.from_combo)
        form.addRow("", self.gather_check)
        layout.addLayout(form)
        self.warning = _wrapped(WARNING, _NOTE)
        layout.addWidget(self.warning)
        self.legacy = QCheckBox(LEGACY)
        self.legacy.setToolTip(
            "The OP_VOTE vote of 2019–2023: your coins move to a legacy address carrying the "
            "vote. The election counted since February 2024 (Electorium) does not read it."
        )
        layout.addWidget(self.legacy)

        self.preview_button = QPushButton("Preview…")
        layout.addWidget(self.preview_button)
        self.summary = _wrapped()
        layout.addWidget(self.summary)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("wallet password")
        layout.addWidget(self.password)
        self.outcome = _wrapped()
        layout.addWidget(self.outcome)
        buttons = QDialogButtonBox()
        self.vote_button = buttons.addButton("Sign and vote", QDialogButtonBox.ButtonRole.ApplyRole)
        make_primary(self.vote_button)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.candidate.textChanged.connect(self._choice_changed)
        self.modes.buttonToggled.connect(lambda *_: self._choice_changed())
        for box in (self.also_stand, self.gather_check, self.legacy):
            box.toggled.connect(self._choice_changed)
        self.from_combo.currentIndexChanged.connect(self._choice_changed)
        self.password.textChanged.connect(self._update_buttons)
        self.password.returnPressed.connect(self.vote)
        self.preview_button.clicked.connect(self.preview)
        self.vote_button.clicked.connect(self.vote)
        self._show_voters([])
        self._choice_changed()
        self.calls.watch(self.core.voting_addresses(), self._show_voters, self._voters_failed)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        fit_to_contents(self)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a larger font needs more room
            self.explanation.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
            self.candidate.setMinimumWidth(self.fontMetrics().averageCharWidth() * 50)
            fit_to_contents(self)

    # --- the voting addresses ---

    def _show_voters(self, voters: list[VotingAddress]) -> None:
        self.voters = voters
        chosen = self.from_combo.currentData()
        self.from_combo.blockSignals(True)
        self.from_combo.clear()
        self.from_combo.addItem(
            f"Every address holding coins ({len(voters)}, one transaction each)", ALL_ADDRESSES
        )
        for n, voter in enumerate(voters):
            self.from_combo.addItem(f"{voter.address} — {coins(voter.balance, self.params)}", n)
        index = self.from_combo.findData(chosen)
        self.from_combo.setCurrentIndex(max(index, 0))
        self.from_combo.blockSignals(False)
        self._choice_changed()

    def _voters_failed(self, exc: BaseException) -> None:
        self._say(self.summary, f"Cannot read the wallet's addresses: {exc}", error=True)

    def chosen_voter(self) -> VotingAddress | None:
        """The one address to vote from (None: every address holding coins)."""
        index = self.from_combo.currentData()
        if not isinstance(index, int) or index == ALL_ADDRESSES or index >= len(self.voters):
            return None
        return self.voters[index]

    # --- the choice ---

    def target(self) -> tuple[bool, str | None]:
        """(valid, the address voted for or None); says why a typed address is wrong."""
        if not self.vote_mode.isChecked():
            return True, None
        text = self.candidate.text().strip()
        if not text:
            return False, None
        try:
            address = decode_address(text, self.params).encode(self.params)
        except ParseError as exc:
            self._say(self.candidate_state, f"invalid address {text!r}: {exc}", error=True)
            return False, None
        self._say(self.candidate_state, "✓ valid address")
        self.candidate_state.setStyleSheet(_OK)
        return True, address

    def _valid(self) -> bool:
        valid, _ = self.target()
        if not valid:
            return False
        if self.legacy.isChecked() or not self.stand_mode.isChecked():
            return True
        if self.chosen_voter() is None and len(self.voters) > 1:
            self._say(
                self.candidate_state,
                "Choose the one address that stands (each address would stand apart); "
                "vote for it from the others afterwards.",
                error=True,
            )
            return False
        return True

    def _choice_changed(self) -> None:
        legacy = self.legacy.isChecked()
        voting = self.vote_mode.isChecked()
        self.candidate.setEnabled(voting)
        self.also_stand.setEnabled(voting and not legacy)
        self.stand_mode.setEnabled(not legacy)
        if legacy and self.stand_mode.isChecked():
            self.vote_mode.setChecked(True)
        self.from_combo.setEnabled(not legacy)
        single = self.chosen_voter() is not None
        self.gather_check.setEnabled(
            not legacy and single and len(self.voters) > 1 and not self.withdraw_mode.isChecked()
        )
        if not self.gather_check.isEnabled():
            self.gather_check.setChecked(False)
        self.candidate_state.clear()
        self.previews = self.gather = None  # a new choice needs a new preview
        self.summary.clear()
        self._update_buttons()
        fit_to_contents(self)

    def _update_buttons(self) -> None:
        valid = not self._busy and self._valid()
        self.preview_button.setEnabled(valid)
        ready = self.previews is not None and not self._busy
        self.password.setEnabled(ready)
        self.vote_button.setEnabled(ready and bool(self.password.text()))

    # --- preview ---

    def preview(self) -> None:
        if self._busy or not self._valid():
            return
        _, target = self.target()
        self._set_busy(True)
        self._say(self.summary, "Preparing…")
        voter = self.chosen_voter()
        if self.legacy.isChecked():
            legacy = self.core.prepare_legacy_vote(target)
            self.calls.watch(legacy, self._legacy_previewed, self._failed)
        elif self.gather_check.isChecked() and voter is not None:
            gather = self.core.prepare_gather(voter.address)
            self.calls.watch(gather, self._gather_previewed, self._failed)
        else:
            batch = self.core.prepare_electorium_vote(
                target,
                candidate=self.stand_mode.isChecked() or self.also_stand.isChecked(),
                withdraw=self.withdraw_mode.isChecked(),
                from_addresses=[voter.address] if voter is not None else None,
            )
            self.calls.watch(batch, self._previewed, self._failed)

    def _previewed(self, batch: VoteBatch) -> None:
        self._busy = False
        self.previews = list(batch.previews)
        money = self._money
        what = batch.describe()
        lines = [
            f"{what[0].upper()}{what[1:]}: {len(batch.previews)} transaction(s), one per address."
        ]
        for voter, preview in zip(batch.voters, batch.previews, strict=True):
            lines.append(
                f"• from {voter.address} (votes with {money(voter.balance)}), "
                f"fee {money(preview.fee)}"
            )
        lines += [f"• not from {address}: {why}" for address, why in batch.skipped]
        lines.append(f"Network fee in total: {money(batch.total_fee)}.")
        lines += [f"⚠ {w[0].upper()}{w[1:]}." for w in batch.warnings if w != COUNTS_ONLY_IF]
        self._previewed_text("\n".join(lines))

    def _gather_previewed(self, previews: list[TxPreview]) -> None:
        self._busy = False
        self.gather = previews
        self.previews = []
        voter = self.chosen_voter()
        where = voter.address if voter is not None else "the chosen address"
        moved = sum(len(p.inputs) for p in previews)
        self._previewed_text(
            f"First {len(previews)} transaction(s) move {moved} coin(s) of your other addresses "
            f"to {where} (fee {self._money(sum(p.fee for p in previews))}); then {where} votes "
            "alone, with one more small fee."
        )

    def _legacy_previewed(self, previews: list[TxPreview]) -> None:
        self._busy = False
        self.previews = previews
        moved = sum(o.value for pv in previews for o in pv.outputs if o.is_mine)
        spent = sum(len(pv.inputs) for pv in previews)
        to = previews[0].outputs[0].address or "your own address"
        what = "carrying a 2019–2023 vote" if self.vote_mode.isChecked() else "without a vote"
        self._previewed_text(
            f"2019–2023 system: moves {self._money(moved)} ({spent} coin(s), {len(previews)} "
            f"transaction(s)) to {to}, {what}.\nNetwork fee: "
            f"{self._money(sum(pv.fee for pv in previews))}."
        )

    def _previewed_text(self, text: str) -> None:
        self._say(self.summary, text)
        self._update_buttons()
        fit_to_contents(self)
        self.password.setFocus()

    # --- sign and broadcast ---

    def vote(self) -> None:
        if self.previews is None or not self.password.text() or self._busy:
            return
        password = self.password.text()
        self.password.clear()
        self._set_busy(True)
        self._say(self.outcome, "Signing and broadcasting…")
        voter = self.chosen_voter()
        if self.gather is not None and voter is not None:
            _, target = self.target()
            future = self.core.gather_then_vote(
                self.gather,
                voter.address,
                target,
                password,
                candidate=self.stand_mode.isChecked() or self.also_stand.isChecked(),
            )
        else:
            future = self.core.sign_and_broadcast_all(self.previews, password)
        self.calls.watch(future, self._voted, self._failed)

    def _voted(self, txids: list[str]) -> None:
        self.txids = txids
        self.previews = self.gather = None
        self._busy = False
        if self.withdraw_mode.isChecked():
            done = "Vote withdrawn."
        elif self.legacy.isChecked():
            done = "Vote sent (2019–2023 system)."
        else:
            done = "Vote sent. It counts once mined, for 52 weeks: vote again before it expires."
        self._say(self.outcome, f"{done} Transaction(s): {', '.join(txids)}")
        self.summary.clear()
        self._update_buttons()
        fit_to_contents(self)
        self.voted.emit(txids)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if self.previews is None:
            self.summary.clear()  # the preview failed: no "Preparing…" left behind
        self._say(self.outcome, f"Not sent: {str(exc) or type(exc).__name__}", error=True)
        self._update_buttons()
        fit_to_contents(self)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.outcome.clear()
        self._update_buttons()

    def _money(self, units: int) -> str:
        return coins(units, self.params)

    @staticmethod
    def _say(label: QLabel, text: str, error: bool = False) -> None:
        label.setStyleSheet(_ERROR if error else "")
        label.setText(text)
