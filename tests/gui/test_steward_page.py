"""The Steward page: empty cache, refresh from a loopback GitHub, search and filter, proposal
text; cached data stays when a refresh fails."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.steward_page import StewardPage  # noqa: E402
from app.steward.service import StewardService  # noqa: E402
from app.steward.store import SETTING_GITHUB_API  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from tests.steward.fake_servers import FakeServers  # noqa: E402


def test_steward_page_refresh_search_and_read(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeServers() as servers:
        with StewardService(tmp_path, MAINNET) as svc:
            svc.set_setting(SETTING_GITHUB_API, servers.base_url)
        page = StewardPage(MAINNET, tmp_path, GuiCalls())
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: "never refreshed" in page.cache_label.text(), timeout=10_000)
        assert page.table.rowCount() == 0
        page.refresh()
        qtbot.waitUntil(lambda: page.table.rowCount() == 10, timeout=30_000)
        assert "last refreshed" in page.cache_label.text()
        page.search.setText("tokenstrike")
        qtbot.waitUntil(lambda: 0 < page.table.rowCount() < 10, timeout=10_000)
        titles = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
        assert "TokenStrike" in titles
        page.table.setCurrentCell(titles.index("TokenStrike"), 1)
        assert page.text.toPlainText().startswith("TokenStrike")
        page.search.clear()
        page.status_filter.setCurrentText("complete")
        qtbot.waitUntil(
            lambda: (
                0 < page.table.rowCount() < 10
                and all(
                    page.table.item(r, 2).text() == "complete" for r in range(page.table.rowCount())
                )
            ),
            timeout=10_000,
        )
    with StewardService(tmp_path, MAINNET) as svc:
        svc.set_setting(SETTING_GITHUB_API, "http://127.0.0.1:9")
    page.refresh()  # the server is gone: a clear message, the cache still shows
    qtbot.waitUntil(lambda: page.cache_label.text().startswith("Not refreshed"), timeout=30_000)
    assert page.table.rowCount() > 0
