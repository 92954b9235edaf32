"""The Settings page: the unit re-renders the open wallet, wrong fields block saving, saving
writes the app's and the services' settings, and the proxy carries the Steward's requests."""

import http.client
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import keyring
import pytest
from keyring.backends import fail

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.money import current_unit, parse_coins, set_unit  # noqa: E402
from app.gui.settings_page import SettingsPage  # noqa: E402
from app.gui.steward_page import StewardPage  # noqa: E402
from app.settings import apply_http_proxy, load_settings, settings_path  # noqa: E402
from app.steward.service import StewardService  # noqa: E402
from app.vpn.settings import VpnSettings  # noqa: E402
from app.wallet import unlock_cache  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import MAINNET, REGTEST  # noqa: E402
from tests.steward.fake_servers import FakeServers  # noqa: E402
from tests.support.file_keyring import FileKeyring  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402


@pytest.fixture(autouse=True)
def _process_wide_settings_restored() -> Iterator[None]:
    """The unit, the proxy and the keyring belong to the process: no real keyring here, and
    everything put back for the other tests."""
    backend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(backend)
    set_unit("PKT")
    apply_http_proxy("")


def _loaded_page(qtbot, datadir: Path, params: Any = REGTEST) -> SettingsPage:  # type: ignore[no-untyped-def]
    page = SettingsPage(params, datadir, GuiCalls())
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.stored is not None, timeout=10_000)
    return page


def test_units_change_rerenders_the_open_wallet(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, "correct horse battery", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.receive_address()
    wallet.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(address, REGTEST))
    chain.mine_many(100)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            overview = window.overview_page
            qtbot.waitUntil(lambda: overview.confirmed.text() == "50 rBTC", timeout=30_000)
            titles = [window.nav.item(i).text() for i in range(window.nav.count())]
            assert titles[-2:] == ["Network", "Settings"]
            window.go_to(window.settings_page)
            page = window.settings_page
            qtbot.waitUntil(lambda: page.stored is not None, timeout=10_000)
            assert not page.save_button.isEnabled()  # nothing changed yet
            page.units_combo.setCurrentText("mPKT")
            assert overview.confirmed.text() == "50 rBTC"  # only once saved
            qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: overview.confirmed.text() == "50000 mrBTC", timeout=10_000)
            assert overview.table.item(0, 1).text() == "+50000 mrBTC"
            assert page.status_label.text() == "Saved and in use."
            assert load_settings(tmp_path).units == "mPKT"
            assert current_unit() == "mPKT"
            assert parse_coins("1.5", REGTEST) == 150_000  # typed amounts are mPKT too
            send = window.send_page  # the Send page types and reads amounts in mPKT
            assert send.amount.placeholderText() == "in mrBTC"
            send.address.setText(f"pkt:{address}?amount=1.25")  # URIs are always in coins
            assert send.amount.text() == "1250"
            assert send.recipients[0].payment() == (address, 125_000_000)
            receive = window.receive_page  # requests are typed in mPKT, sent in coins
            assert receive.amount.placeholderText() == "optional, in mrBTC"
            receive.amount.setText("1500")
            assert "amount=1.5" in receive.uri.text()
        finally:
            set_unit("PKT")  # while the core still answers the window's re-render
            core.stop()


def test_wrong_fields_block_saving_then_everything_is_written(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _loaded_page(qtbot, tmp_path, MAINNET)
    assert page.steward_edit.text() == "https://api.github.com"  # the Steward's own default
    page.peers_edit.setPlainText("127.0.0.1:64764\n127.0.0.1:99999")
    assert page.peers_error.isVisibleTo(page)
    assert "127.0.0.1:99999: the port must be a number from 1 to 65535" in page.peers_error.text()
    assert not page.save_button.isEnabled()
    assert "fields marked in red" in page.status_label.text()
    page.save()  # refused while a field is wrong
    page.explorer_edit.setText("ftp://explorer.example.org")
    assert "must start with http:// or https://" in page.explorer_error.text()
    page.proxy_edit.setText("127.0.0.1")
    assert "port is missing" in page.proxy_error.text()
    qtbot.wait(200)
    assert not settings_path(tmp_path).exists()

    page.peers_edit.setPlainText("127.0.0.1:64764\n[::1]:64765\n")
    page.explorer_edit.setText("http://127.0.0.1:8080/api/")
    page.proxy_edit.setText("http://127.0.0.1:3128")
    page.vpn_edit.setText("http://127.0.0.1:8081")
    page.steward_edit.setText("http://127.0.0.1:8082")
    page.dns_check.setChecked(False)
    page.tray_check.setChecked(True)
    assert not page.peers_error.isVisibleTo(page) and not page.proxy_error.isVisibleTo(page)
    assert page.save_button.isEnabled()
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Saved"), timeout=10_000)
    assert "take effect at the next start" in page.status_label.text()
    saved = load_settings(tmp_path)
    assert saved.extra_peers == ["127.0.0.1:64764", "[::1]:64765"]
    assert not saved.use_dns_seeds and saved.keep_mining_in_tray
    assert saved.proxy == "http://127.0.0.1:3128"
    assert saved.peer_addresses(64764) == [("127.0.0.1", 64764), ("::1", 64765)]
    assert VpnSettings.load(tmp_path).directory_url == "http://127.0.0.1:8081"
    with StewardService(tmp_path, MAINNET) as steward:
        assert steward.github_api_url() == "http://127.0.0.1:8082"
        assert steward.explorer_api_url() == "http://127.0.0.1:8080/api"
    assert not page.save_button.isEnabled()

    page.tray_check.setChecked(False)  # Revert shows what is saved again
    page.peers_edit.setPlainText("nonsense:port")
    qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tray_check.isChecked(), timeout=10_000)
    assert page.peers_edit.toPlainText() == "127.0.0.1:64764\n[::1]:64765"
    assert not page.peers_error.isVisibleTo(page)


def test_damaged_settings_file_is_reported_on_the_page(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings_path(tmp_path).write_text('{"units": "PKT", "proxy": 5')
    page = _loaded_page(qtbot, tmp_path)
    assert page.problems_label.isVisibleTo(page)
    assert "settings.json.bad" in page.problems_label.text()
    assert page.units_combo.currentText() == "PKT"
    assert page.keyring_label.text().startswith("Cannot remember passwords on this computer")
    assert not page.forget_button.isEnabled()


def test_forget_remembered_passwords(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PKT_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring())
    for name in ("alpha", "beta"):
        Wallet.create(tmp_path, name, REGTEST, "x" * 8, kdf_params={"n": 1024, "r": 8, "p": 1})[
            0
        ].close()
    unlock_cache.remember("regtest", "alpha", "alpha's password")
    unlock_cache.remember("mainnet", "alpha", "another network's wallet")
    page = _loaded_page(qtbot, tmp_path)
    assert "Remember password on this computer" in page.keyring_label.text()
    qtbot.mouseClick(page.forget_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.status_label.text() == "Forgot 1 remembered password.", timeout=10_000
    )
    assert unlock_cache.recall("regtest", "alpha") is None
    assert unlock_cache.recall("mainnet", "alpha") == "another network's wallet"
    qtbot.mouseClick(page.forget_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.status_label.text() == "No wallet password was remembered.", timeout=10_000
    )


class _RelayProxy:
    """A loopback HTTP proxy: records each absolute URL asked for and fetches its path from
    `upstream` (so names that do not resolve, like steward.invalid, work only through it)."""

    def __init__(self, upstream: str) -> None:
        self.requested: list[str] = []
        up = urlsplit(upstream)
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                relay.requested.append(self.path)
                target = urlsplit(self.path)
                path = target.path + (f"?{target.query}" if target.query else "")
                connection = http.client.HTTPConnection(up.hostname or "", up.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                connection.close()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_proxy_carries_the_steward_requests(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        # steward.invalid is asked of no DNS server: without the proxy it fails right here
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    with FakeServers() as servers:
        relay = _RelayProxy(servers.base_url)
        try:
            page = _loaded_page(qtbot, tmp_path, MAINNET)
            page.steward_edit.setText("http://steward.invalid")
            page.proxy_edit.setText(relay.url)
            qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.status_label.text() == "Saved and in use.", timeout=10_000)
            steward = StewardPage(MAINNET, tmp_path, GuiCalls())
            qtbot.addWidget(steward)
            steward.refresh()
            qtbot.waitUntil(lambda: steward.table.rowCount() == 10, timeout=30_000)
            assert any(url.startswith("http://steward.invalid/repos/") for url in relay.requested)

            page.proxy_edit.setText("")  # no proxy: the name cannot be reached any more
            qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.status_label.text() == "Saved and in use.", timeout=10_000)
            asked = len(relay.requested)
            steward.refresh()
            qtbot.waitUntil(
                lambda: steward.cache_label.text().startswith("Not refreshed"), timeout=30_000
            )
            assert len(relay.requested) == asked
        finally:
            relay.close()
