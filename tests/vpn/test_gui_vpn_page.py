"""The VPN page drives the real VPN service against the loopback cjdns admin server and
directory: list and search exits, connect, see the state, disconnect, diagnose."""

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.vpn_page import VpnPage  # noqa: E402
from app.vpn.state import VpnState  # noqa: E402


def test_vpn_page_connect_disconnect_and_diagnose(qtbot, make_service: Any) -> None:  # type: ignore[no-untyped-def]
    page = VpnPage(lambda on_change: make_service(dry_run=True, on_change=on_change), GuiCalls())
    qtbot.addWidget(page)
    page.show()  # the exit list is fetched when the page is first shown
    qtbot.waitUntil(lambda: page.table.rowCount() > 0, timeout=10_000)
    page.search.setText("pal")
    assert page.table.rowCount() == 1 and page.table.item(0, 1).text() == "PKT Pal Montreal"
    qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
    assert page.state_label.text() == "Choose an exit first"
    page.table.setCurrentCell(0, 1)
    qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.state_label.text().startswith("Connected to PKT Pal Montreal"), timeout=15_000
    )
    assert "10.66.0.2" in page.state_label.text() and page.switch.text() == "Disconnect"
    qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.state_label.text() == "Off", timeout=15_000)
    assert page.service is not None and page.service.status.state == VpnState.OFF
    page.diagnose()
    qtbot.waitUntil(lambda: page.diagnostics.count() > 1, timeout=15_000)
    assert any("✓" in page.diagnostics.item(i).text() for i in range(page.diagnostics.count()))


def test_vpn_page_says_why_when_the_service_cannot_start(qtbot) -> None:  # type: ignore[no-untyped-def]
    def broken(on_change: Any) -> Any:
        raise RuntimeError("cjdroute.conf not found")

    page = VpnPage(broken, GuiCalls())
    qtbot.addWidget(page)
    assert "cjdroute.conf not found" in page.state_label.text()
    assert not page.switch.isEnabled()
