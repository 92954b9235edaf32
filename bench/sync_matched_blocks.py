"""First sync of a miner's wallet: a payout in every block, so the filter scan matches every
block and the light client fetches them all. Prints blocks/s for the block fetch one request
at a time (the old sequential path: one getdata of 16 blocks, then the next) next to the
pipelined fetch (several getdata in flight, spread over the peers), from loopback peers in
other processes: one answering at once, and peers whose requests wait LATENCY seconds (a
long network path; requests overlap), where pipelining matters.

The chain: N regtest blocks (default 10,000), each coinbase paying OUTPUTS scripts (default
50, as a pool pays its miners), one of them watched. Each run starts from a synced header
and filter-header store and times the filter scan with its block fetch, which is what a
wallet's first sync adds; the header/filter-header sync time is printed once. The watcher
keeps the transactions paying it (a list append); the wallet's own store is not in the loop
(app/wallet is moving to SQLite; see docs/PERFORMANCE.md).

Run: .venv/bin/python bench/sync_matched_blocks.py [N] [OUTPUTS] [LATENCY]
"""

import asyncio
import gc
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spv.node import SpvNode  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.script import p2wpkh_script  # noqa: E402
from spv.tx import Transaction  # noqa: E402
from tests.support.loop_probe import LoopLagProbe  # noqa: E402
from tests.support.peer_process import PeerProcesses  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import Misbehaviour  # noqa: E402

WATCHED = p2wpkh_script(b"\x42" * 20)


class PayoutWatcher:
    """The smallest wallet: remembers the outputs paying it."""

    def __init__(self) -> None:
        self.payouts: list[tuple[int, bytes, int]] = []  # (height, txid, value)
        self.commits = 0

    def watched_scripts(self) -> Iterable[bytes]:
        return (WATCHED,)

    def scan_start_height(self) -> int:
        return 0

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        for tx in txs:
            for out in tx.outputs:
                if out.script == WATCHED:
                    self.payouts.append((height, tx.txid, out.value))

    def on_scan_progress(self, height: int) -> None:
        self.commits += 1

    def on_chain_rewound(self, height: int) -> None:
        self.payouts = [p for p in self.payouts if p[0] <= height]

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        return False


def build_chain(n: int, outputs: int) -> RegtestChain:
    others = [p2wpkh_script(i.to_bytes(20, "big")) for i in range(1, outputs)]
    chain = RegtestChain()
    for _ in range(n):
        chain.mine(pay_to=WATCHED, coinbase_others=others)
    return chain


async def headers_and_filter_headers(port: int, datadir: Path) -> float:
    node = SpvNode(REGTEST, datadir, peers=[("127.0.0.1", port)], target_peers=1)
    async with node:
        start = time.perf_counter()
        await node.sync(timeout=600)
        return time.perf_counter() - start


async def scan(ports: list[int], datadir: Path, window: int, batch: int) -> tuple[int, float, str]:
    watcher = PayoutWatcher()
    peers = [("127.0.0.1", port) for port in ports]
    node = SpvNode(REGTEST, datadir, peers=peers, target_peers=len(ports))
    node.blocks.window, node.blocks.batch = window, batch
    async with node:
        await node.wait_for_peers(len(ports))
        node.watcher = watcher
        node.rescan_from(0)
        async with LoopLagProbe() as probe:
            start = time.perf_counter()
            await node.sync(timeout=1800)
            elapsed = time.perf_counter() - start
    assert len(watcher.payouts) == node.chain.height, "a payout was missed"
    return len(watcher.payouts), elapsed, probe.summary()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    outputs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    t = time.perf_counter()
    chain = build_chain(n, outputs)
    size = sum(len(cb.raw) for cb in chain.blocks[1:]) / n
    print(
        f"chain: {n:,} blocks, coinbases of {outputs} outputs (one watched), "
        f"{size:,.0f} bytes a block, built in {time.perf_counter() - t:.1f} s"
    )
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    servers = PeerProcesses()
    local = servers.serve(chain)
    far = servers.serve(chain, Misbehaviour(latency=latency))
    far2 = servers.serve(chain, Misbehaviour(latency=latency))
    # The peers (other processes) serve the chain; here it would only make Python's garbage
    # collector walk a few million objects now and then, stalling the event loop measured.
    del chain
    gc.collect()
    base = Path(tempfile.mkdtemp(prefix="bench-matched-"))
    try:
        synced = base / "synced"
        took = asyncio.run(headers_and_filter_headers(local, synced))
        print(f"headers + filter headers (once): {took:.1f} s")
        far_label = f"requests waiting {latency * 1000:.0f} ms"
        runs = [
            ("1 peer answering at once", [local], "sequential", 16),
            ("1 peer answering at once", [local], "pipelined", 64),
            (f"1 peer, {far_label}", [far], "sequential", 16),
            (f"1 peer, {far_label}", [far], "pipelined", 64),
            (f"2 peers, {far_label}", [far, far2], "pipelined", 64),
        ]
        rates: dict[tuple[str, str], float] = {}
        for i, (where, ports, mode, window) in enumerate(runs):
            datadir = base / f"run{i}"
            shutil.copytree(synced, datadir)
            (datadir / "chain" / "peers.json").unlink()  # only this run's peers
            blocks, elapsed, lag = asyncio.run(scan(ports, datadir, window, 16))
            rates[where, mode] = blocks / elapsed
            print(
                f"{where}, {mode} (getdata of 16, {window} in flight per peer): "
                f"{blocks:,} blocks in {elapsed:.1f} s = {blocks / elapsed:,.0f} blocks/s"
            )
            print(f"  {lag}")
        for where in dict.fromkeys(w for w, _ in rates):
            if (where, "sequential") in rates:
                ratio = rates[where, "pipelined"] / rates[where, "sequential"]
                print(f"pipelined / sequential, {where}: {ratio:.2f}x")
    finally:
        servers.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
