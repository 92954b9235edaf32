"""A miner's wallet from the command line, whole processes timed: 10,000 payouts (one in every
block, to the wallet's mining address) served by a loopback regtest peer in its own process.
Printed, not asserted.

1. `pkt-wallet sync --until-synced` — headers and filter headers (no wallet yet);
2. `pkt-wallet balance` — the wallet's first sync: every filter matched, 10,000 matched blocks
   fetched and recorded (the figure: matched blocks per second of that command);
3. `balance --offline`, `history --offline` (all 10,000 rows printed), `history --offline
   --newest-first --limit 20` — each a whole process, best of three;
4. `send ADDR 1 --yes --password-stdin` — a payment signed and accepted by the peer.

Goals (issue "A miner's wallet at real scale"): balance/history --offline <= 1 s wall each,
send <= 3 s, the first sync of the 10,000 matched blocks >= 300 blocks/s.

Run: .venv/bin/python bench/cli_wallet.py [PAYOUTS]
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spv.address import address_from_script, script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "bench password"


def _peer(payouts: int, pay_to: bytes, out: multiprocessing.Queue[object]) -> None:
    chain = RegtestChain()
    chain.mine_many(payouts, pay_to=pay_to)
    chain.mine_many(100)  # the last payout is mature
    peer = TestPeer(chain)
    peer.start()
    out.put(peer.port)
    time.sleep(3600)


def cli(
    datadir: Path, *args: str, stdin: str = ""
) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--network", "regtest", "--datadir", str(datadir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pkt-wallet {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed, proc


def best_of(n: int, datadir: Path, *args: str) -> float:
    return min(cli(datadir, *args)[0] for _ in range(n))


def main() -> None:
    payouts = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp)
        cli(datadir, "create", "--password-stdin", stdin=PASSWORD + "\n")
        _, out = cli(datadir, "mining-address")
        pay_to = script_for_address(out.stdout.strip(), REGTEST)
        ctx = multiprocessing.get_context("fork")
        ports: multiprocessing.Queue[object] = ctx.Queue()
        start = time.perf_counter()
        proc = ctx.Process(target=_peer, args=(payouts, pay_to, ports))
        proc.start()
        try:
            port = ports.get(timeout=3600)
            print(f"chain of {payouts + 100:,} blocks built in {time.perf_counter() - start:.1f} s")
            peer = f"127.0.0.1:{port}"
            t_chain, _ = cli(datadir, "--peer", peer, "sync", "--until-synced", "--timeout", "600")
            print(f"{'sync (headers, filter headers)':<44} {t_chain:7.2f} s")
            t_wallet, _ = cli(datadir, "--peer", peer, "balance")
            print(
                f"{'balance: the first wallet sync':<44} {t_wallet:7.2f} s  "
                f"{payouts / t_wallet:,.0f} matched blocks/s (whole process, filters included)"
            )
            for label, args in (
                ("balance --offline", ("balance", "--offline")),
                ("history --offline (every row)", ("history", "--offline")),
                (
                    "history --offline --newest-first --limit 20",
                    (
                        "history",
                        "--offline",
                        "--newest-first",
                        "--limit",
                        "20",
                    ),
                ),
            ):
                print(f"{label:<44} {best_of(3, datadir, *args):7.2f} s  (best of 3)")
            dest = address_from_script(bytes.fromhex("0014" + "5a" * 20), REGTEST)
            assert dest is not None
            t_send, sent = cli(
                datadir, "--peer", peer, "send", dest, "1", "--yes", "--password-stdin",
                stdin=PASSWORD + "\n",
            )  # fmt: skip
            print(
                f"{'send (sync, sign, broadcast)':<44} {t_send:7.2f} s  txid {sent.stdout.strip()[:16]}…"
            )
        finally:
            proc.terminate()


if __name__ == "__main__":
    main()
