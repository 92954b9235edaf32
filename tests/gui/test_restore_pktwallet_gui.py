"""Restoring a real pktwallet seed (15 words, passphrase-protected; vector from pktd) through
the window: a missing passphrase is explained before any slow work, then the right one gives
the vector's addresses on the Receive page. Mainnet parameters, no peers (nothing leaves the
machine)."""

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.wallet import pktseed  # noqa: E402
from app.wallet.wallet import Wallet, list_wallets  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from tests.wallet.conftest import cached_seed_kdf, load_seed_vectors  # noqa: E402

PASSWORD = "correct horse battery"


def test_restore_a_pktwallet_seed_in_the_window(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pktseed, "argon2id_seed_key", cached_seed_kdf)  # real Argon2id, once
    vector = next(
        v
        for v in load_seed_vectors()["seedwords_vectors"]
        if v["passphrase"] and str(v["vector"]) == "2"
    )
    expected = {a["Path"]: a["Address"] for a in vector["addresses"]}
    bridge = CoreBridge()
    core = AppCore(MAINNET, tmp_path, use_dns_seeds=False, on_event=bridge.deliver)
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls())
        qtbot.addWidget(window)
        window.show()
        setup = window.setup_page
        assert window.nav.item(0).text() == "Get started"
        setup.show_restore()
        setup.restore_words.setPlainText(vector["words"])
        setup.restore_password.setText(PASSWORD)
        setup.restore_repeat.setText(PASSWORD)
        qtbot.mouseClick(setup.restore_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "passphrase" in setup.restore_error.text(), timeout=10_000)
        assert list_wallets(tmp_path) == [] and setup.restore_words.toPlainText() != ""

        setup.restore_passphrase.setText(vector["passphrase"])
        qtbot.mouseClick(setup.restore_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.wallet_name is not None, timeout=120_000)
        receive = window.receive_page
        qtbot.waitUntil(lambda: receive.address_label.text() != "—", timeout=20_000)
        assert receive.address_label.text() == expected["m/84'/0'/0'/0/0"]
        assert window.nav.item(0).text() == "Overview"
    finally:
        core.stop()
    (name,) = list_wallets(tmp_path)
    wallet = Wallet.open(tmp_path, name, MAINNET)
    try:
        wallet.check_password(PASSWORD)
        listed: dict[str, set[str]] = {}
        for info in wallet.addresses():
            listed.setdefault(info.path, set()).add(info.address)
        for path, address in expected.items():  # all 12: BIP44/49/84, receive and change
            assert address in listed.get(path, set()), path
    finally:
        wallet.close()
