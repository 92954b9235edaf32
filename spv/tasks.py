"""Stopping asyncio tasks without losing the caller's own cancellation."""

import asyncio


async def cancel_and_wait(task: "asyncio.Future[object] | asyncio.Task[object]") -> None:
    """Cancel `task` and wait until it has finished, ignoring how it ended (cancelled, failed,
    or done). If the task running this is itself being cancelled meanwhile, that cancellation
    propagates: it is never swallowed along with the awaited task's own."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:  # noqa: BLE001 - how the stopped task ended does not matter here
        pass
