"""Deliver results of background work (core futures, worker threads) back on the Qt thread."""

import concurrent.futures
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
    dropped."""

    _deliver = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self._deliver.connect(_call_if_alive)

    def watch(
        self,
        future: "concurrent.futures.Future[Any]",
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        def done(f: "concurrent.futures.Future[Any]") -> None:
            if not shiboken6.isValid(self):
                return
            exc = f.exception()
            if exc is not None:
                self._deliver.emit(on_error, exc)
            else:
                self._deliver.emit(on_result, f.result())

        future.add_done_callback(done)

    def in_worker(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run slow work (key derivation, file encryption) off the GUI thread."""
        self.watch(_workers.submit(fn), on_result, on_error)
