"""The ledger on its own: maturity, Network Steward payment expiry, conflicts, reorgs, history
amounts and fees, vote-suffixed outputs."""

from __future__ import annotations

from app.wallet.ledger import NS_SAFETY_MARGIN, KeyRef, Ledger, Owned
from spv.params import MAINNET, REGTEST, NetworkParams
from spv.script import add_vote, p2pkh_script, p2wpkh_script
from spv.subsidy import network_steward_share
from spv.tx import OutPoint, Transaction, TxIn, TxOut

MINE = p2wpkh_script(b"\x01" * 20)
MINE_LEGACY = p2pkh_script(b"\x02" * 20)
OTHER = p2wpkh_script(b"\x09" * 20)


def owner(script: bytes) -> Owned | None:
    from spv.script import split_vote

    vote = split_vote(script)
    base = vote.base_script if vote is not None else script
    if base == MINE:
        return Owned(KeyRef(0, 0, 0), "p2wpkh")
    if base == MINE_LEGACY:
        return Owned(KeyRef(1, 0, 0), "p2pkh")
    return None


def coinbase(height: int, outputs: list[TxOut]) -> Transaction:
    script_sig = height.to_bytes(4, "little") + b"\x00\x00"
    return Transaction(
        1, (TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), script_sig, 0xFFFFFFFF),), tuple(outputs), 0
    )


def spend(prevouts: list[OutPoint], outputs: list[TxOut], tag: int = 0) -> Transaction:
    return Transaction(1, tuple(TxIn(p, b"", 0xFFFFFFFF) for p in prevouts), tuple(outputs), tag)


def ledger(params: NetworkParams = REGTEST) -> Ledger:
    return Ledger(params, owner)


def test_coinbase_maturity_and_running_balance() -> None:
    led = ledger()
    cb = coinbase(10, [TxOut(5000, MINE)])
    led.add(cb, height=10, block_hash=b"\x10" * 32, timestamp=1)
    led.tip_height = 108
    bal = led.balance()
    assert (bal.confirmed, bal.immature) == (0, 5000)
    led.tip_height = 109  # 100 confirmations: spendable in the next block
    bal = led.balance()
    assert (bal.confirmed, bal.immature) == (5000, 0)
    (entry,) = led.history()
    assert entry.coinbase and entry.amount == 5000 and entry.confirmations == 100


def test_ns_payment_expires_with_pktwallets_margin() -> None:
    led = ledger(MAINNET)
    h = 200_000
    ns_value = network_steward_share(h, MAINNET)
    cb = coinbase(h, [TxOut(ns_value, MINE), TxOut(1234, MINE)])
    led.add(cb, height=h, block_hash=b"\x01" * 32, timestamp=1)
    expiry_tip = h + MAINNET.ns_payment_expiry_blocks - NS_SAFETY_MARGIN
    led.tip_height = expiry_tip - 1
    coins = {c.value: c for c in led.coins()}
    assert not coins[ns_value].ns_expired and coins[ns_value].spendable
    led.tip_height = expiry_tip
    coins = {c.value: c for c in led.coins()}
    assert coins[ns_value].ns_expired and not coins[ns_value].spendable
    assert not coins[1234].ns_expired  # only the exact NS share is an NS payment
    bal = led.balance()
    assert bal.ns_expired == ns_value and bal.confirmed == 1234


def test_fees_directions_conflicts_and_reorgs() -> None:
    led = ledger()
    funding = spend([OutPoint(b"\xaa" * 32, 0)], [TxOut(10_000, MINE), TxOut(7, OTHER)])
    led.add(funding, height=5, block_hash=b"\x05" * 32, timestamp=5)
    pay = spend([OutPoint(funding.txid, 0)], [TxOut(6_000, OTHER), TxOut(3_800, MINE)])
    led.add(pay, now=100)
    led.tip_height = 5
    incoming, outgoing = led.history()
    assert incoming.direction == "incoming" and incoming.fee is None and incoming.amount == 10_000
    assert outgoing.direction == "outgoing" and outgoing.fee == 200 and outgoing.amount == -6_200
    assert outgoing.height is None and outgoing.balance == 3_800
    bal = led.balance()
    assert (bal.confirmed, bal.unconfirmed) == (0, 3_800)
    # a confirmed double spend of the same coin evicts the pending payment
    other = spend([OutPoint(funding.txid, 0)], [TxOut(9_900, MINE_LEGACY)], tag=1)
    led.add(other, height=6, block_hash=b"\x06" * 32, timestamp=6)
    assert pay.txid not in led.txs and led.history()[-1].direction == "self"
    # an unconfirmed transaction conflicting with a confirmed one is ignored
    assert not led.add(pay, now=101)
    # reorg: the confirmed spend becomes unconfirmed, then confirmed again
    led.rewind(5)
    assert led.txs[other.txid].height is None and led.tip_height == 5
    led.add(other, height=7, block_hash=b"\x07" * 32, timestamp=7)
    assert led.txs[other.txid].height == 7
    # reorged coinbases vanish
    cb = coinbase(8, [TxOut(50, MINE)])
    led.add(cb, height=8, block_hash=b"\x08" * 32, timestamp=8)
    led.rewind(7)
    assert cb.txid not in led.txs


def test_vote_suffixed_outputs_are_ours() -> None:
    led = ledger()
    voted = add_vote(MINE_LEGACY, p2pkh_script(b"\x03" * 20), None)
    tx = spend([OutPoint(b"\xbb" * 32, 0)], [TxOut(777, voted)])
    assert led.add(tx, height=3, block_hash=b"\x03" * 32, timestamp=3)
    (coin,) = led.coins()
    assert coin.script == voted and coin.owner.kind == "p2pkh"
    restored = ledger()
    restored.load_json(led.to_json())
    assert restored.coins()[0].outpoint == coin.outpoint
