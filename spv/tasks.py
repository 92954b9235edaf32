"""Timeouts and task stopping that never lose a cancellation.

Python 3.11's ``asyncio.wait_for`` can swallow the caller's cancellation when the awaited
operation finishes at the same moment (fixed in 3.12); a sync loop cancelled at that instant
went on forever and the app could not stop. ``within`` uses ``asyncio.timeout`` instead, and
``cancel_and_wait`` repeats the cancel until the task really ended.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await `awaitable`, raising TimeoutError after `seconds` (like asyncio.wait_for)."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def cancel_and_wait(task: "asyncio.Future[object] | asyncio.Task[object]") -> None:
    """Cancel `task` and wait until it has finished, ignoring how it ended (cancelled, failed,
    or done). The cancel is repeated if the task swallowed it and went on. If the task running
    this is itself cancelled meanwhile, that cancellation propagates."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)  # never swallows the caller's cancellation
    if not task.cancelled():
        task.exception()  # retrieved: how it ended does not matter here
