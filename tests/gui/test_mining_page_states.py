"""The Mining page says what is going on (issue 15): no pool answering is said on the page with
its reason; no goodrate before anything was sent; the pool table does not keep the mining
states after Stop; regtest starts with no pool (the known pools are mainnet's); the wallet's
steady mining address is the payout, also when the field is cleared, and can be changed to
another address of the wallet; a chart with axes whose title is not over the line."""

import socket
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor, QImage  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.mining_page import NEW_MINING_ADDRESS, RateChart  # noqa: E402
from app.mining.service import MiningService  # noqa: E402
from app.mining.settings import DEFAULT_POOLS, load_settings  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from miner import kernel  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.mining.conftest import fast_options  # noqa: E402

FAST_KDF = {"n": 1024, "r": 8, "p": 1}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _window(qtbot: Any, tmp_path: Path, mining: MiningService) -> tuple[MainWindow, AppCore]:
    bridge = CoreBridge()
    core = AppCore(REGTEST, tmp_path, peers=[], use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    window = MainWindow(core, bridge, GuiCalls(), mining)
    qtbot.addWidget(window)
    window.show()
    return window, core


def test_regtest_starts_with_no_pool(tmp_path: Path) -> None:
    assert load_settings(tmp_path, "regtest").pools == []
    assert load_settings(tmp_path, "mainnet").pools == list(DEFAULT_POOLS)


@pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")
def test_no_pool_answering_is_said_on_the_page_and_the_table_follows_stop(
    qtbot: Any, tmp_path: Path
) -> None:
    wallet, _ = Wallet.create(tmp_path, "main", REGTEST, "password1", kdf_params=FAST_KDF)
    mining_address = wallet.mining_address()
    other = wallet.receive_address(new=True)
    wallet.close()
    mining = MiningService(REGTEST, options=fast_options())
    window, core = _window(qtbot, tmp_path, mining)
    try:
        page = window.mining_page
        qtbot.waitUntil(lambda: page.payout.text() == mining_address, timeout=20_000)
        window.go_to(page)
        assert page.pools.count() == 0 and page.why_not.text() == "add at least one pool"
        assert mining_address in page.payout.placeholderText()
        page.new_pool.setText(f"http://127.0.0.1:{_closed_port()}")
        page._add_pool()
        page.payout.clear()  # falls back to the wallet's mining address
        assert page.start_button.isEnabled() and page.why_not.text() == ""
        assert page.payout_address() == mining_address
        page.threads.setValue(1)
        page.start_button.click()
        assert "1 thread " in page.summary.text() or "1 thread ·" in page.summary.text()

        def said() -> bool:
            page.refresh()
            return page.pool_problem.isVisible()

        qtbot.waitUntil(said, timeout=20_000)
        assert page.pool_problem.text().startswith("Not mining: no pool answers")
        assert page.pool_table.item(0, 1).text().startswith("not answering")
        assert page.pool_table.item(0, 4).text() == "—"  # nothing sent: no goodrate
        assert "waiting for work from a pool" in page.summary.text()
        page.start_button.click()
        qtbot.waitUntil(lambda: page.start_button.text() == "Start mining", timeout=10_000)
        page.refresh()
        assert page.pool_table.item(0, 1).text() == "stopped"
        assert not page.pool_problem.isVisible()

        # another address of the wallet becomes its mining address
        page.choose_payout()
        qtbot.waitUntil(lambda: page.payout_dialog is not None, timeout=10_000)
        dialog = page.payout_dialog
        assert dialog is not None
        items = dialog.comboBoxItems()
        assert items[0] == NEW_MINING_ADDRESS and any(i.startswith(other) for i in items)
        dialog.setTextValue(next(i for i in items if i.startswith(other)))
        dialog.accept()
        qtbot.waitUntil(lambda: page.payout.text() == other, timeout=10_000)
        assert core.wallet_view().result(10).mining_address == other
    finally:
        mining.stop()
        window.close()
        core.stop()


def test_the_chart_has_axes_and_its_title_is_above_the_line(qtbot: Any) -> None:
    chart = RateChart()
    qtbot.addWidget(chart)
    chart.resize(400, 140)
    now = time.time()
    chart.set_values([(now - 600 + 10 * i, 5.0 + (i % 7)) for i in range(61)])
    image = chart.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    line = QColor("#2f5bea").rgb()

    def line_rows() -> set[int]:
        return {
            y
            for y in range(image.height())
            for x in range(image.width())
            if image.pixel(x, y) == line
        }

    rows = line_rows()
    assert rows, "no line drawn"
    assert min(rows) >= RateChart.MARGIN_TOP, "the line runs through the title"
    left_text = {
        image.pixel(x, y)
        for y in range(image.height())
        for x in range(0, RateChart.MARGIN_LEFT + 20)
    }
    assert len(left_text) > 2, "no rate axis labels"
