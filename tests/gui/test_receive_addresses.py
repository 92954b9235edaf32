"""Receive page: the address list (balances, use, labels), a fresh address on demand, and a
chosen address that stays shown across wallet updates — against the real core and wallet."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QPushButton  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.receive_page import CHANGE, RECEIVING  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402


def test_address_list_new_address_and_labels(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, "password1", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    first = wallet.receive_address()
    wallet.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(first, REGTEST))
    chain.mine_many(3)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            page = window.receive_page
            assert page.list_box.isVisibleTo(page) and page.new_button.isVisibleTo(page)

            model = page.model

            def row_of(address: str) -> int:
                for r in range(model.rowCount()):
                    if model.index(r, 0).data() == address:
                        return r
                return -1

            def cell(row: int, column: int) -> str:
                return str(model.index(row, column).data())

            # the paid first address is listed as used, with its 50 coins
            qtbot.waitUntil(
                lambda: (r := row_of(first)) >= 0 and cell(r, 3) == "yes",
                timeout=30_000,
            )
            assert cell(row_of(first), 2) == "50 rBTC"
            qtbot.waitUntil(lambda: page.count_label.text().endswith(", 1 used"), timeout=10_000)
            current = page.address_label.text()
            assert current != first and row_of(current) >= 0  # the wallet moved on

            qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.address_label.text() != current, timeout=10_000)
            fresh = page.address_label.text()
            assert fresh.startswith("bcrt1q") and page.chosen == fresh
            assert fresh in page.uri.text() and not page.qr.pixmap().isNull()
            qtbot.waitUntil(lambda: row_of(fresh) >= 0, timeout=10_000)

            # a wallet update (new block) does not take the chosen address away
            chain.mine_many(1)
            peer.set_chain(chain)
            qtbot.waitUntil(
                lambda: window.overview_page.table.item(0, 2).text().endswith("5 confirmations"),
                timeout=20_000,
            )
            page.show_address(current)
            assert page.address_label.text() == fresh

            page.set_address_label(fresh, "from Alice")
            qtbot.waitUntil(
                lambda: (r := row_of(fresh)) >= 0 and cell(r, 1) == "from Alice",
                timeout=10_000,
            )

            page.which.setCurrentText(CHANGE)  # read again by the wallet
            qtbot.waitUntil(lambda: model.rowCount() > 0 and row_of(fresh) == -1, timeout=10_000)
            assert all(cell(r, 4).split("/")[-2] == "1" for r in range(model.rowCount()))
            page.which.setCurrentText(RECEIVING)
            qtbot.waitUntil(lambda: row_of(first) >= 0, timeout=10_000)
            page._row_chosen(model.index(row_of(first), 0))
            assert page.address_label.text() == first

            # copying says so; a request's label becomes the address's label
            qtbot.mouseClick(page.findChild(QPushButton, "copy_address"), Qt.MouseButton.LeftButton)
            assert page.copied.text() == "✓ Address copied"
            page.label.setFocus()
            qtbot.keyClicks(page.label, "rent")
            qtbot.waitUntil(lambda: cell(row_of(first), 1) == "rent", timeout=10_000)
        finally:
            core.stop()
    reopened = Wallet.open(tmp_path, "main", REGTEST)
    assert reopened.labels.get(fresh) == "from Alice" and reopened.labels.get(first) == "rent"
    assert reopened.receive_address(new=True) != fresh  # handed out: never given again
    reopened.close()
