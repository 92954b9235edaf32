"""One-click mining end to end: announcements accepted by a loopback pool vs the raw engine.

* raw engine: N threads calling :func:`miner.kernel.prepare_job` and :func:`miner.kernel.mine`
  on a synthetic job, no network, counted after the same warm-up;
* end to end: :class:`miner.annmine.AnnMiner` (worker threads, pool client, batched routed
  uploads) against the test pool server of ``tests/mining/poolserver.py`` on 127.0.0.1, which
  validates every ann it receives with :func:`miner.kernel.validate`; the anns it accepts per
  second are counted after a warm-up;
* CPU: the client's own CPU time besides the workers (pool client, batching, uploads,
  supervisor; the in-process pool server's handler time is subtracted) as a share of the
  workers' CPU time: a load-independent bound on what the pipeline costs the miner;
* memory: resident set size of the process before and while N workers mine, per worker.

The ann counts have Poisson noise (about 1/sqrt(count)), so the hashes/s of both runs and the
accepted/found ratio of the end-to-end run are printed too: their product is a noise-free
estimate of the same ratio. Phases alternate (raw, end to end, raw, end to end) so that load
from other programs hits both alike.

Run: .venv/bin/python bench/mine_pool.py [--seconds 20] [--threads N] [--target 0x20000fff]
[--rounds 3] [--nice 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from miner import kernel  # noqa: E402
from miner.annmine import AnnMiner, MinerOptions  # noqa: E402
from miner.pool.client import PoolOptions  # noqa: E402
from miner.pool.upload import UploadOptions  # noqa: E402
from miner.workers import default_threads, lower_thread_priority  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402

PAYTO = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
PARENT = bytes(range(1, 33))
HEIGHT = 1_000_000


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def raw_engine(
    threads: int, target: int, seconds: float, warmup: float, nice: int
) -> tuple[int, int]:
    """anns and hashes of ``threads`` kernel loops (prepare_job, then mine in chunks) during
    ``seconds`` after ``warmup``; each thread takes its own hard nonces (section 8)."""
    stop = threading.Event()
    t0 = time.monotonic() + warmup
    t1 = t0 + seconds
    counts = [[0, 0] for _ in range(threads)]
    base = int(time.time()) & 0xFFFFFF

    def work(w: int) -> None:
        lower_thread_priority(nice)
        hard_nonce = base + w
        while not stop.is_set():
            try:
                job = kernel.prepare_job(
                    PARENT, HEIGHT, target, hard_nonce=hard_nonce, cancel=stop.is_set
                )
            except (kernel.JobError, kernel.Cancelled):
                hard_nonce += threads
                continue
            nonce = 0
            while not stop.is_set():
                batch = kernel.mine(job, nonce, kernel.NONCE_CHUNK * 4, cancel=stop.is_set)
                if t0 <= time.monotonic() <= t1:
                    counts[w][0] += len(batch.anns)
                    counts[w][1] += batch.scanned
                nonce = batch.next_nonce
                if batch.exhausted:
                    break
            hard_nonce += threads

    pool = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(threads)]
    for t in pool:
        t.start()
    time.sleep(max(0.0, t1 - time.monotonic()))
    stop.set()
    for t in pool:
        t.join()
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def end_to_end(
    threads: int, target: int, seconds: float, warmup: float, nice: int
) -> tuple[int, int, int, float, int, dict[str, int]]:
    """accepted (by the server), found, hashes, elapsed, RSS delta, client counters."""
    with TestPool(ann_target=target) as pool:
        options = MinerOptions(
            threads=threads,
            nice=nice,
            tick=0.2,
            pool=PoolOptions(poll_interval=1.0, upload=UploadOptions(batch_seconds=1.0)),
        )
        base_rss = rss_bytes()
        miner = AnnMiner([pool.url], PAYTO, options)
        miner.start()
        try:
            end = time.monotonic() + warmup + 30
            while pool.accepted == 0 and time.monotonic() < end:
                time.sleep(0.05)
            time.sleep(warmup)
            t0 = time.monotonic()
            acc0, found0, hashes0 = pool.accepted, miner.workers.anns, miner.workers.hashes
            cpu0 = (time.process_time(), miner.workers.cpu_seconds, pool.cpu_seconds)
            time.sleep(seconds)
            t1 = time.monotonic()
            acc1, found1, hashes1 = pool.accepted, miner.workers.anns, miner.workers.hashes
            cpu1 = (time.process_time(), miner.workers.cpu_seconds, pool.cpu_seconds)
            rss = rss_bytes() - base_rss
        finally:
            miner.stop(2.0)
        c = miner.snapshot().pools[0].counters
        process, workers, server = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        counters = {
            "worker_cpu_ms": round(workers * 1000),
            "server_cpu_ms": round(server * 1000),
            "client_overhead_cpu_ms": round((process - workers - server) * 1000),
            "rejected": c.rejected,
            "lost": c.lost,
            "stale": c.stale,
            "overload": c.overload,
            "invalid_at_pool": sum(pool.invalid.values()),
        }
        return acc1 - acc0, found1 - found0, hashes1 - hashes0, t1 - t0, rss, counters


def worker_memory(threads: int, target: int) -> float:
    """RSS growth per mining worker (tables, tree and buffers of one hard nonce each)."""
    from miner.pool.protocol import PoolJob
    from miner.workers import WorkerPool

    before = rss_bytes()
    workers = WorkerPool(lambda job, anns: None, threads=threads)
    workers.start()
    workers.set_job(PoolJob(PARENT, HEIGHT, target))
    try:
        peak = before
        end = time.monotonic() + 6
        while time.monotonic() < end:
            peak = max(peak, rss_bytes())
            time.sleep(0.05)
    finally:
        workers.stop(2.0)
    return (peak - before) / threads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per measured phase")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--target", type=lambda s: int(s, 0), default=0x20000FFF)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="lower the mining threads' priority in both runs (the app uses 10; default 0 "
        "here, so that other programs on the machine do not skew the comparison)",
    )
    args = parser.parse_args()
    print(f"backend: {kernel.BACKEND_REASON}")
    print(
        f"threads {args.threads}, target {args.target:#x}, {args.seconds:g} s per phase, "
        f"nice +{args.nice}, load average {os.getloadavg()[0]:.1f}"
    )

    mem = worker_memory(args.threads, args.target)
    print(f"memory per worker (RSS growth while mining): {mem / 2**20:.1f} MiB")

    raw = [0, 0, 0.0]
    e2e = [0, 0, 0, 0.0]
    rss = 0
    counters: dict[str, int] = {}
    overhead = [0, 0]
    for r in range(args.rounds):
        anns, hashes = raw_engine(
            args.threads, args.target, args.seconds, warmup=3.0, nice=args.nice
        )
        elapsed = args.seconds
        raw[0] += anns
        raw[1] += hashes
        raw[2] += elapsed
        print(
            f"round {r + 1}: raw engine   {anns / elapsed:8.2f} anns/s "
            f"{hashes / elapsed:10.0f} hashes/s"
        )
        acc, found, hashes, elapsed, rss, counters = end_to_end(
            args.threads, args.target, args.seconds, warmup=3.0, nice=args.nice
        )
        for i, v in enumerate((acc, found, hashes, elapsed)):
            e2e[i] += v
        overhead[0] += counters["client_overhead_cpu_ms"]
        overhead[1] += counters["worker_cpu_ms"]
        print(
            f"round {r + 1}: end to end   {acc / elapsed:8.2f} anns/s accepted, "
            f"{found / elapsed:.2f} found, {hashes / elapsed:10.0f} hashes/s"
        )
    raw_aps, raw_hps = raw[0] / raw[2], raw[1] / raw[2]
    acc_aps, found_aps, e2e_hps = e2e[0] / e2e[3], e2e[1] / e2e[3], e2e[2] / e2e[3]
    print()
    print(f"raw engine:  {raw_aps:.2f} anns/s, {raw_hps:,.0f} hashes/s")
    print(
        f"end to end:  {acc_aps:.2f} anns/s accepted by the pool "
        f"({found_aps:.2f} found), {e2e_hps:,.0f} hashes/s"
    )
    print(f"accepted / raw anns:                {acc_aps / raw_aps * 100:.1f} %")
    ratio = e2e_hps / raw_hps * (e2e[0] / max(1, e2e[1]))
    print(f"hashes ratio x accepted/found:      {ratio * 100:.1f} % (no Poisson noise)")
    share = overhead[0] / max(1, overhead[1])
    print(
        f"client CPU besides the workers:     {share * 100:.2f} % of the workers' CPU "
        f"(bound on the loss when every core mines: {100 / (1 + share):.1f} % kept)"
    )
    print(f"RSS growth of the end-to-end run:   {rss / 2**20:.1f} MiB")
    print(f"client counters (last run): {counters}")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    raise SystemExit(main())
