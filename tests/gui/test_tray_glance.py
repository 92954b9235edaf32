"""Tray icon, Overview "at a glance" row, mining earnings and closing while mining, against a
real core, wallet, loopback test peer and a loopback pool that validates announcements."""

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from app import settings as app_settings  # noqa: E402
from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.money import coins  # noqa: E402
from app.gui.tray import TrayIcon, tray_available  # noqa: E402
from app.mining.service import MiningService  # noqa: E402
from app.notifications import Notification  # noqa: E402
from app.vpn.state import VpnState, VpnStatus  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from miner import kernel  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.mining.conftest import fast_options  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

FAST_KDF = {"n": 1024, "r": 8, "p": 1}


def _wallet_address(datadir: Path, mining: bool = False) -> str:
    wallet, _ = Wallet.create(datadir, "main", REGTEST, "password1", kdf_params=FAST_KDF)
    address = wallet.mining_address() if mining else wallet.receive_address()
    wallet.close()
    return address


def _reward(chain: RegtestChain, height: int) -> int:
    return chain.blocks[height].block.transactions[0].outputs[0].value


def _answer(button_text: str) -> None:
    """Click `button_text` in the open message box (the close question)."""
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox), box
    buttons = [b for b in box.buttons() if b.text() == button_text]
    if not buttons:
        box.reject()  # never leave the test hanging in the dialog
    assert len(buttons) == 1, [b.text() for b in box.buttons()]
    buttons[0].click()


def _earnings_text(chain: RegtestChain, heights: list[int]) -> str:
    """The label for coinbases at `heights` paying the wallet (today: their UTC day is now's)."""
    now = datetime.now(UTC).date()
    today = total = 0
    for height in heights:
        total += _reward(chain, height)
        block_time = chain.blocks[height].block.header.timestamp
        if datetime.fromtimestamp(block_time, UTC).date() == now:
            today += _reward(chain, height)
    return f"Today: {coins(today, REGTEST)} · Total: {coins(total, REGTEST)}"


def test_earnings_and_a_mining_reward_notification(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A coinbase from long ago counts in the total only, one from now in today's too; a new
    block paying the wallet while it is open gives one "Mining reward" notification."""
    script = script_for_address(_wallet_address(tmp_path), REGTEST)
    chain = RegtestChain()
    chain.mine(pay_to=script)  # block 1: weeks ago
    chain.mine_many(3)
    chain.mine(pay_to=script, timestamp=int(time.time()))  # block 5: today
    chain.mine_many(2)
    assert _reward(chain, 1) > 0 and chain.blocks[1].block.header.timestamp < time.time() - 86_400
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            notes: list[Notification] = []
            window.glance.notification.connect(notes.append)
            label = window.mining_page.earnings
            expected = _earnings_text(chain, [1, 5])
            assert expected.startswith("Today: 50 ")  # unless run across midnight UTC
            qtbot.waitUntil(lambda: label.text() == expected, timeout=30_000)
            notes.clear()  # what the catching-up sync found is not what this test is about
            block = chain.mine(pay_to=script)
            chain.mine_many(1)
            peer.set_chain(chain)
            reward = _reward(chain, block.height)
            expected = _earnings_text(chain, [1, 5, block.height])
            qtbot.waitUntil(lambda: label.text() == expected, timeout=30_000)
            assert [n.title for n in notes] == ["Mining reward"]
            assert coins(reward, REGTEST).split()[0] in notes[0].text
        finally:
            core.stop()


def test_glance_row_follows_the_vpn_and_opens_the_pages(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = RegtestChain()
    chain.mine_many(2)
    _wallet_address(tmp_path)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            row = window.overview_page.glance
            qtbot.waitUntil(lambda: window.wallet_name == "main", timeout=20_000)
            assert row.mining_button.text() == "Mining: stopped"
            assert row.vpn_button.text() == "VPN: off"
            notes: list[Notification] = []
            window.glance.notification.connect(notes.append)
            connected = VpnStatus(state=VpnState.CONNECTED, exit_name="Paris", exit_key="k")
            # The VPN service reports from its own threads; this is its on_change path.
            window.glance.vpn_status_from_any_thread(connected)
            qtbot.waitUntil(lambda: row.vpn_button.text() == "VPN: connected to Paris")
            window.glance.vpn_status_from_any_thread(
                VpnStatus(state=VpnState.ERROR, exit_name="Paris", error="cjdroute stopped")
            )
            qtbot.waitUntil(lambda: "error" in row.vpn_button.text())
            assert [n.title for n in notes] == ["VPN connected", "VPN dropped"]
            qtbot.mouseClick(row.vpn_button, Qt.MouseButton.LeftButton)
            assert window.pages.currentWidget() is window.vpn_page
            qtbot.mouseClick(row.mining_button, Qt.MouseButton.LeftButton)
            assert window.pages.currentWidget() is window.mining_page
        finally:
            core.stop()


@pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")
def test_mining_at_a_glance_tray_and_closing_while_mining(
    qtbot, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    address = _wallet_address(tmp_path, mining=True)  # the Mining page's default payout
    chain = RegtestChain()
    chain.mine_many(3)
    with TestPeer(chain) as peer, TestPool() as pool:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        mining = MiningService(REGTEST, options=fast_options())
        try:
            window = MainWindow(core, bridge, GuiCalls(), mining)
            qtbot.addWidget(window)
            window.show()
            notes: list[Notification] = []
            window.glance.notification.connect(notes.append)
            page, row = window.mining_page, window.overview_page.glance
            qtbot.waitUntil(lambda: page.payout.text() == address, timeout=20_000)
            page.pools.clear()
            page.new_pool.setText(pool.url)
            page._add_pool()
            page.threads.setValue(1)
            host = pool.url.split("://", 1)[1].rstrip("/")

            # Started from the page: the Overview row says so, with the pool.
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda: row.mining_button.text().startswith("Mining: mining"), timeout=5_000
            )
            assert f"anns/s to {host}" in row.mining_button.text()
            qtbot.waitUntil(lambda: pool.accepted > 0, timeout=30_000)
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: row.mining_button.text() == "Mining: stopped", timeout=10_000)
            assert [n.title for n in notes] == ["Mining started", "Mining stopped"]

            # Without a tray (offscreen has none), closing stops mining as before.
            assert tray_available() is False and window.tray is None
            page.toggle()
            assert mining.running
            window.close()
            assert not mining.running and not window.isVisible()

            # With a tray (as on a desktop): its menu starts mining, closing can keep mining.
            window.show()
            tray = window.make_tray()
            window.tray = tray
            tray.mining_action.trigger()
            assert mining.running
            qtbot.waitUntil(lambda: tray.mining_action.text() == "Stop mining", timeout=5_000)
            QTimer.singleShot(50, lambda: _answer("Cancel"))
            window.close()
            assert window.isVisible() and mining.running
            assert not app_settings.load_settings(tmp_path).keep_mining_in_tray
            QTimer.singleShot(50, lambda: _answer("Always keep mining"))
            window.close()
            assert app_settings.load_settings(tmp_path).keep_mining_in_tray  # remembered
            assert not window.isVisible() and mining.running
            assert not QApplication.quitOnLastWindowClosed()  # only the tray's Quit ends it
            accepted = pool.accepted
            qtbot.waitUntil(lambda: pool.accepted > accepted, timeout=30_000)  # still mining

            tray.show_action.trigger()
            assert window.isVisible() and QApplication.quitOnLastWindowClosed()
            asked: list[bool] = []
            monkeypatch.setattr(window, "ask_keep_mining", lambda: asked.append(True))
            window.close()
            assert not asked, "not asked again once chosen"
            assert not window.isVisible() and mining.running
            tray.quit_action.trigger()  # really quits: mining stops
            assert not mining.running and not window.isVisible()
            assert isinstance(tray, TrayIcon) and not tray.isVisible()
        finally:
            mining.stop()
            core.stop()
