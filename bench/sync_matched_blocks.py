"""First sync of a miner's wallet: a payout in every block, so the filter scan matches every
block and the light client fetches them all. Prints blocks/s for the block fetch one request
at a time (the old sequential path: one getdata of 16 blocks, then the next) next to the
pipelined fetch (several getdata in flight, spread over the peers), from loopback peers in
other processes: one answering at once, and peers whose requests wait LATENCY seconds (a
long network path; requests overlap), where pipelining matters.

The chain: N regtest blocks (default 10,000), each coinbase paying OUTPUTS scripts (default
50, as a pool pays its miners), one of them the wallet's. Each run starts from a synced header
and filter-header store and times the filter scan with its block fetch, which is what a
wallet's first sync adds; the header/filter-header sync time is printed once. The watcher is
either the smallest one (a list append: the light client alone) or the real wallet (its SQLite
store, through `app.wallet.sync.sync_wallet`, as `pkt-wallet balance` syncs).

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

from app.wallet.sync import sync_wallet  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.node import SpvNode  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.script import p2wpkh_script  # noqa: E402
from spv.tx import Transaction  # noqa: E402
from tests.support.loop_probe import LoopLagProbe  # noqa: E402
from tests.support.peer_process import PeerProcesses  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import Misbehaviour  # noqa: E402

WALLET = "miner"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}  # the key file's cost is not what is measured


class PayoutWatcher:
    """The smallest wallet: remembers the outputs paying it."""

    def __init__(self, script: bytes) -> None:
        self.script = script
        self.payouts: list[tuple[int, bytes, int]] = []  # (height, txid, value)

    def watched_scripts(self) -> Iterable[bytes]:
        return (self.script,)

    def scan_start_height(self) -> int:
        return 0

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        for tx in txs:
            for out in tx.outputs:
                if out.script == self.script:
                    self.payouts.append((height, tx.txid, out.value))

    def on_scan_progress(self, height: int) -> None:
        pass

    def on_chain_rewound(self, height: int) -> None:
        self.payouts = [p for p in self.payouts if p[0] <= height]

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        return False


def new_wallet(datadir: Path) -> bytes:
    """A wallet in `datadir`; returns the script its payouts go to."""
    wallet, _ = Wallet.create(datadir, WALLET, REGTEST, "pw", kdf_params=FAST_KDF)
    script = script_for_address(wallet.receive_address(), REGTEST)
    wallet.close()
    return script


def build_chain(n: int, outputs: int, script: bytes) -> RegtestChain:
    others = [p2wpkh_script(i.to_bytes(20, "big")) for i in range(1, outputs)]
    chain = RegtestChain()
    for _ in range(n):
        chain.mine(pay_to=script, coinbase_others=others)
    return chain


async def headers_and_filter_headers(port: int, datadir: Path) -> float:
    node = SpvNode(REGTEST, datadir, peers=[("127.0.0.1", port)], target_peers=1)
    async with node:
        start = time.perf_counter()
        await node.sync(timeout=600)
        return time.perf_counter() - start


async def scan(
    ports: list[int], datadir: Path, window: int, script: bytes, real_wallet: bool
) -> tuple[int, float, str]:
    peers = [("127.0.0.1", port) for port in ports]
    node = SpvNode(REGTEST, datadir, peers=peers, target_peers=len(ports))
    node.blocks.window = window
    watcher = PayoutWatcher(script)
    wallet = Wallet.open(datadir, WALLET, REGTEST) if real_wallet else None
    try:
        async with node:
            await node.wait_for_peers(len(ports))
            async with LoopLagProbe() as probe:
                start = time.perf_counter()
                if wallet is not None:
                    await sync_wallet(wallet, node, timeout=1800)
                else:
                    node.watcher = watcher
                    node.rescan_from(0)
                    await node.sync(timeout=1800)
                elapsed = time.perf_counter() - start
        found = wallet.history_count() if wallet is not None else len(watcher.payouts)
    finally:
        if wallet is not None:
            wallet.close()
    assert found == node.chain.height, f"{found} payouts recorded for {node.chain.height} blocks"
    return found, elapsed, probe.summary()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    outputs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    base = Path(tempfile.mkdtemp(prefix="bench-matched-"))
    synced = base / "synced"
    servers = PeerProcesses()
    try:
        script = new_wallet(synced)
        t = time.perf_counter()
        chain = build_chain(n, outputs, script)
        size = sum(len(cb.raw) for cb in chain.blocks[1:]) / n
        print(
            f"chain: {n:,} blocks, coinbases of {outputs} outputs (one the wallet's), "
            f"{size:,.0f} bytes a block, built in {time.perf_counter() - t:.1f} s"
        )
        local = servers.serve(chain)
        far = servers.serve(chain, Misbehaviour(latency=latency))
        far2 = servers.serve(chain, Misbehaviour(latency=latency))
        # The peers (other processes) serve the chain; here it would only make Python's
        # garbage collector walk millions of objects now and then, stalling the event loop.
        del chain
        gc.collect()
        took = asyncio.run(headers_and_filter_headers(local, synced))
        print(f"headers + filter headers (once): {took:.1f} s")
        far_label = f"requests waiting {latency * 1000:.0f} ms"
        runs = [
            ("1 peer answering at once", [local], "sequential", 16, False),
            ("1 peer answering at once", [local], "pipelined", 64, False),
            ("1 peer answering at once", [local], "pipelined", 64, True),
            (f"1 peer, {far_label}", [far], "sequential", 16, False),
            (f"1 peer, {far_label}", [far], "pipelined", 64, False),
            (f"2 peers, {far_label}", [far, far2], "pipelined", 64, False),
            (f"2 peers, {far_label}", [far, far2], "pipelined", 64, True),
        ]
        rates: dict[tuple[str, str], float] = {}
        for i, (where, ports, mode, window, real) in enumerate(runs):
            datadir = base / f"run{i}"
            shutil.copytree(synced, datadir)
            (datadir / "chain" / "peers.json").unlink()  # only this run's peers
            blocks, elapsed, lag = asyncio.run(scan(ports, datadir, window, script, real))
            who = "SQLite wallet" if real else "list watcher"
            if not real:
                rates[where, mode] = blocks / elapsed
            print(
                f"{where}, {mode} (getdata of 16, {window} in flight per peer), {who}: "
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
