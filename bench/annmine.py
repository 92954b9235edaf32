"""PacketCrypt announcement mining throughput through miner.kernel, on this machine.

Prints, for the backend in use (the C kernel when built):

* table builds per second (one 8192-item table; a hard nonce needs two plus a merkle tree),
* hashes per second (soft nonces through the nonce loop: init, 4 lookups and updates, final),
* announcements per second at target 0x20000fff and at work 4096 (0x1f100000, the usual pool
  setting), table building included, each for 1 thread and for all cores.

Each thread mines its own hard nonces of one synthetic job (section 8); every measured ann
is re-validated. Besides the anns counted, the expected count from the hashes done
(hashes x P(hash < target)) is shown: it has no Poisson noise.

Run: .venv/bin/python bench/annmine.py [seconds per ann measurement, default 30]
"""

from __future__ import annotations

import os
import sys
import threading
import time

from miner import kernel
from miner.reference import difficulty

PARENT = bytes(range(1, 33))
HEIGHT = 1_000_000
TARGETS = [("0x20000fff", 0x20000FFF), ("work 4096 (0x1f100000)", 0x1F100000)]


def _threads_run(threads: int, fn: object) -> list[float]:
    results = [0.0] * threads

    def run(w: int) -> None:
        results[w] = fn(w)  # type: ignore[operator]

    pool = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def bench_tables(threads: int, rounds: int = 3) -> tuple[float, float]:
    """(tables built per second, all threads together; per CPU-second). Each thread builds
    its own jobs' tables (two per hard nonce, and table1's merkle tree)."""

    def work(w: int) -> float:
        for r in range(rounds):
            kernel.prepare_job(PARENT, HEIGHT, 0x1F100000, hard_nonce=1000 * w + r)
        return float(rounds)

    cpu0, start = time.process_time(), time.perf_counter()
    done = 2 * sum(_threads_run(threads, work))
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu0)


def bench_hashes(threads: int, seconds: float = 4.0) -> tuple[float, float]:
    """(soft nonces hashed per second, all threads together; per CPU-second)."""
    jobs = [
        kernel.prepare_job(PARENT, HEIGHT, 0x1F100000, hard_nonce=77 + w) for w in range(threads)
    ]

    def work(w: int) -> float:
        deadline = time.perf_counter() + seconds
        nonce = 0
        while time.perf_counter() < deadline:
            nonce = kernel.mine(jobs[w], nonce, 8192).next_nonce
        return float(nonce)

    cpu0, start = time.process_time(), time.perf_counter()
    total = sum(_threads_run(threads, work))
    return total / (time.perf_counter() - start), total / (time.process_time() - cpu0)


def bench_anns(threads: int, bits: int, seconds: float) -> tuple[float, float, float, float]:
    """(anns/s counted, anns/s expected from the hashes, hashes/s, cores used), tables
    included. "Cores used" is the process's CPU time over the wall time: below the thread
    count when other programs compete for the cores."""
    cpu0 = time.process_time()
    deadline = time.perf_counter() + seconds
    found: list[bytes] = []
    stats = kernel.mine_threads(
        PARENT,
        HEIGHT,
        bits,
        threads=threads,
        hard_nonce_base=int.from_bytes(os.urandom(4), "little"),
        on_ann=found.append,
        cancel=lambda: time.perf_counter() > deadline,
    )
    for ann in found:
        if not kernel.validate(ann, PARENT).ok:
            raise SystemExit("a mined announcement failed validation")
    cores_used = (time.process_time() - cpu0) / stats.elapsed
    p_success = difficulty.compact_to_target(bits) / 2**256
    return (
        stats.anns / stats.elapsed,
        stats.hashes * p_success / stats.elapsed,
        stats.hashes / stats.elapsed,
        cores_used,
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    cores = os.cpu_count() or 1
    print(f"backend: {kernel.BACKEND} - {kernel.BACKEND_REASON}")
    print(f"cores: {cores}, load average before the run: {os.getloadavg()[0]:.2f}")
    if kernel.BACKEND != "native":
        print("the pure-Python reference needs minutes per table: see bench/pc_reference.py")
        return
    counts = [1] if cores == 1 else [1, cores]
    for t in counts:
        rate, per_cpu = bench_tables(t)
        print(
            f"table builds/s, {t} thread(s): {rate:6.2f}  ({t / rate:.3f} s per table per "
            f"thread; {1 / per_cpu:.3f} CPU-seconds per table)"
        )
    for t in counts:
        rate, per_cpu = bench_hashes(t)
        print(
            f"hashes/s (nonce loop), {t} thread(s): {rate:,.0f}  ({rate / t:,.0f} per thread; "
            f"{per_cpu:,.0f} per CPU-second)"
        )
    for label, bits in TARGETS:
        per_thread = {}
        for t in counts:
            counted, expected, hashes, used = bench_anns(t, bits, seconds)
            per_thread[t] = expected / t
            print(
                f"anns/s at {label}, {t} thread(s): {counted:6.1f} counted, {expected:6.1f} "
                f"expected from {hashes:,.0f} hashes/s  ({expected / t:.1f} per thread; "
                f"{used:.2f} cores used, {expected / used:.1f} per CPU-second)"
            )
        if len(counts) > 1:
            print(
                f"  scaling 1 -> {cores} threads: {per_thread[cores] * cores / per_thread[1]:.2f}x"
            )


if __name__ == "__main__":
    main()
