"""Errors shown to people: a short summary with an explanation, the exception on demand.

`show_error(parent, summary, exc)` opens a (non-blocking) message box whose "Show details…"
holds the exception's type and text — never a traceback. `install_excepthook(datadir)` makes
an exception nobody caught (a slot, a worker thread) write its traceback to
``<datadir>/logs/gui-errors.log`` and show `show_error` instead of dying silently.
"""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import requests
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.database_errors import BUSY, DAMAGED, database_problem
from app.mining.service import MiningError
from app.steward.errors import StewardError
from app.threadguard import GuiThreadViolation
from app.vpn.errors import VpnError
from app.wallet.keystore import WrongPasswordError
from app.wallet.wallet import PasswordError, WalletError
from spv.errors import ParseError
from spv.node import NoPeersError
from spv.peer import PeerError

log = logging.getLogger(__name__)

LOG_NAME = "gui-errors.log"
_OUR_PACKAGES = ("app.", "spv.", "miner.")


@dataclass(frozen=True)
class HumanError:
    title: str
    """What went wrong, in a few words."""
    explanation: str
    """Why, and what the person can do about it."""


def describe_error(exc: BaseException) -> HumanError:
    """A summary a person can act on, chosen by the kind of exception."""
    if isinstance(exc, PasswordError | WrongPasswordError):
        return HumanError(
            "Wrong password",
            "The password does not open this wallet. Check Caps Lock and the keyboard layout, "
            "then try again.",
        )
    if isinstance(exc, sqlite3.Error):
        kind = database_problem(exc)
        if kind == BUSY:
            return HumanError(
                "The wallet is in use",
                "Another program has the wallet database open. Close it, then try again.",
            )
        if kind == DAMAGED:
            return HumanError(
                "The wallet database is damaged",
                "Close the app and rebuild the database from the key file (your password is "
                "needed): pkt-wallet repair --wallet NAME, with the wallet's name.",
            )
    if isinstance(exc, GuiThreadViolation):
        return HumanError(
            "Internal error",
            "Slow work was started on the window's thread. Please report this with the details.",
        )
    if _is_network(exc):
        return HumanError(
            "Network problem",
            "The app could not reach the network or the other side did not answer. Check the "
            "internet connection and the proxy settings, then try again.",
        )
    if isinstance(exc, PermissionError):
        return HumanError(
            "No permission to use a file",
            "The app could not read or write a file in its data folder. Check that the folder "
            "belongs to you and is not read-only.",
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return HumanError(
            "The disk is full", "Free some space on the disk that holds the data folder."
        )
    if isinstance(exc, FileNotFoundError):
        return HumanError(
            "A file is missing", "A file the app needs was not found. It may have been moved."
        )
    if isinstance(exc, OSError):
        return HumanError(
            "A file could not be used", "Reading or writing a file failed; see the details."
        )
    if isinstance(exc, WalletError):
        return HumanError("Wallet problem", _sentence(exc))
    if isinstance(exc, MiningError):
        return HumanError("Mining problem", _sentence(exc))
    if isinstance(exc, VpnError):
        return HumanError("VPN problem", _sentence(exc))
    if isinstance(exc, StewardError):
        return HumanError("Network Steward problem", _sentence(exc))
    if isinstance(exc, ParseError):
        return HumanError("Invalid input", _sentence(exc))
    if _is_ours(exc) and str(exc):
        return HumanError("Something went wrong", _sentence(exc))
    return HumanError(
        "Something went wrong",
        "An unexpected error happened. The details below help when reporting it.",
    )


def _is_network(exc: BaseException) -> bool:
    return isinstance(
        exc,
        PeerError
        | NoPeersError
        | ConnectionError
        | TimeoutError
        | socket.gaierror
        | requests.RequestException,
    )


def _is_ours(exc: BaseException) -> bool:
    """Our own exceptions carry messages written for people."""
    return type(exc).__module__.startswith(_OUR_PACKAGES)


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return "See the details."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def error_details(exc: BaseException) -> str:
    """The exception's type and text (what "Show details…" shows): no traceback."""
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    text = str(exc)
    return f"{name}: {text}" if text else name


def show_error(parent: QWidget | None, summary: str | None, exc: BaseException) -> QMessageBox:
    """Open a warning box (window-modal, does not block the caller) and return it.

    `summary` says what the person was doing ("Could not open the wallet"); None uses the
    title derived from the exception.
    """
    human = describe_error(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("PKT Wallet")
    box.setText(summary or human.title)
    box.setInformativeText(
        human.explanation if summary is None else f"{human.title}: {human.explanation}"
    )
    box.setDetailedText(error_details(exc))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class UncaughtErrors(QObject):
    """The GUI's `sys.excepthook` and `threading.excepthook`: log the traceback to the data
    folder's logs/ and show the error on the GUI thread (one box at a time)."""

    _show = Signal(object)

    def __init__(self, log_dir: Path, parent_window: Callable[[], QWidget | None]) -> None:
        super().__init__()
        self.log_path = Path(log_dir) / LOG_NAME
        self._parent_window = parent_window
        self._open_box: QMessageBox | None = None
        self._show.connect(self._show_error, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__

    def excepthook(
        self,
        kind: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        self._write_log(kind, exc, tb)
        self._show.emit(exc)  # queued: shown by the GUI thread's event loop

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def _write_log(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {stamp} uncaught error\n{text}\n")
        except OSError:
            log.exception("could not write %s", self.log_path)
        log.error("uncaught error (traceback in %s): %s", self.log_path, error_details(exc))

    def _show_error(self, exc: BaseException) -> None:
        if self._open_box is not None:
            return  # one at a time; the others are in the log
        if QApplication.instance() is None:
            return
        box = show_error(self._parent_window(), None, exc)
        box.setInformativeText(
            f"{box.informativeText()}\n\nThe app keeps running; the full report is in "
            f"{self.log_path}."
        )
        self._open_box = box
        box.finished.connect(self._closed)

    def _closed(self) -> None:
        self._open_box = None


def install_excepthook(
    datadir: Path, parent_window: Callable[[], QWidget | None]
) -> UncaughtErrors:
    """Install the GUI's hooks for uncaught errors (logs under ``<datadir>/logs/``)."""
    hooks = UncaughtErrors(Path(datadir) / "logs", parent_window)
    hooks.install()
    return hooks
