"""Deliver results of background work (core futures, worker threads) back on the Qt thread."""

import concurrent.futures
import itertools
import traceback
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
        self._jobs: dict[int, Callable[[], Any]] = {}
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
        self._jobs.pop(token, None)  # released here, on the GUI thread
        if callbacks is not None:
            _call_if_alive(callbacks[0] if ok else callbacks[1], value)

    def in_worker(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run slow work (key derivation, file encryption) off the GUI thread. The worker
        never holds the last reference to `fn` (a closure over widgets, typically): it is
        kept here and released on the GUI thread when its result is delivered."""
        token = next(self._tokens)
        self._waiting[token] = (on_result, on_error)
        self._jobs[token] = fn
        _workers.submit(self._work, token)

    def _work(self, token: int) -> None:  # a worker thread
        fn = self._jobs.get(token)
        if fn is None:
            return
        try:
            ok, value = True, fn()
        except BaseException as exc:  # noqa: BLE001 - handed to on_error on the GUI thread
            ok, value = False, _without_frames(exc)
        del fn
        if shiboken6.isValid(self):
            self._deliver.emit(token, ok, value)


def _without_frames(exc: BaseException) -> BaseException:
    """`exc` with its traceback kept as text (`exc.formatted_traceback`) and its frames
    dropped: the frames hold the worker's variables, widgets among them, which must not be
    released on the worker thread."""
    exc.formatted_traceback = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return exc
