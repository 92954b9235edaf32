"""Deliver results of background work (core futures, worker threads) back on the Qt thread."""

import concurrent.futures
import itertools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

_workers = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="gui-worker")


def _qt_objects_of(fn: Callable[[Any], None]) -> list[QObject]:
    """The Qt objects `fn` works on: the object of a bound method, or the Qt objects a
    closure or lambda captured (typically `self`)."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, QObject):
        return [owner]
    found = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, QObject):
            found.append(value)
    return found


def _call_if_alive(fn: Callable[[Any], None], arg: Any) -> None:
    """Run `fn(arg)`, unless a widget it works on was deleted while the work ran."""
    if any(not shiboken6.isValid(obj) for obj in _qt_objects_of(fn)):
        return
    fn(arg)


class GuiCalls(QObject):
    """`watch(future, ok, err)`: `ok(result)` or `err(exception)` runs later on the GUI thread.
    Results that arrive after this object was deleted (e.g. with the window it belongs to) are
    dropped.

    The callbacks stay in a table of the GUI thread, never in the future: a future is released
    on the thread that finished it, and a callback released there that held the last reference
    to a widget (or a Qt object owned by Python) would make shiboken delete it from that
    thread's pending calls, later, out of order — the rare segfault seen in the GUI tests."""

    _deliver = Signal(int, bool, object)

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]]
        self._waiting = {}
        self._tokens = itertools.count()
        self._deliver.connect(self._arrived)

    def watch(
        self,
        future: "concurrent.futures.Future[Any]",
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        token = next(self._tokens)
        self._waiting[token] = (on_result, on_error)

        def done(f: "concurrent.futures.Future[Any]") -> None:  # any thread: holds no callback
            if not shiboken6.isValid(self):
                return
            exc = f.exception()
            if exc is not None:
                self._deliver.emit(token, False, exc)
            else:
                self._deliver.emit(token, True, f.result())

        future.add_done_callback(done)

    def _arrived(self, token: int, ok: bool, value: Any) -> None:
        callbacks = self._waiting.pop(token, None)
        if callbacks is not None:
            _call_if_alive(callbacks[0] if ok else callbacks[1], value)

    def in_worker(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run slow work (key derivation, file encryption) off the GUI thread."""
        self.watch(_workers.submit(fn), on_result, on_error)
