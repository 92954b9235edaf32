"""Announcement mining against one or more pools: the workers, the pool clients, the
watchdog and the statistics, wired together (spec sections 13.6 and 14).

* The job comes from the first pool in the list that is usable (has a job and has answered
  within ``failover_after`` seconds); if it goes silent the next one takes over, and the first
  takes back over when it answers again. Every ann is offered to every pool whose chain tracks
  the mined parent with a compatible target and signing key (section 13.6); other pools count
  the anns as ``incompatible``.
* Anns of a job that is no longer mined are dropped (``stale``), never sent.
* A supervisor thread ticks every ``tick`` seconds: it runs the watchdog (stuck workers, a
  stalled config poller, hung uploads, a pool that accepts nothing for ``no_accept_timeout``),
  queues aged batches, pauses on battery when asked, keeps rolling rates and a history for
  charts, and emits events through ``on_event(kind, payload)`` (a callback shaped like
  ``AppCore.emit``). Event kinds: ``mining.state``, ``mining.job``, ``mining.pool``,
  ``mining.stats``, ``mining.watchdog``; payloads are JSON-ready dicts.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import kernel
from .pool.client import PoolClient, PoolOptions, PoolStatus
from .pool.protocol import PoolJob, check_payto
from .reference import difficulty
from .workers import (
    POWER_SUPPLY_DIR,
    Engine,
    WorkerPool,
    WorkerStatus,
    check_threads,
    cpu_count,
    default_threads,
    on_battery,
)

log = logging.getLogger(__name__)

EventSink = Callable[[str, object], None]


@dataclass
class MinerOptions:
    threads: int | None = None
    """Worker threads (None: every core but one)."""
    nice: int = 10
    """How much to lower the workers' priority (0: not at all)."""
    pause_on_battery: bool = False
    power_supply_dir: Path = POWER_SUPPLY_DIR
    battery_check_interval: float = 5.0
    stall_timeout: float | None = None
    """Worker watchdog (None: 30 s with the native kernel)."""
    failover_after: float = 20.0
    """Seconds a failing job pool keeps the job before the next pool's job is mined."""
    no_accept_timeout: float = 600.0
    """Reset a pool's connections when anns go to it but none is accepted for this long."""
    tick: float = 0.5
    rate_window: float = 10.0
    """Seconds over which hashes/s, anns/s and bandwidth are averaged."""
    history_interval: float = 10.0
    history_seconds: float = 3600.0
    stats_interval: float = 2.0
    """Seconds between two ``mining.stats`` events."""
    miner_id: int | None = None
    pool: PoolOptions = field(default_factory=PoolOptions)


@dataclass(frozen=True)
class HistorySample:
    time: float
    """Unix time."""
    hashes_per_sec: float
    anns_per_sec: float
    accepted_per_sec: float
    upload_bps: float
    job_height: int | None
    cpu_percent: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class MiningSnapshot:
    running: bool
    uptime: float
    backend: str
    threads: int
    paused: str | None
    priority: str
    hashes_per_sec: float
    anns_per_sec: float
    """Anns found per second (all pools share them)."""
    accepted_per_sec: float
    upload_bps: float
    """Upload bandwidth, bits per second, all pools."""
    estimated_eps: float
    """packetcrypt_rs' "e/s": difficulty x anns/s."""
    cpu_percent: float
    """Mining threads' CPU time over wall time, as a share of the whole machine."""
    hashes: int
    anns_found: int
    anns_stale: int
    """Found for a job that had been replaced (dropped before any pool saw them)."""
    hard_nonces: int
    job: PoolJob | None
    job_changes: int
    job_pool: str | None
    watchdog_restarts: int
    recent_events: tuple[str, ...]
    workers: tuple[WorkerStatus, ...]
    pools: tuple[PoolStatus, ...]

    @property
    def accepted(self) -> int:
        return sum(p.counters.accepted for p in self.pools)

    @property
    def rejected(self) -> int:
        return sum(p.counters.rejected for p in self.pools)

    def to_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "running": self.running,
            "uptime": round(self.uptime, 1),
            "backend": self.backend,
            "threads": self.threads,
            "paused": self.paused,
            "priority": self.priority,
            "hashes_per_sec": round(self.hashes_per_sec, 1),
            "anns_per_sec": round(self.anns_per_sec, 2),
            "accepted_per_sec": round(self.accepted_per_sec, 2),
            "upload_bps": round(self.upload_bps),
            "estimated_eps": round(self.estimated_eps),
            "cpu_percent": round(self.cpu_percent, 1),
            "hashes": self.hashes,
            "anns_found": self.anns_found,
            "anns_stale": self.anns_stale,
            "hard_nonces": self.hard_nonces,
            "job": _job_json(job) if job is not None else None,
            "job_changes": self.job_changes,
            "watchdog_restarts": self.watchdog_restarts,
            "recent_events": list(self.recent_events),
            "workers": [w.__dict__ for w in self.workers],
            "pools": [p.to_json() for p in self.pools],
        }


def _job_json(job: PoolJob) -> dict[str, Any]:
    return {
        "height": job.parent_height,
        "parent": job.parent_display,
        "target": job.target_bits,
        "signed": any(job.signing_key),
        "pool": job.pool,
    }


def target_work(bits: int) -> float:
    return float(difficulty.work_for_target(max(0, difficulty.compact_to_target(bits))))


@dataclass
class _Totals:
    t: float
    hashes: int
    anns: int
    bytes_sent: int
    accepted: int
    cpu: float


class AnnMiner:
    """Mine announcements for ``pools`` (master URLs) and pay ``payto``."""

    def __init__(
        self,
        pools: Sequence[str],
        payto: str,
        options: MinerOptions | None = None,
        *,
        on_event: EventSink | None = None,
        engine: Engine | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not pools:
            raise ValueError("no pool to mine for")
        if len(set(pools)) != len(pools):
            raise ValueError("a pool is listed twice")
        self.payto = check_payto(payto)
        self.options = options or MinerOptions()
        self.on_event = on_event
        self.clock = clock
        threads = self.options.threads
        self.pools = [
            PoolClient(url, payto, self.options.pool, on_update=self._pool_updated, clock=clock)
            for url in pools
        ]
        self.workers = WorkerPool(
            self._found,
            threads=check_threads(threads) if threads is not None else default_threads(),
            engine=engine,
            nice=self.options.nice,
            stall_timeout=self.options.stall_timeout,
            miner_id=self.options.miner_id,
            clock=clock,
        )
        self._lock = threading.RLock()
        self._job: PoolJob | None = None
        self._job_changes = 0
        self._stale = 0
        self._restarts = 0
        self._recent: collections.deque[str] = collections.deque(maxlen=50)
        self._pool_states: dict[str, str] = {}
        self._window: collections.deque[_Totals] = collections.deque()
        self._history: collections.deque[HistorySample] = collections.deque(
            maxlen=max(1, int(self.options.history_seconds / self.options.history_interval))
        )
        self._last_good: dict[str, tuple[int, float]] = {}
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._started = 0.0
        self._stopped_at: float | None = None
        self._on_battery = False

    # --- lifecycle ---

    @property
    def running(self) -> bool:
        return self._supervisor is not None and not self._stop.is_set()

    def start(self) -> None:
        if self._supervisor is not None:
            raise RuntimeError("this miner was already started")
        self._started = self.clock()
        now = self.clock()
        for pool in self.pools:
            self._last_good[pool.url] = (0, now)
        self._window.append(self._totals(now))
        self._emit("mining.state", {"state": "started", "threads": self.workers.threads})
        self.workers.start()
        for pool in self.pools:
            pool.start()
        self._supervisor = threading.Thread(
            target=self._supervise, name="mining-supervisor", daemon=True
        )
        self._supervisor.start()
        log.info("mining started: %d threads, %s", self.workers.threads, kernel.BACKEND_REASON)

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop mining; True if every worker ended within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        if self._supervisor is None or self._stop.is_set():
            return True
        self._stop.set()
        self._stopped_at = self.clock()
        # the miners first (no new announcements after this), then what they found in their
        # last moments is uploaded until shortly before the deadline, then the pools stop
        ok = self.workers.stop(max(0.1, (deadline - time.monotonic()) * 0.5))
        drain_until = deadline - 0.2 * timeout
        for pool in self.pools:
            pool.stop(drain_until=drain_until)
        self._supervisor.join(max(0.0, deadline - time.monotonic()))
        for pool in self.pools:
            pool.join(deadline)
        self._emit("mining.state", {"state": "stopped"})
        return ok

    def set_threads(self, n: int) -> None:
        self.workers.set_threads(n)
        self._emit("mining.state", {"state": "threads", "threads": n})

    # --- the job ---

    @property
    def job(self) -> PoolJob | None:
        return self._job

    def _pool_updated(self, pool: PoolClient) -> None:
        state = pool.state
        if self._pool_states.get(pool.url) != state:
            self._pool_states[pool.url] = state
            self._emit("mining.pool", pool.status().to_json())
        self._select_job()

    def _select_job(self) -> None:
        now = self.clock()
        with self._lock:
            if self._stop.is_set():
                return
            chosen = next(
                (p for p in self.pools if p.usable(now, self.options.failover_after)), None
            )
            if chosen is None:
                return  # nobody answers: keep the current job (or idle if none yet)
            job = chosen.job
            if job is None or job == self._job:
                return
            self._job = job
            self._job_changes += 1
            # pools first: from here on, anns of the old job are stale everywhere
            for pool in self.pools:
                pool.uploader.set_job(job)
            self.workers.set_job(job)
        log.info(
            "mining parent %s @ %d target %#x from %s",
            job.parent_display,
            job.parent_height,
            job.target_bits,
            job.pool,
        )
        self._emit("mining.job", _job_json(job))

    def _found(self, job: PoolJob, anns: list[bytes]) -> None:
        """Called by the workers with the anns of one kernel call."""
        if job != self._job:
            with self._lock:
                self._stale += len(anns)
            return
        for pool in self.pools:
            why = pool.incompatibility(job)
            if why is None:
                pool.uploader.add(anns, job)
            else:
                with self._lock:
                    pool.uploader.counters.incompatible += len(anns)

    # --- supervisor ---

    def _supervise(self) -> None:
        opts = self.options
        last_history = last_emit = self.clock()
        next_battery = 0.0
        stall_after = opts.pool.connect_timeout + opts.pool.request_timeout + 5.0
        while not self._stop.wait(opts.tick):
            try:
                now = self.clock()
                reasons = self.workers.check()
                for pool in self.pools:
                    reasons.extend(pool.check(stall_after))
                    reasons.extend(self._check_accepting(pool, now))
                    pool.uploader.flush_due()
                if reasons:
                    with self._lock:
                        self._restarts += len(reasons)
                for reason in reasons:
                    self._note(reason)
                    self._emit("mining.watchdog", {"reason": reason})
                self._select_job()
                if opts.pause_on_battery and now >= next_battery:
                    next_battery = now + opts.battery_check_interval
                    self._check_battery()
                self._sample(now)
                if now - last_history >= opts.history_interval:
                    last_history = now
                    self._history.append(self._history_sample())
                if now - last_emit >= opts.stats_interval:
                    last_emit = now
                    self._emit("mining.stats", self.snapshot().to_json())
            except Exception:  # the supervisor must survive anything
                log.exception("mining supervisor tick failed")

    def _check_accepting(self, pool: PoolClient, now: float) -> list[str]:
        c = pool.uploader.counters
        seen_submitted, since = self._last_good[pool.url]
        if c.last_accept > since or c.submitted == seen_submitted:
            self._last_good[pool.url] = (c.submitted, max(since, c.last_accept, now))
            return []
        if now - since < self.options.no_accept_timeout:
            return []
        self._last_good[pool.url] = (c.submitted, now)
        pool.reset_connections()
        return [
            f"pool {pool.url}: nothing accepted for {now - since:.0f} s while submitting; "
            "connections reset"
        ]

    def _check_battery(self) -> None:
        battery = on_battery(self.options.power_supply_dir)
        if battery == self._on_battery:
            return
        self._on_battery = battery
        if battery:
            self.workers.pause("on battery")
            self._note("running on battery: mining paused")
            self._emit("mining.state", {"state": "paused", "reason": "on battery"})
        else:
            self.workers.resume()
            self._note("back on mains power: mining resumed")
            self._emit("mining.state", {"state": "resumed"})

    def _note(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            self._recent.append(f"{stamp} {text}")
        log.warning("%s", text)

    # --- statistics ---

    def _totals(self, now: float) -> _Totals:
        counters = [p.uploader.counters for p in self.pools]
        return _Totals(
            t=now,
            hashes=self.workers.hashes,
            anns=self.workers.anns,
            bytes_sent=sum(c.bytes_sent for c in counters),
            accepted=sum(c.accepted for c in counters),
            cpu=self.workers.cpu_seconds,
        )

    def _sample(self, now: float) -> None:
        with self._lock:
            self._window.append(self._totals(now))
            while len(self._window) > 2 and now - self._window[1].t >= self.options.rate_window:
                self._window.popleft()

    def _rates(self) -> tuple[float, float, float, float, float]:
        with self._lock:
            if len(self._window) < 2:
                return 0.0, 0.0, 0.0, 0.0, 0.0
            first, last = self._window[0], self._window[-1]
        dt = last.t - first.t
        if dt <= 0:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        return (
            (last.hashes - first.hashes) / dt,
            (last.anns - first.anns) / dt,
            (last.accepted - first.accepted) / dt,
            (last.bytes_sent - first.bytes_sent) * 8 / dt,
            (last.cpu - first.cpu) / dt / cpu_count() * 100,
        )

    def _history_sample(self) -> HistorySample:
        hps, aps, acc, bps, cpu = self._rates()
        job = self._job
        return HistorySample(
            time=time.time(),
            hashes_per_sec=hps,
            anns_per_sec=aps,
            accepted_per_sec=acc,
            upload_bps=bps,
            job_height=job.parent_height if job else None,
            cpu_percent=cpu,
        )

    def history(self) -> list[HistorySample]:
        """Samples every ``history_interval`` seconds, oldest first (an hour by default)."""
        with self._lock:
            return list(self._history)

    def snapshot(self) -> MiningSnapshot:
        hps, aps, acc, bps, cpu = self._rates()
        job = self._job
        end = self._stopped_at if self._stopped_at is not None else self.clock()
        workers = tuple(self.workers.status())
        with self._lock:
            stale, restarts, changes = self._stale, self._restarts, self._job_changes
            recent = tuple(self._recent)
        return MiningSnapshot(
            running=self.running,
            uptime=max(0.0, end - self._started) if self._started else 0.0,
            backend=kernel.BACKEND,
            threads=self.workers.threads,
            paused=self.workers.paused,
            priority=workers[0].priority if workers else "",
            hashes_per_sec=hps,
            anns_per_sec=aps,
            accepted_per_sec=acc,
            upload_bps=bps,
            estimated_eps=aps * target_work(job.target_bits) if job else 0.0,
            cpu_percent=cpu,
            hashes=self.workers.hashes,
            anns_found=self.workers.anns,
            anns_stale=stale,
            hard_nonces=self.workers.hard_nonces,
            job=job,
            job_changes=changes,
            job_pool=job.pool if job else None,
            watchdog_restarts=restarts,
            recent_events=recent,
            workers=workers,
            pools=tuple(p.status() for p in self.pools),
        )

    def _emit(self, kind: str, payload: object) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(kind, payload)
        except Exception:  # a broken listener must not break mining
            log.exception("mining event listener failed for %s", kind)
