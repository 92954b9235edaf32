"""The ledger in its database on its own: maturity, Network Steward payment expiry, conflicts,
reorgs, history amounts, fees and running balances, vote-suffixed outputs, what is kept of a
pool's coinbase, a child seen before its parent — and the balances and running balances kept
incrementally (triggers, suffix fixes) checked against a recomputation from scratch after
random changes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from app.wallet.coin_queries import CoinQueries
from app.wallet.history import History
from app.wallet.keychain import KeyChain
from app.wallet.ledger import Ledger
from app.wallet.model import NS_SAFETY_MARGIN, KeyRef, Owned
from app.wallet.store import WalletStore
from spv.params import MAINNET, REGTEST, NetworkParams
from spv.script import add_vote, p2pkh_script, p2wpkh_script
from spv.subsidy import network_steward_share
from spv.tx import OutPoint, Transaction, TxIn, TxOut

MINE = p2wpkh_script(b"\x01" * 20)
MINE_LEGACY = p2pkh_script(b"\x02" * 20)
OTHER = p2wpkh_script(b"\x09" * 20)


@dataclass
class Book:
    store: WalletStore
    keys: KeyChain
    ledger: Ledger
    history: History
    coins: CoinQueries

    def reopen(self, params: NetworkParams = REGTEST) -> Book:
        self.store.close()
        return book(self.store.path, params, create=False)


def book(path: Path, params: NetworkParams = REGTEST, *, create: bool = True) -> Book:
    store = WalletStore(path, create=create)
    store.put("network", params.name)
    keys = KeyChain(store, params, 20)
    if create:
        keys.add_script(MINE, Owned(KeyRef(0, 0, 0), "p2wpkh"))
        keys.add_script(MINE_LEGACY, Owned(KeyRef(1, 0, 0), "p2pkh"))
    else:
        keys.load()
    ledger = Ledger(store, keys, params)
    store.commit()
    return Book(store, keys, ledger, History(ledger, {}), CoinQueries(ledger, set()))


def coinbase(height: int, outputs: list[TxOut]) -> Transaction:
    script_sig = height.to_bytes(4, "little") + b"\x00\x00"
    return Transaction(
        1, (TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), script_sig, 0xFFFFFFFF),), tuple(outputs), 0
    )


def spend(prevouts: list[OutPoint], outputs: list[TxOut], tag: int = 0) -> Transaction:
    return Transaction(1, tuple(TxIn(p, b"", 0xFFFFFFFF) for p in prevouts), tuple(outputs), tag)


def test_coinbase_maturity_and_running_balance(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    cb = coinbase(10, [TxOut(5000, MINE)])
    b.ledger.add(cb, height=10, timestamp=1)
    b.ledger.tip_height = 108
    bal = b.ledger.balance()
    assert (bal.confirmed, bal.immature) == (0, 5000)
    b.ledger.tip_height = 109  # 100 confirmations: spendable in the next block
    bal = b.ledger.balance()
    assert (bal.confirmed, bal.immature) == (5000, 0)
    (entry,) = b.history.page()
    assert entry.coinbase and entry.amount == 5000 and entry.confirmations == 100


def test_ns_payment_expires_with_pktwallets_margin(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db", MAINNET)
    h = 200_000
    ns_value = network_steward_share(h, MAINNET)
    cb = coinbase(h, [TxOut(ns_value, MINE), TxOut(1234, MINE)])
    b.ledger.add(cb, height=h, timestamp=1)
    expiry_tip = h + MAINNET.ns_payment_expiry_blocks - NS_SAFETY_MARGIN
    b.ledger.tip_height = expiry_tip - 1
    coins = {c.value: c for c in b.coins.all_coins()}
    assert not coins[ns_value].ns_expired and coins[ns_value].spendable
    b.ledger.tip_height = expiry_tip
    coins = {c.value: c for c in b.coins.all_coins()}
    assert coins[ns_value].ns_expired and not coins[ns_value].spendable
    assert not coins[1234].ns_expired  # only the exact NS share is an NS payment
    bal = b.ledger.balance()
    assert bal.ns_expired == ns_value and bal.confirmed == 1234
    assert b.coins.spendable_summary().total == 1234


def test_fees_directions_conflicts_and_reorgs(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    led = b.ledger
    funding = spend([OutPoint(b"\xaa" * 32, 0)], [TxOut(10_000, MINE), TxOut(7, OTHER)])
    led.add(funding, height=5, timestamp=5)
    pay = spend([OutPoint(funding.txid, 0)], [TxOut(6_000, OTHER), TxOut(3_800, MINE)])
    led.add(pay, now=100)
    led.tip_height = 5
    outgoing, incoming = b.history.page()  # newest first
    assert incoming.direction == "incoming" and incoming.fee is None and incoming.amount == 10_000
    assert outgoing.direction == "outgoing" and outgoing.fee == 200 and outgoing.amount == -6_200
    assert outgoing.height is None and outgoing.balance == 3_800
    bal = led.balance()
    assert (bal.confirmed, bal.unconfirmed) == (0, 3_800)
    # a confirmed double spend of the same coin evicts the pending payment
    other = spend([OutPoint(funding.txid, 0)], [TxOut(9_900, MINE_LEGACY)], tag=1)
    led.add(other, height=6, timestamp=6)
    assert led.tx_id(pay.txid) is None and b.history.page()[0].direction == "self"
    # an unconfirmed transaction conflicting with a confirmed one is ignored
    assert not led.add(pay, now=101).recorded
    # reorg: the confirmed spend becomes unconfirmed, then confirmed again
    led.rewind(5)
    assert b.history.entry(other.txid_hex).height is None and led.tip_height == 5
    led.add(other, height=7, timestamp=7)
    assert b.history.entry(other.txid_hex).height == 7
    # reorged coinbases vanish
    cb = coinbase(8, [TxOut(50, MINE)])
    led.add(cb, height=8, timestamp=8)
    led.rewind(7)
    assert led.tx_id(cb.txid) is None
    assert [e.balance for e in b.history.page(newest_first=False)] == [10_000, 9_900]


def test_vote_suffixed_outputs_are_ours_and_persist(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    voted = add_vote(MINE_LEGACY, p2pkh_script(b"\x03" * 20), None)
    tx = spend([OutPoint(b"\xbb" * 32, 0)], [TxOut(777, voted)])
    assert b.ledger.add(tx, height=3, timestamp=3).recorded
    (coin,) = b.coins.all_coins()
    assert coin.script == voted and coin.owner.kind == "p2pkh"
    assert voted in b.keys.watched_scripts()
    b.store.commit()
    again = b.reopen()
    assert again.coins.all_coins()[0].outpoint == coin.outpoint
    assert voted in again.keys.watched_scripts()  # BIP158 filters hold the whole script
    base = again.keys.script_id(MINE_LEGACY)
    assert again.ledger.script_balances() == {base: 777}  # folded into the plain address


def test_a_pools_coinbase_keeps_only_the_wallets_outputs(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    outputs = [TxOut(1000 + i, p2wpkh_script(bytes([i]) * 20)) for i in range(3, 160)]
    outputs.insert(77, TxOut(4242, MINE))
    cb = coinbase(50, outputs)
    b.ledger.add(cb, height=50, timestamp=50)
    (raw,) = b.store.db.execute("SELECT raw FROM txs").fetchone()
    assert raw is None  # 158 outputs: only ours is kept, as a coin
    details = b.history.details(cb.txid_hex)
    assert [(o.outpoint, o.value, o.mine) for o in details.outputs] == [
        (f"{cb.txid_hex}:77", 4242, True)
    ]
    assert details.other_outputs == 157 and details.coinbase and details.size is None
    # a payment spending that coin keeps its raw bytes (to show, bump or rebroadcast it)
    b.ledger.tip_height = 200
    pay = spend([OutPoint(cb.txid, 77)], [TxOut(4000, OTHER)])
    b.ledger.add(pay, now=1)
    assert b.history.details(pay.txid_hex).fee == 242


def test_a_child_seen_before_its_parent(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    parent = spend([OutPoint(b"\xcc" * 32, 1)], [TxOut(9_000, MINE)])
    child = spend([OutPoint(parent.txid, 0)], [TxOut(8_500, OTHER), TxOut(400, MINE)])
    assert b.ledger.add(child, now=10).recorded  # it pays us: kept, its input unknown yet
    assert b.history.entry(child.txid_hex).amount == 400
    b.ledger.add(parent, now=11)
    entry = b.history.entry(child.txid_hex)
    assert (entry.amount, entry.fee, entry.direction) == (-8_600, 100, "outgoing")
    assert [c.value for c in b.coins.all_coins()] == [400]  # the parent's coin is spent
    assert b.ledger.balance().unconfirmed == 400


def test_running_balance_after_an_older_block_arrives_late(tmp_path: Path) -> None:
    b = book(tmp_path / "w.db")
    for h in (10, 30, 40):
        b.ledger.add(coinbase(h, [TxOut(h, MINE)]), height=h, timestamp=h)
    b.store.commit()
    b.ledger.add(coinbase(20, [TxOut(20, MINE)]), height=20, timestamp=20)  # a rescan found it
    rows = b.history.page(newest_first=False)
    assert [(e.height, e.balance) for e in rows] == [(10, 10), (20, 30), (30, 60), (40, 100)]


def _recount(b: Book) -> dict[str, int]:
    """Balances recomputed from every coin, the slow way."""
    tip = b.ledger.tip_height
    out = {"unconfirmed": 0, "immature": 0, "confirmed": 0}
    for coin in b.coins.all_coins():
        if coin.height is None:
            out["unconfirmed"] += coin.value
        elif coin.coinbase and tip - coin.height + 1 < REGTEST.coinbase_maturity:
            out["immature"] += coin.value
        else:
            out["confirmed"] += coin.value
    return out


def test_incremental_views_match_a_recount_after_random_changes(tmp_path: Path) -> None:
    """Blocks, payments, conflicts, abandons and reorgs in random order: the trigger-kept
    balances and the running balances always equal a recomputation from scratch."""
    rng = random.Random(1234)
    b = book(tmp_path / "w.db")
    led = b.ledger
    height = 0
    pending: list[Transaction] = []
    for step in range(300):
        action = rng.random()
        coins = [c for c in b.coins.all_coins() if c.spendable]
        if action < 0.45:
            height += 1
            outs = [TxOut(rng.randrange(1000, 50_000), MINE)]
            outs += [TxOut(5, OTHER)] * rng.randrange(0, 3)
            led.add(coinbase(height, outs), height=height, timestamp=height)
            for tx in pending[: rng.randrange(0, len(pending) + 1)]:
                led.add(tx, height=height, timestamp=height, position=1)
            pending = []
        elif action < 0.75 and coins:
            chosen = rng.sample(coins, min(len(coins), rng.randrange(1, 3)))
            total = sum(c.value for c in chosen)
            outs = [TxOut(total // 3, OTHER), TxOut(total - total // 3 - 100, MINE)]
            tx = spend([c.outpoint for c in chosen], outs, tag=step)
            if led.add(tx, now=step).recorded:
                pending.append(tx)
        elif action < 0.85 and pending:
            victim = pending.pop(rng.randrange(len(pending)))
            led.remove(victim.txid)
        elif height > 3:
            height = rng.randrange(max(1, height - 5), height)
            led.rewind(height)
            pending = []
        led.tip_height = max(led.tip_height, height)
        if step % 7 == 0:
            b.store.commit()
        bal = led.balance()
        assert _recount(b) == {
            "unconfirmed": bal.unconfirmed,
            "immature": bal.immature,
            "confirmed": bal.confirmed,
        }
        rows = b.history.page(newest_first=False, limit=-1)
        running = 0
        for e in rows:
            running += e.amount
            assert e.balance == running
        assert running == bal.total
    b.store.commit()
    expected = led.balance()
    again = b.reopen()  # what was committed is consistent on its own
    assert again.ledger.balance() == expected
