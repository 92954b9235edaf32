"""The VPN page says what matters before a click (issue 15): cjdroute missing is said up front
(and Connect is off); Buy premium is off with its reason until connected to that exit (see
tests/gui/test_vpn_premium_gui.py); the diagnostics of a tunnel go with it; a VPN directory
or cjdns setting saved on the Settings page reaches the VPN page at once. Against the
loopback cjdns admin server and directory."""

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.vpn_page import VpnPage  # noqa: E402
from app.vpn.admin import AdminClient  # noqa: E402
from app.vpn.cjdroute import AdminCredentials, detect_cjdroute  # noqa: E402
from app.vpn.directory import Directory  # noqa: E402
from app.vpn.service import VpnService  # noqa: E402
from app.vpn.settings import VpnSettings, vpn_dir  # noqa: E402
from app.vpn.system import NoSystemChanges  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.vpn.cjdns_server import FakeCjdns  # noqa: E402
from tests.vpn.conftest import ADMIN_PASSWORD, vpn_vector  # noqa: E402
from tests.vpn.directory_server import FakeDirectory  # noqa: E402


@pytest.fixture
def cjdns_server() -> Iterator[FakeCjdns]:
    server = FakeCjdns(password=ADMIN_PASSWORD).start()
    yield server
    server.stop()


def _directory(cjdns: FakeCjdns) -> FakeDirectory:
    return FakeDirectory(cjdns, peers=vpn_vector("pkt-server_cjdnspeers.json")).start()


def _factory(datadir: Path, admin_port: int) -> Any:
    """Like the app's own: the VPN settings are read from the data folder each time."""

    def make(on_change: Any) -> VpnService:
        settings = VpnSettings.load(datadir)
        admin = AdminClient("127.0.0.1", admin_port, ADMIN_PASSWORD, timeout=0.3, retries=2)
        return VpnService(
            datadir=datadir,
            settings=settings,
            admin=admin,
            directory=Directory(settings.directory_url, vpn_dir(datadir), timeout=(1.0, 2.0)),
            system=NoSystemChanges(),
            credentials=AdminCredentials("127.0.0.1", admin_port, ADMIN_PASSWORD, "test"),
            on_change=on_change,
            params=REGTEST,
            poll_interval=0.02,
            poll_attempts=5,
            peer_timeout=1.0,
            detect=lambda: detect_cjdroute(search_path="", locations=()),  # not installed
        )

    return make


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cjdroute_missing_is_said_before_any_click(qtbot: Any, tmp_path: Path) -> None:
    page = VpnPage(_factory(tmp_path, _closed_port()), GuiCalls())
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.ready_note.isVisible(), timeout=15_000)
    assert page.ready_note.text().startswith("cjdroute (the cjdns router) is not installed")
    assert "not reachable" in page.ready_note.toolTip()  # the whole story on demand
    assert not page.switch.isEnabled()
    assert page.state_label.text() == "Off"
    assert page.premium_status.text() == "Premium: open a wallet to pay for premium."


def test_diagnostics_go_with_the_tunnel(
    qtbot: Any, tmp_path: Path, cjdns_server: FakeCjdns
) -> None:
    directory = _directory(cjdns_server)
    try:
        VpnSettings(directory_url=directory.url).save(tmp_path)
        page = VpnPage(_factory(tmp_path, cjdns_server.port), GuiCalls())
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.table.rowCount() > 0, timeout=10_000)
        assert not page.ready_note.isVisible() and page.switch.isEnabled()  # cjdns answers
        page.table.setCurrentCell(0, 1)
        qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.state_label.text().startswith("Connected"), timeout=15_000)
        page.diagnose()
        qtbot.waitUntil(
            lambda: (
                page.diagnostics.count() > 1
                or not page.diagnostics.item(0).text().startswith("testing")
            ),
            timeout=15_000,
        )
        qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)  # Disconnect
        qtbot.waitUntil(lambda: page.state_label.text() == "Off", timeout=15_000)
        assert page.diagnostics.count() == 0
    finally:
        directory.stop()


def test_a_saved_vpn_directory_reaches_the_vpn_page_at_once(
    qtbot: Any, tmp_path: Path, cjdns_server: FakeCjdns
) -> None:
    first, second = _directory(cjdns_server), _directory(cjdns_server)
    VpnSettings(directory_url=first.url).save(tmp_path)
    bridge = CoreBridge()
    core = AppCore(REGTEST, tmp_path, peers=[], use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    try:
        window = MainWindow(
            core, bridge, GuiCalls(), vpn_factory=_factory(tmp_path, cjdns_server.port)
        )
        qtbot.addWidget(window)
        window.show()
        vpn, settings = window.vpn_page, window.settings_page
        window.pages.addWidget(vpn)  # no wallet: the VPN page is shown here directly
        window.pages.setCurrentWidget(vpn)
        qtbot.waitUntil(lambda: vpn.table.rowCount() > 0, timeout=10_000)
        assert any(path.startswith("/api") for _, path in first.requests)
        qtbot.waitUntil(lambda: settings.stored is not None, timeout=10_000)
        settings.vpn_edit.setText(second.url)
        settings.cjdns_edits["admin_bind"].setText(f"127.0.0.1:{cjdns_server.port}")
        assert settings.save_button.isEnabled()
        settings.save()
        qtbot.waitUntil(
            lambda: (
                vpn.service is not None and vpn.service.directory.base_url == second.url.rstrip("/")
            ),
            timeout=10_000,
        )
        qtbot.waitUntil(
            lambda: any(p.startswith("/api") for _, p in second.requests), timeout=10_000
        )
        saved = VpnSettings.load(tmp_path)
        assert saved.directory_url == second.url
        assert saved.admin_bind == f"127.0.0.1:{cjdns_server.port}"
        settings.cjdns_edits["admin_bind"].setText("not an address")
        assert not settings.save_button.isEnabled() and not settings.cjdns_error.isHidden()
    finally:
        core.stop()
        first.stop()
        second.stop()
