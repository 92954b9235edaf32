"""Running a coroutine so that a frozen event loop fails the test instead of hanging it: the
loop runs in its own thread, and the test gives up on it after a generous limit."""

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def run_guarded(make: Callable[[], Coroutine[Any, Any, T]], limit: float = 90.0) -> T:
    """Run `make()` on a fresh event loop in a daemon thread; fail the test if it has not
    ended after `limit` seconds (a sync that spins without yielding never lets its own
    timeouts fire, so only another thread can notice)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:  # handed to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="guarded-loop", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"the event loop did not finish within {limit:g} s: frozen or spinning")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
