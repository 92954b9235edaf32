"""The wallet against the loopback regtest peer: mining rewards and maturity, a payment to a
second wallet that the peer accepts as valid (real signature checks), confirmations, a reorg
that removes and restores the payment, restarts, Network Steward votes, consolidation, gap-limit
discovery on restore and imported keys."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from app.wallet.signing import public_key_of
from app.wallet.sync import BroadcastError, broadcast, sync_wallet
from app.wallet.wallet import Wallet, WalletError
from spv.address import address_from_script, encode_wif, p2wpkh_address, script_for_address
from spv.hashes import hash160
from spv.node import SpvNode
from spv.params import REGTEST
from spv.script import add_vote, p2pkh_script, split_vote
from spv.tx import Transaction, TxIn
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
COIN = REGTEST.units_per_coin
PASSWORD = "correct horse"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def new_wallet(datadir: Path, name: str) -> Wallet:
    wallet, _ = Wallet.create(datadir, name, REGTEST, PASSWORD, kdf_params=FAST_KDF)
    return wallet


def node_for(datadir: Path, peer: TestPeer) -> SpvNode:
    return SpvNode(REGTEST, datadir, peers=[("127.0.0.1", peer.port)], peer_timeout=5.0)


async def sync(wallet: Wallet, datadir: Path, peer: TestPeer) -> None:
    async with node_for(datadir, peer) as node:
        await sync_wallet(wallet, node)


async def sign_and_send(wallet: Wallet, datadir: Path, peer: TestPeer, tx: Transaction) -> None:
    async with node_for(datadir, peer) as node:
        await node.wait_for_peers(1)
        await broadcast(wallet, node, tx)


def script_of(wallet: Wallet, address: str) -> bytes:
    return script_for_address(address, wallet.params)


def test_mine_send_confirm_reorg_restart(tmp_path: Path) -> None:
    chain = RegtestChain()
    alice = new_wallet(tmp_path, "alice")
    bob = new_wallet(tmp_path, "bob")
    reward = script_of(alice, alice.receive_address())
    chain.mine(pay_to=reward)  # height 1: 50 coins to alice
    chain.mine_many(99)  # height 100: the reward has 100 confirmations
    chain.mine(pay_to=reward)  # height 101: a second, immature reward
    with TestPeer(chain) as peer:
        run(sync(alice, tmp_path, peer))
        bal = alice.balance()
        assert (bal.confirmed, bal.immature, bal.unconfirmed) == (50 * COIN, 50 * COIN, 0)
        assert alice.tip_height == 101

        # pay bob 12.5 coins at 1 unit/vbyte; the preview shows everything before signing
        to_bob = bob.receive_address()
        preview = alice.create_send([(to_bob, 1250 * COIN // 100)])
        assert preview.fee >= preview.vsize and preview.sent == 1250 * COIN // 100
        assert [c.value for c in preview.inputs] == [50 * COIN]
        change = [o for o in preview.outputs if o.is_change]
        assert len(change) == 1 and change[0].is_mine
        with pytest.raises(WalletError, match="wrong password"):
            alice.sign(preview, "nope")
        tx = alice.sign(preview, PASSWORD)
        assert tx.vsize <= preview.vsize
        run(sign_and_send(alice, tmp_path, peer, tx))
        assert [t.txid for t in peer.received_txs] == [tx.txid] and not peer.rejected_txs
        bal = alice.balance()
        assert bal.confirmed == 0 and bal.unconfirmed == change[0].value
        assert alice.history()[-1].fee == preview.fee

        # a tampered copy is rejected by the peer's signature check
        sig, pub = tx.inputs[0].witness
        bad_in = TxIn(tx.inputs[0].prevout, b"", 0xFFFFFFFF, (sig[:-2] + b"\x00\x01", pub))
        tampered = Transaction(tx.version, (bad_in,), tx.outputs, tx.locktime)
        with pytest.raises(BroadcastError, match="bad signature"):
            run(sign_and_send(alice, tmp_path, peer, tampered))

        # mined: both wallets see it (bob shares the node's data directory: rescanned for him)
        chain.mine(txs=[tx])  # height 102
        peer.set_chain(chain)
        run(sync(alice, tmp_path, peer))
        run(sync(bob, tmp_path, peer))
        assert bob.balance().confirmed == 1250 * COIN // 100
        assert alice.balance().confirmed == change[0].value
        (entry,) = bob.history()
        assert (entry.height, entry.confirmations, entry.amount, entry.fee) == (
            102,
            1,
            1250 * COIN // 100,
            None,
        )
        assert entry.direction == "incoming"
        alice_entry = alice.history()[-1]
        assert alice_entry.direction == "outgoing" and alice_entry.fee == preview.fee
        assert alice_entry.amount == -(1250 * COIN // 100) - preview.fee

        # a reorg from 101 without the payment: it loses its confirmation
        fork = chain.fork(101)
        fork.mine(tag=b"fork")
        fork.mine(tag=b"fork")
        peer.set_chain(fork)
        run(sync(bob, tmp_path, peer))
        bal = bob.balance()
        assert (bal.confirmed, bal.unconfirmed) == (0, 1250 * COIN // 100)
        assert bob.history()[0].height is None
        # ... and comes back when re-mined
        fork.mine(txs=[tx])
        peer.set_chain(fork)
        run(sync(bob, tmp_path, peer))
        assert bob.balance().confirmed == 1250 * COIN // 100
        assert bob.history()[0].height == 104
        # alice was closed during the reorg: opening her wallet notices it
        run(sync(alice, tmp_path, peer))
        assert alice.history()[-1].height == 104
        assert alice.balance().confirmed == change[0].value
        bob.close()
        alice.close()

    # a restart keeps everything
    again = Wallet.open(tmp_path, "bob", REGTEST)
    assert again.balance().confirmed == 1250 * COIN // 100
    assert [e.txid for e in again.history()] == [tx.txid_hex]
    again.close()


def test_vote_consolidate_and_spend_the_vote_output(tmp_path: Path) -> None:
    chain = RegtestChain()
    wallet = new_wallet(tmp_path, "voter")
    addresses = [wallet.receive_address(new=True) for _ in range(3)]
    for address in addresses:
        chain.mine(pay_to=script_of(wallet, address))
    chain.mine_many(100)
    candidate = p2pkh_script(b"\x55" * 20)
    against = REGTEST.network_steward_script or p2pkh_script(b"\x66" * 20)
    with TestPeer(chain) as peer:
        run(sync(wallet, tmp_path, peer))
        assert wallet.balance().confirmed == 150 * COIN
        # consolidation: 3 coins into one
        (merge,) = wallet.create_consolidation()
        assert len(merge.inputs) == 3 and len(merge.outputs) == 1
        merged = wallet.sign(merge, PASSWORD)
        run(sign_and_send(wallet, tmp_path, peer, merged))
        chain.mine(txs=[merged])
        peer.set_chain(chain)
        run(sync(wallet, tmp_path, peer))
        assert len(wallet.coins()) == 1 and wallet.balance().confirmed == 150 * COIN - merge.fee

        # the vote moves the coins to the wallet's own P2PKH address with the vote appended
        (vote,) = wallet.create_legacy_vote(
            address_from_script(candidate, REGTEST), address_from_script(against, REGTEST)
        )
        legacy_script = script_of(wallet, wallet.receive_address(legacy=True))
        expected = add_vote(legacy_script, candidate, against)
        assert vote.unsigned.outputs[0].script == expected
        voted = wallet.sign(vote, PASSWORD)
        run(sign_and_send(wallet, tmp_path, peer, voted))
        assert expected in wallet.watched_scripts()
        chain.mine(txs=[voted])
        peer.set_chain(chain)
        run(sync(wallet, tmp_path, peer))
        wallet.close()

        # after a restart the vote output is still the wallet's and watched
        wallet = Wallet.open(tmp_path, "voter", REGTEST)
        (coin,) = wallet.coins()
        assert coin.script == expected and coin.confirmed and coin.owner.kind == "p2pkh"
        assert expected in wallet.watched_scripts()
        vote_parts = split_vote(coin.script)
        assert vote_parts is not None and vote_parts.vote_for == candidate

        # spending the vote output: a P2PKH signature over the vote-suffixed script
        out = wallet.create_send([(wallet.receive_address(), "max")])
        spent = wallet.sign(out, PASSWORD)
        run(sign_and_send(wallet, tmp_path, peer, spent))
        assert peer.received_txs[-1].txid == spent.txid and not peer.rejected_txs
        wallet.close()


def test_restore_finds_addresses_past_the_gap_and_imported_key_sweep(tmp_path: Path) -> None:
    chain = RegtestChain()
    original, words = Wallet.create(tmp_path, "orig", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    # receive addresses 0, 15 and 30: 30 is only found after 15 extended the gap
    keys = original.accounts[original.default_account].keys[0]
    original.receive_address(new=True)
    for i in (0, 15):
        chain.mine(pay_to=keys[i].script)
    for _ in range(35):
        original.receive_address(new=True)
    keys = original.accounts[original.default_account].keys[0]
    chain.mine(pay_to=keys[30].script)
    # a change address and a legacy (BIP44) address are scanned too
    legacy = original.accounts[original.legacy_account].keys[1][3].script  # type: ignore[index]
    chain.mine(pay_to=legacy)
    # an outside key, imported later
    outside_key = b"\x42" * 32
    outside_script = p2wpkh_address(public_key_of(outside_key), REGTEST).to_script()
    chain.mine(pay_to=outside_script)
    chain.mine_many(100)
    original.close()
    with TestPeer(chain) as peer:
        restored = Wallet.restore(
            tmp_path / "other", "restored", REGTEST, PASSWORD, words, kdf_params=FAST_KDF
        )
        run(sync(restored, tmp_path / "other", peer))
        assert restored.balance().confirmed == 200 * COIN  # heights 1..4, 50 each
        assert not restored.restoring

        wif = encode_wif(outside_key, True, REGTEST)
        with pytest.raises(WalletError, match="wrong password"):
            restored.import_key(wif, "bad")
        restored.import_key(wif, PASSWORD)
        run(sync(restored, tmp_path / "other", peer))
        assert restored.balance().confirmed == 250 * COIN
        (sweep,) = restored.create_sweep_imported()
        assert sweep.outputs[0].is_mine and len(sweep.inputs) == 1
        swept = restored.sign(sweep, PASSWORD)
        run(sign_and_send(restored, tmp_path / "other", peer, swept))
        assert not peer.rejected_txs
        restored.close()
    assert hash160(public_key_of(outside_key)) in outside_script


def test_spend_p2wpkh_p2sh_p2wpkh_and_p2pkh_coins_together(tmp_path: Path) -> None:
    chain = RegtestChain()
    wallet = new_wallet(tmp_path, "kinds")
    scripts = [
        acc.keys[0][0].script  # type: ignore[union-attr]
        for acc in wallet.accounts  # BIP84, BIP49, BIP44 receive addresses
    ]
    for script in scripts:
        chain.mine(pay_to=script)
    chain.mine_many(100)
    with TestPeer(chain) as peer:
        run(sync(wallet, tmp_path, peer))
        assert {c.owner.kind for c in wallet.coins()} == {"p2wpkh", "p2sh-p2wpkh", "p2pkh"}
        preview = wallet.create_send(
            [(p2wpkh_address(b"\x03" * 33, REGTEST).encode(REGTEST), "max")]
        )
        assert len(preview.inputs) == 3 and preview.fee >= preview.vsize
        tx = wallet.sign(preview, PASSWORD)
        run(sign_and_send(wallet, tmp_path, peer, tx))
        assert peer.received_txs[-1].txid == tx.txid and not peer.rejected_txs
        assert wallet.balance().total == 0
        wallet.close()
