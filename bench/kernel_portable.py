"""The native kernel against its MSVC-style build, side by side, one thread.

``miner._kernel`` is the kernel as GCC builds it (computed goto, ``unsigned __int128``, AVX2 /
AVX-512 when the CPU has them); ``miner._kernel_portable`` is the same sources built with
``-DPC_FORCE_PORTABLE`` (``-O2``): switch dispatch, 128-bit products from 32-bit halves, plain-C
bit counting, no SIMD, i.e. the code paths an MSVC build takes. The native kernel is also
measured with its SIMD forced to the portable C level, which separates the cost of the missing
SIMD from the cost of the other portable paths.

Per flavour, on the same synthetic job (parent hash bytes 01..20, height 1,000,000, work 4096
= 0x1f100000) and the same hard nonces:

* CPU-seconds per hard nonce's tables (two 8192-item tables and table1's merkle tree),
* nonce-loop hashes per CPU-second,
* anns per CPU-second, mining for the given time with tables included: counted, and expected
  from the hashes done (hashes x P(hash < target), no Poisson noise); every ann is validated.

Figures are per CPU-second of this process, so other load on the machine does not skew them.
The anns a flavour finds are checked to be byte-identical to the native kernel's.

Run: .venv/bin/python bench/kernel_portable.py [seconds of mining per flavour, default 10]
"""

from __future__ import annotations

import importlib
import sys
import time
from types import ModuleType
from typing import Any

from miner import kernel
from miner.reference import difficulty
from miner.reference import mine as ref_mine

PARENT = bytes(range(1, 33))
HEIGHT = 1_000_000
BITS = 0x1F100000
CHUNK = 8192


def _header(hard_nonce: int) -> bytes:
    params = ref_mine.AnnJob(
        parent_hash=PARENT, parent_height=HEIGHT, work_bits=BITS, hard_nonce=hard_nonce
    )
    return kernel._header(params, (0, 0, bytes(32)))


def _job(mod: ModuleType, hard_nonce: int) -> Any | None:
    """The job's tables and tree, or None when this hard nonce's tables cannot be built."""
    job = mod.Job(_header(hard_nonce), PARENT)
    for status in (job.status, job.table1(0, 8192), job.middle(), job.table2(0, 8192)):
        if status:
            return None
    return job if job.end() == 0 else None


def bench_tables(mod: ModuleType, rounds: int) -> float:
    """CPU-seconds per hard nonce (tables and tree)."""
    cpu0 = time.process_time()
    for r in range(rounds):
        _job(mod, 500 + r)
    return (time.process_time() - cpu0) / rounds


def bench_hashes(mod: ModuleType, seconds: float) -> float:
    job = _job(mod, 77)
    assert job is not None
    nonce, cpu0 = 0, time.process_time()
    while time.process_time() - cpu0 < seconds:
        nonce, _ = job.mine(nonce, CHUNK, 1 << 30)
    return nonce / (time.process_time() - cpu0)


def bench_anns(mod: ModuleType, seconds: float) -> tuple[float, float, list[bytes]]:
    """(anns per CPU-second counted, expected; the anns) mining hard nonces 1000, 1001, ..."""
    found: list[bytes] = []
    hashes, hard = 0, 1000
    cpu0 = time.process_time()
    while time.process_time() - cpu0 < seconds:
        job = _job(mod, hard)
        hard += 1
        if job is None:
            continue
        nonce, last = 0, job.soft_nonce_max
        while nonce <= last and time.process_time() - cpu0 < seconds:
            start = nonce
            nonce, blob = job.mine(nonce, min(CHUNK, last + 1 - nonce), 1 << 30)
            hashes += nonce - start
            found += [blob[i : i + 1024] for i in range(0, len(blob), 1024)]
    cpu = time.process_time() - cpu0
    p_success = difficulty.compact_to_target(BITS) / 2**256
    for ann in found:
        if not kernel.validate(ann, PARENT).ok:
            raise SystemExit("a mined announcement failed validation")
    return len(found) / cpu, hashes * p_success / cpu, found


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    try:
        native = importlib.import_module("miner._kernel")
        portable = importlib.import_module("miner._kernel_portable")
    except ImportError as exc:
        raise SystemExit(f"both extensions must be built (pip install -e .): {exc}") from None
    best = native.simd_levels()[-1]
    flavours: list[tuple[str, ModuleType, str | None]] = [
        (f"native ({best})", native, best),
        ("native (portable C level)", native, "portable"),
        ("_kernel_portable", portable, None),
    ]
    rows = []
    reference_anns: list[bytes] | None = None
    for name, mod, level in flavours:
        if level is not None:
            mod.set_simd(level)
        tables = bench_tables(mod, 3)
        hashes = bench_hashes(mod, 3.0)
        counted, expected, anns = bench_anns(mod, seconds)
        if reference_anns is None:
            reference_anns = anns
        else:  # same job, same nonces: the common prefix must be identical
            n = min(len(anns), len(reference_anns))
            if anns[:n] != reference_anns[:n]:
                raise SystemExit(f"{name} mined different anns than the native kernel")
        rows.append((name, tables, hashes, counted, expected))
        print(
            f"{name:28s} tables {tables:.3f} CPU-s/hard nonce, {hashes:9,.0f} hashes/CPU-s, "
            f"anns/CPU-s at work 4096: {counted:5.1f} counted, {expected:5.1f} expected",
            flush=True,
        )
    native.set_simd(best)
    base = rows[0]
    print("ratios to the native kernel (higher = slower for tables, lower = slower otherwise):")
    for name, tables, hashes, _, expected in rows[1:]:
        print(
            f"  {name:26s} tables x{tables / base[1]:.2f}, hashes x{hashes / base[2]:.2f}, "
            f"anns (expected) x{expected / base[4]:.2f}"
        )


if __name__ == "__main__":
    main()
