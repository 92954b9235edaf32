"""Deliver results of background work (core futures, worker threads) back on the Qt thread.

No thread but the Qt thread ever holds the last reference to a Qt object here. The callbacks
(which capture widgets) stay in a table on the Qt thread, keyed by a ticket: the worker only
sends back the ticket and the result. The work function itself is released by the worker
before it reports, while the table still holds it. (When the worker dropped the last reference
to a widget's Python wrapper, shiboken 6.11 queued the widget's deletion for the Qt thread,
which could run after Qt had deleted the widget itself: a crash at a random later point, seen
in test teardown.)
"""

import concurrent.futures
import itertools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

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


@dataclass
class _Waiting:
    calls: "GuiCalls"
    on_result: Callable[[Any], None]
    on_error: Callable[[BaseException], None]
    work: object = None  # the worker's function, released here (on the Qt thread)


class _Job:
    """The worker's function, let go of before the worker reports (the Qt thread still holds
    it), so the worker never drops the last reference to what it captured."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn: Callable[[], Any] | None = fn

    def __call__(self) -> Any:
        fn, self.fn = self.fn, None
        assert fn is not None
        try:
            return fn()
        except BaseException as exc:
            # the frames' locals (a widget's `self`, …) go; the lines stay for a log
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del fn


class _Dispatcher(QObject):
    """Lives on the Qt thread; the workers' reports come to it as queued signals."""

    report = Signal(int, bool, object)  # ticket, ok, result or exception

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, _Waiting] = {}
        self.tickets = itertools.count(1)
        self.report.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, ticket: int, ok: bool, value: object) -> None:
        waiting = self.waiting.pop(ticket, None)
        if waiting is None or not shiboken6.isValid(waiting.calls):
            return
        if ok:
            _call_if_alive(waiting.on_result, value)
        else:
            assert isinstance(value, BaseException)
            _call_if_alive(waiting.on_error, value)


_dispatcher: _Dispatcher | None = None


def _the_dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:  # made by the first GuiCalls, on the Qt thread
        _dispatcher = _Dispatcher()
    return _dispatcher


def _reporter(dispatcher: _Dispatcher, ticket: int) -> Callable[[Any], None]:
    """The future's done-callback: it captures nothing of the window."""

    def done(future: "concurrent.futures.Future[Any]") -> None:
        exc = future.exception()
        if exc is not None:
            dispatcher.report.emit(ticket, False, exc)
        else:
            dispatcher.report.emit(ticket, True, future.result())

    return done


class GuiCalls(QObject):
    """`watch(future, ok, err)`: `ok(result)` or `err(exception)` runs later on the GUI thread.
    Results that arrive after this object was deleted (e.g. with the window it belongs to), or
    after a widget the callback works on was deleted, are dropped."""

    def __init__(self) -> None:
        super().__init__()
        self._dispatcher = _the_dispatcher()

    def watch(
        self,
        future: "concurrent.futures.Future[Any]",
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        work: object = None,
    ) -> None:
        dispatcher = self._dispatcher
        ticket = next(dispatcher.tickets)
        dispatcher.waiting[ticket] = _Waiting(self, on_result, on_error, work)
        future.add_done_callback(_reporter(dispatcher, ticket))

    def in_worker(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run slow work (key derivation, file encryption) off the GUI thread."""
        self.watch(_workers.submit(_Job(fn)), on_result, on_error, work=fn)
