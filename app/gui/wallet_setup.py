"""First run: create a new wallet (seed shown once, then confirmed) or restore one from seed
words (BIP39, or pktwallet's 15 words with their optional passphrase)."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.wallet.bip39 import wordlist
from app.wallet.wallet import Wallet
from spv.params import NetworkParams

from .calls import GuiCalls

MIN_PASSWORD = 8


def _password_problem(password: str, repeat: str) -> str:
    if len(password) < MIN_PASSWORD:
        return f"choose a password of at least {MIN_PASSWORD} characters"
    if password != repeat:
        return "the two passwords differ"
    return ""


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet("color: #b00020")
    label.setWordWrap(True)
    return label


class WalletSetup(QWidget):
    """Emits `wallet_ready(name)` once a wallet exists on disk and may be opened."""

    wallet_ready = Signal(str)

    def __init__(self, params: NetworkParams, datadir: Path, calls: GuiCalls) -> None:
        super().__init__()
        self.params = params
        self.datadir = datadir
        self.calls = calls
        self._new_wallet: Wallet | None = None
        self._challenge: list[int] = []
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.stack.addWidget(self._choice_page())
        self.create_page = self._create_page()
        self.seed_page = self._seed_page()
        self.confirm_page = self._confirm_page()
        self.restore_page = self._restore_page()
        for page in (self.create_page, self.seed_page, self.confirm_page, self.restore_page):
            self.stack.addWidget(page)

    # --- pages ---

    def _choice_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        title = QLabel("Welcome to the PKT Wallet")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        title.setFont(font)
        layout.addWidget(title)
        layout.addWidget(QLabel("You have no wallet yet on this computer."))
        create = QPushButton("Create a new wallet")
        restore = QPushButton("Restore a wallet from its seed words")
        create.clicked.connect(lambda: self.stack.setCurrentWidget(self.create_page))
        restore.clicked.connect(lambda: self.stack.setCurrentWidget(self.restore_page))
        layout.addWidget(create)
        layout.addWidget(restore)
        layout.addStretch(1)
        return page

    def _create_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.create_password = QLineEdit()
        self.create_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_repeat = QLineEdit()
        self.create_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_words = QComboBox()
        self.create_words.addItems(["12 words", "24 words"])
        self.create_error = _error_label()
        self.create_button = QPushButton("Create")
        self.create_button.clicked.connect(self._create)
        form.addRow(QLabel("The password protects this wallet on this computer."))
        form.addRow("Password", self.create_password)
        form.addRow("Repeat password", self.create_repeat)
        form.addRow("Seed length", self.create_words)
        form.addRow(self.create_error)
        form.addRow(self.create_button)
        return page

    def _seed_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(
            QLabel(
                "Write these words on paper, in this order, and keep the paper safe. They are the "
                "only way to get your money back if this computer is lost. Never type them into a "
                "website, never share them, never take a photo or screenshot of them."
            )
        )
        self.seed_words = QLabel()
        mono = QFont("monospace")
        mono.setPointSizeF(self.seed_words.font().pointSizeF() * 1.3)
        self.seed_words.setFont(mono)
        self.seed_words.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.seed_words)
        done = QPushButton("I have written them down")
        done.clicked.connect(self._ask_words_back)
        layout.addWidget(done)
        layout.addStretch(1)
        return page

    def _confirm_page(self) -> QWidget:
        page = QWidget()
        self.confirm_form = QFormLayout(page)
        self.confirm_form.addRow(QLabel("Type these words from your paper to check it:"))
        self.confirm_edits: list[QLineEdit] = []
        self.confirm_error = _error_label()
        self.confirm_button = QPushButton("Check")
        self.confirm_button.clicked.connect(self._confirm)
        return page

    def _restore_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.restore_words = QPlainTextEdit()
        self.restore_words.setPlaceholderText("12 or 24 BIP39 words, or pktwallet's 15 words")
        self.word_hint = QLabel()
        self.restore_words.textChanged.connect(self._hint_words)
        self.restore_passphrase = QLineEdit()
        self.restore_passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_passphrase.setPlaceholderText("only if the seed has one")
        self.restore_password = QLineEdit()
        self.restore_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_repeat = QLineEdit()
        self.restore_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_error = _error_label()
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self._restore)
        form.addRow("Seed words", self.restore_words)
        form.addRow("", self.word_hint)
        form.addRow("Seed passphrase", self.restore_passphrase)
        form.addRow("New password", self.restore_password)
        form.addRow("Repeat password", self.restore_repeat)
        form.addRow(self.restore_error)
        form.addRow(self.restore_button)
        return page

    # --- create ---

    def _create(self) -> None:
        problem = _password_problem(self.create_password.text(), self.create_repeat.text())
        self.create_error.setText(problem)
        if problem:
            return
        words = 24 if self.create_words.currentIndex() == 1 else 12
        password = self.create_password.text()
        self.create_button.setEnabled(False)
        self.create_error.setText("Creating the wallet…")
        self.calls.in_worker(
            lambda: Wallet.create(
                self.datadir, self._free_name(), self.params, password, words=words
            ),
            self._created,
            self._create_failed,
        )

    def _free_name(self) -> str:
        from app.wallet.wallet import list_wallets

        taken = set(list_wallets(self.datadir))
        name, n = "default", 2
        while name in taken:
            name, n = f"wallet{n}", n + 1
        return name

    def _created(self, result: tuple[Wallet, str]) -> None:
        wallet, mnemonic = result
        self._new_wallet = wallet
        self.create_password.clear()
        self.create_repeat.clear()
        words = mnemonic.split()
        rows = [
            " ".join(f"{i + 1:>2}. {w:<10}" for i, w in enumerate(words) if i // 4 == r)
            for r in range(len(words) // 4)
        ]
        self.seed_words.setText("\n".join(rows))
        self.stack.setCurrentWidget(self.seed_page)

    def _create_failed(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        self.create_error.setText(str(exc))

    def _ask_words_back(self) -> None:
        assert self._new_wallet is not None
        self.seed_words.clear()  # the words are not kept on screen any longer
        self._challenge = self._new_wallet.backup_challenge(3)
        completer = QCompleter(list(wordlist()))
        for position in self._challenge:
            edit = QLineEdit()
            edit.setCompleter(completer)
            self.confirm_edits.append(edit)
            self.confirm_form.addRow(f"Word {position}", edit)
        self.confirm_form.addRow(self.confirm_error)
        self.confirm_form.addRow(self.confirm_button)
        self.stack.setCurrentWidget(self.confirm_page)

    def _confirm(self) -> None:
        assert self._new_wallet is not None
        typed = {
            p: e.text().strip().lower()
            for p, e in zip(self._challenge, self.confirm_edits, strict=True)
        }
        wallet = self._new_wallet

        def confirm() -> str:  # saves the wallet: not on the GUI thread
            wallet.confirm_backup(typed)
            wallet.close()
            return wallet.name

        self.confirm_button.setEnabled(False)
        self.calls.in_worker(confirm, self._confirmed, self._confirm_failed)

    def _confirmed(self, name: str) -> None:
        self._new_wallet = None
        self.confirm_button.setEnabled(True)
        self.wallet_ready.emit(name)

    def _confirm_failed(self, exc: BaseException) -> None:
        self.confirm_button.setEnabled(True)
        self.confirm_error.setText(str(exc))

    # --- restore ---

    def _hint_words(self) -> None:
        words = self.restore_words.toPlainText().lower().split()
        known = set(wordlist())
        unknown = [w for w in words if w not in known]
        if unknown:
            self.word_hint.setText(f"not a seed word: {unknown[0]}")
        else:
            self.word_hint.setText(f"{len(words)} words")

    def _restore(self) -> None:
        problem = _password_problem(self.restore_password.text(), self.restore_repeat.text())
        self.restore_error.setText(problem)
        if problem:
            return
        words = " ".join(self.restore_words.toPlainText().split())
        passphrase = self.restore_passphrase.text()
        password = self.restore_password.text()
        name = self._free_name()
        self.restore_button.setEnabled(False)
        self.restore_error.setText("Restoring… (a pktwallet seed takes a few seconds to decode)")

        def restore() -> str:
            wallet = Wallet.restore(self.datadir, name, self.params, password, words, passphrase)
            wallet.close()
            return name

        self.calls.in_worker(restore, self._restored, self._restore_failed)

    def _restored(self, name: str) -> None:
        for edit in (self.restore_password, self.restore_repeat, self.restore_passphrase):
            edit.clear()
        self.restore_words.clear()
        self.wallet_ready.emit(name)

    def _restore_failed(self, exc: BaseException) -> None:
        self.restore_button.setEnabled(True)
        self.restore_error.setText(str(exc))
