"""Compact-filter matching throughput for a wallet of 1,000 scripts over 100,000 realistic
filters, with the native matcher and the pure-Python reference side by side. Printed, not
asserted. Each native figure is the best of three runs.

Realistic means shaped like PKT blocks: most hold the coinbase (miner and Network Steward
outputs) and a handful of transactions; some hold hundreds of outputs (pool payouts).

Run: .venv/bin/python bench/filter_scan.py [N_FILTERS] [N_SCRIPTS]
"""

import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spv.bip158 import (  # noqa: E402
    MATCH_BACKEND,
    MATCH_THREADS,
    build_filter,
    match_many,
    native_kernel,
    native_kernels,
    set_native_kernel,
)


def realistic_filters(n: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    shared = [b"\x00\x20" + rng.randbytes(32)]  # the Network Steward script, in every block
    out = []
    for _ in range(n):
        block_hash = rng.randbytes(32)
        r = rng.random()
        size = (
            rng.randint(2, 8)
            if r < 0.8
            else rng.randint(9, 60)
            if r < 0.97
            else rng.randint(100, 400)
        )
        elements = shared + [b"\x00\x14" + rng.randbytes(20) for _ in range(size)]
        out.append((block_hash, build_filter(block_hash, elements)))
    return out


def main() -> None:
    n_filters = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_scripts = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(7)
    t = time.perf_counter()
    filters = realistic_filters(n_filters, rng)
    avg = sum(len(f) for _, f in filters) / len(filters)
    print(
        f"built {n_filters:,} filters (average {avg:.0f} bytes) in {time.perf_counter() - t:.1f} s"
    )
    wallet = [b"\x00\x14" + rng.randbytes(20) for _ in range(n_scripts)]
    print(f"matcher backend: {MATCH_BACKEND}, kernel {native_kernel()}, threads {MATCH_THREADS}")

    match_many(filters[:2000], wallet)  # warm up: thread pool, allocations

    def best_rate(run: Callable[[], object], repeat: int = 3) -> float:
        """filters/s of the fastest of `repeat` runs (the machine may be shared)."""
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        return n_filters / best

    hits = match_many(filters, wallet)
    native_rate = best_rate(lambda: match_many(filters, wallet))
    label = f"native, match_many (splits over {MATCH_THREADS} threads)"
    print(f"{label:<52} {native_rate:>12,.0f} filters/s ({len(hits)} false positives)")

    default_kernel = native_kernel()
    for kernel in native_kernels()[::-1]:
        set_native_kernel(kernel)
        assert match_many(filters, wallet, threads=1) == hits
        for threads in (1, MATCH_THREADS) if MATCH_THREADS > 1 else (1,):
            rate = best_rate(lambda t=threads: match_many(filters, wallet, threads=t))
            print(f"{f'native, {kernel} kernel, {threads} thread(s)':<52} {rate:>12,.0f} filters/s")
    if default_kernel is not None:
        set_native_kernel(default_kernel)

    chunks = [filters[i : i + 1000] for i in range(0, n_filters, 1000)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = best_rate(
            lambda: list(pool.map(lambda c: match_many(c, wallet, threads=1), chunks))
        )
    print(
        f"{'native, caller splits 1,000-filter chunks, 2 threads':<52} {threaded:>12,.0f} filters/s"
    )

    sample = filters[:200]
    start = time.perf_counter()
    match_many(sample, wallet, native=False)
    py_rate = len(sample) / (time.perf_counter() - start)
    print(f"{'pure Python reference':<52} {py_rate:>12,.0f} filters/s")
    print(f"{'native / Python':<52} {native_rate / py_rate:>12,.0f}x")
    print("goal: >= 100,000 filters/s for a 1,000-script wallet")


if __name__ == "__main__":
    main()
