"""The application's thread guard: sync, wallet I/O and mining never run on the Qt thread.

`app.gui.app.run_gui` calls :func:`mark_gui_thread` on the Qt thread; the wallet, sync and
mining entry points call :func:`forbid_gui_thread`. The implementation is the stdlib-only
`miner.threadguard` (the bottom layer, so that `spv` and `miner` can check their own entry
points without importing `app`). No Qt here.
"""

from miner.threadguard import (
    STRICT_ENV,
    GuiThreadViolation,
    clear_violations,
    forbid_gui_thread,
    is_strict,
    mark_gui_thread,
    set_strict,
    unmark_gui_thread,
    violations,
)

__all__ = [
    "STRICT_ENV",
    "GuiThreadViolation",
    "clear_violations",
    "forbid_gui_thread",
    "is_strict",
    "mark_gui_thread",
    "set_strict",
    "unmark_gui_thread",
    "violations",
]
