"""Buying VPN premium from the VPN page with the open wallet, against the real core and wallet
(a loopback test peer), the loopback cjdns admin server and the loopback directory: the exit
receives a signed, unbroadcast transaction paying its address the offered amount; a refusal by
the directory or a wrong password is shown as a message and leaves the wallet unchanged."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QLabel  # noqa: E402

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
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.tx import Transaction  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.script_verify import verify_transaction  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402
from tests.vpn.cjdns_server import FakeCjdns  # noqa: E402
from tests.vpn.conftest import ADMIN_PASSWORD, vpn_vector  # noqa: E402
from tests.vpn.directory_server import FakeDirectory  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
COIN = REGTEST.units_per_coin
PREMIUM_PATH = re.compile(r"/api/0\.4/vpn/server/[^/]+/premium/")


class RefusingDirectory(FakeDirectory):
    """The loopback directory, able to refuse premium payments like a real exit would."""

    refusal: str | None = None

    def handle_post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if self.refusal is not None and PREMIUM_PATH.fullmatch(path):
            return 402, {"status": "error", "message": self.refusal}
        return super().handle_post(path, headers, body)


@pytest.fixture
def cjdns_server() -> Iterator[FakeCjdns]:
    server = FakeCjdns(password=ADMIN_PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def directory_server(cjdns_server: FakeCjdns) -> Iterator[RefusingDirectory]:
    peers = vpn_vector("pkt-server_cjdnspeers.json")
    server = RefusingDirectory(cjdns_server, peers=peers).start()
    assert isinstance(server, RefusingDirectory)
    yield server
    server.stop()


def _vpn_factory(datadir: Path, cjdns: FakeCjdns, directory: FakeDirectory) -> Any:
    """A VPN service on the loopback servers that never touches routes or DNS."""

    def make(on_change: Any) -> VpnService:
        admin = AdminClient("127.0.0.1", cjdns.port, ADMIN_PASSWORD, timeout=0.3, retries=2)
        settings = VpnSettings(directory_url=directory.url)
        return VpnService(
            datadir=datadir,
            settings=settings,
            admin=admin,
            directory=Directory(settings.directory_url, vpn_dir(datadir), timeout=(1.0, 2.0)),
            system=NoSystemChanges(),
            credentials=AdminCredentials("127.0.0.1", cjdns.port, ADMIN_PASSWORD, "test"),
            on_change=on_change,
            params=REGTEST,
            poll_interval=0.02,
            poll_attempts=5,
            peer_timeout=1.0,
            detect=lambda: detect_cjdroute(search_path="", locations=()),
        )

    return make


def _new_wallet_address(datadir: Path, name: str) -> str:
    wallet, _ = Wallet.create(datadir, name, REGTEST, PASSWORD, kdf_params=FAST_KDF)
    address = wallet.receive_address()
    wallet.close()
    return address


def _dialog_text(page: VpnPage) -> str:
    assert page.premium_dialog is not None
    return " ".join(label.text() for label in page.premium_dialog.findChildren(QLabel))


def _pay(qtbot, page: VpnPage, password: str) -> None:  # type: ignore[no-untyped-def]
    """Press "Buy premium…", wait for the offer, type the password, press "Pay and activate"."""
    old = page.premium_dialog
    qtbot.mouseClick(page.premium_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            (page.premium_dialog is not old and page.premium_dialog is not None)
            or page.premium_status.text().startswith("Premium not bought")
        ),
        timeout=15_000,
    )
    assert page.premium_dialog is not old, page.premium_status.text()
    dialog = page.premium_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.pay_button.isEnabled()
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)


def test_vpn_premium_bought_with_the_open_wallet(
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    cjdns_server: FakeCjdns,
    directory_server: RefusingDirectory,
) -> None:
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(_new_wallet_address(tmp_path, "main"), REGTEST))
    chain.mine_many(100)
    funding = chain.blocks[1].block.transactions[0]
    payee = _new_wallet_address(tmp_path / "exit", "exit")
    directory_server.premium_address = payee
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(
                core,
                bridge,
                GuiCalls(),
                vpn_factory=_vpn_factory(tmp_path / "vpn", cjdns_server, directory_server),
            )
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: window.overview_page.confirmed.text() == "50 rBTC", timeout=30_000
            )
            page = window.vpn_page
            window.pages.setCurrentWidget(page)  # the exit list is fetched when first shown
            qtbot.waitUntil(lambda: page.table.rowCount() > 0, timeout=10_000)
            names = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
            page.table.setCurrentCell(names.index("PKT Pal Montreal"), 1)
            assert not page.premium_button.isEnabled()  # a free exit
            assert "sells premium" in page.premium_button.toolTip()
            page.table.setCurrentCell(names.index("Routie France 1"), 1)
            assert page.table.item(page.table.currentRow(), 4).text() == "premium"
            # not connected to the exit yet: the button is off and says why, up front
            assert not page.premium_button.isEnabled()
            assert "connect to Routie France 1 first" in page.premium_status.text()
            assert page.premium_dialog is None

            qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda: page.state_label.text().startswith("Connected to Routie France 1"),
                timeout=15_000,
            )
            assert page.premium_button.isEnabled() and page.premium_status.text() == ""

            # the directory refuses the payment: a message, the wallet is unchanged
            directory_server.refusal = "the payment does not cover the price"
            _pay(qtbot, page, PASSWORD)
            text = _dialog_text(page)
            assert "10 rBTC" in text and payee in text and "50 rBTC" in text
            assert "1 hour" in text
            qtbot.waitUntil(
                lambda: page.premium_status.text().startswith("Premium not bought"),
                timeout=15_000,
            )
            assert "does not cover the price" in page.premium_status.text()
            view = core.wallet_view().result(10)
            assert view is not None and view.balance.spendable == 50 * COIN
            assert len(view.history) == 1 and directory_server.premium_posts == []

            # a wrong password: nothing is signed or sent
            directory_server.refusal = None
            _pay(qtbot, page, "wrong password")
            qtbot.waitUntil(
                lambda: page.premium_status.text().startswith("Premium not bought"),
                timeout=15_000,
            )
            assert "password" in page.premium_status.text()
            assert directory_server.premium_posts == []

            _pay(qtbot, page, PASSWORD)
            qtbot.waitUntil(
                lambda: page.premium_status.text().startswith("Premium until"), timeout=20_000
            )
            (post,) = directory_server.premium_posts
            assert post["ip"] == "10.66.0.2" and post["address"] == payee
            tx = Transaction.parse(bytes.fromhex(post["transaction"]))
            assert tx.txid_hex in page.premium_status.text()
            verify_transaction(
                tx, lambda op: (funding.outputs[op.index].script, funding.outputs[op.index].value)
            )
            assert {i.prevout.txid for i in tx.inputs} == {funding.txid}
            paid = [o.value for o in tx.outputs if o.script == script_for_address(payee, REGTEST)]
            assert paid == [10 * COIN]
            assert peer.received_txs == []  # the exit broadcasts it, not the wallet
            # the wallet recorded it as pending: its coin is spent, the change unconfirmed
            view = core.wallet_view().result(10)
            assert view is not None and view.balance.spendable == 0
            assert view.balance.unconfirmed > 39 * COIN
            assert page.service is not None and page.service.status.premium_until is not None
        finally:
            core.stop()
            qtbot.wait(200)  # deliver what the core answered before it stopped
