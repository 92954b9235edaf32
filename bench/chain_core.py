"""Chain-core throughput on this machine: headers parsed + hashed per second, and compact
filters matched per second. A measurement, printed; nothing is asserted.

Run: .venv/bin/python bench/chain_core.py
"""

import hashlib
import random
import time
from collections.abc import Callable

from spv.bip158 import CompactFilter, build_filter
from spv.bytes_io import ByteReader
from spv.header import BlockHeader
from spv.params import MAINNET


def _rate(label: str, n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"{label:<58} {rate:>12,.0f} /s")
    return rate


def bench_headers(n: int = 200_000) -> None:
    rng = random.Random(1)
    base = MAINNET.genesis_block[:80]
    raws = [base[:4] + rng.randbytes(64) + base[68:76] + rng.randbytes(4) for _ in range(n)]

    def parse_all() -> None:
        for raw in raws:
            BlockHeader.read(ByteReader(raw))

    def hash_only() -> None:
        sha = hashlib.sha256
        for raw in raws:
            sha(sha(raw).digest()).digest()

    parsed = _rate("headers parsed into BlockHeader and hashed (sha256d)", n, parse_all)
    hashed = _rate("sha256d alone over the same 80-byte headers", n, hash_only)
    print(f"{'ratio parse+hash / hash only':<58} {parsed / hashed:>12.2f}")


def bench_filters(n_filters: int = 2_000, elements: int = 40) -> None:
    rng = random.Random(2)
    raws = []
    for _ in range(n_filters):
        block_hash = rng.randbytes(32)
        scripts = [b"\x00\x14" + rng.randbytes(20) for _ in range(elements)]
        raws.append((block_hash, build_filter(block_hash, scripts)))
    for wallet_size, count in ((20, n_filters), (1000, n_filters // 10)):
        wallet = [b"\x00\x14" + rng.randbytes(20) for _ in range(wallet_size)]
        subset = raws[:count]

        def match_all(
            wallet: list[bytes] = wallet, subset: list[tuple[bytes, bytes]] = subset
        ) -> None:
            for block_hash, raw in subset:  # parse each time: every match decodes its filter
                CompactFilter.parse(raw).match_any(block_hash, wallet)

        _rate(
            f"filters ({elements} elements) matched, {wallet_size}-script wallet", count, match_all
        )


if __name__ == "__main__":
    print("backend: pure Python (hashlib sha256, Python SipHash/Golomb-Rice)")
    bench_headers()
    bench_filters()
