"""Settings: the full node that counts the Network Steward election (address checked as
typed, user, password kept in the OS keyring when there is one, never in the settings then)."""

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLineEdit  # noqa: E402

from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.settings_page import SettingsPage  # noqa: E402
from app.steward.service import StewardService  # noqa: E402
from app.steward.store import SETTING_NODE_PASSWORD  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from tests.support.file_keyring import FileKeyring  # noqa: E402


@pytest.fixture(autouse=True)
def _keyring_restored() -> Iterator[None]:
    backend = keyring.get_keyring()
    yield
    keyring.set_keyring(backend)


def _page(qtbot, datadir: Path) -> SettingsPage:  # type: ignore[no-untyped-def]
    page = SettingsPage(MAINNET, datadir, GuiCalls())
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.stored is not None, timeout=10_000)
    return page


@pytest.mark.parametrize("with_keyring", [True, False])
def test_node_fields_are_checked_and_saved(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_keyring: bool
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PKT_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring() if with_keyring else fail.Keyring())
    page = _page(qtbot, tmp_path)
    assert (
        page.node_url_edit.text() == ""
        and page.node_password_edit.echoMode() == QLineEdit.EchoMode.Password
    )
    page.node_url_edit.setText("ftp://node")
    assert not page.node_url_error.isHidden() and not page.save_button.isEnabled()
    assert "http:// or https://" in page.node_url_error.text()
    page.node_url_edit.setText("http://rpcuser:secret@127.0.0.1:64765")
    assert "own fields" in page.node_url_error.text() and not page.save_button.isEnabled()
    page.node_url_edit.setText("http://127.0.0.1:64765")
    page.node_user_edit.setText("rpcuser")
    page.node_password_edit.setText("s3cret")
    assert page.node_url_error.isHidden() and page.save_button.isEnabled()
    page.save()
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Saved"), timeout=10_000)
    with StewardService(tmp_path, MAINNET) as svc:
        node = svc.node_settings()
        in_settings = svc.store.setting(SETTING_NODE_PASSWORD)
    assert (node.url, node.user, node.password) == ("http://127.0.0.1:64765/", "rpcuser", "s3cret")
    assert "s3cret" not in repr(node)
    if with_keyring:
        assert node.password_source == "keyring" and in_settings is None
        assert "s3cret" in (tmp_path / "keyring.json").read_text()
    else:
        assert node.password_source == "settings" and in_settings == "s3cret"
    # shown again as saved; clearing the address forgets the node
    again = _page(qtbot, tmp_path)
    assert again.node_url_edit.text() == "http://127.0.0.1:64765/"
    assert again.node_password_edit.text() == "s3cret"
    again.node_url_edit.clear()
    again.node_password_edit.clear()
    again.save()
    qtbot.waitUntil(lambda: again.status_label.text().startswith("Saved"), timeout=10_000)
    with StewardService(tmp_path, MAINNET) as svc:
        node = svc.node_settings()
    assert not node.configured and node.password is None
