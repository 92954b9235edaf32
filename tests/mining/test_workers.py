"""The worker pool: anns on the current job, prompt job changes, the watchdog on a hung worker,
threads, pause, priority, stop, battery detection."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from miner import kernel
from miner.pool.protocol import PoolJob
from miner.workers import (
    KernelEngine,
    WorkerPool,
    check_threads,
    cpu_count,
    default_threads,
    lower_thread_priority,
    on_battery,
)

from .poolserver import EASY_TARGET, wait_for

HEIGHT = 1_000_000
JOB_A = PoolJob(bytes(range(1, 33)), HEIGHT, EASY_TARGET)
JOB_B = PoolJob(bytes(range(2, 34)), HEIGHT + 1, EASY_TARGET)

needs_native = pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[float, PoolJob, list[bytes]]] = []
        self.threads: set[int] = set()

    def __call__(self, job: PoolJob, anns: list[bytes]) -> None:
        with self.lock:
            self.got.append((time.monotonic(), job, anns))
            self.threads.add(threading.get_ident())

    def count(self, job: PoolJob | None = None) -> int:
        with self.lock:
            return sum(len(a) for _, j, a in self.got if job is None or j == job)


def test_thread_defaults() -> None:
    assert default_threads() == max(1, cpu_count() - 1)
    assert check_threads(1) == 1 and check_threads(cpu_count()) == cpu_count()
    for bad in (0, cpu_count() + 1):
        with pytest.raises(ValueError, match="between 1 and"):
            check_threads(bad)


@needs_native
def test_workers_mine_valid_anns_and_follow_job_changes() -> None:
    rec = Recorder()
    workers = WorkerPool(rec, threads=1, miner_id=0x12345678)
    workers.start()
    try:
        workers.set_job(JOB_A)
        assert wait_for(lambda: rec.count(JOB_A) > 0, 10)
        first = rec.got[0][2][0]
        assert kernel.validate(first, JOB_A.parent_hash).ok
        assert int.from_bytes(first[4:8], "little") == 0x12345678  # the first hard nonce
        changed = time.monotonic()
        workers.set_job(JOB_B)
        assert wait_for(lambda: rec.count(JOB_B) > 0, 10)
        with rec.lock:
            first_b = next(t for t, j, _ in rec.got if j == JOB_B)
            late_a = [t for t, j, _ in rec.got if j == JOB_A and t > changed + 0.2]
        # the worker dropped job A at its next kernel chunk and rebuilt tables for B
        assert late_a == []
        assert first_b - changed < 3.0
        ann_b = next(a for _, j, a in rec.got if j == JOB_B)[0]
        assert kernel.validate(ann_b, JOB_B.parent_hash).ok
        assert workers.hashes > 0 and workers.hard_nonces >= 2 and workers.cpu_seconds > 0
    finally:
        assert workers.stop(2.0)


class HangingEngine(KernelEngine):
    """Hangs the first mine() call until released, like a stuck native call."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hung = threading.Event()
        self.calls = 0
        self.hung_thread = 0

    def mine(
        self, prepared: kernel.Job, start: int, count: int, cancel: Callable[[], bool]
    ) -> kernel.MineBatch:
        self.calls += 1
        if self.calls == 1:
            self.hung_thread = threading.get_ident()
            self.hung.set()
            self.release.wait(30)
        return super().mine(prepared, start, count, cancel)


@needs_native
def test_watchdog_replaces_a_hung_worker() -> None:
    rec = Recorder()
    engine = HangingEngine()
    workers = WorkerPool(rec, threads=1, engine=engine, stall_timeout=0.5)
    workers.start()
    try:
        workers.set_job(JOB_A)
        assert engine.hung.wait(10)
        assert workers.check() == []  # not silent long enough yet
        time.sleep(0.7)
        reasons = workers.check()
        assert len(reasons) == 1 and "worker 0" in reasons[0] and "no progress" in reasons[0]
        assert workers.restarts == 1
        assert wait_for(lambda: rec.count() > 0, 10)  # the replacement mines
        engine.release.set()  # the hung call returns: its anns must not be delivered
        time.sleep(0.3)
        assert len(workers.status()) == 1
        assert engine.hung_thread not in rec.threads
    finally:
        engine.release.set()
        assert workers.stop(2.0)


@needs_native
def test_set_threads_pause_and_prompt_stop() -> None:
    rec = Recorder()
    workers = WorkerPool(rec, threads=1, engine=KernelEngine())
    workers.start()
    try:
        workers.set_job(JOB_A)
        if cpu_count() >= 2:
            workers.set_threads(2)
            assert wait_for(lambda: len(workers.status()) == 2, 2)
            assert {w.slot for w in workers.status()} == {0, 1}
            workers.set_threads(1)
            assert [w.slot for w in workers.status()] == [0]
        assert wait_for(lambda: rec.count() > 0, 10)
        workers.pause("test")
        assert wait_for(lambda: all(w.state == "paused" for w in workers.status()), 2)
        hashes = workers.hashes
        time.sleep(0.3)
        assert workers.hashes == hashes
        workers.resume()
        assert wait_for(lambda: workers.hashes > hashes, 10)
        # stop while building tables
        workers.set_job(JOB_B)
        time.sleep(0.05)
    finally:
        t0 = time.monotonic()
        assert workers.stop(2.0)
        assert time.monotonic() - t0 < 2.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux")
def test_priority_is_lowered_for_the_thread_only() -> None:
    result: list[str] = []
    prio: list[int] = []

    def run() -> None:
        result.append(lower_thread_priority(5))
        prio.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    base = os.getpriority(os.PRIO_PROCESS, 0)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert result[0].startswith("nice") and prio[0] == min(19, base + 5)
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the process keeps its priority


def supply(root: Path, name: str, **files: str) -> None:
    d = root / name
    d.mkdir(parents=True)
    for key, value in files.items():
        (d / key).write_text(value + "\n")


def test_on_battery(tmp_path: Path) -> None:
    assert on_battery(tmp_path / "missing") is False
    supply(tmp_path, "AC", type="Mains", online="0")
    supply(tmp_path, "BAT0", type="Battery", status="Discharging", scope="System")
    supply(tmp_path, "hidpp_battery_0", type="Battery", status="Discharging", scope="Device")
    assert on_battery(tmp_path) is True
    (tmp_path / "AC" / "online").write_text("1\n")
    assert on_battery(tmp_path) is False
    (tmp_path / "AC" / "online").write_text("0\n")
    (tmp_path / "BAT0" / "status").write_text("Full\n")
    assert on_battery(tmp_path) is False  # plugged in but reporting offline: not discharging
