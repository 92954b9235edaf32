"""The look and the keyboard: the theme applies, every page has an icon, Ctrl+1…9 switch pages,
tab order on the forms, and the window fits a 1024x700 screen at 100 % and at 200 % scaling.

Run directly (`python tests/gui/test_theme.py`), this file prints a JSON layout report of the
main window; the 200 % test runs it in a child process with QT_SCALE_FACTOR=2."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.icons import NAV_ICON_FILES, icon_path, nav_icon  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.theme import ACCENT, apply_theme  # noqa: E402
from app.gui.widgets import page_header  # noqa: E402
from app.vpn.service import VpnService  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCREEN = (1024, 700)
WALLET_PAGES = ["Overview", "Send", "Receive", "History", "Mining", "VPN", "Steward", "Network"]


def _no_vpn(on_change: object) -> VpnService:
    raise RuntimeError("no cjdns in this test")


def _make_wallet(datadir: Path) -> None:
    wallet, _ = Wallet.create(
        datadir, "main", REGTEST, "correct horse battery", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    wallet.close()


def _build_window(datadir: Path, peer_port: int) -> tuple[MainWindow, AppCore]:
    bridge = CoreBridge()
    core = AppCore(REGTEST, datadir, peers=[("127.0.0.1", peer_port)], on_event=bridge.deliver)
    core.start()
    calls = GuiCalls()
    window = MainWindow(core, bridge, calls, vpn_factory=_no_vpn)
    calls.setParent(window)  # results arriving after the window is gone are dropped
    return window, core


def _stop(core: AppCore) -> None:
    """Stop the core, then let its last results reach the still living widgets (not the next
    test's event loop)."""
    core.stop()
    app = QApplication.instance()
    if app is not None:
        for _ in range(3):
            app.processEvents()


@pytest.fixture
def themed_app(qapp: QApplication) -> Iterator[QApplication]:
    """The theme applied for one test; the application's previous look restored after it."""
    sheet = qapp.styleSheet()
    qapp.setStyleSheet("")
    style, palette = qapp.style().name(), QPalette(qapp.palette())
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet("")
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


@pytest.fixture
def peer() -> Iterator[TestPeer]:
    chain = RegtestChain()
    chain.mine_many(3)
    with TestPeer(chain) as test_peer:
        yield test_peer


@pytest.fixture
def wallet_window(qtbot, themed_app, peer: TestPeer, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    _make_wallet(tmp_path)
    window, core = _build_window(tmp_path, peer.port)
    try:
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.wallet_name == "main", timeout=20_000)
        yield window
    finally:
        _stop(core)


def test_theme_sets_fusion_the_accent_and_the_style_sheet(themed_app: QApplication) -> None:
    themed_app.setStyleSheet("")
    themed_app.setStyle("Windows")
    apply_theme(themed_app)
    sheet = themed_app.styleSheet()
    themed_app.setStyleSheet("")  # under a style sheet, style() is Qt's style-sheet wrapper
    assert themed_app.style().name().lower() == "fusion"
    themed_app.setStyleSheet(sheet)
    assert themed_app.palette().color(QPalette.ColorRole.Highlight) == QColor(ACCENT)
    assert "QPushButton#primary" in sheet and "QListWidget#nav" in sheet and ":focus" in sheet
    images = re.findall(r'url\("([^"]+)"\)', sheet)
    assert images and all(Path(image).is_file() for image in images), images
    font_units = re.findall(r"font-size:\s*[\d.]+\s*([a-z]+)", sheet)
    assert font_units and set(font_units) == {"pt"}  # points scale with the screen, pixels not


def test_page_header_has_a_larger_title_and_a_subtitle(themed_app: QApplication) -> None:
    header = page_header("Send", "Pay to an address.")
    title = header.findChild(QLabel, "pageTitle")
    subtitle = header.findChild(QLabel, "pageSubtitle")
    assert title is not None and subtitle is not None
    assert subtitle.text() == "Pay to an address."
    header.ensurePolished()
    title.ensurePolished()
    subtitle.ensurePolished()
    assert title.font().pointSizeF() > subtitle.font().pointSizeF() * 1.3


def test_every_navigation_entry_has_an_svg_icon_that_renders(qapp: QApplication) -> None:
    for title, name in NAV_ICON_FILES.items():
        assert icon_path(name).is_file(), name
        icon = nav_icon(title)
        assert not icon.isNull(), title
        pixmap = icon.pixmap(24, 24)
        assert not pixmap.isNull() and _has_ink(pixmap), title
    assert nav_icon("No such page").isNull()


def _has_ink(pixmap: Any) -> bool:
    """Some pixel is drawn (not fully transparent)."""
    image = pixmap.toImage()
    return any(
        image.pixelColor(x, y).alpha() > 0
        for x in range(image.width())
        for y in range(image.height())
    )


def test_wallet_window_icons_shortcuts_and_accessible_names(qtbot, wallet_window) -> None:  # type: ignore[no-untyped-def]
    window = wallet_window
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert set(WALLET_PAGES) <= set(titles), titles
    for i in range(window.nav.count()):
        assert not window.nav.item(i).icon().isNull(), titles[i]
    assert window.nav.accessibleName()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    for number in (3, 5, 1, min(9, window.nav.count())):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert window.nav.currentRow() == number - 1
        assert window.pages.currentIndex() == number - 1
    primaries = [b for b in window.findChildren(QPushButton) if b.objectName() == "primary"]
    assert window.send_page.preview_button in primaries
    assert window.mining_page.start_button in primaries
    assert window.send_page.preview_button.accessibleName()


def test_send_page_tab_order_follows_the_form(wallet_window) -> None:  # type: ignore[no-untyped-def]
    send = wallet_window.send_page
    order = _focus_chain(send.address, send.preview_button, send)
    assert order.index(send.amount) < order.index(send.max) < order.index(send.preview_button)
    assert order[1] is send.amount


def test_setup_screens_tab_order(qtbot, themed_app, peer: TestPeer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, core = _build_window(tmp_path, peer.port)
    try:
        qtbot.addWidget(window)
        setup = window.setup_page
        chain = _focus_chain(setup.create_password, setup.create_button, setup.create_page)
        assert chain[:2] == [setup.create_password, setup.create_repeat]
        assert chain[-1] is setup.create_button
        assert setup.restore_words.tabChangesFocus()
        chain = _focus_chain(setup.restore_words, setup.restore_button, setup.restore_page)
        assert chain.index(setup.restore_passphrase) < chain.index(setup.restore_password)
        assert chain.index(setup.restore_password) < chain.index(setup.restore_repeat)
    finally:
        _stop(core)


def _focus_chain(start: QWidget, stop: QWidget, page: QWidget, limit: int = 40) -> list[QWidget]:
    """The widgets Tab visits from `start` up to `stop` on `page` (enabled, not hidden, taking
    Tab)."""
    chain = [start]
    widget = start.nextInFocusChain()
    while widget is not stop and len(chain) < limit:
        takes_tab = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if takes_tab and widget.isEnabled() and widget.isVisibleTo(page):
            chain.append(widget)
        widget = widget.nextInFocusChain()
    assert widget is stop, f"{stop!r} not reached by Tab from {start!r}"
    return [*chain, stop]


def test_window_fits_1024x700_with_a_wallet_open(wallet_window) -> None:  # type: ignore[no-untyped-def]
    report = layout_report(wallet_window)
    _check_report(report)


def test_first_run_window_fits_1024x700(qtbot, themed_app, peer: TestPeer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, core = _build_window(tmp_path, peer.port)
    try:
        qtbot.addWidget(window)
        window.show()
        for page in (window.setup_page.create_page, window.setup_page.seed_page):
            window.setup_page.stack.setCurrentWidget(page)
            hint = window.minimumSizeHint()
            assert hint.width() <= SCREEN[0] and hint.height() <= SCREEN[1], hint
    finally:
        _stop(core)


def test_window_fits_and_labels_show_at_200_percent(tmp_path: Path) -> None:
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["device_pixel_ratio"] == 2
    _check_report(report)


def _check_report(report: dict[str, Any]) -> None:
    width, height = report["minimum_size"]
    assert width <= SCREEN[0] and height <= SCREEN[1], report["minimum_size"]
    assert set(WALLET_PAGES) <= set(report["pages"]), report["pages"]
    assert report["clipped_labels"] == [], report["clipped_labels"]


def layout_report(window: MainWindow) -> dict[str, Any]:
    """The window's minimum size (logical pixels) and any visible label with text that the
    layout squeezed to nothing, on every page, with the window at its smallest size."""
    app = QApplication.instance()
    assert app is not None
    app.processEvents()  # pending layout requests: the pages' contents changed when shown
    hint = window.minimumSizeHint()
    window.resize(hint)
    clipped: list[str] = []
    pages: list[str] = []
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        pages.append(window.nav.item(row).text())
        app.processEvents()
        page = window.pages.currentWidget()
        assert page is not None
        for label in page.findChildren(QLabel):
            shown = label.isVisibleTo(window) and label.text().strip()
            if shown and (label.width() <= 0 or label.height() <= 0):
                clipped.append(f"{pages[-1]}: {label.text()[:40]!r}")
    return {
        "minimum_size": [hint.width(), hint.height()],
        "pages": pages,
        "clipped_labels": clipped,
        "device_pixel_ratio": window.devicePixelRatio(),
    }


def _report_in_this_process() -> dict[str, Any]:
    """Build a themed window with a wallet open (and a loopback peer), report its layout."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_theme(app)
    chain = RegtestChain()
    chain.mine_many(3)
    with TestPeer(chain) as test_peer, tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp)
        _make_wallet(datadir)
        window, core = _build_window(datadir, test_peer.port)
        try:
            window.show()
            deadline = time.monotonic() + 60
            while window.wallet_name != "main" and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            return layout_report(window)
        finally:
            window.close()
            core.stop()


if __name__ == "__main__":
    print(json.dumps(_report_in_this_process()))
