"""A miner's wallet at scale: N payouts (each one output of a 157-output pool coinbase, one
block each, as on mainnet) recorded through the real wallet API into a real database file,
then the operations a user meets, timed. Printed, not asserted.

Per N (each in its own process, so peak memory is that wallet's): ingest payouts/s (the
watcher calls a sync makes: on_block_transactions per block, on_scan_progress every 1,000
blocks), open s, balance ms, first history page ms, send preview ms (a 3-input payment, and
"max" — too many coins for one transaction: the answer and the largest single payment),
consolidation plan s, bytes on disk per payout, peak RSS.

Goals at 1M payouts (issue "A miner's wallet at real scale"): open <= 0.5 s, balance <= 10 ms,
first history page <= 50 ms, send preview <= 300 ms, ingest >= 5,000 payouts/s, <= 300 bytes
per payout on disk, RSS <= 300 MB.

Run: .venv/bin/python bench/wallet_scale.py [N ...]   (default 10000 100000 1000000)
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.wallet.errors import TooManyCoinsError  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from spv.script import push_data  # noqa: E402
from spv.tx import OutPoint, Transaction, TxIn, TxOut  # noqa: E402

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
FIRST_HEIGHT = 1_500_000
OUTPUTS = 157  # mainnet block 360272's coinbase
BATCH = 1000  # blocks per filter batch: on_scan_progress after each
PKT = MAINNET.units_per_coin


def foreign_outputs(rng: random.Random) -> tuple[TxOut, ...]:
    """The pool's other 156 outputs (the same in every block: building them is not timed)."""
    return tuple(
        TxOut(rng.randrange(PKT // 100, 20 * PKT), b"\x00\x14" + rng.randbytes(20))
        for _ in range(OUTPUTS - 1)
    )


def payouts(
    first: int, count: int, ours: bytes, others: tuple[TxOut, ...], rng: random.Random
) -> list[tuple[int, Transaction]]:
    out = []
    for height in range(first, first + count):
        script_sig = push_data(height.to_bytes(4, "little")) + push_data(rng.randbytes(8))
        txin = TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), script_sig, 0xFFFFFFFF)
        position = rng.randrange(OUTPUTS)
        mine = TxOut(rng.randrange(PKT // 4, 2 * PKT), ours)
        outputs = others[:position] + (mine,) + others[position:]
        out.append((height, Transaction(1, (txin,), outputs, 0)))
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run_one(n: int) -> dict[str, float]:
    rng = random.Random(n)
    folder = Path(tempfile.mkdtemp(prefix="wallet-scale-"))
    wallet, _ = Wallet.create(folder, "miner", MAINNET, "pw", kdf_params=FAST_KDF)
    address = wallet.mining_address()
    ours = script_for_address(address, MAINNET)
    others = foreign_outputs(rng)
    ingest = 0.0
    made = 0
    t0 = 1_700_000_000
    while made < n:
        chunk = payouts(FIRST_HEIGHT + made, min(BATCH, n - made), ours, others, rng)
        for _height, tx in chunk:
            tx.txid  # noqa: B018 - the node parses blocks (and hashes them) before the wallet
        start = time.perf_counter()
        for height, tx in chunk:
            wallet.on_block_transactions(height, b"", t0 + 60 * (height - FIRST_HEIGHT), [tx])
        wallet.on_scan_progress(chunk[-1][0])
        ingest += time.perf_counter() - start
        made += len(chunk)
    wallet.ledger.tip_height = FIRST_HEIGHT + n + 200
    wallet.save()
    wallet.store.checkpoint()
    wallet.close()
    disk = sum(p.stat().st_size for p in (folder / "wallets").glob("miner.db*"))

    start = time.perf_counter()
    wallet = Wallet.open(folder, "miner", MAINNET)
    opened = time.perf_counter() - start
    start = time.perf_counter()
    balance = wallet.balance()
    balance_s = time.perf_counter() - start
    start = time.perf_counter()
    page = wallet.history_page(limit=50)
    page_s = time.perf_counter() - start
    assert len(page) == min(50, n) and balance.total > 0
    dest = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
    start = time.perf_counter()
    preview = wallet.create_send([(dest, 5 * PKT)])
    send_s = time.perf_counter() - start
    start = time.perf_counter()
    try:
        wallet.create_send([(dest, "max")])
        too_many = False
    except TooManyCoinsError:
        too_many = True
    max_s = time.perf_counter() - start
    start = time.perf_counter()
    single = wallet.create_send([(dest, "max")], fit_one_transaction=True)
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    plan = wallet.consolidation_plan()
    plan_s = time.perf_counter() - start
    wallet.close()
    for p in (folder / "wallets").iterdir():
        p.unlink()
    (folder / "wallets").rmdir()
    folder.rmdir()
    return {
        "n": n,
        "ingest_per_s": n / ingest,
        "open_s": opened,
        "balance_s": balance_s,
        "page_s": page_s,
        "send_s": send_s,
        "send_inputs": len(preview.inputs),
        "max_s": max_s,
        "max_too_many": too_many,
        "single_s": single_s,
        "single_inputs": len(single.inputs),
        "plan_s": plan_s,
        "plan_txs": plan.transactions,
        "bytes_per_payout": disk / n,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [10_000, 100_000, 1_000_000]
    if os.environ.get("WALLET_SCALE_CHILD"):
        print(json.dumps(run_one(sizes[0])))
        return
    print(
        f"{'payouts':>10} {'ingest/s':>9} {'open':>8} {'balance':>9} {'history':>9} "
        f"{'send(3in)':>10} {'max?':>9} {'max 1 tx':>10} {'consol.':>8} {'B/payout':>9} "
        f"{'RSS':>7}"
    )
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, str(n)],
            env=dict(os.environ, WALLET_SCALE_CHILD="1"),
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{n:>10,} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{n:>10,} {r['ingest_per_s']:>9,.0f} {r['open_s']:>7.3f}s {ms(r['balance_s']):>9} "
            f"{ms(r['page_s']):>9} {ms(r['send_s']):>10} {ms(r['max_s']):>9} "
            f"{ms(r['single_s']):>10} {r['plan_s']:>7.2f}s {r['bytes_per_payout']:>9.0f} "
            f"{r['rss_mb']:>6.0f}M"
        )
        print(
            f"{'':>10} send used {r['send_inputs']} inputs; max: "
            f"{'too many coins for one transaction' if r['max_too_many'] else 'fits'}, the "
            f"largest single payment spends {r['single_inputs']} coins; consolidation: "
            f"{r['plan_txs']:,} transactions"
        )


if __name__ == "__main__":
    main()
