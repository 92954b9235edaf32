"""The window shows the real sync state of the core and never blocks the Qt thread."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.sync_indicator import describe, fraction  # noqa: E402
from spv.node import SyncProgress  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402


def test_sync_indicator_texts() -> None:
    p = SyncProgress("headers", 1000, 4000, 3, -1, -1, rate=500.0, eta=6.0)
    assert describe(p) == "Downloading block headers: 1,000 / 4,000 · 3 peers · about 6 s left"
    assert fraction(p) == pytest.approx(0.125)
    done = SyncProgress("synced", 4000, 4000, 1, 4000, 4000)
    assert describe(done) == "Up to date — block 4,000 · 1 peer"
    assert fraction(done) == 1.0


def test_main_window_follows_a_real_sync(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = RegtestChain()
    chain.mine_many(300)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge)
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: window.sync_indicator.label.text().startswith("Up to date — block 300"),
                timeout=30_000,
            )
            window.network_page.refresh()  # answered on a worker thread
            qtbot.waitUntil(lambda: window.network_page.height_label.text() == "300")
            assert window.network_page.peers.count() == 1
            assert "testpeer" in window.network_page.peers.item(0).text()
            assert window.windowTitle() == "PKT Wallet — regtest"
        finally:
            core.stop()


def test_no_reachable_peer_is_said_and_retried(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()  # nothing listens there: every connection is refused
    bridge = CoreBridge()
    core = AppCore(
        REGTEST,
        tmp_path,
        peers=[("127.0.0.1", closed_port)],
        use_dns_seeds=False,
        on_event=bridge.deliver,
        peer_timeout=0.5,
    )
    core.start()
    try:
        window = MainWindow(core, bridge)
        qtbot.addWidget(window)
        window.show()
        label = window.sync_indicator.label
        qtbot.waitUntil(lambda: label.text().startswith("Not connected: "), timeout=20_000)
        assert label.text().endswith("trying again") and "Settings" in label.toolTip()
        window.sync_indicator.update_progress(SyncProgress("connecting", 0, 0, 0, -1, -1))
        assert label.text() == "Connecting to peers…" and label.toolTip() == ""
    finally:
        core.stop()
