"""Save a picture of every screen of the desktop window to docs/screenshots/ (`make screenshots`).

The app runs in real windows: on a virtual X display (Xvfb) with Qt's xcb platform and a window
manager (openbox, when installed) so the pictures have title bars; each picture is what the X
server shows where the window is. It runs against the real core, wallet and services, fed by
the loopback servers the tests use (a regtest peer, a PacketCrypt pool, the VPN directory and
cjdns admin endpoint, a GitHub-like Steward server). Nothing leaves 127.0.0.1. Amounts are
regtest coins ("rBTC").
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ON_DISPLAY = "PKT_SCREENSHOTS_ON_DISPLAY"
"""Set in the child process that runs on the virtual display."""

from PySide6.QtWidgets import QApplication, QScrollArea, QWidget  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.mining.service import MiningService  # noqa: E402
from app.steward.service import StewardService  # noqa: E402
from app.steward.store import SETTING_GITHUB_API  # noqa: E402
from app.vpn.admin import AdminClient  # noqa: E402
from app.vpn.cjdroute import AdminCredentials, detect_cjdroute  # noqa: E402
from app.vpn.directory import Directory  # noqa: E402
from app.vpn.service import VpnService  # noqa: E402
from app.vpn.settings import VpnSettings, vpn_dir  # noqa: E402
from app.vpn.system import NoSystemChanges  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.tx import OutPoint, Transaction, TxIn, TxOut  # noqa: E402
from tests.mining.conftest import fast_options  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402
from tests.steward.fake_servers import FakeServers  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402
from tests.vpn.cjdns_server import FakeCjdns  # noqa: E402
from tests.vpn.conftest import vpn_vector  # noqa: E402
from tests.vpn.directory_server import FakeDirectory  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
ADMIN_PASSWORD = "screenshots-admin"
SIZE = (1100, 720)


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str) -> None:
    """What the display shows where `widget`'s window is, title bar included."""
    window = widget.window()
    window.raise_()
    window.activateWindow()
    wait_until(
        f"{name} on the display",
        lambda: window.windowHandle() is not None and window.windowHandle().isExposed(),
    )
    pump(0.5)  # the window manager's frame and the last paints
    frame = window.frameGeometry()
    screen = window.screen()
    picture = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    path = OUT / f"{name}.png"
    if picture.isNull() or not picture.save(str(path)):
        raise SystemExit(f"screenshots: could not write {path}")
    print(f"  {path.relative_to(ROOT)}")


def show_page(window: MainWindow, title: str) -> QWidget:
    for row in range(window.nav.count()):
        item = window.nav.item(row)
        if item is not None and item.text() == title:
            window.nav.setCurrentRow(row)
            page = window.pages.currentWidget()
            assert page is not None
            return page
    raise SystemExit(f"screenshots: no page {title!r} in the window")


def first_run(workdir: Path) -> None:
    """The screens a person sees on a computer without a wallet."""
    bridge = CoreBridge()
    core = AppCore(REGTEST, workdir, use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls())
        window.resize(*SIZE)
        window.show()
        save(window, "first-run")
        setup = window.setup_page
        setup.stack.setCurrentWidget(setup.create_page)
        save(window, "create-wallet")
        setup.show_restore()
        setup.restore_words.setPlainText("abandon " * 11 + "about")
        setup.restore_birthday_known.setChecked(True)
        save(window, "restore-wallet")
        setup.show_create()
        setup.create_password.setText(PASSWORD)
        setup.create_repeat.setText(PASSWORD)
        setup.create_button.click()
        wait_until("the seed words", lambda: setup.stack.currentWidget() is setup.seed_page, 60)
        save(window, "seed-words")
        words = [w for w in setup.seed_words.text().split() if not w.endswith(".")]
        setup.seed_done_button.click()
        first = setup.confirm_edits[0]
        first.setText(words[setup._challenge[0] - 1])
        save(window, "check-words")
        window.close()
        window.deleteLater()
    finally:
        core.stop()
    pump(0.2)


def funded_chain(wallet_address: str, second_address: str) -> RegtestChain:
    """Block 1 pays the wallet a mining reward; later a payment arrives at a second address."""
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(wallet_address, REGTEST))
    chain.mine_many(105)
    spendable = chain.blocks[2].block.transactions[0]  # an anyone-can-spend coinbase
    value = spendable.outputs[0].value
    payment = Transaction(
        1,
        (TxIn(OutPoint(spendable.txid, 0), b"", 0xFFFFFFFF),),
        (TxOut(value // 4, script_for_address(second_address, REGTEST)),),
        0,
    )
    chain.mine([payment])
    chain.mine_many(6)
    return chain


def vpn_factory(workdir: Path, cjdns: FakeCjdns, directory: FakeDirectory) -> Any:
    def make(on_change: Any) -> VpnService:
        admin = AdminClient("127.0.0.1", cjdns.port, ADMIN_PASSWORD, timeout=0.3, retries=2)
        settings = VpnSettings(directory_url=directory.url)
        return VpnService(
            datadir=workdir,
            settings=settings,
            admin=admin,
            directory=Directory(settings.directory_url, vpn_dir(workdir), timeout=(1.0, 2.0)),
            system=NoSystemChanges(),
            credentials=AdminCredentials("127.0.0.1", cjdns.port, ADMIN_PASSWORD, "shots"),
            detect=lambda: detect_cjdroute(search_path="", locations=()),
            poll_interval=0.02,
            poll_attempts=5,
            peer_timeout=1.0,
            on_change=on_change,
        )

    return make


def wallet_screens(workdir: Path) -> None:
    wallet, _ = Wallet.create(workdir, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    first = wallet.receive_address()
    second = wallet.receive_address(new=True)
    wallet.set_label(second, "from Alice")
    wallet.save()
    wallet.close()
    elsewhere = workdir / "elsewhere"
    other, _ = Wallet.create(elsewhere, "other", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    destination = other.receive_address()
    other.close()
    savings, _ = Wallet.create(workdir, "savings", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    savings.close()
    chain = funded_chain(first, second)

    cjdns = FakeCjdns(password=ADMIN_PASSWORD).start()
    directory = FakeDirectory(cjdns, peers=vpn_vector("pkt-server_cjdnspeers.json")).start()
    with TestPeer(chain) as peer, TestPool() as pool, FakeServers() as github:
        with StewardService(workdir, REGTEST) as steward:
            steward.set_setting(SETTING_GITHUB_API, github.base_url)
        bridge = CoreBridge()
        core = AppCore(
            REGTEST,
            workdir,
            peers=[("127.0.0.1", peer.port)],
            use_dns_seeds=False,
            on_event=bridge.deliver,
        )
        core.start()
        mining = MiningService(REGTEST, options=fast_options())
        try:
            window = MainWindow(
                core,
                bridge,
                GuiCalls(),
                mining,
                vpn_factory=vpn_factory(workdir, cjdns, directory),
            )
            window.resize(*SIZE)
            window.show()
            overview = window.overview_page
            wait_until("the wallet to sync", lambda: overview.table.rowCount() == 2, 60)

            send = window.send_page
            show_page(window, "Send")
            send.address.setText(f"pkt:{destination}?amount=3.5&label=Bob")
            save(window, "send")
            send.preview_button.click()
            wait_until(
                "the send preview", lambda: send.dialog is not None and send.dialog.isVisible()
            )
            assert send.dialog is not None
            save(send.dialog, "send-preview")
            send.dialog.password.setText(PASSWORD)
            send.dialog.accept()
            wait_until("the broadcast", lambda: send.status.text().startswith("Sent."), 30)
            wait_until("the history", lambda: overview.table.rowCount() == 3)

            show_page(window, "Overview")
            save(window, "overview")
            receive = show_page(window, "Receive")
            window.receive_page.amount.setText("12")
            window.receive_page.message.setText("Invoice 42")
            save(window, "receive")
            assert receive is window.receive_page
            history = window.history_page
            show_page(window, "History")
            wait_until("the history page", lambda: history.model.rowCount() == 3)
            save(window, "history")
            history._open_details(history.model.index(0, 0))  # newest first: the payment sent
            if history.dialog is not None:
                details = history.dialog
                wait_until("the details", lambda: details.outputs.rowCount() > 0)
                save(history.dialog, "history-details")
                history.dialog.reject()

            page = window.mining_page
            show_page(window, "Mining")
            page.pools.clear()
            page.new_pool.setText(pool.url)
            page._add_pool()
            page.threads.setValue(2)
            page.start_button.click()
            wait_until("accepted announcements", lambda: pool.accepted > 20, 60)
            pump(3.0)
            page.refresh()
            save(window, "mining")
            page.start_button.click()
            wait_until("mining to stop", lambda: page.start_button.text() != "Stop mining", 30)

            vpn = window.vpn_page
            show_page(window, "VPN")
            wait_until("the exit list", lambda: vpn.table.rowCount() > 0)
            vpn.table.setCurrentCell(0, 1)
            vpn.switch.click()
            wait_until("the VPN", lambda: vpn.state_label.text().startswith("Connected"), 30)
            save(window, "vpn")
            vpn.switch.click()
            wait_until("the VPN to stop", lambda: vpn.state_label.text() == "Off", 30)

            stewardpage = window.steward_page
            show_page(window, "Steward")
            stewardpage.refresh()
            wait_until("proposals", lambda: stewardpage.table.rowCount() > 0, 60)
            stewardpage.table.setCurrentCell(0, 1)
            save(window, "steward")

            window.show_unlock_dialog()
            unlock = window.unlock_dialog
            if unlock is not None:
                save(unlock, "unlock")
                unlock.reject()

            for title in ("Settings", "Network"):
                try:
                    show_page(window, title)
                except SystemExit:
                    continue
                save(window, title.lower())
            settings = window.settings_page
            show_page(window, "Settings")
            scroll = settings.findChild(QScrollArea)
            if scroll is not None:
                scroll.ensureWidgetVisible(settings.cjdns_error, 0, 200)
                save(window, "settings-vpn")
            window.show_about()
            if window.about_box is not None:
                save(window.about_box, "about")
                window.about_box.close()
            window.close()
        finally:
            mining.stop()
            core.stop()
            directory.stop()
            cjdns.stop()


def main() -> int:
    if os.environ.get(ON_DISPLAY) != "1":
        return run_on_virtual_display()
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    try:
        from app.gui.theme import apply_theme
    except ImportError:
        pass
    else:
        apply_theme(app)  # type: ignore[arg-type]
    print(f"writing {OUT.relative_to(ROOT)}/")
    with tempfile.TemporaryDirectory(prefix="pkt-shots-") as tmp:
        first_run(Path(tmp) / "fresh")
        wallet_screens(Path(tmp) / "wallet")
    return 0


def run_on_virtual_display() -> int:
    """Start Xvfb (and openbox), then this script again on it with Qt's xcb platform."""
    from tests.support.xvfb import xvfb

    with xvfb((1400, 900), window_manager=True) as env:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve())], env={**env, ON_DISPLAY: "1"}
        )
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
