"""The Mining page: refuses to start without a payout address, mines to the wallet's address
through a loopback pool that validates every announcement, shows live numbers, stops."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.mining.service import MiningService  # noqa: E402
from app.mining.settings import load_settings  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from miner import kernel  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.mining.conftest import fast_options  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402


@pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")
def test_mining_page_start_stop_with_the_wallet_address(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, "password1", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.mining_address()  # the steady address mining pays to
    wallet.close()
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
            page = window.mining_page
            qtbot.waitUntil(lambda: page.payout.text() == address, timeout=20_000)
            page.payout.setText("pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2")
            assert not page.start_button.isEnabled() and "mainnet" in page.why_not.text()
            page.payout.setText(address)
            page.pools.clear()
            page.new_pool.setText(pool.url)
            page._add_pool()
            page.threads.setValue(1)
            assert page.start_button.isEnabled() and page.why_not.text() == ""
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            assert page.start_button.text() == "Stop mining"
            qtbot.waitUntil(lambda: pool.accepted > 0, timeout=30_000)
            assert all(s.payto == address for s in pool.submissions)
            page.refresh()
            qtbot.waitUntil(lambda: "accepted" in page.summary.text(), timeout=5_000)
            assert page.pool_table.rowCount() == 1
            assert load_settings(tmp_path).pools == [pool.url]  # saved on start
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.start_button.text() == "Start mining", timeout=10_000)
            assert not mining.running
        finally:
            mining.stop()
            core.stop()
