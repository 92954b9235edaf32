"""`pkt-wallet vote` against the loopback regtest peer, which checks every signature: a vote, a
candidate vote and a withdrawal are built, signed, broadcast and mined; each transaction spends
only its voter's coins and returns the change to it; `vote --status` shows the votes and their
expiry; the 2019-2023 OP_VOTE vote needs --legacy-2019; `steward count` prints the winner."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.wallet.wallet import Wallet
from spv.address import p2wpkh_address, script_for_address
from spv.electorium_vote import VoteStatus, read_transaction_vote, vote_output_script
from spv.params import MAINNET, REGTEST
from spv.tx import Transaction
from tests.steward.electorium_data import named_address
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

from .test_wallet_cli import Cli

PASSWORD = "vote pw"
COIN = REGTEST.units_per_coin
TARGET = p2wpkh_address(b"\x02" + b"\x11" * 32, REGTEST).encode(REGTEST)
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "electorium" / "listaddresses_sample.json"


def _mine(chain: RegtestChain, peer: TestPeer, txs: list[Transaction]) -> list[list[bytes]]:
    """Mine `txs` in one block; the scripts each of their inputs spent."""
    spent = [[chain.utxo_scripts[i.prevout] for i in tx.inputs] for tx in txs]
    chain.mine(txs)
    peer.set_chain(chain)
    return spent


def _sent(cli: Cli, peer: TestPeer, *args: str) -> list[Transaction]:
    """Run a vote command; the transactions the peer accepted, in the txids' order."""
    before = len(peer.received_txs)
    out = cli.ok("vote", *args, "--yes", "--password-stdin", stdin=f"{PASSWORD}\n")
    txids = out.split()
    assert out == "".join(t + "\n" for t in txids)  # each txid on its own line, nothing else
    received = {t.txid_hex: t for t in peer.received_txs[before:]}
    assert set(received) == set(txids) and not peer.rejected_txs
    return [received[t] for t in txids]


def _check_votes(
    txs: list[Transaction], spent: list[list[bytes]], voters: list[bytes], vote_script: bytes
) -> None:
    for tx, scripts, voter in zip(txs, spent, voters, strict=True):
        assert scripts == [voter] * len(tx.inputs)  # every input spends the voter's script
        read = read_transaction_vote(tx, scripts)
        assert read.status is VoteStatus.COUNTED and read.voter_script == voter
        (vote,) = [o for o in tx.outputs if o.value == 0]
        assert vote.script == vote_script
        change = [o for o in tx.outputs if o.value]
        assert [o.script for o in change] == [voter]  # the change returns to the voter


def test_vote_candidate_and_withdraw_on_regtest(tmp_path: Path) -> None:
    wallet, _ = Wallet.create(
        tmp_path, "default", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    a = wallet.receive_address()
    b = wallet.receive_address(new=True)
    wallet.close()
    a_script, b_script = script_for_address(a, REGTEST), script_for_address(b, REGTEST)
    chain = RegtestChain()
    chain.mine(pay_to=a_script)
    chain.mine(pay_to=a_script)
    chain.mine(pay_to=b_script)
    chain.mine_many(100)
    target = script_for_address(TARGET, REGTEST)
    cli = Cli(tmp_path)
    with TestPeer(chain) as peer:
        cli.peer = peer
        # from every address holding coins, one transaction each, heaviest first
        txs = _sent(cli, peer, TARGET)
        assert len(txs) == 2
        assert [len(t.inputs) for t in txs] == [1, 1]  # one of A's two coins covers the fee
        spent = _mine(chain, peer, txs)
        voted_at = chain.height
        _check_votes(txs, spent, [a_script, b_script], vote_output_script(target, False))

        status = json.loads(cli.ok("vote", "--status", "--json"))
        entries = {e["address"]: e for e in status["addresses"]}
        for address, tx in ((a, txs[0]), (b, txs[1])):
            entry = entries[address]
            assert (entry["state"], entry["vote_for"], entry["is_candidate"]) == (
                "voting",
                TARGET,
                False,
            )
            assert (entry["vote_txid"], entry["vote_block"]) == (tx.txid_hex, voted_at)
            assert entry["expiration_block"] == voted_at + 524160
        assert status["tip_height"] == chain.height
        assert status["next_election_block"] == 10081
        text = cli.ok("vote", "--status", "--offline")
        assert f"{a} (" in text and f"votes for {TARGET}" in text
        assert f"expires at block {voted_at + 524160:,}" in text
        assert "next election at block 10,081" in text

        # A stands as a candidate without a target (6a0101); B votes for TARGET and stands
        (stand,) = _sent(cli, peer, "--candidate", "--from", a)
        (both,) = _sent(cli, peer, TARGET, "--candidate", "--from", b)
        spent = _mine(chain, peer, [stand, both])
        _check_votes([stand], spent[:1], [a_script], bytes.fromhex("6a0101"))
        _check_votes([both], spent[1:], [b_script], vote_output_script(target, True))
        status = json.loads(cli.ok("vote", "--status", "--json"))
        entries = {e["address"]: e for e in status["addresses"]}
        assert entries[a]["state"] == "candidate" and entries[a]["vote_for"] is None
        assert entries[b]["state"] == "candidate" and entries[b]["vote_for"] == TARGET

        # withdraw: from every address with a vote (6a0100)
        withdrawals = _sent(cli, peer, "--withdraw")
        spent = _mine(chain, peer, withdrawals)
        _check_votes(withdrawals, spent, [a_script, b_script], bytes.fromhex("6a0100"))
        text = cli.ok("vote", "--status")
        assert f"{a} (" in text and text.count(": no vote (withdrawn)") == 2
        again = cli("vote", "--withdraw", "--yes", "--password-stdin", stdin=f"{PASSWORD}\n")
        assert again.returncode == 1
        assert "no address of this wallet holding coins has a vote to withdraw" in again.stderr

        # the 2019-2023 OP_VOTE vote only with --legacy-2019
        old = cli("vote", TARGET, TARGET, "--yes", "--offline")
        assert old.returncode == 1 and "--legacy-2019" in old.stderr
        assert "2019-2023 OP_VOTE" in old.stderr and len(old.stderr.splitlines()) == 1
        old = cli("steward", "vote", TARGET)
        assert old.returncode == 1 and "pkt-wallet vote ADDR" in old.stderr
        assert "--legacy-2019" in old.stderr
        mixed = cli("vote", "--legacy-2019", TARGET, "--withdraw")
        assert mixed.returncode == 1 and "not --legacy-2019" in mixed.stderr
        assert len(peer.received_txs) == 6 and not peer.rejected_txs


def test_steward_count_prints_the_winner(tmp_path: Path) -> None:
    cli = Cli(tmp_path, network="mainnet")
    winner = named_address("Nashville").encode(MAINNET)
    text = cli.ok("steward", "count", str(SAMPLE))
    assert f"winner            {winner}" in text and "decided by patron" in text
    assert "election of block 2,338,560" in text
    data = json.loads(cli.ok("steward", "count", str(SAMPLE), "--json"))
    assert data["winner"] == winner and data["election_block"] == 2338560
    missing = cli("steward", "count")
    assert missing.returncode == 1 and "give a listaddresses FILE" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    bad = cli("steward", "count", str(broken))
    assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1


def _two_address_chain(tmp_path: Path) -> tuple[str, str, RegtestChain]:
    """A wallet whose addresses A and B each hold one mature 50-coin reward."""
    wallet, _ = Wallet.create(
        tmp_path, "default", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    a = wallet.receive_address()
    b = wallet.receive_address(new=True)
    wallet.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(a, REGTEST))
    chain.mine(pay_to=script_for_address(b, REGTEST))
    chain.mine_many(100)
    return a, b, chain


def _check_gathered_then_voted(
    chain: RegtestChain, gather: Transaction, vote: Transaction, a: str, b: str
) -> None:
    a_script, b_script = script_for_address(a, REGTEST), script_for_address(b, REGTEST)
    assert [chain.utxo_scripts[i.prevout] for i in gather.inputs] == [b_script]
    assert [o.script for o in gather.outputs] == [a_script]
    spent = [chain.utxo_scripts[i.prevout] for i in vote.inputs]  # A's own mature reward
    assert spent == [a_script]
    read = read_transaction_vote(vote, spent)
    assert read.counts and read.voter_script == a_script
    target = script_for_address(TARGET, REGTEST)
    assert [o.script for o in vote.outputs if o.value == 0] == [vote_output_script(target, False)]


def test_gather_the_coins_on_one_address_then_vote_from_it(tmp_path: Path) -> None:
    a, b, chain = _two_address_chain(tmp_path)
    cli = Cli(tmp_path)
    with TestPeer(chain) as peer:
        cli.peer = peer
        gather, vote = _sent(cli, peer, TARGET, "--gather-to", a)
        _check_gathered_then_voted(chain, gather, vote, a, b)
        both = cli("vote", TARGET, "--gather-to", a, "--from", b)
        assert both.returncode == 1 and "leave out --from" in both.stderr


def test_core_gathers_then_votes(tmp_path: Path) -> None:
    from app.core import AppCore

    a, b, chain = _two_address_chain(tmp_path)
    with TestPeer(chain) as peer:
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)])
        core.start()
        try:
            core.open_wallet("default").result(10)
            deadline = time.monotonic() + 30
            while len(core.voting_addresses().result(10)) < 2:
                assert time.monotonic() < deadline, "the wallet did not sync"
                time.sleep(0.1)
            (gather,) = core.prepare_gather(a).result(10)
            txids = core.gather_then_vote([gather], a, TARGET, PASSWORD).result(30)
            sent = {t.txid_hex: t for t in peer.received_txs}
            assert list(sent) == txids and len(txids) == 2
            _check_gathered_then_voted(chain, sent[txids[0]], sent[txids[1]], a, b)
            status = core.my_vote().result(10)
            (entry,) = [e for e in status.addresses if e.pending is not None]
            assert entry.address == a and entry.pending is not None
            assert entry.pending.vote_for == TARGET
        finally:
            core.stop()
