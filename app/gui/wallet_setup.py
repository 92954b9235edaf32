"""Start page: create a new wallet (seed shown once, then confirmed), restore one from seed
words (BIP39, or pktwallet's 15 words with their optional passphrase), or open an existing one.
Key derivation runs in a worker with a busy indicator and a Cancel."""

import logging
from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QDate, QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.wallet.bip39 import wordlist
from app.wallet.seed_check import check_seed_words
from app.wallet.wallet import (
    Wallet,
    WalletError,
    check_name,
    delete_wallet_files,
    list_wallets,
)
from spv.params import NetworkParams

from .calls import GuiCalls
from .seed_display import notice, seed_words_card, word_grid
from .seed_words_edit import SeedWordsEdit
from .widgets import keep_left, make_primary, page_header

log = logging.getLogger(__name__)

MIN_PASSWORD = 8
CHECKED_WORDS = 3  # words of a new seed typed back to check the paper
DERIVING = "Deriving keys… this takes a few seconds"


def name_problem(datadir: Path, name: str) -> str:
    """Why `name` cannot be a new wallet's name ("" when it can)."""
    if not name:
        return "type a name for the wallet (letters, digits, '.', '_' or '-')"
    if " " in name:
        suggestion = "-".join(name.split())
        return f"a wallet name cannot contain spaces (it names its files): try {suggestion!r}"
    try:
        check_name(name)
    except WalletError as exc:
        return str(exc)
    if name in list_wallets(datadir):
        return f"a wallet named {name!r} already exists; choose another name"
    return ""


def free_name(datadir: Path) -> str:
    """A name no wallet in `datadir` uses yet: default, wallet2, wallet3, …"""
    taken = set(list_wallets(datadir))
    name, n = "default", 2
    while name in taken:
        name, n = f"wallet{n}", n + 1
    return name


def discard_unseen_wallet(wallet: Wallet) -> None:
    """Remove a wallet created for a cancelled request: its seed words were never shown, so
    nothing can have been paid to it."""
    wallet.close()
    delete_wallet_files(wallet.datadir, wallet.name)


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


class BusyRow(QWidget):
    """A busy bar with what is going on and a Cancel button (hidden while idle)."""

    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.text = QLabel(DERIVING)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._elapsed = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_elapsed)
        self.setVisible(False)

    def set_running(self, running: bool) -> None:
        self.setVisible(running)
        self.text.setText(DERIVING)
        if running:
            self._elapsed.start()
            self._tick.start()
        else:
            self._tick.stop()

    def _show_elapsed(self) -> None:
        self.text.setText(f"{DERIVING} ({self._elapsed.elapsed() // 1000} s)")


class WalletSetup(QWidget):
    """Emits `wallet_ready(name)` once a wallet exists on disk and may be opened, and
    `open_requested()` when the user wants to open an existing wallet instead."""

    wallet_ready = Signal(str)
    open_requested = Signal()

    def __init__(self, params: NetworkParams, datadir: Path, calls: GuiCalls) -> None:
        super().__init__()
        self.params = params
        self.datadir = datadir
        self.calls = calls
        self._new_wallet: Wallet | None = None
        self._mnemonic = ""  # the new wallet's words until they are confirmed
        self._challenge: list[int] = []
        self._job = 0  # bumped by every start and every Cancel: late results are discarded
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.choice_page = self._choice_page()
        self.stack.addWidget(self.choice_page)
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
        title.setObjectName("pageTitle")  # the theme's page title style
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        title.setFont(font)
        layout.addWidget(title)
        self.choice_text = QLabel()
        layout.addWidget(self.choice_text)
        self.open_button = QPushButton("Open a wallet…")
        self.open_button.clicked.connect(self.open_requested)
        create = make_primary(QPushButton("Create a new wallet"))
        restore = QPushButton("Restore a wallet from its seed words")
        create.clicked.connect(self.show_create)
        restore.clicked.connect(self.show_restore)
        self.choice_create, self.choice_restore = create, restore
        width = self.fontMetrics().horizontalAdvance("Restore a wallet from its seed words") + 64
        for button in (self.open_button, create, restore):
            button.setMinimumWidth(width)
            button.setMinimumHeight(button.sizeHint().height() + 8)
            layout.addWidget(button)
            keep_left(layout, button)
        layout.addStretch(1)
        self._update_choice()
        return page

    def _update_choice(self) -> None:
        count = len(list_wallets(self.datadir))
        self.open_button.setVisible(count > 0)
        if count:
            self.choice_text.setText(
                f"{count} wallet{'s' if count > 1 else ''} on this computer. Open one, or "
                "create or restore another."
            )
        else:
            self.choice_text.setText("You have no wallet yet on this computer.")

    def show_start(self) -> None:
        """Back to the choice: open, create or restore."""
        self._update_choice()
        self.stack.setCurrentWidget(self.choice_page)

    def show_create(self) -> None:
        self.create_name.setText(free_name(self.datadir))
        self.create_error.clear()
        self.stack.setCurrentWidget(self.create_page)

    def show_restore(self) -> None:
        self.restore_name.setText(free_name(self.datadir))
        self.restore_error.clear()
        self.stack.setCurrentWidget(self.restore_page)

    def abandon(self) -> None:
        """The user walked away (closed the dialog): late results are discarded as after a
        Cancel, and a created wallet whose words were not confirmed yet is closed (it stays on
        disk, not marked as backed up)."""
        self._job += 1
        self._set_busy(self.create_busy, self._create_inputs(), False)
        self._set_restore_busy(False)
        wallet, self._new_wallet = self._new_wallet, None
        self._mnemonic = ""
        if wallet is not None:
            self.calls.in_worker(
                wallet.close,
                lambda _none: None,
                lambda exc: log.warning("could not close wallet %s: %s", wallet.name, exc),
            )

    def _back_button(self) -> QPushButton:
        back = QPushButton("Back")
        back.clicked.connect(self.show_start)
        return back

    def _create_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addWidget(
            page_header(
                "Create a wallet", "New seed words, protected on this computer by a password."
            )
        )
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        self.create_name = QLineEdit(free_name(self.datadir))
        self.create_password = QLineEdit()
        self.create_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_repeat = QLineEdit()
        self.create_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_words = QComboBox()
        self.create_words.addItems(["12 words", "24 words"])
        self.create_extend = QCheckBox("Extend the seed with a passphrase (advanced)")
        self.create_extend.setToolTip(
            "A BIP39 passphrase: restoring then needs the words AND this passphrase. "
            "Forgetting it loses the money; most people should leave this off."
        )
        self.create_passphrase = QLineEdit()
        self.create_passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_passphrase.setPlaceholderText("write it down with the words")
        self.create_passphrase.setVisible(False)
        self.create_extend.toggled.connect(self.create_passphrase.setVisible)
        self.create_error = _error_label()
        self.create_button = make_primary(QPushButton("Create"), "Create the wallet")
        self.create_button.clicked.connect(self._create)
        self.create_back = self._back_button()
        self.create_busy = BusyRow()
        self.create_busy.cancelled.connect(self._cancel_create)
        form.addRow("Wallet name", self.create_name)
        form.addRow("Password", self.create_password)
        form.addRow("Repeat password", self.create_repeat)
        form.addRow("Seed length", self.create_words)
        form.addRow("", self.create_extend)
        form.addRow("", self.create_passphrase)
        form.addRow(self.create_error)
        form.addRow(self.create_busy)
        form.addRow(self.create_back, self.create_button)
        for edit in (
            self.create_name,
            self.create_password,
            self.create_repeat,
            self.create_passphrase,
        ):
            edit.returnPressed.connect(self._create)  # Enter in any field creates
        return page

    def _seed_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(page_header("Your seed words", "Shown this once. Write them down now."))
        layout.addWidget(
            notice(
                "Write these words on paper, in this order, and keep the paper safe. They are "
                "the only way to get your money back if this computer is lost. Never type them "
                "into a website, never share them, never take a photo or screenshot of them."
            )
        )
        card, self.seed_words = seed_words_card()
        layout.addWidget(card)
        self.seed_extra = QLabel(
            "You also chose a seed passphrase: keep it with the words. Restoring this wallet "
            "needs both."
        )
        self.seed_extra.setWordWrap(True)
        self.seed_extra.setStyleSheet("color: #5c3d00; font-weight: bold;")
        self.seed_extra.setVisible(False)
        layout.addWidget(self.seed_extra)
        done = make_primary(QPushButton("I have written them down"))
        done.clicked.connect(self._ask_words_back)
        self.seed_done_button = done
        done.setAutoDefault(True)  # Enter presses it while it has the focus (not a dialog)
        layout.addWidget(done)
        keep_left(layout, done)
        layout.addStretch(1)
        return page

    def _confirm_page(self) -> QWidget:
        """Three words to type back, built once (their labels change with each challenge).
        Completed inline (the rest of the word selected in the field): a popup list would
        cover the next field and take the Enter meant for checking."""
        page = QWidget()
        self.confirm_form = QFormLayout(page)
        self.confirm_form.addRow(
            page_header("Check your paper", "Type these words from your paper to check it.")
        )
        # kept by Python for the page's whole life, not parented: a completer that is a Qt
        # child of the widgets it serves can be deleted in the wrong order (a crash seen with
        # PySide6 6.11)
        self._confirm_completer = QCompleter(list(wordlist()))
        self._confirm_completer.setCompletionMode(QCompleter.CompletionMode.InlineCompletion)
        self._confirm_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.confirm_edits: list[QLineEdit] = []
        for number in range(1, CHECKED_WORDS + 1):
            edit = QLineEdit()
            edit.setCompleter(self._confirm_completer)
            edit.returnPressed.connect(self._confirm)  # on to the next empty word, or check
            self.confirm_edits.append(edit)
            self.confirm_form.addRow(f"Word {number}", edit)
        self.confirm_error = _error_label()
        self.confirm_form.addRow(self.confirm_error)
        self.confirm_button = make_primary(QPushButton("Check"))
        self.confirm_button.clicked.connect(self._confirm)
        self.confirm_back = QPushButton("Back to the words")
        self.confirm_back.setToolTip("Show the words again to re-read your paper")
        self.confirm_back.clicked.connect(self._show_words_again)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_back)
        buttons.addStretch(1)
        buttons.addWidget(self.confirm_button)
        self.confirm_form.addRow(buttons)
        return page

    def _restore_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addWidget(
            page_header("Restore a wallet", "From its seed words: BIP39, or pktwallet's 15 words.")
        )
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        self.restore_name = QLineEdit(free_name(self.datadir))
        self.restore_words = SeedWordsEdit()  # completes words from the word list
        self.restore_words.setPlaceholderText("12 or 24 BIP39 words, or pktwallet's 15 words")
        self.restore_words.setMaximumHeight(self.restore_words.fontMetrics().lineSpacing() * 5)
        self.word_hint = QLabel()
        self.restore_words.textChanged.connect(self._hint_words)
        self.restore_passphrase = QLineEdit()
        self.restore_passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_passphrase.setPlaceholderText("only if the seed has one")
        self.restore_password = QLineEdit()
        self.restore_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_repeat = QLineEdit()
        self.restore_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.restore_birthday_known = QCheckBox("I know about when this wallet was created")
        self.restore_birthday_known.setToolTip(
            "The first sync then scans from that day instead of from PKT's first block. "
            "Choose a day on or before the wallet's first payment."
        )
        self.restore_birthday = QDateEdit()
        self.restore_birthday.setCalendarPopup(True)
        self.restore_birthday.setDisplayFormat("yyyy-MM-dd")
        launch = datetime.fromtimestamp(self.params.launch_time or 0, UTC).date()
        self.restore_birthday.setMinimumDate(QDate(launch.year, launch.month, launch.day))
        today = datetime.now(UTC).date()
        self.restore_birthday.setMaximumDate(QDate(today.year, today.month, today.day))
        # the chain's first day (nothing can be older); today where the network has no known
        # start (regtest), never 1970-01-01
        start = launch if self.params.launch_time else today
        self.restore_birthday.setDate(QDate(start.year, start.month, start.day))
        self.restore_birthday.setEnabled(False)
        self.restore_birthday_known.toggled.connect(self.restore_birthday.setEnabled)
        birthday_row = QHBoxLayout()
        birthday_row.addWidget(self.restore_birthday_known)
        birthday_row.addWidget(self.restore_birthday)
        birthday_row.addStretch(1)
        self.restore_error = _error_label()
        self.restore_button = make_primary(QPushButton("Restore"), "Restore the wallet")
        self.restore_button.clicked.connect(self._restore)
        self.restore_back = self._back_button()
        self.restore_busy = BusyRow()
        self.restore_busy.cancelled.connect(self._cancel_restore)
        form.addRow("Wallet name", self.restore_name)
        form.addRow("Seed words", self.restore_words)
        form.addRow("", self.word_hint)
        form.addRow("Seed passphrase", self.restore_passphrase)
        form.addRow("Birthday", birthday_row)
        form.addRow("New password", self.restore_password)
        form.addRow("Repeat password", self.restore_repeat)
        form.addRow(self.restore_error)
        form.addRow(self.restore_busy)
        form.addRow(self.restore_back, self.restore_button)
        for edit in (
            self.restore_name,
            self.restore_passphrase,
            self.restore_password,
            self.restore_repeat,
        ):
            edit.returnPressed.connect(self._restore)  # Enter in a field restores
        return page

    def _create_inputs(self) -> list[QWidget]:
        return [
            self.create_name,
            self.create_password,
            self.create_repeat,
            self.create_words,
            self.create_extend,
            self.create_passphrase,
            self.create_button,
            self.create_back,
        ]

    def _restore_inputs(self) -> list[QWidget]:
        return [
            self.restore_name,
            self.restore_words,
            self.restore_passphrase,
            self.restore_birthday_known,
            self.restore_birthday,
            self.restore_password,
            self.restore_repeat,
            self.restore_button,
            self.restore_back,
        ]

    @staticmethod
    def _set_busy(busy: BusyRow, inputs: list[QWidget], running: bool) -> None:
        busy.set_running(running)
        for widget in inputs:
            widget.setEnabled(not running)

    def _set_restore_busy(self, running: bool) -> None:
        self._set_busy(self.restore_busy, self._restore_inputs(), running)
        self._hint_words()  # the birthday fields follow the words again

    # --- create ---

    def _create(self) -> None:
        name = self.create_name.text().strip()
        problem = name_problem(self.datadir, name) or _password_problem(
            self.create_password.text(), self.create_repeat.text()
        )
        self.create_error.setText(problem)
        if problem:
            return
        words = 24 if self.create_words.currentIndex() == 1 else 12
        password = self.create_password.text()
        passphrase = self.create_passphrase.text() if self.create_extend.isChecked() else ""
        if self.create_extend.isChecked() and not passphrase:
            self.create_error.setText("Type the seed passphrase, or untick the box.")
            return
        datadir, params = self.datadir, self.params
        self._job += 1
        job = self._job
        self._set_busy(self.create_busy, self._create_inputs(), True)
        self.calls.in_worker(
            lambda: Wallet.create(
                datadir, name, params, password, words=words, passphrase=passphrase
            ),
            lambda result: self._created(job, result),
            lambda exc: self._create_failed(job, exc),
        )

    def _cancel_create(self) -> None:
        self._job += 1
        self._set_busy(self.create_busy, self._create_inputs(), False)
        self.create_error.setText("Cancelled; no wallet was created.")

    def _created(self, job: int, result: tuple[Wallet, str]) -> None:
        wallet, mnemonic = result
        if job != self._job:  # cancelled: the seed was never shown, so remove the wallet
            self.calls.in_worker(
                lambda: discard_unseen_wallet(wallet),
                lambda _none: None,
                lambda exc: log.warning("could not remove a cancelled wallet: %s", exc),
            )
            return
        self._set_busy(self.create_busy, self._create_inputs(), False)
        self.create_error.clear()
        self._new_wallet = wallet
        self.create_password.clear()
        self.create_repeat.clear()
        self.seed_extra.setVisible(self.create_extend.isChecked())
        self.create_passphrase.clear()
        self.create_extend.setChecked(False)
        self._mnemonic = mnemonic  # until the words are confirmed: "Back to the words"
        self._show_words_again()

    def _show_words_again(self) -> None:
        self.seed_words.setText(word_grid(self._mnemonic.split()))
        self.stack.setCurrentWidget(self.seed_page)
        self.seed_done_button.setFocus()

    def _create_failed(self, job: int, exc: BaseException) -> None:
        if job != self._job:
            return
        self._set_busy(self.create_busy, self._create_inputs(), False)
        self.create_error.setText(str(exc))

    def _ask_words_back(self) -> None:
        assert self._new_wallet is not None
        self.seed_words.clear()  # the words are not kept on screen any longer
        self._challenge = self._new_wallet.backup_challenge(CHECKED_WORDS)
        for edit, position in zip(self.confirm_edits, self._challenge, strict=True):
            edit.clear()
            label = self.confirm_form.labelForField(edit)
            if isinstance(label, QLabel):
                label.setText(f"Word {position}")
        self.confirm_error.clear()
        self.stack.setCurrentWidget(self.confirm_page)
        self.confirm_edits[0].setFocus()

    def _confirm(self) -> None:
        assert self._new_wallet is not None
        typed = {
            p: e.text().strip().lower()
            for p, e in zip(self._challenge, self.confirm_edits, strict=True)
        }
        moving_on = self.focusWidget() in self.confirm_edits  # Enter after typing a word
        for edit, (position, word) in zip(self.confirm_edits, typed.items(), strict=True):
            if not word:
                edit.setFocus()
                self.confirm_error.setText("" if moving_on else f"Type word {position} too.")
                return
        wallet = self._new_wallet

        def confirm() -> str:  # saves the wallet: not on the GUI thread
            wallet.confirm_backup(typed)
            wallet.close()
            return wallet.name

        self.confirm_button.setEnabled(False)
        self.calls.in_worker(confirm, self._confirmed, self._confirm_failed)

    def _confirmed(self, name: str) -> None:
        self._new_wallet = None
        self._mnemonic = ""
        self.confirm_button.setEnabled(True)
        self.wallet_ready.emit(name)

    def _confirm_failed(self, exc: BaseException) -> None:
        self.confirm_button.setEnabled(True)
        self.confirm_error.setText(str(exc))

    # --- restore ---

    def _hint_words(self) -> None:
        feedback = check_seed_words(self.restore_words.toPlainText())
        self.word_hint.setText(feedback.message)
        colour = {True: "#1b7f3b", False: "#b00020", None: ""}[feedback.valid]
        self.word_hint.setStyleSheet(f"color: {colour}" if colour else "")
        pktwallet = feedback.kind == "pktwallet"  # its birthday is in the words
        busy = not self.restore_words.isEnabled()  # keys are being derived
        self.restore_birthday_known.setEnabled(not pktwallet and not busy)
        self.restore_birthday.setEnabled(
            not pktwallet and not busy and self.restore_birthday_known.isChecked()
        )

    def _restore(self) -> None:
        name = self.restore_name.text().strip()
        problem = name_problem(self.datadir, name) or _password_problem(
            self.restore_password.text(), self.restore_repeat.text()
        )
        self.restore_error.setText(problem)
        if problem:
            return
        words = " ".join(self.restore_words.toPlainText().split())
        birthday = None
        if self.restore_birthday_known.isChecked() and self.restore_birthday_known.isEnabled():
            chosen = self.restore_birthday.date()
            birthday = date(chosen.year(), chosen.month(), chosen.day())
        passphrase = self.restore_passphrase.text()
        password = self.restore_password.text()
        datadir, params = self.datadir, self.params
        self._job += 1
        job = self._job

        def restore() -> str:
            wallet = Wallet.restore(
                datadir,
                name,
                params,
                password,
                words,
                passphrase,
                birthday=birthday,
                cancel=lambda: job != self._job,
            )
            wallet.close()
            return name

        self._set_restore_busy(True)
        self.calls.in_worker(
            restore,
            lambda restored: self._restored(job, restored),
            lambda exc: self._restore_failed(job, exc),
        )

    def _cancel_restore(self) -> None:
        self._job += 1
        self._set_restore_busy(False)
        self.restore_error.setText("Cancelled; nothing was written.")

    def _restored(self, job: int, name: str) -> None:
        if job != self._job:  # cancelled too late: the key file is written already
            self.restore_error.setText(
                f"The wallet {name!r} had already been saved when you cancelled, so it is kept. "
                "Open it with Wallet ▸ Open wallet…, or restore under another name."
            )
            return
        self._set_restore_busy(False)
        self.restore_error.clear()
        for edit in (self.restore_password, self.restore_repeat, self.restore_passphrase):
            edit.clear()
        self.restore_words.clear()
        self.wallet_ready.emit(name)

    def _restore_failed(self, job: int, exc: BaseException) -> None:
        if job != self._job:
            return  # cancelled: the decoding stopped (or failed) and nothing was written
        self._set_restore_busy(False)
        self.restore_error.setText(str(exc))
