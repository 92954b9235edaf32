"""A miner's wallet from the command line: 1,500 payouts (one in every block) synced from the
loopback regtest peer, history read in pages, "max" refused with the way out (consolidate, or
the largest single payment), that payment of 1,460 coins and a consolidation round accepted by
the peer's signature checks."""

from __future__ import annotations

from pathlib import Path

from spv.address import script_for_address
from spv.params import REGTEST
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

from .test_wallet_cli import Cli

PAYOUTS = 1500
DEST = "bcrt1qtfd95kj6tfd95kj6tfd95kj6tfd95kj6qz56sc"


def test_a_miners_wallet_from_the_command_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.ok("create", "--password-stdin", stdin="miner pw\n")
    mining = cli.ok("mining-address").strip()
    chain = RegtestChain()
    chain.mine_many(PAYOUTS, pay_to=script_for_address(mining, REGTEST))
    chain.mine_many(100)  # the last payout is mature
    with TestPeer(chain) as peer:
        cli.peer = peer
        balance = cli.ok("balance").splitlines()
        assert balance[-1].split() == ["height", str(PAYOUTS + 100)]
        newest = cli.ok("history", "--offline", "--newest-first", "--limit", "3").splitlines()
        assert [int(line.split()[0]) for line in newest] == [PAYOUTS, PAYOUTS - 1, PAYOUTS - 2]
        assert len(cli.ok("history", "--offline").splitlines()) == PAYOUTS
        assert len(cli.ok("history", "--offline", "--search", "mining").splitlines()) == PAYOUTS

        refused = cli("send", "--offline", DEST, "max")
        assert refused.returncode == 1
        assert "needs 1,500 coins" in refused.stderr and "pkt-wallet consolidate" in refused.stderr
        assert "--largest-single" in refused.stderr

        sent = cli.ok(
            "send", DEST, "max", "--largest-single", "--yes", "--password-stdin",
            stdin="miner pw\n",
        )  # fmt: skip
        (txid,) = sent.split()
        (tx,) = [t for t in peer.received_txs if t.txid_hex == txid]
        assert len(tx.inputs) == 1460 and not peer.rejected_txs

        merged = cli.ok(
            "consolidate", "--yes", "--password-stdin", "--max-transactions", "1",
            stdin="miner pw\n",
        )  # fmt: skip
        (merge_txid,) = merged.split()
        (merge,) = [t for t in peer.received_txs if t.txid_hex == merge_txid]
        assert len(merge.inputs) == PAYOUTS - 1460 and len(merge.outputs) == 1
        assert not peer.rejected_txs
