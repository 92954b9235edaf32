"""Mining worker threads on one pool job (spec sections 8 and 9).

:class:`WorkerPool` runs N threads (default: every core but one, at least one). Each thread
takes the next unused hard nonce, builds its tables with :func:`miner.kernel.prepare_job` and
scans the soft nonces with :func:`miner.kernel.mine`; the native kernel releases the GIL, so
the threads use separate cores. A job change is seen by every worker within one kernel chunk
(tens of milliseconds): the ``cancel`` callable the kernel polls also carries the worker's
heartbeat, which the watchdog (:meth:`WorkerPool.check`) reads to replace a worker that stopped
making progress.

Workers run at a lowered priority where the OS allows it per thread (Linux ``setpriority`` on
the thread id, Windows ``SetThreadPriority``, macOS QoS "utility"); the rest of the process
(the GUI) keeps its normal priority. :func:`on_battery` reads ``/sys/class/power_supply``.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import kernel
from .pool.protocol import PoolJob

log = logging.getLogger(__name__)

MINE_CHUNK = kernel.NONCE_CHUNK * 4
"""Soft nonces per :func:`miner.kernel.mine` call (found anns are handed over after each)."""


def cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Every core but one, at least one."""
    return max(1, cpu_count() - 1)


def check_threads(n: int) -> int:
    if not 1 <= n <= cpu_count():
        raise ValueError(f"threads must be between 1 and {cpu_count()} (the number of cores)")
    return n


# --- priority and power ---------------------------------------------------------------------------


def lower_thread_priority(nice: int) -> str:
    """Lower the calling thread's priority; returns what was done (for the stats)."""
    if nice <= 0:
        return "normal priority"
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            target = min(19, current + nice)
            os.setpriority(os.PRIO_PROCESS, tid, target)
            return f"nice {target} (this thread)"
        except (OSError, AttributeError) as exc:
            return f"normal priority (setpriority failed: {exc})"
    if sys.platform == "win32":
        try:
            import ctypes

            k32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
            level = -2 if nice >= 10 else -1  # LOWEST / BELOW_NORMAL
            if k32.SetThreadPriority(k32.GetCurrentThread(), level):
                return "below-normal thread priority"
        except (OSError, AttributeError):
            pass
        return "normal priority"
    if sys.platform == "darwin":
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.dylib")
            qos_utility = 0x11
            if libc.pthread_set_qos_class_self_np(qos_utility, 0) == 0:
                return "QoS utility (this thread)"
        except (OSError, AttributeError):
            pass
    return "normal priority"


POWER_SUPPLY_DIR = Path("/sys/class/power_supply")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def on_battery(root: Path = POWER_SUPPLY_DIR) -> bool:
    """True when the machine runs on battery: no mains/USB supply online and a system battery
    discharging. False when unknown (no ``/sys/class/power_supply``)."""
    try:
        devices = sorted(root.iterdir())
    except OSError:
        return False
    discharging = False
    for dev in devices:
        kind = _read(dev / "type")
        if kind in ("Mains", "USB", "USB_C", "USB_PD", "USB_PD_DRP", "Wireless"):
            if _read(dev / "online") == "1":
                return False
        elif kind == "Battery":
            if _read(dev / "scope") == "Device":
                continue  # a mouse or a headset
            if _read(dev / "status") == "Discharging":
                discharging = True
    return discharging


# --- the engine (what a worker calls; replaceable in tests) --------------------------------------


class Engine(Protocol):
    def prepare(self, job: PoolJob, hard_nonce: int, cancel: Callable[[], bool]) -> kernel.Job: ...

    def mine(
        self, prepared: kernel.Job, start: int, count: int, cancel: Callable[[], bool]
    ) -> kernel.MineBatch: ...


class KernelEngine:
    """Mines through :mod:`miner.kernel` (native when built)."""

    def prepare(self, job: PoolJob, hard_nonce: int, cancel: Callable[[], bool]) -> kernel.Job:
        return kernel.prepare_job(
            job.parent_hash,
            job.parent_height,
            job.target_bits,
            job.signing_key,
            hard_nonce,
            cancel=cancel,
        )

    def mine(
        self, prepared: kernel.Job, start: int, count: int, cancel: Callable[[], bool]
    ) -> kernel.MineBatch:
        return kernel.mine(prepared, start, count, None, cancel=cancel)


def default_stall_timeout() -> float:
    """Seconds without a heartbeat before the watchdog replaces a worker. The native kernel
    beats every few tens of milliseconds; the pure-Python reference builds a table in one
    call of minutes."""
    return 30.0 if kernel.BACKEND == "native" else 900.0


# --- the pool of workers ---------------------------------------------------------------------------


@dataclass
class _Worker:
    slot: int
    incarnation: int
    thread: threading.Thread | None = None
    beat: float = 0.0
    state: str = "starting"
    """starting, idle, paused, tables, mining, stopped."""
    hashes: int = 0
    anns: int = 0
    cpu: float = 0.0
    abandoned: bool = False
    priority: str = ""


@dataclass(frozen=True)
class WorkerStatus:
    slot: int
    state: str
    hashes: int
    anns: int
    cpu_seconds: float
    seconds_since_beat: float
    priority: str


AnnSink = Callable[[PoolJob, list[bytes]], None]


class WorkerPool:
    """N mining threads sharing the current job."""

    def __init__(
        self,
        on_anns: AnnSink,
        *,
        threads: int | None = None,
        engine: Engine | None = None,
        nice: int = 10,
        stall_timeout: float | None = None,
        miner_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_anns = on_anns
        self.threads = check_threads(threads) if threads is not None else default_threads()
        self.engine: Engine = engine or KernelEngine()
        self.nice = nice
        self.stall_timeout = stall_timeout if stall_timeout is not None else default_stall_timeout()
        self.clock = clock
        self._cond = threading.Condition()
        self._job: PoolJob | None = None
        self._gen = 0
        self._paused: str | None = None
        self._running = False
        self._workers: list[_Worker] = []
        self._incarnations = 0
        self._next_nonce = (miner_id if miner_id is not None else random.getrandbits(32)) & (
            0xFFFFFFFF
        )
        self.hard_nonces = 0
        self.failed_hard_nonces = 0
        self.restarts = 0
        self._retired_hashes = 0
        self._retired_anns = 0
        self._retired_cpu = 0.0

    # --- control ---

    @property
    def job(self) -> PoolJob | None:
        with self._cond:
            return self._job

    @property
    def paused(self) -> str | None:
        return self._paused

    def start(self) -> None:
        with self._cond:
            if self._running:
                return
            self._running = True
            for slot in range(self.threads):
                self._spawn(slot)

    def _spawn(self, slot: int) -> _Worker:
        self._incarnations += 1
        worker = _Worker(slot, self._incarnations, beat=self.clock())
        worker.thread = threading.Thread(
            target=self._run, args=(worker,), name=f"miner-{slot}", daemon=True
        )
        self._workers.append(worker)
        worker.thread.start()
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.abandoned = True
        self._workers.remove(worker)
        self._retired_hashes += worker.hashes
        self._retired_anns += worker.anns
        self._retired_cpu += worker.cpu

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop every worker; True if all of them ended within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._running = False
            workers = list(self._workers)
            self._cond.notify_all()
        ok = True
        for worker in workers:
            assert worker.thread is not None
            worker.thread.join(max(0.0, deadline - time.monotonic()))
            ok = ok and not worker.thread.is_alive()
        return ok

    def set_job(self, job: PoolJob | None) -> int:
        """Mine ``job`` from now on (None: idle); returns the job generation."""
        with self._cond:
            if job != self._job:
                self._job = job
                self._gen += 1
                self._cond.notify_all()
            return self._gen

    def set_threads(self, n: int) -> None:
        """Change the number of workers (1..cores) while mining."""
        n = check_threads(n)
        with self._cond:
            if n == self.threads:
                return
            self.threads = n
            if not self._running:
                return
            for worker in list(self._workers):
                if worker.slot >= n:
                    self._retire(worker)
            active = {w.slot for w in self._workers}
            for slot in range(n):
                if slot not in active:
                    self._spawn(slot)
            self._cond.notify_all()

    def pause(self, reason: str) -> None:
        with self._cond:
            self._paused = reason
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = None
            self._cond.notify_all()

    # --- counters ---

    @property
    def hashes(self) -> int:
        with self._cond:
            return self._retired_hashes + sum(w.hashes for w in self._workers)

    @property
    def anns(self) -> int:
        with self._cond:
            return self._retired_anns + sum(w.anns for w in self._workers)

    @property
    def cpu_seconds(self) -> float:
        with self._cond:
            return self._retired_cpu + sum(w.cpu for w in self._workers)

    def status(self) -> list[WorkerStatus]:
        now = self.clock()
        with self._cond:
            return [
                WorkerStatus(w.slot, w.state, w.hashes, w.anns, w.cpu, now - w.beat, w.priority)
                for w in sorted(self._workers, key=lambda w: w.slot)
            ]

    # --- watchdog ---

    def check(self) -> list[str]:
        """Replace workers that stopped beating while they had work; returns the reasons."""
        now = self.clock()
        reasons = []
        with self._cond:
            if not self._running:
                return []
            for worker in list(self._workers):
                if worker.state not in ("tables", "mining", "starting", "failed"):
                    continue
                silent = now - worker.beat
                if silent > self.stall_timeout:
                    self._retire(worker)
                    self._spawn(worker.slot)
                    self.restarts += 1
                    doing = {"tables": "building tables", "failed": "failed"}.get(
                        worker.state, worker.state
                    )
                    why = (
                        "it failed"
                        if worker.state == "failed"
                        else f"it made no progress for {silent:.1f} s while {doing}"
                    )
                    reasons.append(f"worker {worker.slot} restarted: {why}")
        for reason in reasons:
            log.warning("watchdog: %s", reason)
        return reasons

    # --- the worker thread ---

    def _take_nonce(self) -> int:
        nonce = self._next_nonce
        self._next_nonce = (nonce + 1) & 0xFFFFFFFF
        self.hard_nonces += 1
        return nonce

    def _run(self, worker: _Worker) -> None:
        worker.priority = lower_thread_priority(self.nice)
        cpu0 = time.thread_time()
        try:
            self._loop(worker, cpu0)
        except Exception:
            log.exception("mining worker %d failed", worker.slot)
            worker.state = "failed"
            worker.beat = -1e18  # the watchdog replaces it at its next check
        else:
            worker.state = "stopped"

    def _loop(self, worker: _Worker, cpu0: float) -> None:
        while True:
            with self._cond:
                while (
                    self._running
                    and not worker.abandoned
                    and (self._job is None or self._paused is not None)
                ):
                    worker.state = "idle" if self._paused is None else "paused"
                    worker.beat = self.clock()
                    self._cond.wait(0.5)
                if not self._running or worker.abandoned:
                    return
                job, gen = self._job, self._gen
                assert job is not None
                hard_nonce = self._take_nonce()
                worker.state = "tables"
                worker.beat = self.clock()

            def cancel(gen: int = gen) -> bool:
                worker.beat = self.clock()
                worker.cpu = time.thread_time() - cpu0
                return (
                    not self._running
                    or worker.abandoned
                    or self._gen != gen
                    or self._paused is not None
                )

            if not self._mine_hard_nonce(worker, job, hard_nonce, cancel):
                return  # replaced by the watchdog: its successor owns the slot
            worker.cpu = time.thread_time() - cpu0

    def _mine_hard_nonce(
        self, worker: _Worker, job: PoolJob, hard_nonce: int, cancel: Callable[[], bool]
    ) -> bool:
        """Tables for one hard nonce, then its soft nonces until they run out or ``cancel``.
        False when the worker was abandoned. The tables are freed on return, before the next
        hard nonce allocates its own (one set per worker)."""
        try:
            prepared = self.engine.prepare(job, hard_nonce, cancel)
        except kernel.JobError:
            with self._cond:
                self.failed_hard_nonces += 1
            return True
        except kernel.Cancelled:
            return True
        worker.state = "mining"
        nonce = 0
        while not cancel():
            batch = self.engine.mine(prepared, nonce, MINE_CHUNK, cancel)
            if worker.abandoned:
                return False
            worker.hashes += batch.scanned
            if batch.anns:
                worker.anns += len(batch.anns)
                self.on_anns(job, batch.anns)
            nonce = batch.next_nonce
            if batch.exhausted:
                break
        return True
