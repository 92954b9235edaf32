"""Thread-identity guard: blocking work must never run on the GUI thread.

Sync, wallet file I/O and mining call :func:`forbid_gui_thread` when they start. Once the GUI
has called :func:`mark_gui_thread` on its thread, a call from that thread is a violation: it is
recorded, logged (once per entry point) and, in strict mode, raised as
:class:`GuiThreadViolation`. Strict mode is on when ``PKT_WALLET_STRICT_THREADS=1`` or after
``set_strict(True)`` (the test suite). Outside the GUI nothing is marked and the check is one
``get_ident()`` comparison.

This module is stdlib only and lives in ``miner`` because that is the bottom layer: ``spv``
and ``app`` may import ``miner``, ``miner`` imports neither (docs/ARCHITECTURE.md, Threads).
``app.threadguard`` is the name the application uses.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

STRICT_ENV = "PKT_WALLET_STRICT_THREADS"

_NOT_MARKED = -1  # threading.get_ident() is never negative
_gui_ident = _NOT_MARKED
_strict: bool | None = None  # None: follow the environment variable
_lock = threading.Lock()
_violations: list[str] = []
_logged: set[str] = set()


class GuiThreadViolation(RuntimeError):
    """Blocking work (sync, wallet I/O, mining) was started on the GUI thread."""


def mark_gui_thread() -> None:
    """Declare the calling thread the GUI thread (call it on the Qt thread)."""
    global _gui_ident
    _gui_ident = threading.get_ident()


def unmark_gui_thread() -> None:
    """Forget the GUI thread (tests, after the window is gone)."""
    global _gui_ident
    _gui_ident = _NOT_MARKED


def set_strict(strict: bool | None) -> None:
    """Raise on violations (True), only log them (False), or follow the environment (None)."""
    global _strict
    _strict = strict


def is_strict() -> bool:
    if _strict is not None:
        return _strict
    return os.environ.get(STRICT_ENV, "") == "1"


def violations() -> list[str]:
    """The entry points called on the GUI thread so far, in order."""
    with _lock:
        return list(_violations)


def clear_violations() -> None:
    with _lock:
        _violations.clear()
        _logged.clear()


def forbid_gui_thread(what: str) -> None:
    """Call at the entry of blocking work; `what` names the entry point (e.g. "Wallet.save")."""
    if threading.get_ident() != _gui_ident:
        return
    _violation(what)


def _violation(what: str) -> None:
    with _lock:
        _violations.append(what)
        first = what not in _logged
        _logged.add(what)
    message = f"{what} was called on the GUI thread; it must run on a worker or network thread"
    if is_strict():
        raise GuiThreadViolation(message)
    if first:
        log.error("%s", message)
