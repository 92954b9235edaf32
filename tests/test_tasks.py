"""cancel_and_wait stops a task without swallowing the caller's own cancellation (a sync that
cleans up its prefetch while being cancelled must still stop)."""

import asyncio
import contextlib

import pytest

from spv.tasks import cancel_and_wait


def test_the_stopped_task_ends_however_it_ends() -> None:
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ValueError("cleanup failed") from None

    async def main() -> None:
        sleeper = asyncio.ensure_future(asyncio.sleep(10))
        failing = asyncio.ensure_future(fails_when_cancelled())
        await asyncio.sleep(0)
        await cancel_and_wait(sleeper)
        await cancel_and_wait(failing)
        assert sleeper.cancelled() and isinstance(failing.exception(), ValueError)

    asyncio.run(main())


def test_the_callers_cancellation_propagates() -> None:
    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # a slow cleanup: the caller is cancelled meanwhile
            raise

    async def caller(inner: "asyncio.Task[None]", reached: list[str]) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await cancel_and_wait(inner)  # the outer cancel arrives while waiting here
            reached.append("after cleanup")  # must not run: the caller was cancelled

    async def main() -> list[str]:
        reached: list[str] = []
        inner = asyncio.ensure_future(slow_to_stop())
        outer = asyncio.ensure_future(caller(inner, reached))
        await asyncio.sleep(0.01)
        outer.cancel()
        await asyncio.sleep(0.05)
        outer.cancel()  # a second cancel while the cleanup awaits the inner task
        with pytest.raises(asyncio.CancelledError):
            await outer
        return reached

    assert asyncio.run(main()) == []


def test_a_task_that_swallows_a_cancel_is_cancelled_again() -> None:
    async def stubborn() -> str:
        with contextlib.suppress(asyncio.CancelledError):  # as wait_for could in 3.11
            await asyncio.sleep(10)
        await asyncio.sleep(10)
        return "not reached"

    async def main() -> bool:
        task = asyncio.ensure_future(stubborn())
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_and_wait(task), 5)
        return task.cancelled()

    assert asyncio.run(main())


def test_within_times_out_and_passes_results_through() -> None:
    from spv.tasks import within

    async def main() -> None:
        assert await within(asyncio.sleep(0, "ok"), 1) == "ok"
        with pytest.raises(TimeoutError):
            await within(asyncio.sleep(5), 0.05)

    asyncio.run(main())
