"""Send page: coin control (choose, freeze), fee presets and a custom rate, RBF; against the
real core and wallet and a loopback test peer that checks what is broadcast."""

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFormLayout, QLabel  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.coin_control import CoinControlDialog  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.money import coins  # noqa: E402
from app.gui.send_page import PreviewDialog, SendPage  # noqa: E402
from app.wallet.model import outpoint_text  # noqa: E402
from app.wallet.wallet import SEQUENCE_RBF, Wallet, db_path  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.tx import OutPoint  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"
COIN = 50 * REGTEST.units_per_coin


@dataclass
class Setup:
    window: MainWindow
    send: SendPage
    peer: TestPeer
    older: str  # TXID:N of the coin mined in block 1
    newer: str  # ... in block 2


def _new_wallet_address(datadir: Path, name: str) -> str:
    wallet, _ = Wallet.create(
        datadir, name, REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.receive_address()
    wallet.close()
    return address


@pytest.fixture
def funded(qtbot, tmp_path: Path) -> Iterator[Setup]:  # type: ignore[no-untyped-def]
    """A wallet holding two separate mature 50-coin mining rewards, shown in the window."""
    script = script_for_address(_new_wallet_address(tmp_path, "main"), REGTEST)
    chain = RegtestChain()
    first = chain.mine(pay_to=script)
    second = chain.mine(pay_to=script)
    chain.mine_many(100)
    older, newer = (
        outpoint_text(OutPoint(b.block.transactions[0].txid, 0)) for b in (first, second)
    )
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        # not qtbot.addWidget: pytest-qt would delete the window before this fixture stops
        # the core, and results still on their way would reach deleted widgets
        window: MainWindow | None = None
        try:
            window = MainWindow(core, bridge, GuiCalls())
            window.show()
            overview = window.overview_page
            qtbot.waitUntil(lambda: overview.confirmed.text() == "100 rBTC", timeout=30_000)
            nav = window.nav
            titles = [nav.item(i).text() for i in range(nav.count())]
            nav.setCurrentRow(titles.index("Send"))
            assert window.send_page.isVisible()
            yield Setup(window, window.send_page, peer, older, newer)
        finally:
            bridge.blockSignals(True)  # no new core events; let the queued ones finish
            qtbot.wait(200)
            core.stop()
            qtbot.wait(100)  # results still queued for the window, while it exists
            if window is not None:
                window.close()
                window.deleteLater()


def _open_coin_control(qtbot, send: SendPage) -> CoinControlDialog:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(send.choose_coins, Qt.MouseButton.LeftButton)
    dialog = send.coin_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded and dialog.use_button.isEnabled(), timeout=10_000)
    return dialog


def _preview(qtbot, send: SendPage) -> PreviewDialog:  # type: ignore[no-untyped-def]
    before = send.dialog
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.dialog is not before and send.dialog is not None, timeout=10_000)
    assert send.dialog is not None
    return send.dialog


def _field(dialog: PreviewDialog, row_label: str) -> str:
    """The text shown beside `row_label` in the preview."""
    form = dialog.findChild(QFormLayout)
    assert form is not None
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is not None and field is not None and label.widget().text() == row_label:
            widget = field.widget()
            assert isinstance(widget, QLabel)
            return widget.text()
    raise AssertionError(f"no {row_label!r} row in the preview")


def _sign_and_send(qtbot, setup: Setup, dialog: PreviewDialog):  # type: ignore[no-untyped-def]
    dialog.password.setText(PASSWORD)
    dialog.accept()
    qtbot.waitUntil(lambda: setup.send.status.text().startswith("Sent."), timeout=20_000)
    (tx,) = setup.peer.received_txs  # the peer checked the signatures
    return tx


def test_chosen_coin_is_exactly_what_the_payment_spends(qtbot, funded: Setup) -> None:  # type: ignore[no-untyped-def]
    send = funded.send
    destination = _new_wallet_address(Path(funded.window.core.datadir) / "other", "b")
    coin_dialog = _open_coin_control(qtbot, send)
    assert coin_dialog.model.rowCount() == 2
    assert [v.outpoint for v in coin_dialog.model.rows] == [funded.older, funded.newer]
    assert coin_dialog.total.text() == "Checked: 0 coins, 0 rBTC"
    coin_dialog.set_checked(funded.newer, True)
    assert coin_dialog.total.text() == "Checked: 1 coin, 50 rBTC"  # live
    coin_dialog.set_checked(funded.older, True)
    assert coin_dialog.total.text() == "Checked: 2 coins, 100 rBTC"
    coin_dialog.set_checked(funded.older, False)
    qtbot.mouseClick(coin_dialog.use_button, Qt.MouseButton.LeftButton)
    assert not coin_dialog.isVisible()
    assert send.coins_state.text() == "Using 1 chosen coin (50 rBTC)"
    assert send.reset_coins.isVisible()

    send.address.setText(destination)
    send.amount.setText("1")
    dialog = _preview(qtbot, send)
    assert [outpoint_text(c.outpoint) for c in dialog.preview.inputs] == [funded.newer]
    assert _field(dialog, "Coins spent") == "1 coin"
    tx = _sign_and_send(qtbot, funded, dialog)
    assert [outpoint_text(i.prevout) for i in tx.inputs] == [funded.newer]
    assert send.coins_state.text() == "The wallet chooses the coins"  # spent: choice reset
    assert not send.reset_coins.isVisible()


def test_frozen_coin_is_left_out_of_a_max_send(qtbot, funded: Setup) -> None:  # type: ignore[no-untyped-def]
    send = funded.send
    coin_dialog = _open_coin_control(qtbot, send)
    assert not coin_dialog.freeze_button.isEnabled()  # nothing checked
    coin_dialog.set_checked(funded.older, True)
    qtbot.mouseClick(coin_dialog.freeze_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: coin_dialog.chosen()[0].frozen, timeout=10_000)
    assert coin_dialog.model.index(0, 5).data() == "frozen"
    assert coin_dialog.unfreeze_button.isEnabled() and not coin_dialog.freeze_button.isEnabled()
    qtbot.mouseClick(coin_dialog.use_button, Qt.MouseButton.LeftButton)
    assert "frozen" in coin_dialog.status.text() and coin_dialog.isVisible()
    coin_dialog.reject()
    assert send.chosen_coins == []
    with contextlib.closing(
        sqlite3.connect(db_path(Path(funded.window.core.datadir), "main"))
    ) as db:  # committed at once: another connection sees it
        rows = db.execute("SELECT lower(hex(txid)), vout FROM frozen").fetchall()
    assert [f"{t}:{v}" for t, v in rows] == [funded.older]

    send.address.setText(_new_wallet_address(Path(funded.window.core.datadir) / "x", "x"))
    send.max.setChecked(True)
    dialog = _preview(qtbot, send)
    assert [outpoint_text(c.outpoint) for c in dialog.preview.inputs] == [funded.newer]
    (paid,) = dialog.preview.outputs
    assert paid.value == COIN - dialog.preview.fee
    tx = _sign_and_send(qtbot, funded, dialog)
    assert [outpoint_text(i.prevout) for i in tx.inputs] == [funded.newer]


def test_fee_presets_custom_rate_and_rbf(qtbot, funded: Setup) -> None:  # type: ignore[no-untyped-def]
    send = funded.send
    send.address.setText(_new_wallet_address(Path(funded.window.core.datadir) / "y", "y"))
    send.amount.setText("1")
    assert "for a simple payment" in send.fee.info.text()  # an amount, before any preview
    assert "exact fee is shown in the preview" in send.fee.info.text()
    send.fee.select("Economy")
    economy = _preview(qtbot, send)
    economy.reject()
    assert _field(economy, "Fee").endswith(f"(1 unit/vbyte × {economy.preview.vsize} vbytes)")
    assert _field(economy, "Fee bump (RBF)") == "no (final once broadcast)"
    assert f"pays {coins(economy.preview.fee, REGTEST)}" in send.fee.info.text()
    send.fee.select("Priority")
    assert "about" in send.fee.info.text()  # estimated from the measured size
    send.rbf.setChecked(True)
    priority = _preview(qtbot, send)
    assert priority.preview.fee_rate == 5 * economy.preview.fee_rate
    assert priority.preview.fee > economy.preview.fee
    assert "(5 units/vbyte × " in _field(priority, "Fee")
    assert _field(priority, "Fee bump (RBF)").startswith("allowed later")
    tx = _sign_and_send(qtbot, funded, priority)
    assert all(i.sequence == SEQUENCE_RBF for i in tx.inputs)


def test_bad_custom_fee_rate_is_explained_and_nothing_is_prepared(qtbot, funded: Setup) -> None:  # type: ignore[no-untyped-def]
    send = funded.send
    send.address.setText(_new_wallet_address(Path(funded.window.core.datadir) / "z", "z"))
    send.amount.setText("1")
    send.fee.select("Custom")
    assert send.fee.custom.isVisible()
    assert "enter a fee rate" in send.fee.info.text()
    qtbot.keyClicks(send.fee.custom, "fast")
    assert "bad fee rate 'fast'" in send.fee.info.text()
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    assert "bad fee rate" in send.status.text()
    send.fee.custom.setText("0.5")
    assert "below the minimum" in send.fee.info.text()
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    assert "below the minimum" in send.status.text()
    qtbot.wait(300)
    assert send.dialog is None  # no preview was asked for
    send.fee.custom.setText("2.5")
    assert send.fee.info.text().startswith("2.5 units/vbyte")
    dialog = _preview(qtbot, send)
    assert "(2.5 units/vbyte × " in _field(dialog, "Fee")


def test_several_recipients_in_one_transaction(qtbot, funded: Setup) -> None:  # type: ignore[no-untyped-def]
    send = funded.send
    datadir = Path(funded.window.core.datadir)
    first, second, third = (_new_wallet_address(datadir / n, n) for n in ("p", "q", "r"))
    send.address.setText(first)
    send.amount.setText("1.5")
    qtbot.mouseClick(send.add_recipient_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(send.add_recipient_button, Qt.MouseButton.LeftButton)
    assert len(send.recipients) == 3
    _, two, three = send.recipients
    three.address.setText(third)
    qtbot.mouseClick(three.remove, Qt.MouseButton.LeftButton)
    assert send.recipients[1:] == [two]
    two.address.setText(f"pkt:{second}?amount=2.25")
    assert two.address.text() == second and two.amount.text() == "2.25"
    two.amount.setText("2..25")
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    assert send.status.text().startswith("recipient 2: ")
    two.max.setChecked(True)
    send.max.setChecked(True)
    assert not two.max.isChecked()  # only one recipient can take "everything left"
    send.max.setChecked(False)
    two.amount.setText("2.25")
    dialog = _preview(qtbot, send)
    paid = {o.address: o.value for o in dialog.preview.outputs if not o.is_change}
    assert paid == {first: 150_000_000, second: 225_000_000}
    tx = _sign_and_send(qtbot, funded, dialog)
    values = [o.value for o in tx.outputs]
    assert 150_000_000 in values and 225_000_000 in values and len(values) == 3  # + change
    assert len(send.recipients) == 1 and send.address.text() == ""
