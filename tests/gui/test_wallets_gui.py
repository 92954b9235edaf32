"""Several wallets: the unlock dialog at start, switching and closing through the Wallet menu,
new wallets with a name, and the busy indicator with Cancel while keys are derived. Driven
against the real core and wallets with a loopback test peer."""

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.unlock_dialog import UnlockDialog  # noqa: E402
from app.gui.wallet_setup import DERIVING, WalletSetup  # noqa: E402
from app.last_wallet import load_last_wallet, save_last_wallet  # noqa: E402
from app.wallet import pktseed, unlock_cache  # noqa: E402
from app.wallet.wallet import Wallet, list_wallets  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
NO_KEYRING = "no keyring backend on this system"
SEED_VECTORS = Path(__file__).resolve().parent.parent / "data" / "pkt" / "seedwords_hd_vectors.json"
BIP39_WORDS = "abandon " * 11 + "about"


@pytest.fixture
def fake_keyring(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The tests never touch the real keyring: by default there is none."""
    state: dict[str, Any] = {"reason": NO_KEYRING, "stored": {}}
    monkeypatch.setattr(unlock_cache, "availability", lambda: state["reason"])
    monkeypatch.setattr(unlock_cache, "recall", lambda net, name: state["stored"].get(name))

    def remember(net: str, name: str, password: str) -> None:
        state["stored"][name] = password

    monkeypatch.setattr(unlock_cache, "remember", remember)
    monkeypatch.setattr(unlock_cache, "forget", lambda net, name: bool(state["stored"].pop(name)))
    return state


def _new_wallet_address(datadir: Path, name: str) -> str:
    wallet, _ = Wallet.create(datadir, name, REGTEST, PASSWORD, kdf_params=FAST_KDF)
    address = wallet.receive_address()
    wallet.close()
    return address


def _two_wallets(datadir: Path) -> tuple[dict[str, str], dict[str, str], RegtestChain]:
    """Wallets alpha and beta, each paid one (mature) mining reward in its own block; returns
    their addresses, the txid paying each, and the chain."""
    addresses = {name: _new_wallet_address(datadir, name) for name in ("alpha", "beta")}
    chain = RegtestChain()
    txids = {}
    for name in ("alpha", "beta"):
        block = chain.mine(pay_to=script_for_address(addresses[name], REGTEST))
        txids[name] = block.block.transactions[0].txid_hex
    chain.mine_many(100)
    return addresses, txids, chain


def _core(datadir: Path, peer: TestPeer) -> tuple[AppCore, CoreBridge]:
    bridge = CoreBridge()
    core = AppCore(REGTEST, datadir, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
    core.start()
    return core, bridge


def _nav(window: MainWindow) -> list[str]:
    return [window.nav.item(i).text() for i in range(window.nav.count())]


def _unlock_with(qtbot: Any, window: MainWindow, password: str) -> None:
    dialog = window.unlock_dialog
    assert dialog is not None
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)


def test_unlock_dialog_at_start_checks_the_password(
    qtbot: Any, tmp_path: Path, fake_keyring: dict[str, Any]
) -> None:
    addresses, txids, chain = _two_wallets(tmp_path)
    save_last_wallet(tmp_path, "beta")
    with TestPeer(chain) as peer:
        core, bridge = _core(tmp_path, peer)
        try:
            window = MainWindow(core, bridge, GuiCalls(), ask_unlock=True)
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible(),
                timeout=5_000,
            )
            dialog = window.unlock_dialog
            assert dialog is not None
            items = [dialog.wallet_list.item(i).text() for i in range(dialog.wallet_list.count())]
            assert items == ["alpha", "beta"]
            assert dialog.chosen_wallet() == "beta"  # the last used one
            assert _nav(window)[0] == "Get started" and window.wallet_name is None
            qtbot.waitUntil(lambda: NO_KEYRING in dialog.remember_note.text(), timeout=5_000)
            assert not dialog.remember.isEnabled()

            qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
            assert dialog.error.text() == "Type the password of this wallet."

            _unlock_with(qtbot, window, "not the password")
            qtbot.waitUntil(
                lambda: dialog.error.text().startswith("Wrong password"), timeout=10_000
            )
            assert dialog.isVisible() and dialog.open_button.isEnabled()
            assert dialog.password.text() == "not the password"  # selected, to retype
            assert dialog.chosen_wallet() == "beta" and not dialog.busy.isVisible()
            qtbot.wait(200)
            assert window.wallet_name is None and _nav(window)[0] == "Get started"

            _unlock_with(qtbot, window, PASSWORD)
            qtbot.waitUntil(lambda: window.wallet_name == "beta", timeout=10_000)
            assert not dialog.isVisible()
            assert _nav(window)[0] == "Overview"
            qtbot.waitUntil(  # the pages after the Overview are filled in the next turns
                lambda: window.receive_page.address_label.text() == addresses["beta"],
                timeout=5_000,
            )
            assert window.windowTitle() == "PKT Wallet — beta (regtest)"
            qtbot.waitUntil(
                lambda: set(window.history_page.entries) == {txids["beta"]}, timeout=30_000
            )
            qtbot.waitUntil(lambda: load_last_wallet(tmp_path) == "beta", timeout=5_000)
        finally:
            core.stop()


def test_a_remembered_password_unlocks_at_once(
    qtbot: Any, tmp_path: Path, fake_keyring: dict[str, Any]
) -> None:
    _new_wallet_address(tmp_path, "alpha")
    fake_keyring["reason"] = None
    fake_keyring["stored"]["alpha"] = PASSWORD
    chain = RegtestChain()
    chain.mine_many(3)
    with TestPeer(chain) as peer:
        core, bridge = _core(tmp_path, peer)
        try:
            window = MainWindow(core, bridge, GuiCalls(), ask_unlock=True)
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(lambda: window.wallet_name == "alpha", timeout=10_000)
            dialog = window.unlock_dialog
            assert dialog is not None and not dialog.isVisible()

            # unticking "remember" forgets it
            dialog = UnlockDialog(REGTEST, tmp_path, GuiCalls(), ["alpha"], "alpha")
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.waitUntil(lambda: dialog.password.text() == PASSWORD, timeout=5_000)
            assert dialog.remember.isChecked() and dialog.isVisible()  # filled, not opened
            dialog.remember.setChecked(False)
            with qtbot.waitSignal(dialog.unlocked, timeout=10_000) as unlocked:
                qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
            assert unlocked.args[0].name == "alpha"
            assert fake_keyring["stored"] == {}
        finally:
            core.stop()


def test_switch_close_and_new_wallet_through_the_menu(
    qtbot: Any, tmp_path: Path, fake_keyring: dict[str, Any]
) -> None:
    addresses, txids, chain = _two_wallets(tmp_path)
    with TestPeer(chain) as peer:
        core, bridge = _core(tmp_path, peer)
        try:
            window = MainWindow(core, bridge, GuiCalls())  # opens the first wallet directly
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: set(window.history_page.entries) == {txids["alpha"]}, timeout=30_000
            )
            menu = window.wallet_menu
            menu.refresh()
            assert [a.text() for a in menu.switch_actions] == ["alpha", "beta"]
            assert [a.isChecked() for a in menu.switch_actions] == [True, False]
            assert menu.open_action.shortcut().toString() == "Ctrl+O"

            alpha_coins = core.coins().result(10)
            window.send_page.use_coins(alpha_coins)
            assert len(window.send_page.chosen_coins) == 1

            menu.switch_actions[1].trigger()
            qtbot.waitUntil(
                lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible(),
                timeout=5_000,
            )
            assert window.unlock_dialog is not None
            assert window.unlock_dialog.chosen_wallet() == "beta"
            _unlock_with(qtbot, window, PASSWORD)
            qtbot.waitUntil(lambda: window.wallet_name == "beta", timeout=10_000)
            qtbot.waitUntil(  # the pages after the Overview are filled in the next turns
                lambda: window.receive_page.address_label.text() == addresses["beta"],
                timeout=5_000,
            )
            assert window.send_page.chosen_coins == []  # alpha's coins are not beta's
            qtbot.waitUntil(
                lambda: set(window.history_page.entries) == {txids["beta"]}, timeout=30_000
            )
            assert window.history_page.model.rowCount() == 1
            qtbot.waitUntil(
                lambda: window.overview_page.confirmed.text() == "50 rBTC", timeout=10_000
            )
            assert window.overview_page.table.rowCount() == 1
            menu.refresh()
            assert [a.isChecked() for a in menu.switch_actions] == [False, True]

            assert menu.close_action.isEnabled()
            menu.close_action.trigger()
            qtbot.waitUntil(lambda: window.wallet_name is None, timeout=10_000)
            assert _nav(window)[0] == "Get started" and "Overview" not in _nav(window)
            setup = window.setup_page
            assert setup.stack.currentWidget() is setup.choice_page
            assert not setup.open_button.isHidden() and "2 wallets" in setup.choice_text.text()
            assert window.windowTitle() == "PKT Wallet — regtest"
            assert core.wallet_view().result(10) is None
            menu.refresh()
            assert not menu.close_action.isEnabled()

            menu.new_action.trigger()
            qtbot.waitUntil(
                lambda: window.setup_dialog is not None and window.setup_dialog.isVisible(),
                timeout=5_000,
            )
            assert window.setup_dialog is not None
            new = window.setup_dialog.setup
            assert new.stack.currentWidget() is new.create_page
            assert new.create_name.text() == "default"  # a free name is proposed
            new.create_password.setText(PASSWORD)
            new.create_repeat.setText(PASSWORD)
            new.create_name.setText("alpha")
            qtbot.mouseClick(new.create_button, Qt.MouseButton.LeftButton)
            assert new.create_error.text() == (
                "a wallet named 'alpha' already exists; choose another name"
            )
            new.create_name.setText("no spaces")
            qtbot.mouseClick(new.create_button, Qt.MouseButton.LeftButton)
            assert new.create_error.text().startswith("a wallet name cannot contain spaces")
            assert new.create_button.isEnabled() and new.create_busy.isHidden()
            assert list_wallets(tmp_path) == ["alpha", "beta"]
            window.setup_dialog.reject()
        finally:
            core.stop()


def _setup(qtbot: Any, datadir: Path) -> WalletSetup:
    setup = WalletSetup(REGTEST, datadir, GuiCalls())
    qtbot.addWidget(setup)
    setup.show()
    return setup


def test_restore_shows_progress_and_cancel_writes_nothing(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_kdf(passphrase: bytes) -> bytes:
        time.sleep(1.5)  # stands in for Argon2id's seconds
        return bytes(19)

    monkeypatch.setattr(pktseed, "argon2id_seed_key", slow_kdf)
    vectors = json.loads(SEED_VECTORS.read_text())["seedwords_vectors"]
    protected = next(v for v in vectors if v["passphrase"])
    setup = _setup(qtbot, tmp_path)
    setup.show_restore()
    assert setup.restore_name.text() == "default"
    setup.restore_words.setPlainText(protected["words"])
    setup.restore_passphrase.setText(protected["passphrase"])
    setup.restore_password.setText(PASSWORD)
    setup.restore_repeat.setText(PASSWORD)
    qtbot.mouseClick(setup.restore_button, Qt.MouseButton.LeftButton)
    assert setup.restore_busy.isVisible() and setup.restore_busy.text.text() == DERIVING
    assert setup.restore_busy.bar.maximum() == 0  # busy mode
    assert not setup.restore_words.isEnabled() and not setup.restore_button.isEnabled()
    qtbot.mouseClick(setup.restore_busy.cancel_button, Qt.MouseButton.LeftButton)
    assert not setup.restore_busy.isVisible() and setup.restore_button.isEnabled()
    assert setup.restore_error.text() == "Cancelled; nothing was written."
    assert setup.restore_words.toPlainText() == protected["words"]  # nothing lost
    qtbot.wait(2_000)  # the abandoned derivation has finished meanwhile
    assert setup.restore_error.text() == "Cancelled; nothing was written."
    assert list_wallets(tmp_path) == []

    setup.restore_words.setPlainText(BIP39_WORDS)
    setup.restore_passphrase.clear()
    with qtbot.waitSignal(setup.wallet_ready, timeout=30_000) as ready:
        qtbot.mouseClick(setup.restore_button, Qt.MouseButton.LeftButton)
        assert setup.restore_busy.isVisible()
    assert ready.args == ["default"] and list_wallets(tmp_path) == ["default"]
    assert not setup.restore_busy.isVisible() and setup.restore_words.toPlainText() == ""


def test_cancelled_create_leaves_no_wallet_behind(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = threading.Event()
    real_create = Wallet.create

    def create(*args: Any, **kwargs: Any) -> Any:
        try:
            return real_create(*args, kdf_params=FAST_KDF, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(Wallet, "create", create)
    setup = _setup(qtbot, tmp_path)
    setup.show_create()
    setup.create_name.setText("mine")
    setup.create_password.setText(PASSWORD)
    setup.create_repeat.setText(PASSWORD)
    qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
    assert setup.create_busy.isVisible() and not setup.create_password.isEnabled()
    qtbot.mouseClick(setup.create_busy.cancel_button, Qt.MouseButton.LeftButton)
    assert setup.create_error.text() == "Cancelled; no wallet was created."
    assert setup.create_password.isEnabled()
    qtbot.waitUntil(finished.is_set, timeout=20_000)
    # the removal is queued behind whatever the two GUI workers still do (a cancelled
    # restore's key derivation from an earlier test, on a loaded machine); its files go one
    # after the other
    qtbot.waitUntil(lambda: not any((tmp_path / "wallets").iterdir()), timeout=30_000)
    assert list_wallets(tmp_path) == []
    assert setup.stack.currentWidget() is setup.create_page  # the words were never shown
