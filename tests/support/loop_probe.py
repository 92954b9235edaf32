"""A loop-lag probe: a task that asks to wake every `interval` seconds and records how late
it woke. A late wake-up means something held the event loop (blocking I/O, long CPU work,
a coroutine that never yields). For benches: tests do not assert timings."""

import asyncio
from types import TracebackType

from spv.tasks import cancel_and_wait


class LoopLagProbe:
    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lags: list[float] = []  # seconds late, one per wake-up
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "LoopLagProbe":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - start - self.interval))

    @property
    def max_lag(self) -> float:
        return max(self.lags, default=0.0)

    def count_over(self, seconds: float) -> int:
        return sum(1 for lag in self.lags if lag > seconds)

    def summary(self) -> str:
        ordered = sorted(self.lags)
        p99 = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
        return (
            f"event loop: longest stall {self.max_lag * 1000:.0f} ms, 99th percentile "
            f"{p99 * 1000:.1f} ms, {self.count_over(0.05)} stalls over 50 ms "
            f"({len(self.lags)} wake-ups)"
        )
