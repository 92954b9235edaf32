"""Filter-scan progress is committed as it goes (issue 16 point 5): a wallet sync killed with
SIGKILL in the middle of a long first scan (a payout in every block) resumes from its last
commit, not from the start; the stores open; every payout is recorded exactly once."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from app.wallet.wallet import Wallet
from spv.address import script_for_address
from spv.node import SpvNode
from spv.params import REGTEST
from tests.support.app_cli import ROOT, app_command, run_app
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import Misbehaviour, TestPeer

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
BLOCKS = 3000
FIRST_BATCH = 1000  # CFILTERS_BATCH: the first filter batch ends at 999 (from genesis)


def balance_command(datadir: Path, peer: TestPeer) -> list[str]:
    return app_command(datadir, "--peer", peer.address, "balance", "--json")


def scan_height(datadir: Path) -> int:
    try:
        return int(json.loads((datadir / "chain" / "scan.json").read_text())["height"])
    except (OSError, ValueError, KeyError):
        return -1


def test_sigkill_mid_scan_resumes_from_the_last_commit(tmp_path: Path) -> None:
    wallet, _ = Wallet.create(tmp_path, "default", REGTEST, "pw", kdf_params=FAST_KDF)
    script = script_for_address(wallet.receive_address(), REGTEST)
    wallet.close()
    chain = RegtestChain()
    for _ in range(BLOCKS):
        chain.mine(pay_to=script)  # a payout in every block, as a miner's wallet sees it
    # a little slow, so that the kill lands in the middle of the scan
    peer = TestPeer(chain, misbehaviour=Misbehaviour(delay=0.001))
    with peer:
        proc = subprocess.Popen(
            balance_command(tmp_path, peer),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen = -1
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            seen = max(seen, scan_height(tmp_path))
            if seen > FIRST_BATCH + 100:  # past the first batch, inside the second
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sync ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert FIRST_BATCH < seen < BLOCKS

        # the stores open, and the wallet kept at least what the node had recorded
        wallet = Wallet.open(tmp_path, "default", REGTEST)
        committed = wallet.synced_height
        assert committed >= scan_height(tmp_path) >= seen
        heights = sorted(e.height for e in wallet.history() if e.height is not None)
        assert heights == list(range(1, committed + 1))  # every payout up to there, once
        wallet.close()
        node = SpvNode(REGTEST, tmp_path, peers=[], use_dns_seeds=False)
        assert node.chain.height == BLOCKS and node.filter_headers.tip_height >= seen
        node.addrbook.save()

        resumed_from = len(peer.cfilter_starts)
        out = run_app(tmp_path, "--peer", peer.address, "balance", "--json")
        assert out.returncode == 0, out.stderr
    first_request = peer.cfilter_starts[resumed_from]
    assert first_request - 1 >= seen  # went on from the last commit, not from the start
    wallet = Wallet.open(tmp_path, "default", REGTEST)
    heights = sorted(e.height for e in wallet.history() if e.height is not None)
    assert heights == list(range(1, BLOCKS + 1))
    assert wallet.synced_height == BLOCKS
    balance = json.loads(out.stdout)
    assert balance["height"] == BLOCKS
    wallet.close()
