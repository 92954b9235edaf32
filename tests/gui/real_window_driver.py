"""The first minutes of a new user, in a real window (run by tests/gui/test_real_window.py in
its own process, under Xvfb with Qt's xcb platform: the display, the platform plugin and its
system libraries are the real ones).

    python -m tests.gui.real_window_driver OUTDIR

Keys go to whatever widget has the keyboard focus, as a keyboard's would. The steps: the start
page; create a wallet (password, Tab, password, Enter); the seed words; "I have written them
down"; the three words typed back, each followed by Enter; the Overview; close the wallet and
open it again through the unlock dialog (password, Enter); Wallet ▸ Seed words (password,
Enter). A screenshot of the screen is taken at each stage. OUTDIR/report.json says what was
seen; the process exits 0 only if every step did what a user expects.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.core import AppCore
from app.gui.bridge import CoreBridge
from app.gui.calls import GuiCalls
from app.gui.main_window import MainWindow
from app.gui.theme import apply_theme
from app.threadguard import mark_gui_thread
from spv.params import REGTEST

PASSWORD = "correct horse battery"
WAIT = 60.0  # seconds for any one step: generous, the steps usually take well under one


class StepFailed(Exception):
    pass


def wait_until(what: str, condition: Callable[[], bool], timeout: float = WAIT) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)


def settle() -> None:
    """Let pending paints and layout run (not a wait for a result)."""
    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.02)


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    if widget is None:
        raise StepFailed("no widget has the keyboard focus")
    return widget


def type_text(text: str) -> None:
    QTest.keyClicks(focus(), text)


def key(name: Qt.Key) -> None:
    QTest.keyClick(focus(), name)


def make_active(window: QWidget) -> None:
    """What a window manager does for a new window: give it the keyboard."""

    def active() -> bool:
        if QApplication.activeWindow() is not window:
            window.activateWindow()
            return False
        return True

    wait_until(f"{window.windowTitle()!r} to get the keyboard", active)


class Driver:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.report: dict[str, Any] = {"platform": "", "steps": [], "screenshots": []}

    def step(self, name: str) -> None:
        self.report["steps"].append(name)
        print(f"step: {name}", flush=True)

    def screenshot(self, window: QWidget, name: str) -> None:
        """The screen's pixels where `window` is (what the X server shows, not a widget
        rendering), with the window's size."""
        settle()
        handle = window.windowHandle()
        if handle is None or not handle.isExposed():
            raise StepFailed(f"{name}: the window is not shown on the display")
        screen = handle.screen()
        frame: QRect = window.frameGeometry()
        picture = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        path = self.out / f"{name}.png"
        if picture.isNull() or not picture.save(str(path)):
            raise StepFailed(f"{name}: could not take or save the screenshot")
        self.report["screenshots"].append(
            {
                "name": name,
                "file": path.name,
                "window": [window.width(), window.height()],
                "frame": [frame.width(), frame.height()],
                "device_pixel_ratio": picture.devicePixelRatio(),
            }
        )

    def run(self) -> None:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        self.report["platform"] = QGuiApplication.platformName()
        mark_gui_thread()
        apply_theme(app)
        with tempfile.TemporaryDirectory(prefix="pkt-real-window-") as tmp:
            bridge = CoreBridge()
            core = AppCore(
                REGTEST, Path(tmp), peers=[], use_dns_seeds=False, on_event=bridge.deliver
            )
            core.start()
            try:
                self._first_minutes(core, bridge)
            finally:
                core.stop()

    def _first_minutes(self, core: AppCore, bridge: CoreBridge) -> None:
        window = MainWindow(core, bridge, GuiCalls(), ask_unlock=True)
        window.show()
        make_active(window)
        self.screenshot(window, "start")
        self.step("start page shown")

        setup = window.setup_page
        QTest.mouseClick(setup.choice_create, Qt.MouseButton.LeftButton)
        wait_until("the create page", lambda: setup.stack.currentWidget() is setup.create_page)
        setup.create_password.setFocus()
        type_text(PASSWORD)
        key(Qt.Key.Key_Tab)
        type_text(PASSWORD)
        self.screenshot(window, "create")
        key(Qt.Key.Key_Return)
        wait_until(
            "the seed words after Enter", lambda: setup.stack.currentWidget() is setup.seed_page
        )
        words = [w for w in setup.seed_words.text().split() if not w.endswith(".")]
        if len(words) != 12:
            raise StepFailed(f"expected 12 seed words on screen, saw {len(words)}")
        self.screenshot(window, "seed-words")
        self.step("wallet created with Enter; seed words shown")

        key(Qt.Key.Key_Return)  # "I have written them down" has the focus
        wait_until("the check page", lambda: setup.stack.currentWidget() is setup.confirm_page)
        for edit, position in zip(setup.confirm_edits, setup._challenge, strict=True):
            if focus() is not edit:
                raise StepFailed(f"the keyboard is not in the field for word {position}")
            type_text(words[position - 1])
            if position == setup._challenge[-1]:
                self.screenshot(window, "check-words")
            key(Qt.Key.Key_Return)
        wait_until("the Overview", lambda: window.wallet_name == "default")
        wait_until(
            "the Overview page", lambda: window.pages.currentWidget() is window.overview_page
        )
        self.screenshot(window, "overview")
        self.step("words typed back with Enter; Overview shown")

        window.close_wallet()
        wait_until("the start page", lambda: window.wallet_name is None)
        window.show_unlock_dialog()
        dialog = window.unlock_dialog
        if dialog is None:
            raise StepFailed("no unlock dialog")
        wait_until("the unlock dialog", dialog.isVisible)
        make_active(dialog)
        if focus() is not dialog.password:
            raise StepFailed("the unlock dialog's password field does not have the keyboard")
        type_text(PASSWORD)
        self.screenshot(dialog, "unlock")
        key(Qt.Key.Key_Return)
        wait_until(
            "the wallet to open after Enter in the unlock dialog",
            lambda: window.wallet_name == "default" or not dialog.isVisible(),
        )
        wait_until("the wallet to open", lambda: window.wallet_name == "default", 20.0)
        self.step("unlocked with Enter")

        window.show_seed_dialog()
        seed = window.seed_dialog
        if seed is None:
            raise StepFailed("no seed words dialog")
        wait_until("the seed words dialog", seed.isVisible)
        make_active(seed)
        seed.password.setFocus()
        type_text(PASSWORD)
        key(Qt.Key.Key_Return)
        wait_until(
            "the words after Enter in Seed words",
            lambda: seed.stack.currentWidget() is seed.shown_page or not seed.isVisible(),
        )
        if not seed.isVisible():
            raise StepFailed("Enter closed the Seed words dialog instead of showing the words")
        shown = [w for w in seed.words_label.text().split() if not w.endswith(".")]
        if shown != words:
            raise StepFailed("the Seed words dialog shows other words")
        settle()  # the dialog's layout follows its new content
        label = seed.words_label
        if label.width() < label.sizeHint().width():
            raise StepFailed(
                f"the seed words are cut off ({label.width()} px shown of "
                f"{label.sizeHint().width()})"
            )
        self.screenshot(seed, "seed-dialog")
        seed.accept()
        self.step("seed words shown again with Enter")
        window.close()
        settle()


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    driver = Driver(out)
    code = 0
    try:
        driver.run()
    except Exception as exc:  # reported to the test, with where it happened
        driver.report["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        code = 1
    (out / "report.json").write_text(json.dumps(driver.report, indent=2))
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
