"""Errors as human messages with details on demand (app/gui/errors.py)."""

import errno
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from app.gui.errors import (  # noqa: E402
    LOG_NAME,
    describe_error,
    error_details,
    install_excepthook,
    show_error,
)
from app.wallet.wallet import PasswordError, WalletNotFoundError  # noqa: E402
from spv.peer import PeerTimeout  # noqa: E402


def _open_boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def _close_all() -> None:
    for box in _open_boxes():
        box.done(0)


@pytest.mark.parametrize(
    ("exc", "title", "explained"),
    [
        (PasswordError("wrong password"), "Wrong password", "Caps Lock"),
        (PeerTimeout("peer 127.0.0.1:1 did not answer"), "Network problem", "internet connection"),
        (ConnectionRefusedError(111, "Connection refused"), "Network problem", "proxy"),
        (PermissionError(13, "Permission denied", "/x/wallet.json"), "No permission", "read-only"),
        (OSError(errno.ENOSPC, "No space left on device"), "The disk is full", "Free some space"),
        (
            WalletNotFoundError("no wallet named 'x' in /d (create or restore one)"),
            "Wallet problem",
            "No wallet named 'x' in /d (create or restore one)",
        ),
        (KeyError("boom"), "Something went wrong", "unexpected"),
        (
            sqlite3.DatabaseError("database disk image is malformed"),
            "The wallet database is damaged",
            "pkt-wallet repair --wallet NAME",
        ),
        (sqlite3.DatabaseError("file is not a database"), "The wallet database is damaged", "key"),
        (sqlite3.OperationalError("database is locked"), "The wallet is in use", "Another"),
    ],
)
def test_each_kind_of_error_gets_a_human_summary(
    exc: BaseException, title: str, explained: str
) -> None:
    human = describe_error(exc)
    assert human.title.startswith(title)
    assert explained in human.explanation
    assert "Traceback" not in human.explanation


def test_show_error_has_a_summary_and_the_exception_in_details(qtbot) -> None:  # type: ignore[no-untyped-def]
    parent = QWidget()
    qtbot.addWidget(parent)
    exc = PermissionError(13, "Permission denied", "/data/wallets/main.json")
    box = show_error(parent, "Could not save the wallet", exc)
    try:
        assert box.isVisible()
        assert box.text() == "Could not save the wallet"
        assert box.informativeText().startswith("No permission to use a file:")
        assert box.detailedText() == (
            "PermissionError: [Errno 13] Permission denied: '/data/wallets/main.json'"
        )
        assert "Traceback" not in box.detailedText()
    finally:
        box.done(0)


def test_show_error_without_a_summary_uses_the_kind_of_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = show_error(None, None, PasswordError("the password does not open this wallet"))
    try:
        assert box.text() == "Wrong password"
        assert box.detailedText() == (
            "app.wallet.errors.PasswordError: the password does not open this wallet"
        )
    finally:
        box.done(0)


def test_details_name_the_type_even_without_text() -> None:
    assert error_details(KeyError()) == "KeyError"
    assert error_details(ValueError("bad")) == "ValueError: bad"


def test_uncaught_error_is_logged_to_the_datadir_and_shown(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = QWidget()
    qtbot.addWidget(window)
    saved_hook, saved_thread_hook = sys.excepthook, threading.excepthook
    hooks = install_excepthook(tmp_path, lambda: window)
    try:
        assert sys.excepthook == hooks.excepthook
        try:
            raise ZeroDivisionError("division by zero in a slot")
        except ZeroDivisionError as exc:
            hooks.excepthook(type(exc), exc, exc.__traceback__)
        log_file = tmp_path / "logs" / LOG_NAME
        text = log_file.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" in text
        assert "ZeroDivisionError: division by zero in a slot" in text
        qtbot.waitUntil(lambda: len(_open_boxes()) == 1, timeout=5_000)
        box = _open_boxes()[0]
        assert box.text() == "Something went wrong"
        assert str(log_file) in box.informativeText()
        assert box.detailedText() == "ZeroDivisionError: division by zero in a slot"
        assert "Traceback" not in box.detailedText()
        # a second error while the box is open is only logged
        hooks.excepthook(RuntimeError, RuntimeError("again"), None)
        qtbot.wait(50)
        assert len(_open_boxes()) == 1
        assert "RuntimeError: again" in log_file.read_text(encoding="utf-8")
    finally:
        _close_all()
        hooks.uninstall()
        sys.excepthook, threading.excepthook = saved_hook, saved_thread_hook


def test_an_error_on_a_worker_thread_is_shown_on_the_gui_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved_hook, saved_thread_hook = sys.excepthook, threading.excepthook
    hooks = install_excepthook(tmp_path, lambda: None)
    try:

        def fail() -> None:
            raise ConnectionResetError(104, "Connection reset by peer")

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join(10)
        qtbot.waitUntil(lambda: len(_open_boxes()) == 1, timeout=5_000)
        assert _open_boxes()[0].text() == "Network problem"
        assert "ConnectionResetError" in (tmp_path / "logs" / LOG_NAME).read_text("utf-8")
    finally:
        _close_all()
        hooks.uninstall()
        sys.excepthook, threading.excepthook = saved_hook, saved_thread_hook
