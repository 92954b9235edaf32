"""A wallet whose seed words were never checked shows a reminder; Wallet ▸ Seed words shows
them again after the password, and typing three back marks the wallet backed up."""

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.seed_dialog import challenge_positions, word_grid  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"


def test_challenge_positions_and_grid() -> None:
    for _ in range(50):
        positions = challenge_positions(12)
        assert len(set(positions)) == 3 and positions == sorted(positions)
        assert all(1 <= p <= 12 for p in positions)
    grid = word_grid([f"w{i}" for i in range(15)])
    assert grid.splitlines()[0].split() == ["1.", "w0", "2.", "w1", "3.", "w2"]


def test_seed_words_shown_again_and_backup_checked(qtbot: Any, tmp_path: Path) -> None:
    wallet, mnemonic = Wallet.create(
        tmp_path, "main", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    wallet.close()  # created without checking the words
    words = mnemonic.split()
    chain = RegtestChain()
    chain.mine_many(3)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            overview = window.overview_page
            qtbot.waitUntil(lambda: overview.backup_banner.isVisible(), timeout=20_000)
            qtbot.mouseClick(overview.backup_button, Qt.MouseButton.LeftButton)
            dialog = window.seed_dialog
            assert dialog is not None and dialog.words_label.text() == ""
            dialog.password.setText("not the password")
            dialog.reveal()
            qtbot.waitUntil(
                lambda: dialog.error.text() == "The password is not right.", timeout=10_000
            )
            dialog.password.setText(PASSWORD)
            dialog.reveal()
            qtbot.waitUntil(
                lambda: dialog.stack.currentWidget() is dialog.shown_page, timeout=10_000
            )
            shown = [w for w in dialog.words_label.text().split() if not w.endswith(".")]
            assert shown == words and "12 BIP39 seed words" in dialog.kind_label.text()
            assert dialog.password.text() == ""  # not kept in the field
            qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
            assert dialog.words_label.text() == ""  # off the screen while typing back
            for edit, position in zip(dialog.check_edits, dialog.positions, strict=True):
                edit.setText("zoo" if words[position - 1] != "zoo" else "abandon")
            dialog.check_words()
            qtbot.waitUntil(lambda: "not right" in dialog.error.text(), timeout=10_000)
            assert overview.backup_banner.isVisible()
            for edit, position in zip(dialog.check_edits, dialog.positions, strict=True):
                edit.setText(words[position - 1].upper())
            dialog.check_words()
            qtbot.waitUntil(lambda: dialog.done_label.text().startswith("✓"), timeout=10_000)
            qtbot.waitUntil(lambda: not overview.backup_banner.isVisible(), timeout=10_000)
            dialog.accept()
            assert dialog.password_text == "" and all(e.text() == "" for e in dialog.check_edits)
        finally:
            core.stop()
    reopened = Wallet.open(tmp_path, "main", REGTEST)
    assert reopened.backed_up
    reopened.close()
