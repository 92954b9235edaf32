"""Wallet ▸ Seed words: show the open wallet's seed words again (password first), and check a
paper backup by typing three words back, which marks the wallet backed up."""

import secrets as random_source

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, SeedWords

from .calls import GuiCalls
from .seed_display import notice, seed_words_card, word_grid
from .widgets import enter_submits, make_primary, page_header

CHECKED_WORDS = 3


def challenge_positions(word_count: int, count: int = CHECKED_WORDS) -> list[int]:
    """Which words (1-based) to ask for, at random."""
    positions = list(range(1, word_count + 1))
    chosen = []
    for _ in range(min(count, word_count)):
        chosen.append(positions.pop(random_source.randbelow(len(positions))))
    return sorted(chosen)


class SeedWordsDialog(QDialog):
    def __init__(
        self,
        core: AppCore,
        calls: GuiCalls,
        wallet: str,
        backed_up: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self.calls = calls
        self.password_text = ""
        self.word_count = 0
        self.positions: list[int] = []
        self._words: list[str] = []  # while the dialog is open, for "Back to the words"
        self.setWindowTitle("Seed words")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows to fit the words
        layout.addWidget(
            page_header("Seed words", f"Of the wallet {wallet!r}: the only way to restore it.")
        )
        self.stack = QStackedWidget()
        layout.addWidget(self.stack)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        layout.addWidget(self.busy)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)

        # 1: the password
        ask = QWidget()
        ask_layout = QFormLayout(ask)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        ask_layout.addRow("Wallet password", self.password)
        self.show_button = make_primary(QPushButton("Show the words"))
        ask_layout.addRow("", self.show_button)
        self.stack.addWidget(ask)

        # 2: the words
        shown = QWidget()
        shown_layout = QVBoxLayout(shown)
        shown_layout.addWidget(
            notice(
                "Make sure nobody can see your screen. Write the words on paper, in order; "
                "never type them into a website, never take a photo or screenshot of them."
            )
        )
        card, self.words_label = seed_words_card(1.3)
        card_layout = card.layout()
        assert card_layout is not None
        self.kind_label = QLabel()
        self.kind_label.setWordWrap(True)
        card_layout.addWidget(self.kind_label)
        shown_layout.addWidget(card)
        self.backup_note = QLabel()
        self.backup_note.setWordWrap(True)
        shown_layout.addWidget(self.backup_note)
        self.check_button = make_primary(QPushButton("Check my paper now"))
        shown_row = QHBoxLayout()
        shown_row.addWidget(self.check_button)
        shown_row.addStretch(1)
        shown_layout.addLayout(shown_row)
        self.stack.addWidget(shown)
        self.shown_page = shown

        # 3: typing words back
        check = QWidget()
        self.check_form = QFormLayout(check)
        self.check_form.addRow(QLabel("Type these words from your paper:"))
        self.check_edits: list[QLineEdit] = []
        for _ in range(CHECKED_WORDS):
            edit = QLineEdit()
            self.check_edits.append(edit)
            self.check_form.addRow("", edit)
        self.confirm_button = make_primary(QPushButton("Check"))
        self.back_button = QPushButton("Back to the words")
        self.back_button.setToolTip("Show the words again")
        check_row = QHBoxLayout()
        check_row.addWidget(self.back_button)
        check_row.addStretch(1)
        check_row.addWidget(self.confirm_button)
        self.check_form.addRow("", check_row)
        self.stack.addWidget(check)
        self.check_page = check

        self.done_label = QLabel()
        self.done_label.setWordWrap(True)
        layout.addWidget(self.done_label)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        self.close_button = QPushButton("Close")
        close_row.addWidget(self.close_button)
        layout.addLayout(close_row)

        self.backed_up = backed_up
        self.show_button.clicked.connect(self.reveal)
        self.password.returnPressed.connect(self.reveal)
        self.check_button.clicked.connect(self.ask_words)
        self.confirm_button.clicked.connect(self.check_words)
        self.back_button.clicked.connect(self.show_words)
        self.close_button.clicked.connect(self.accept)
        self.finished.connect(self._forget)
        enter_submits(self, self.show_button)

    def reveal(self) -> None:
        if not self.password.text():
            self.error.setText("Type the wallet's password.")
            return
        self._busy(True)
        self.calls.watch(self.core.seed_words(self.password.text()), self._revealed, self._failed)

    def _revealed(self, seed: SeedWords) -> None:
        self._busy(False)
        self.error.clear()
        self.password_text = self.password.text()
        self.password.clear()
        words = seed.words.split()
        self._words = words
        self.word_count = len(words)
        kind = "pktwallet seed words" if seed.seed_type == "pktwallet" else "BIP39 seed words"
        extra = (
            " Restoring also needs the seed passphrase you chose." if seed.has_passphrase else ""
        )
        self.kind_label.setText(f"{len(words)} {kind}.{extra}")
        self.backup_note.setText(
            "This wallet is marked backed up; you may check your paper again."
            if self.backed_up
            else "Your paper backup was never checked: check it now."
        )
        self.show_words()

    def show_words(self) -> None:
        """The words on screen (again, from the check: to re-read the paper)."""
        self.words_label.setText(word_grid(self._words))
        self.error.clear()
        self.stack.setCurrentWidget(self.shown_page)
        enter_submits(self, self.check_button)
        self.check_button.setFocus()

    def ask_words(self) -> None:
        self.positions = challenge_positions(self.word_count)
        for edit, position in zip(self.check_edits, self.positions, strict=True):
            edit.clear()
            label = self.check_form.labelForField(edit)
            if isinstance(label, QLabel):
                label.setText(f"Word {position}")
        self.words_label.clear()  # the words leave the screen while they are typed back
        self.error.clear()
        self.stack.setCurrentWidget(self.check_page)
        enter_submits(self, self.confirm_button)  # Enter in a word: on to the next empty one
        self.check_edits[0].setFocus()

    def check_words(self) -> None:
        answers = {
            p: e.text().strip().lower()
            for p, e in zip(self.positions, self.check_edits, strict=True)
        }
        focused = self.focusWidget()
        moving_on = focused in self.check_edits and isinstance(focused, QLineEdit)
        for edit, (position, word) in zip(self.check_edits, answers.items(), strict=True):
            if not word:  # Enter after a word moves on to the next one still empty
                edit.setFocus()
                self.error.setText("" if moving_on else f"Type word {position} too.")
                return
        self._busy(True)
        self.calls.watch(
            self.core.confirm_backup(answers, self.password_text), self._confirmed, self._failed
        )

    def _confirmed(self, _none: None) -> None:
        self._busy(False)
        self.error.clear()
        self.backed_up = True
        self.done_label.setText("✓ Your paper backup is right. The wallet is marked backed up.")
        enter_submits(self, self.close_button)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        text = str(exc)
        self.error.setText("The password is not right." if "wrong password" in text else text)

    def _busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.show_button, self.confirm_button, self.password):
            widget.setEnabled(not busy)

    def _forget(self, _result: int) -> None:
        """Nothing secret stays in the dialog once it is closed."""
        self.password_text = ""
        self._words = []
        self.words_label.clear()
        for edit in (self.password, *self.check_edits):
            edit.clear()
