"""Header sync throughput: headers/s stored by the light client from a loopback test peer,
next to the pure sha256d rate over the same headers. Printed, not asserted.

Run: .venv/bin/python bench/header_sync.py [N]   (default N = 200000; at most about 400000:
the headers are spaced 1201 s apart, for regtest's min-difficulty rule, between the genesis
time and now)
"""

import asyncio
import hashlib
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spv import peer as peer_module  # noqa: E402
from spv.bytes_io import ByteWriter  # noqa: E402
from spv.chain import NATIVE_VALIDATION  # noqa: E402
from spv.difficulty import target_from_bits  # noqa: E402
from spv.node import SpvNode  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import SPACING, RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402


def mine_headers(n: int) -> list[bytes]:
    """n regtest headers on top of genesis, with real proof of work at the pow limit."""
    target = target_from_bits(REGTEST.pow_limit_bits)
    prev = REGTEST.genesis_hash
    start = int(time.time()) - (n + 10) * SPACING
    out = []
    sha = hashlib.sha256
    for height in range(1, n + 1):
        merkle = sha(height.to_bytes(8, "little")).digest()
        prefix = ByteWriter().i32(0x20000000).write(prev).write(merkle)
        prefix.u32(start + height * SPACING).u32(REGTEST.pow_limit_bits)
        base = prefix.getvalue()
        nonce = 0
        while True:
            raw = base + nonce.to_bytes(4, "little")
            h = sha(sha(raw).digest()).digest()
            if int.from_bytes(h, "little") <= target:
                break
            nonce += 1
        out.append(raw)
        prev = h
    return out


def serve(peer: TestPeer, headers: list[bytes]) -> None:
    all_headers = [REGTEST.genesis_block[:80], *headers]
    hashes = [hashlib.sha256(hashlib.sha256(h).digest()).digest() for h in all_headers]
    peer.headers = all_headers
    peer.hashes = hashes
    peer.height_of = {h: i for i, h in enumerate(hashes)}


async def sync(port: int, datadir: Path, native: bool = True) -> float:
    node = SpvNode(REGTEST, datadir, peers=[("127.0.0.1", port)], target_peers=1)
    node.chain.native_validation = native and NATIVE_VALIDATION
    async with node:
        await node.wait_for_peers(1)
        start = time.perf_counter()
        await node._sync_headers()
        elapsed = time.perf_counter() - start
        return node.chain.height / elapsed


def _peer_process(headers: list[bytes], port_queue: "multiprocessing.Queue[int]") -> None:
    peer = TestPeer(RegtestChain())
    serve(peer, headers)
    peer.start()
    port_queue.put(peer.port)
    time.sleep(3600)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    t = time.perf_counter()
    headers = mine_headers(n)
    print(f"mined {n:,} regtest headers in {time.perf_counter() - t:.1f} s")
    start = time.perf_counter()
    sha = hashlib.sha256
    for raw in headers:
        sha(sha(raw).digest()).digest()
    hash_rate = n / (time.perf_counter() - start)
    # The peer runs in its own process, as a real pktd would.
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_peer_process, args=(headers, ports), daemon=True)
    proc.start()
    try:
        port = ports.get(timeout=60)
        with tempfile.TemporaryDirectory() as tmp:
            sync_rate = asyncio.run(sync(port, Path(tmp)))
        # the pure-Python path: the reference validation loop and payload parsing
        join_headers = peer_module._join_headers
        peer_module._join_headers = None
        try:
            with tempfile.TemporaryDirectory() as tmp:
                py_rate = asyncio.run(sync(port, Path(tmp), native=False))
        finally:
            peer_module._join_headers = join_headers
    finally:
        proc.terminate()
    label = "native validation" if NATIVE_VALIDATION else "no native extension"
    print(f"{f'header sync into the store ({label})':<50} {sync_rate:>12,.0f} headers/s")
    print(f"{'header sync into the store (pure-Python path)':<50} {py_rate:>12,.0f} headers/s")
    print(f"{'sha256d alone over the same headers (hashlib)':<50} {hash_rate:>12,.0f} headers/s")
    print(f"{'ratio (goal >= 0.25; goal rate >= 150,000/s)':<50} {sync_rate / hash_rate:>12.2f}")
    print(f"{'ratio, pure-Python path':<50} {py_rate / hash_rate:>12.2f}")


if __name__ == "__main__":
    main()
