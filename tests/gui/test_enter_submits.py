"""Enter in a dialog's field does what the primary button does (Electrum, Sparrow): it unlocks,
shows the seed words, checks the typed-back words; it never cancels. Driven with key events to
the focused widget, as a keyboard would."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.unlock_dialog import UnlockDialog  # noqa: E402
from app.gui.wallet_setup import WalletSetup  # noqa: E402
from app.wallet import unlock_cache  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.params import MAINNET, REGTEST  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unlock_cache, "availability", lambda: "no keyring in tests")


def show_active(qtbot: Any, window: QWidget) -> None:
    """Show `window` and give it the keyboard, as a window manager does with a new window."""
    window.show()

    def active() -> bool:
        if QApplication.activeWindow() is not window:
            window.activateWindow()
            return False
        return True

    qtbot.waitUntil(active, timeout=10_000)


def type_into_focus(qtbot: Any, text: str) -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    qtbot.keyClicks(widget, text)
    return widget


def press_enter(qtbot: Any) -> None:
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_enter_in_the_unlock_dialog_unlocks(qtbot: Any, tmp_path: Path) -> None:
    Wallet.create(tmp_path, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)[0].close()
    dialog = UnlockDialog(REGTEST, tmp_path, GuiCalls(), ["main"], "main")
    qtbot.addWidget(dialog)
    unlocked: list[object] = []
    dialog.unlocked.connect(unlocked.append)
    show_active(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.password
    type_into_focus(qtbot, PASSWORD)
    press_enter(qtbot)
    qtbot.waitUntil(lambda: bool(unlocked) or not dialog.isVisible(), timeout=20_000)
    assert unlocked, f"Enter closed the dialog without unlocking (result {dialog.result()})"


@pytest.fixture
def window_with_wallet(qtbot: Any, tmp_path: Path) -> Iterator[tuple[MainWindow, list[str]]]:
    """The main window with an open wallet whose seed words were never checked."""
    wallet, mnemonic = Wallet.create(tmp_path, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    wallet.close()
    bridge = CoreBridge()
    core = AppCore(REGTEST, tmp_path, peers=[], use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.wallet_name == "main", timeout=20_000)
        yield window, mnemonic.split()
        window.close()
    finally:
        core.stop()


def test_enter_shows_the_seed_words_and_checks_them(
    qtbot: Any, window_with_wallet: tuple[MainWindow, list[str]]
) -> None:
    window, words = window_with_wallet
    window.show_seed_dialog()
    dialog = window.seed_dialog
    assert dialog is not None
    show_active(qtbot, dialog)
    dialog.password.setFocus()
    type_into_focus(qtbot, PASSWORD)
    press_enter(qtbot)
    qtbot.waitUntil(
        lambda: dialog.stack.currentWidget() is dialog.shown_page or not dialog.isVisible(),
        timeout=20_000,
    )
    assert dialog.isVisible(), "Enter closed the dialog instead of showing the words"
    assert [w for w in dialog.words_label.text().split() if not w.endswith(".")] == words

    press_enter(qtbot)  # "Check my paper now"
    assert dialog.stack.currentWidget() is dialog.check_page
    assert QApplication.focusWidget() is dialog.check_edits[0]
    dialog.back_button.click()  # a way back to re-read the words
    assert dialog.stack.currentWidget() is dialog.shown_page
    assert [w for w in dialog.words_label.text().split() if not w.endswith(".")] == words
    press_enter(qtbot)
    for position in dialog.positions:
        type_into_focus(qtbot, words[position - 1])
        press_enter(qtbot)  # on to the next word; after the last one, Check
        assert dialog.error.text() == ""
    qtbot.waitUntil(lambda: dialog.done_label.text().startswith("✓"), timeout=20_000)
    assert dialog.isVisible()
    press_enter(qtbot)  # now Enter closes
    assert not dialog.isVisible()


def test_enter_in_the_change_password_dialog_changes_it(
    qtbot: Any, window_with_wallet: tuple[MainWindow, list[str]]
) -> None:
    window, _words = window_with_wallet
    window.show_password_dialog()
    dialog = window.password_dialog
    assert dialog is not None
    show_active(qtbot, dialog)
    dialog.old.setFocus()
    for text in (PASSWORD, "a new password", "a new password"):
        type_into_focus(qtbot, text)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    dialog.repeat.setFocus()
    press_enter(qtbot)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20_000)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_new_wallet_is_created_and_checked_with_the_keyboard(qtbot: Any, tmp_path: Path) -> None:
    """Create page: Enter creates; check page: words completed in the field (no list popping
    up over the next field), Enter moves on and then checks; "Back to the words" re-shows
    them."""
    setup = WalletSetup(REGTEST, tmp_path, GuiCalls())
    qtbot.addWidget(setup)
    ready: list[str] = []
    setup.wallet_ready.connect(ready.append)
    show_active(qtbot, setup)
    setup.show_create()
    setup.create_password.setFocus()
    type_into_focus(qtbot, PASSWORD)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    type_into_focus(qtbot, PASSWORD)
    press_enter(qtbot)
    qtbot.waitUntil(lambda: setup.stack.currentWidget() is setup.seed_page, timeout=30_000)
    words = [w for w in setup.seed_words.text().split() if not w.endswith(".")]
    assert len(words) == 12
    press_enter(qtbot)  # "I have written them down" has the focus
    assert setup.stack.currentWidget() is setup.confirm_page
    setup.confirm_back.click()
    assert setup.stack.currentWidget() is setup.seed_page
    assert [w for w in setup.seed_words.text().split() if not w.endswith(".")] == words
    press_enter(qtbot)
    assert setup.stack.currentWidget() is setup.confirm_page
    assert QApplication.focusWidget() is setup.confirm_edits[0]
    for edit, position in zip(setup.confirm_edits, setup._challenge, strict=True):
        assert QApplication.focusWidget() is edit
        type_into_focus(qtbot, words[position - 1][:4])  # completed in the field
        assert edit.text() == words[position - 1]
        popups = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not setup]
        assert popups == [], "a completion list covers the next field"
        press_enter(qtbot)
        assert setup.confirm_error.text() == ""
    qtbot.waitUntil(lambda: ready == ["default"], timeout=30_000)


def test_the_restore_birthday_never_defaults_to_1970(qtbot: Any, tmp_path: Path) -> None:
    setup = WalletSetup(REGTEST, tmp_path, GuiCalls())  # regtest: no known start date
    qtbot.addWidget(setup)
    assert setup.restore_birthday.date().year() >= 2024
    mainnet = WalletSetup(MAINNET, tmp_path, GuiCalls())
    qtbot.addWidget(mainnet)
    chosen = mainnet.restore_birthday.date()
    assert (chosen.year(), chosen.month(), chosen.day()) == (2019, 8, 20)
