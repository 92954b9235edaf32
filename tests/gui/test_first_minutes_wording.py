"""What a new user sees in the first minutes (issue 15): a balance that is not up to date says
so (mainnet with no peers is not "0 PKT" as if synced); empty states for no transactions and
no peers; "headers to -1" gone; plurals; Help ▸ About and Wallet ▸ Quit; a wallet name with
spaces gets a clear answer; a long error never widens the window."""

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from app.core import WalletView  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.network_page import NetworkPage, filter_text  # noqa: E402
from app.gui.wallet_setup import name_problem  # noqa: E402
from app.wallet.model import Balance, HistoryEntry  # noqa: E402
from spv.node import SyncProgress  # noqa: E402
from tests.gui.test_enter_submits import window_with_wallet  # noqa: E402

__all__ = ["window_with_wallet"]  # the fixture, used by name

LONG = "the directory did not answer: " + "connection refused by 127.0.0.1 " * 20


@pytest.fixture
def window(window_with_wallet: tuple[MainWindow, list[str]]) -> MainWindow:
    return window_with_wallet[0]


def _view(confirmations: int) -> WalletView:
    entry = HistoryEntry("ab" * 32, 10, 1_700_000_000, confirmations, 5, None, 5, "incoming", False)
    return WalletView(
        name="main",
        balance=Balance(5, 0, 0, 0, 0, 5),
        receive_address="",
        history=[entry],
        synced_height=10,
    )


def test_the_balance_says_when_it_is_not_up_to_date(qtbot: Any, window: MainWindow) -> None:
    overview = window.overview_page
    qtbot.waitUntil(lambda: overview.empty.isVisible(), timeout=10_000)  # no transactions yet
    assert overview.sync_note.isVisible()  # no peer: nothing was checked
    assert "Not up to date yet" in overview.sync_note.text()
    overview.show_sync_problem("no peer answered")
    assert "no peer answered" in overview.sync_note.text()
    overview.show_sync(SyncProgress("synced", 10, 10, 1, 10, 10))
    assert not overview.sync_note.isVisible()
    overview.show_wallet(_view(1))
    assert overview.table.item(0, 2).text() == "1 confirmation"
    assert not overview.empty.isVisible()


def test_network_page_empty_states(qtbot: Any) -> None:
    info = {"network": "mainnet", "height": 524288, "tip": "00", "peers": []}
    page = NetworkPage(lambda: {**info, "filter_header_height": -1, "filter_height": -1})
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.filter_heights.text() != "", timeout=10_000)
    assert page.no_peers.isVisible() and not page.peers.isVisible()
    assert "-1" not in page.filter_heights.text() and "none yet" in page.filter_heights.text()
    assert filter_text({"filter_header_height": 5, "filter_height": -1}).endswith("not scanned yet")


def test_help_about_and_quit(qtbot: Any, window: MainWindow) -> None:
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&Wallet", "&Help"]
    window.about_action.trigger()
    box = window.about_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "PKT Wallet" in box.text() and str(window.core.datadir) in box.informativeText()
    box.close()
    texts = [a.text() for a in window.wallet_menu.actions()]
    assert texts[-1] == "&Quit" and "main" in texts  # wallets listed above Quit
    window.wallet_menu.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)


def test_wallet_names_with_spaces_get_a_clear_answer(tmp_path: Path) -> None:
    assert name_problem(tmp_path, "my savings") == (
        "a wallet name cannot contain spaces (it names its files): try 'my-savings'"
    )
    assert name_problem(tmp_path, "").startswith("type a name for the wallet")
    assert name_problem(tmp_path, "my-savings") == ""


def test_long_errors_wrap_instead_of_widening_the_window(qtbot: Any, window: MainWindow) -> None:
    window.resize(980, 640)
    QApplication.processEvents()
    width = window.width()
    for page in (window.mining_page, window.vpn_page, window.send_page, window.settings_page):
        window.go_to(page)
        QApplication.processEvents()
    window.sync_indicator.show_problem(LONG)
    window.mining_page.why_not.setText(LONG)
    window.vpn_page.state_label.setText(LONG)
    window.vpn_page.list_note.setText(LONG)
    window.vpn_page.premium_status.setText(LONG)
    window.send_page.status.setText(LONG)
    window.send_page.address_state.setText(LONG)
    window.settings_page.status_label.setText(LONG)
    window.overview_page.show_sync_problem(LONG)
    for page in (
        window.overview_page,
        window.mining_page,
        window.vpn_page,
        window.send_page,
        window.settings_page,
    ):
        window.go_to(page)
        for _ in range(3):
            QApplication.processEvents()
        assert window.width() == width, f"{type(page).__name__} widened the window"
        assert window.minimumSizeHint().width() <= width
