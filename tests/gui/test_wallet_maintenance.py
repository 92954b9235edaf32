"""Wallet menu ▸ Change password (the key file re-encrypted, a remembered password follows) and
History ▸ Abandon an unconfirmed payment (its coins spendable again), against the real core."""

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.wallet import unlock_cache  # noqa: E402
from app.wallet.wallet import PasswordError, Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.file_keyring import FileKeyring  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

OLD, NEW = "old password 1", "new password 2"
COIN = REGTEST.units_per_coin


def _funded(tmp_path: Path) -> tuple[RegtestChain, str]:
    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, OLD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.receive_address()
    wallet.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(address, REGTEST))
    chain.mine_many(100)
    return chain, address


def test_change_password_and_abandon(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    before = keyring.get_keyring()
    monkeypatch.setenv("PKT_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring())
    unlock_cache.remember(REGTEST.name, "main", OLD)
    chain, address = _funded(tmp_path)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            overview = window.overview_page
            qtbot.waitUntil(lambda: overview.confirmed.text() == "50 rBTC", timeout=30_000)

            assert window.wallet_menu.password_action.isEnabled()
            window.wallet_menu.password_action.trigger()
            dialog = window.password_dialog
            assert dialog is not None
            dialog.old.setText("not it")
            dialog.new.setText("short")
            dialog.repeat.setText("short")
            qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
            assert "at least 8" in dialog.error.text()
            dialog.new.setText(NEW)
            dialog.repeat.setText(NEW)
            qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: "not right" in dialog.error.text(), timeout=20_000)
            dialog.old.setText(OLD)
            with qtbot.waitSignal(dialog.accepted, timeout=30_000):
                qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
            assert unlock_cache.recall(REGTEST.name, "main") == NEW  # the keyring followed

            # a payment the network never confirms, then abandoned
            preview = core.prepare_send(address, 10 * COIN).result(10)
            with pytest.raises(PasswordError):
                core.sign_and_broadcast(preview, OLD).result(30)
            txid = core.sign_and_broadcast(preview, NEW).result(30)
            qtbot.waitUntil(lambda: overview.table.rowCount() == 2, timeout=10_000)
            history = window.history_page
            qtbot.waitUntil(lambda: txid in history.entries, timeout=10_000)
            row = next(
                r for r in range(history.model.rowCount()) if history.model.row(r).txid == txid
            )
            history._open_details(history.model.index(row, 0))
            details = history.dialog
            assert details is not None and details.abandon_button is not None
            monkeypatch.setattr(
                QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes
            )
            details.abandon_button.click()
            qtbot.waitUntil(lambda: overview.table.rowCount() == 1, timeout=10_000)
            assert "abandoned" in history.notice.text()
            assert overview.confirmed.text() == "50 rBTC"
        finally:
            core.stop()
            keyring.set_keyring(before)


def test_bump_fee_of_an_rbf_payment(qtbot: Any, tmp_path: Path) -> None:
    chain, address = _funded(tmp_path)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            overview = window.overview_page
            qtbot.waitUntil(lambda: overview.confirmed.text() == "50 rBTC", timeout=30_000)
            txid = core.sign_and_broadcast(
                core.prepare_send(address, 10 * COIN, fee_rate="1", rbf=True).result(10), OLD
            ).result(30)
            history = window.history_page
            qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=10_000)

            def open_details(wanted: str) -> Any:
                qtbot.waitUntil(lambda: wanted in history.entries, timeout=10_000)
                row = next(
                    r
                    for r in range(history.model.rowCount())
                    if history.model.row(r).txid == wanted
                )
                history._open_details(history.model.index(row, 0))
                return history.dialog

            details = open_details(txid)
            qtbot.waitUntil(lambda: details.bump_button.isVisibleTo(details), timeout=10_000)
            assert "units/vbyte" in details.fee_label.text()
            details.bump_button.click()
            bump = history.bump_dialog
            assert bump is not None and bump.fee.rate_argument() == "5"  # Priority by default
            bump.preview_button.click()
            qtbot.waitUntil(lambda: history.preview_dialog is not None, timeout=10_000)
            assert history.preview_dialog is not None
            history.preview_dialog.password.setText(OLD)
            history.preview_dialog.accept()
            qtbot.waitUntil(lambda: history.notice.text().startswith("Fee bumped"), timeout=20_000)
            original, replacement = peer.received_txs
            assert original.txid_hex == txid and replacement.txid_hex in history.notice.text()
            assert [i.prevout for i in replacement.inputs] == [i.prevout for i in original.inputs]
            qtbot.waitUntil(  # the replacement takes the original's place, newest first
                lambda: (
                    [history.model.row(r).txid for r in range(history.model.rowCount())][:1]
                    == [replacement.txid_hex]
                    and history.model.rowCount() == 2
                ),
                timeout=10_000,
            )
            assert txid not in history.entries
        finally:
            core.stop()
