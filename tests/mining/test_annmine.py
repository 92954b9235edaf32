"""End to end against loopback pools: mined anns are validated and accepted by the pool, a job
change restarts the workers and no stale ann is sent, a dead pool does not stop mining for
another, failover, shared chains (section 13.6), the watchdog, prompt stop, stats events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from miner import kernel
from miner.annmine import AnnMiner
from miner.pool.protocol import PoolJob
from miner.workers import KernelEngine

from .conftest import PAYTO, fast_options
from .poolserver import TestPool, dead_url, wait_for
from .test_workers import HangingEngine

pytestmark = pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")


class Events:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[str, object]] = []

    def __call__(self, kind: str, payload: object) -> None:
        with self.lock:
            self.items.append((kind, payload))

    def kinds(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self.items]

    def of(self, kind: str) -> list[object]:
        with self.lock:
            return [p for k, p in self.items if k == kind]


@pytest.fixture
def miners() -> Iterator[list[AnnMiner]]:
    made: list[AnnMiner] = []
    yield made
    for m in made:
        m.stop(2.0)


def test_anns_are_accepted_and_stats_flow(pool: TestPool, miners: list[AnnMiner]) -> None:
    events = Events()
    miner = AnnMiner([pool.url], PAYTO, fast_options(), on_event=events)
    miners.append(miner)
    miner.start()
    assert wait_for(lambda: miner.snapshot().pools[0].counters.accepted >= 300, 15)
    assert pool.rejected == 0 and pool.invalid == {} and pool.dup == 0
    # routed to both handlers
    assert wait_for(lambda: {s.handler for s in pool.submissions} == {0, 1}, 5)
    assert all(s.payto == PAYTO for s in pool.submissions)
    assert wait_for(lambda: "mining.stats" in events.kinds(), 3)
    snap = miner.snapshot()
    assert snap.running and snap.threads == 1 and snap.backend == "native"
    assert snap.job is not None and snap.job.parent_height == pool.job_block().height
    assert snap.anns_found >= pool.accepted and snap.hashes > 0
    (p,) = snap.pools
    assert p.state == "up" and 0 < p.counters.accepted <= pool.accepted
    assert p.counters.goodrate == 1.0 and p.counters.rejected == 0

    def rates_up() -> bool:
        snap = miner.snapshot()
        return snap.hashes_per_sec > 0 and snap.anns_per_sec > 0 and snap.upload_bps > 0

    assert wait_for(rates_up, 5)
    assert miner.snapshot().cpu_percent > 0
    assert wait_for(lambda: len(miner.history()) >= 2, 3)

    def stats_event_counts() -> bool:
        stats = events.of("mining.stats")[-1]
        return isinstance(stats, dict) and stats["pools"][0]["accepted"] > 0

    assert wait_for(stats_event_counts, 3)
    job_events = events.of("mining.job")
    assert job_events and isinstance(job_events[0], dict)
    t0 = time.monotonic()
    assert miner.stop(2.0)
    assert time.monotonic() - t0 < 2.0
    assert not miner.running and events.kinds()[-1] == "mining.state"
    c = miner.snapshot().pools[0].counters  # what was found before the stop was uploaded
    assert c.unsent == 0 and c.lost == 0 and c.inflight == 0
    assert c.accepted == c.submitted - c.stale == pool.accepted


class RecordingEngine(KernelEngine):
    """Notes when each hard nonce of each job starts."""

    def __init__(self) -> None:
        self.prepared: list[tuple[float, PoolJob]] = []

    def prepare(self, job: PoolJob, hard_nonce: int, cancel: Callable[[], bool]) -> kernel.Job:
        self.prepared.append((time.monotonic(), job))
        return super().prepare(job, hard_nonce, cancel)


def test_job_change_restarts_workers_and_sends_no_stale_anns(
    pool: TestPool, miners: list[AnnMiner]
) -> None:
    engine = RecordingEngine()
    events = Events()
    miner = AnnMiner([pool.url], PAYTO, fast_options(), engine=engine, on_event=events)
    miners.append(miner)
    miner.start()
    old = pool.job_block().height
    assert wait_for(lambda: pool.accepted_by_height[old] > 0, 15)
    pool.advance()
    new = pool.job_block().height
    assert wait_for(lambda: miner.job is not None and miner.job.parent_height == new, 3)
    switched = time.monotonic()
    assert wait_for(lambda: pool.accepted_by_height[new] > 0, 15)
    # the worker started on the new job within a second of the switch
    first_new = min(t for t, j in engine.prepared if j.parent_height == new)
    assert first_new - switched < 1.0
    received_old = pool.received_by_height[old]
    time.sleep(0.5)
    # nothing for the old parent went out once the new job was known (an upload already in
    # flight at the switch may land just after it)
    late = [s for s in pool.submissions if old in s.parent_heights and s.time > switched + 0.3]
    assert late == [] and pool.received_by_height[old] == received_old
    assert pool.rejected == 0 and pool.invalid == {}
    snap = miner.snapshot()
    assert snap.job_changes == 2
    assert [e["height"] for e in events.of("mining.job") if isinstance(e, dict)] == [old, new]


def test_dead_pool_does_not_stop_mining_for_another(pool: TestPool, miners: list[AnnMiner]) -> None:
    dead = dead_url()
    events = Events()
    miner = AnnMiner([dead, pool.url], PAYTO, fast_options(), on_event=events)
    miners.append(miner)
    miner.start()
    assert wait_for(lambda: miner.snapshot().pools[1].counters.accepted > 0, 15)
    snap = miner.snapshot()
    down, up = snap.pools
    assert down.state == "down" and down.failures >= 2 and down.last_error == "cannot connect"
    assert down.retry_in is not None
    assert up.state == "up" and up.counters.accepted > 0
    assert snap.job is not None and snap.job.pool == pool.url
    pool_events = [p for p in events.of("mining.pool") if isinstance(p, dict)]
    assert any(p["url"] == dead and p["state"] == "down" for p in pool_events)


def test_failover_and_shared_chain(miners: list[AnnMiner]) -> None:
    with TestPool() as a, TestPool() as b, TestPool() as c:
        c.chain = a.chain  # c follows the same chain as a: it takes a's anns (13.6)
        miner = AnnMiner([a.url, b.url, c.url], PAYTO, fast_options())
        miners.append(miner)
        miner.start()
        assert wait_for(lambda: a.accepted > 0 and c.accepted > 0, 15)
        assert b.accepted == 0 and b.submissions == []
        assert wait_for(lambda: miner.snapshot().pools[1].counters.incompatible > 0, 3)
        assert a.rejected == c.rejected == 0
        # a and c stop answering: after failover_after the job comes from b
        a.config_mode = c.config_mode = "error"
        assert wait_for(lambda: miner.job is not None and miner.job.pool == b.url, 5)
        assert wait_for(lambda: b.accepted > 0, 15)
        assert b.rejected == 0
        a.config_mode = c.config_mode = "ok"
        assert wait_for(lambda: miner.job is not None and miner.job.pool == a.url, 5)


def test_overload_and_failures_are_counted(pool: TestPool, miners: list[AnnMiner]) -> None:
    pool.submit_mode = "overload"
    miner = AnnMiner([pool.url], PAYTO, fast_options())
    miners.append(miner)
    miner.start()
    assert wait_for(lambda: miner.snapshot().pools[0].counters.overload > 0, 15)
    c = miner.snapshot().pools[0].counters
    assert c.rejected == 0 and c.accepted == 0 and c.goodrate == 0
    pool.submit_mode = "ok"
    assert wait_for(lambda: miner.snapshot().pools[0].counters.accepted > 0, 10)
    assert 0 < miner.snapshot().pools[0].counters.goodrate < 1


def test_watchdog_recovers_a_hung_worker(pool: TestPool, miners: list[AnnMiner]) -> None:
    engine = HangingEngine()
    events = Events()
    miner = AnnMiner(
        [pool.url], PAYTO, fast_options(stall_timeout=0.5), on_event=events, engine=engine
    )
    miners.append(miner)
    miner.start()
    try:
        assert engine.hung.wait(10)
        assert wait_for(lambda: "mining.watchdog" in events.kinds(), 3)
        (reason,) = events.of("mining.watchdog")
        assert isinstance(reason, dict) and "worker 0" in str(reason["reason"])
        assert wait_for(lambda: pool.accepted > 0, 15)  # mining went on
        snap = miner.snapshot()
        assert snap.watchdog_restarts == 1 and any("worker 0" in e for e in snap.recent_events)
    finally:
        engine.release.set()


def test_refuses_bad_payto_and_pools() -> None:
    with pytest.raises(ValueError, match="payout address"):
        AnnMiner(["http://127.0.0.1:1"], "", fast_options())
    with pytest.raises(ValueError, match="payout address"):
        AnnMiner(["http://127.0.0.1:1"], "pkt1 bad", fast_options())
    with pytest.raises(ValueError, match="no pool"):
        AnnMiner([], PAYTO, fast_options())
    with pytest.raises(ValueError, match="http"):
        AnnMiner(["ftp://x"], PAYTO, fast_options())


def test_pause_on_battery(tmp_path: Path, miners: list[AnnMiner]) -> None:
    for name, kind in (("AC", "Mains"), ("BAT0", "Battery")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "type").write_text(kind)
    (tmp_path / "AC" / "online").write_text("0")
    (tmp_path / "BAT0" / "status").write_text("Discharging")
    events = Events()
    opts = fast_options(
        pause_on_battery=True, power_supply_dir=tmp_path, battery_check_interval=0.05
    )
    miner = AnnMiner([dead_url()], PAYTO, opts, on_event=events)
    miners.append(miner)
    miner.start()
    assert wait_for(lambda: miner.snapshot().paused == "on battery", 3)
    assert wait_for(
        lambda: {"state": "paused", "reason": "on battery"} in events.of("mining.state"), 3
    )
    (tmp_path / "AC" / "online").write_text("1")
    assert wait_for(lambda: miner.snapshot().paused is None, 3)
    assert wait_for(lambda: {"state": "resumed"} in events.of("mining.state"), 3)
