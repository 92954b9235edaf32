"""Throughput of the pure-Python PacketCrypt reference (miner/reference) on this machine.

Prints announcements validated per second, soft nonces tried per second, items computed per
second (and the implied time to build one 8192-item table) and block proofs validated per
second. A measurement only; nothing is
asserted.

The nonce loop runs over a table of 8192 pseudo-random 1024-byte items: its cost (ChaCha20,
Poly1305, BLAKE2b over fixed sizes) does not depend on what the items contain, and a real
table2 would take minutes to build in pure Python.

Run: .venv/bin/python bench/pc_reference.py [seconds per measurement, default 5]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from miner.reference import blockproof, blockwire, difficulty, items, mine, validate
from miner.reference.primitives import expand

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "packetcrypt"


def _rate(label: str, seconds: float, step: Callable[[int], object], unit: str) -> float:
    """Call ``step(i)`` for i = 0, 1, ... during ``seconds``; print and return calls per second."""
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(count)
        count += 1
    rate = count / (time.perf_counter() - start)
    print(f"{label:<52} {rate:>10,.1f} {unit}/s  ({count} in {seconds:.0f} s)")
    return rate


def bench_validation(seconds: float) -> float:
    meta = json.loads((DATA / "synthetic_mined_anns_v1.json").read_text())
    blob = (DATA / "synthetic_mined_anns_v1.bin").read_bytes()
    parent = bytes.fromhex(meta["job"]["parent_block_hash_internal_order"])
    anns = [blob[i : i + 1024] for i in range(0, len(blob), 1024)]

    def validate_one(i: int) -> None:
        if not validate.validate_ann(anns[i % len(anns)], parent).ok:
            raise RuntimeError("a vector announcement failed to validate")

    return _rate("announcements validated", seconds, validate_one, "anns")


def bench_nonces(seconds: float) -> float:
    table = [expand(1024, bytes(32), i) for i in range(8192)]
    seed = bytes(range(32))
    target = difficulty.compact_to_target(0x1F100000)

    def one_nonce(nonce: int) -> None:
        result = mine.hash_nonce(seed, table, nonce)
        difficulty.le256(result.work_hash) < target  # noqa: B015 - the check is part of the cost

    return _rate("soft nonces tried (init + 4 updates + final)", seconds, one_nonce, "nonces")


def bench_items(seconds: float) -> float:
    meta = json.loads((DATA / "generated_reference_vectors.json").read_text())["synthetic_job"]
    seed = bytes.fromhex(meta["annHash0"])
    ctx = items.make_context(seed[:32])
    return _rate(
        "table items computed (synthetic job table1)",
        seconds,
        lambda i: items.make_item(ctx, i, seed[32:]),
        "items",
    )


def bench_block_proofs(seconds: float) -> float:
    vector = json.loads((DATA / "block_proof_vectors.json").read_text())["vectors"][0]
    block = blockwire.parse_block(bytes.fromhex(vector["block_hex"]))
    parents = [bytes.fromhex(h) for h in vector["ann_parent_hashes_internal"]]

    def validate_block(_: int) -> None:
        if not blockproof.validate_block_proof(block, vector["block_height"], parents).ok:
            raise RuntimeError("the vector block failed to validate")

    return _rate("block proofs validated (vector A: 4 anns)", seconds, validate_block, "blocks")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    print(f"PacketCrypt pure-Python reference, {seconds:.0f} s per measurement, 1 process")
    bench_validation(seconds)
    nonces = bench_nonces(seconds)
    item_rate = bench_items(seconds)
    print(f"{'=> one 8192-item table, 1 process':<52} {8192 / item_rate:>10,.1f} s")
    bench_block_proofs(seconds)
    print(f"{'=> anns/s at work 4096 (nonce loop only)':<52} {nonces / 4096:>10,.2f}")


if __name__ == "__main__":
    main()
