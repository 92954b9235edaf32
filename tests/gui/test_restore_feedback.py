"""Restore screen: words completed from the word list as they are typed, checksum feedback,
and the optional birthday (not asked for pktwallet words, whose birthday is in the words)."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QDate, Qt  # noqa: E402

from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.wallet_setup import WalletSetup  # noqa: E402
from app.wallet.wallet import Wallet, list_wallets  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from tests.wallet.conftest import load_seed_vectors  # noqa: E402

PASSWORD = "correct horse battery"


def _restore_page(qtbot: Any, datadir: Path) -> WalletSetup:
    setup = WalletSetup(MAINNET, datadir, GuiCalls())
    qtbot.addWidget(setup)
    setup.show()
    setup.show_restore()
    setup.restore_words.setFocus()
    return setup


def test_words_complete_as_typed_and_the_checksum_is_checked(qtbot: Any, tmp_path: Path) -> None:
    setup = _restore_page(qtbot, tmp_path)
    edit = setup.restore_words
    qtbot.keyClicks(edit, "aband")
    popup = edit.completer.popup()
    assert popup is not None and popup.isVisible()
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # takes the only match
    assert edit.toPlainText() == "abandon " and not popup.isVisible()
    qtbot.keyClicks(edit, "ab")
    assert popup.isVisible() and "word 2: abandon, ability, able" in setup.word_hint.text()
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert not popup.isVisible() and edit.toPlainText() == "abandon ab"
    edit.setPlainText("abandon " * 12)
    assert "checksum" in setup.word_hint.text() and "b00020" in setup.word_hint.styleSheet()
    edit.setPlainText("abandon " * 11 + "about")
    assert setup.word_hint.text() == "✓ 12 BIP39 words"
    edit.setPlainText("abandon abandonn abandon")
    assert setup.word_hint.text() == "word 2 ('abandonn') is not a seed word"


def test_birthday_is_used_for_bip39_and_not_offered_for_pktwallet(
    qtbot: Any, tmp_path: Path
) -> None:
    setup = _restore_page(qtbot, tmp_path)
    pkt_words = load_seed_vectors()["seedwords_vectors"][0]["words"]
    setup.restore_words.setPlainText(pkt_words)
    assert setup.word_hint.text().startswith("✓ pktwallet seed")
    assert not setup.restore_birthday_known.isEnabled() and not setup.restore_birthday.isEnabled()

    setup.restore_words.setPlainText("abandon " * 11 + "about")
    assert setup.restore_birthday_known.isEnabled() and not setup.restore_birthday.isEnabled()
    setup.restore_birthday_known.setChecked(True)
    assert setup.restore_birthday.isEnabled()
    assert setup.restore_birthday.minimumDate() == QDate(2019, 8, 20)  # PKT's first block
    setup.restore_birthday.setDate(QDate(2024, 2, 3))
    setup.restore_password.setText(PASSWORD)
    setup.restore_repeat.setText(PASSWORD)
    with qtbot.waitSignal(setup.wallet_ready, timeout=30_000) as ready:
        qtbot.mouseClick(setup.restore_button, Qt.MouseButton.LeftButton)
    assert list_wallets(tmp_path) == [ready.args[0]]
    wallet = Wallet.open(tmp_path, ready.args[0], MAINNET)
    try:
        assert wallet.birthday == date(2024, 2, 3)
    finally:
        wallet.close()
    assert setup.restore_birthday_known.isEnabled()  # back to normal after the restore


def test_create_with_a_seed_passphrase(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.wallet import wallet as wallet_module

    created: list[str] = []
    original = wallet_module.Wallet.create

    def recording(*args: Any, **kwargs: Any) -> Any:
        created.append(kwargs.get("passphrase", ""))
        return original(*args, **kwargs, kdf_params={"n": 1024, "r": 8, "p": 1})

    monkeypatch.setattr(wallet_module.Wallet, "create", recording)
    setup = WalletSetup(MAINNET, tmp_path, GuiCalls())
    qtbot.addWidget(setup)
    setup.show()
    setup.show_create()
    assert not setup.create_passphrase.isVisible()
    setup.create_password.setText(PASSWORD)
    setup.create_repeat.setText(PASSWORD)
    setup.create_extend.setChecked(True)
    assert setup.create_passphrase.isVisible()
    qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
    assert setup.create_error.text() == "Type the seed passphrase, or untick the box."
    assert created == [] and list_wallets(tmp_path) == []
    setup.create_passphrase.setText("extra words")
    qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: setup.stack.currentWidget() is setup.seed_page, timeout=20_000)
    assert created == ["extra words"] and setup.seed_extra.isVisible()
    assert setup.create_passphrase.text() == "" and not setup.create_extend.isChecked()
