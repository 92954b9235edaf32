"""First run (create with the seed confirmed, restore), overview and receive screens, driven
like a person would, against the real core, wallet and a loopback test peer."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.uri import parse_payment_uri  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"


def _new_wallet_address(datadir: Path, name: str) -> str:
    """Create a wallet (fast key derivation for tests) and return its receive address."""
    wallet, _ = Wallet.create(
        datadir, name, REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.receive_address()
    wallet.close()
    return address


def _chain_paying(address: str) -> RegtestChain:
    """A chain whose block 1 pays `address` 50 coins, mature (100 blocks on top)."""
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(address, REGTEST))
    chain.mine_many(100)
    return chain


def _core(datadir: Path, peer: TestPeer) -> tuple[AppCore, CoreBridge]:
    bridge = CoreBridge()
    core = AppCore(REGTEST, datadir, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
    core.start()
    return core, bridge


def _window(qtbot, core: AppCore, bridge: CoreBridge) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(core, bridge, GuiCalls())
    qtbot.addWidget(window)
    window.show()
    return window


def test_create_wallet_confirm_seed_then_receive(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = RegtestChain()
    chain.mine_many(5)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = _window(qtbot, core, bridge)
            setup = window.setup_page
            assert window.nav.item(0).text() == "Get started"
            setup.stack.setCurrentWidget(setup.create_page)
            qtbot.keyClicks(setup.create_password, "short")
            qtbot.keyClicks(setup.create_repeat, "short")
            qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
            assert "at least 8" in setup.create_error.text()
            setup.create_password.setText(PASSWORD)
            setup.create_repeat.setText(PASSWORD)
            qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: setup.stack.currentWidget() is setup.seed_page, timeout=20_000)
            words = [w for w in setup.seed_words.text().split() if not w.endswith(".")]
            assert len(words) == 12
            setup._ask_words_back()
            assert setup.seed_words.text() == ""  # no longer on screen
            wrong = dict(zip(setup._challenge, ["abandon"] * 3, strict=True))
            for edit, pos in zip(setup.confirm_edits, setup._challenge, strict=True):
                edit.setText(wrong[pos] if words[pos - 1] != "abandon" else "zoo")
            qtbot.mouseClick(setup.confirm_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: "not right" in setup.confirm_error.text(), timeout=10_000)
            for edit, pos in zip(setup.confirm_edits, setup._challenge, strict=True):
                edit.setText(words[pos - 1])
            qtbot.mouseClick(setup.confirm_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: window.wallet_name == "default", timeout=20_000)
            assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
                "Overview",
                "Send",
                "Receive",
                "History",
                "Mining",
                "VPN",
                "Steward",
                "Network",
                "Settings",
            ]
            receive = window.receive_page
            qtbot.waitUntil(lambda: receive.address_label.text() != "—", timeout=5_000)
            address = receive.address_label.text()
            assert address.startswith("bcrt1q")
            receive.amount.setText("1.5")
            receive.message.setText("rent")
            uri = parse_payment_uri(receive.uri.text(), REGTEST)
            assert (
                uri.address == address and uri.amount_units == 150_000_000 and uri.message == "rent"
            )
            assert not receive.qr.pixmap().isNull()
            receive.amount.setText("1.5.5")
            assert receive.error.text()
        finally:
            core.stop()
    reopened = Wallet.open(tmp_path, "default", REGTEST)
    assert reopened.backed_up
    reopened.close()


def test_existing_wallet_opens_and_shows_its_mining_reward(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = _chain_paying(_new_wallet_address(tmp_path, "main"))
    with TestPeer(chain) as peer:
        core, bridge = _core(tmp_path, peer)
        try:
            window = _window(qtbot, core, bridge)
            page = window.overview_page
            qtbot.waitUntil(lambda: page.confirmed.text() == "50 rBTC", timeout=30_000)
            assert page.table.rowCount() == 1
            assert page.table.item(0, 1).text() == "+50 rBTC"
            assert "mining reward" in page.table.item(0, 2).text()
            assert window.windowTitle() == "PKT Wallet — main (regtest)"
        finally:
            core.stop()


def test_send_checks_the_address_previews_and_broadcasts(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = _chain_paying(_new_wallet_address(tmp_path, "main"))
    destination = _new_wallet_address(tmp_path / "b", "b")
    with TestPeer(chain) as peer:
        core, bridge = _core(tmp_path, peer)
        try:
            window = _window(qtbot, core, bridge)
            qtbot.waitUntil(
                lambda: window.overview_page.confirmed.text() == "50 rBTC", timeout=30_000
            )
            send = window.send_page
            send.address.setText("pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2")
            assert "mainnet address" in send.address_state.text()
            send.address.setText(f"pkt:{destination}?amount=1.25&message=Invoice%2042")  # pasted
            assert send.address.text() == destination and send.amount.text() == "1.25"
            assert send.description.text() == "Invoice 42"  # becomes the label once sent
            assert send.address_state.text() == "✓ valid address"
            qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda: send.dialog is not None and send.dialog.isVisible(), timeout=10_000
            )
            dialog = send.dialog
            assert dialog is not None
            texts = " ".join(label.text() for label in dialog.findChildren(type(send.status)))
            assert "1.25 rBTC" in texts and destination in texts and "change" in texts.lower()
            assert not dialog.send_button.isEnabled()  # no password yet
            dialog.password.setText("wrong password")
            dialog.accept()
            # the dialog says so and keeps the preview for another try
            qtbot.waitUntil(
                lambda: dialog.error.text().startswith("Wrong password"), timeout=10_000
            )
            assert dialog.isVisible() and send.dialog is dialog
            assert peer.received_txs == []
            dialog.password.setText(PASSWORD)
            dialog.accept()
            qtbot.waitUntil(lambda: send.status.text().startswith("Sent."), timeout=20_000)
            (tx,) = peer.received_txs  # the peer checked its signature
            assert send.status.text().endswith(tx.txid_hex)
            assert send.description.text() == ""
            assert any(o.value == 125_000_000 for o in tx.outputs)
            qtbot.waitUntil(lambda: window.overview_page.table.rowCount() == 2, timeout=10_000)
            assert window.overview_page.table.item(0, 2).text() == "unconfirmed"

            history = window.history_page
            model = history.model
            qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=10_000)
            assert model.index(0, 4).data() == "unconfirmed"  # newest first
            qtbot.waitUntil(  # the description typed (here: pasted) on the Send page
                lambda: any(model.index(r, 1).data() == "Invoice 42" for r in range(2)),
                timeout=10_000,
            )
            qtbot.waitUntil(  # the Overview shows it too
                lambda: window.overview_page.table.item(0, 3).text() == "Invoice 42",
                timeout=10_000,
            )
            history.search.setText(tx.txid_hex[:10])  # searched by the wallet, as typed
            qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
            assert history.status.text() == "1 transaction match"
            history._open_details(model.index(0, 0))
            assert history.dialog is not None
            details = history.dialog
            qtbot.waitUntil(lambda: details.outputs.rowCount() > 0, timeout=10_000)
            outputs = [details.outputs.item(r, 0).text() for r in range(details.outputs.rowCount())]
            assert destination in outputs and details.inputs.rowCount() == 1
            assert details.inputs.item(0, 2).text() == "this wallet"
            assert "vbytes" in details.size_label.text()
            history.dialog.label.setText("rent for May")
            history.dialog.accept()
            history.search.clear()
            qtbot.waitUntil(
                lambda: (
                    model.rowCount() == 2
                    and any(model.index(r, 1).data() == "rent for May" for r in range(2))
                ),
                timeout=10_000,
            )
            csv_path = tmp_path / "history.csv"
            history.export_to(csv_path)
            qtbot.waitUntil(lambda: csv_path.exists(), timeout=10_000)
            assert "rent for May" in csv_path.read_text() and tx.txid_hex in csv_path.read_text()
        finally:
            core.stop()
