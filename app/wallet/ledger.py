"""The wallet's ledger in its database: transactions, coins, conflicts, reorgs, balances.

The ledger keeps every transaction that pays to or spends from the wallet, confirmed (height,
block time, position) or not (broadcast by us, seen in the mempool, or taken out of the chain
by a reorg). What it keeps of each:

* every output paying the wallet, as a coin (value, script, height, spender);
* the raw bytes of a transaction that spends the wallet's coins (to show, bump, rebroadcast it)
  and of a small one that only pays it; a bulky transaction that only pays the wallet — a
  mining pool's coinbase of ~150 outputs — is kept as its own outputs and the output count;
* the inputs of every stored transaction that is not a coinbase (conflicts, a child seen before
  its parent).

Rules (as before the database): coinbase coins are immature until they have
``params.coinbase_maturity`` confirmations; a coinbase output worth exactly the Network Steward
share of its block's subsidy is an "NS payment" that becomes unspendable
``params.ns_payment_expiry_blocks`` after it was mined and is skipped from 1440 blocks before
that, as pktwallet does; an unconfirmed transaction that conflicts with a confirmed one is
dropped with everything that depends on it; a reorg turns confirmed transactions above the fork
back into unconfirmed ones (coinbases, which cannot return to a mempool, are dropped).

Changes are written into the store's open transaction; the wallet commits (a batch of blocks,
or one user action). Balances are a handful of indexed queries, whatever the history's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from spv.params import NetworkParams
from spv.subsidy import network_steward_share
from spv.tx import Transaction

from .keychain import KeyChain
from .model import BIP125_MAX_SEQUENCE, NS_SAFETY_MARGIN, Balance
from .store import (
    FLAG_ALL_INPUTS_OURS,
    FLAG_ALL_OUTPUTS_OURS,
    FLAG_COINBASE,
    FLAG_RBF,
    FLAG_SPENDS,
    WalletStore,
    confirmed_ord,
    unconfirmed_ord,
)
from .vote_records import record_vote

RAW_KEEP_LIMIT = 1000  # a transaction that only pays the wallet keeps its raw bytes up to this


@dataclass(frozen=True)
class AddResult:
    recorded: bool  # the transaction concerns the wallet and is (still) in the ledger
    keys_added: bool  # keys were derived to keep the gap limit


def display_txid(txid: bytes) -> bytes:
    """Transaction ids are stored in display byte order, so hex(txid) in SQL is the text."""
    return txid[::-1]


class Ledger:
    """Transactions and coins of one wallet. Driven from one thread."""

    def __init__(self, store: WalletStore, keys: KeyChain, params: NetworkParams) -> None:
        self.store = store
        self.db = store.db
        self.keys = keys
        self.params = params
        self._tip_height = int(store.get("tip_height", -1))
        self._tip_saved = self._tip_height
        self._count: int | None = None  # see count()
        # The first history row whose running balance is stale; fixed before every commit
        # (store.before_commit), so a committed database is always consistent.
        self._running_from: tuple[int, int] | None = None
        store.before_commit.append(self.before_commit)

    # --- the tip ---

    @property
    def tip_height(self) -> int:
        return self._tip_height

    @tip_height.setter
    def tip_height(self, height: int) -> None:
        if height != self._tip_height:
            self.store.begin()  # written by before_commit
            self._tip_height = height

    def before_commit(self) -> None:
        self.fix_running()
        if self._tip_height != self._tip_saved:
            self.store.put("tip_height", self._tip_height)
            self._tip_saved = self._tip_height

    def confirmations(self, height: int | None) -> int:
        if height is None or height > self._tip_height:
            return 0
        return self._tip_height - height + 1

    def maturity_limit(self) -> int:
        """Coinbase coins at or below this height are mature."""
        return self._tip_height - self.params.coinbase_maturity + 1

    def ns_expiry_limit(self) -> int:
        """NS payments at or below this height count as expired."""
        return self._tip_height + NS_SAFETY_MARGIN - self.params.ns_payment_expiry_blocks

    def is_ns_value(self, height: int, value: int) -> bool:
        return bool(self.params.network_steward_script) and value == network_steward_share(
            height, self.params
        )

    # --- looking things up ---

    def tx_id(self, txid: bytes) -> int | None:
        row = self.db.execute("SELECT id FROM txs WHERE txid = ?", (display_txid(txid),)).fetchone()
        return None if row is None else int(row[0])

    def count(self) -> int:
        """How many transactions (counted once, then kept as they are added and removed: a
        COUNT over a million rows would cost every wallet view tens of milliseconds)."""
        if self._count is None:
            self._count = int(self.db.execute("SELECT COUNT(*) FROM txs").fetchone()[0])
        return self._count

    def _our_coin(self, prev_txid: bytes, vout: int) -> tuple[int, int, int | None] | None:
        """(tx id, value, spender) of the wallet's coin at this outpoint, if any."""
        row = self.db.execute(
            "SELECT c.tx, c.value, c.spent_by FROM txs t JOIN coins c ON c.tx = t.id "
            "WHERE t.txid = ? AND c.vout = ?",
            (display_txid(prev_txid), vout),
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), row[2])

    def is_relevant(self, tx: Transaction) -> bool:
        if any(self.keys.owner(o.script) is not None for o in tx.outputs):
            return True
        if tx.is_coinbase():
            return False
        return any(self._our_coin(i.prevout.txid, i.prevout.index) for i in tx.inputs)

    # --- changes ---

    def add(
        self,
        tx: Transaction,
        *,
        height: int | None = None,
        timestamp: int | None = None,
        position: int = 0,
        now: int = 0,
    ) -> AddResult:
        """Record `tx` (confirmed when `height` is given); not recorded when it is irrelevant,
        or unconfirmed and in conflict with a confirmed transaction."""
        coinbase = tx.is_coinbase()
        txid = display_txid(tx.txid)
        row = self.db.execute(
            "SELECT id, height, time, pos, raw FROM txs WHERE txid = ?", (txid,)
        ).fetchone()
        own = self._own_outputs(tx)
        spends: list[tuple[int, int]] = []  # (coin's tx id, vout) of the wallet's coins
        if not coinbase:
            for txin in tx.inputs:
                coin = self._our_coin(txin.prevout.txid, txin.prevout.index)
                if coin is not None:
                    spends.append((coin[0], txin.prevout.index))
        if row is None and not own and not spends:
            return AddResult(False, False)
        self.store.begin()
        if row is None:
            if not coinbase:
                conflicts = self._conflicts(tx, None)
                if height is None and any(h is not None for _, h in conflicts):
                    return AddResult(False, False)
                for other, _ in conflicts:
                    self.remove_id(other)
            tx_row = self._insert(tx, txid, own, spends, height, timestamp, position, now)
        else:
            tx_row = int(row[0])
            if height is not None:
                if not coinbase:
                    for other, _ in self._conflicts(tx, tx_row):
                        self.remove_id(other)
                if (row[1], row[2], row[3]) != (height, timestamp, position):
                    self._confirm(tx_row, height, timestamp, position)
            if row[4] is not None and tx.has_witness:
                raw = tx.serialize()
                if raw != row[4]:  # keep the witness form (same txid: same inputs, outputs)
                    self.db.execute("UPDATE txs SET raw = ? WHERE id = ?", (raw, tx_row))
            self._add_new_outputs(tx_row, txid, own, height, coinbase)
        if height is not None:
            self.tip_height = max(self._tip_height, height)
        keys_added = False
        while True:
            refs = [self.keys.script_of(sid)[1].ref for _, _, sid in own]
            if not self.keys.mark_used(refs):
                break
            keys_added = True
            again = self._own_outputs(tx)  # outputs paying keys derived just now
            if len(again) == len(own):
                break
            own = again
            self._add_new_outputs(tx_row, txid, own, height, coinbase)
        return AddResult(True, keys_added)

    def _own_outputs(self, tx: Transaction) -> list[tuple[int, int, int]]:
        """(vout, value, script id) of the outputs paying the wallet."""
        out = []
        for n, txout in enumerate(tx.outputs):
            sid = self.keys.script_id(txout.script)
            if sid is not None:
                out.append((n, txout.value, sid))
        return out

    def _conflicts(self, tx: Transaction, own_id: int | None) -> list[tuple[int, int | None]]:
        """(id, height) of the stored transactions spending an input of `tx`."""
        found: dict[int, int | None] = {}
        for txin in tx.inputs:
            for spender, height in self.db.execute(
                "SELECT i.spender, t.height FROM inputs i JOIN txs t ON t.id = i.spender "
                "WHERE i.prev_txid = ? AND i.prev_vout = ?",
                (display_txid(txin.prevout.txid), txin.prevout.index),
            ):
                if spender != own_id:
                    found[int(spender)] = height
        return list(found.items())

    def _insert(
        self,
        tx: Transaction,
        txid: bytes,
        own: list[tuple[int, int, int]],
        spends: list[tuple[int, int]],
        height: int | None,
        timestamp: int | None,
        position: int,
        now: int,
    ) -> int:
        coinbase = tx.is_coinbase()
        received = sum(v for _, v, _ in own)
        flags = FLAG_COINBASE if coinbase else 0
        if len(own) == len(tx.outputs):
            flags |= FLAG_ALL_OUTPUTS_OURS
        if not coinbase and any(i.sequence <= BIP125_MAX_SEQUENCE for i in tx.inputs):
            flags |= FLAG_RBF
        keep_raw = not coinbase and (bool(spends) or tx.size <= RAW_KEEP_LIMIT)
        ord_ = confirmed_ord(height, position) if height is not None else unconfirmed_ord(now)
        cur = self.db.execute(
            "INSERT INTO txs (txid, height, time, pos, first_seen, ord, flags, amount, fee, "
            "n_out, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            (
                txid,
                height,
                timestamp if height is not None else None,
                position,
                now,
                ord_,
                flags,
                received,
                len(tx.outputs),
                tx.serialize() if keep_raw else None,
            ),
        )
        tx_row = int(cur.lastrowid or 0)
        if self._count is not None:
            self._count += 1
        self._touch_running(ord_, tx_row)
        if not coinbase:
            self.db.executemany(
                "INSERT OR IGNORE INTO inputs (prev_txid, prev_vout, spender) VALUES (?, ?, ?)",
                [(display_txid(i.prevout.txid), i.prevout.index, tx_row) for i in tx.inputs],
            )
        if spends:
            self.db.executemany(
                "UPDATE coins SET spent_by = ? WHERE tx = ? AND vout = ?",
                [(tx_row, c, v) for c, v in spends],
            )
            if len(spends) == len(tx.inputs):  # may be one of the wallet's Electorium votes
                record_vote(self.db, tx_row, tx)
        self._add_new_outputs(tx_row, txid, own, height, coinbase, refresh=False)
        if not coinbase:
            self.refresh(tx_row)
        return tx_row

    def _add_new_outputs(
        self,
        tx_row: int,
        txid: bytes,
        own: list[tuple[int, int, int]],
        height: int | None,
        coinbase: bool,
        *,
        refresh: bool = True,
    ) -> None:
        """Coins for the outputs of `own` not recorded yet (all of them for a new row)."""
        if not own:
            return
        known = {
            int(v) for (v,) in self.db.execute("SELECT vout FROM coins WHERE tx = ?", (tx_row,))
        }
        new = [(n, v, s) for n, v, s in own if n not in known]
        if not new:
            return
        rows = []
        children: set[int] = set()
        for n, value, sid in new:
            ns = int(coinbase and height is not None and self.is_ns_value(height, value))
            spender = None
            for (s,) in self.db.execute(
                "SELECT spender FROM inputs WHERE prev_txid = ? AND prev_vout = ?", (txid, n)
            ):
                spender = int(s)  # a child seen before its parent
                children.add(spender)
            rows.append((tx_row, n, value, sid, height, int(coinbase), ns, spender))
        self.db.executemany(
            "INSERT INTO coins (tx, vout, value, script, height, cb, ns, spent_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if refresh and (known or not coinbase):
            self.refresh(tx_row)
        for child in children:
            self.refresh(child)

    def refresh(self, tx_row: int) -> None:
        """Recompute a transaction's amount, fee and flags from its coins (after coins it
        spends or pays became known)."""
        spent, spent_count = self.db.execute(
            "SELECT COALESCE(SUM(value), 0), COUNT(*) FROM coins WHERE spent_by = ?", (tx_row,)
        ).fetchone()
        received, received_count = self.db.execute(
            "SELECT COALESCE(SUM(value), 0), COUNT(*) FROM coins WHERE tx = ?", (tx_row,)
        ).fetchone()
        (n_inputs,) = self.db.execute(
            "SELECT COUNT(*) FROM inputs WHERE spender = ?", (tx_row,)
        ).fetchone()
        flags, n_out, raw, ord_, old_amount = self.db.execute(
            "SELECT flags, n_out, raw, ord, amount FROM txs WHERE id = ?", (tx_row,)
        ).fetchone()
        flags &= FLAG_COINBASE | FLAG_RBF
        fee = None
        if spent_count:
            flags |= FLAG_SPENDS
        if spent_count and spent_count == n_inputs:
            flags |= FLAG_ALL_INPUTS_OURS
            if raw is not None:
                fee = spent - sum(o.value for o in Transaction.parse(raw).outputs)
        if received_count == n_out:
            flags |= FLAG_ALL_OUTPUTS_OURS
        amount = received - spent
        self.db.execute(
            "UPDATE txs SET flags = ?, amount = ?, fee = ? WHERE id = ?",
            (flags, amount, fee, tx_row),
        )
        if amount != old_amount:
            self._touch_running(ord_, tx_row)

    def _confirm(self, tx_row: int, height: int, timestamp: int | None, position: int) -> None:
        (old_ord,) = self.db.execute("SELECT ord FROM txs WHERE id = ?", (tx_row,)).fetchone()
        new_ord = confirmed_ord(height, position)
        self.db.execute(
            "UPDATE txs SET height = ?, time = ?, pos = ?, ord = ? WHERE id = ?",
            (height, timestamp, position, new_ord, tx_row),
        )
        self.db.execute("UPDATE coins SET height = ? WHERE tx = ?", (height, tx_row))
        self._touch_running(min(old_ord, new_ord), 0)

    def remove(self, txid: bytes) -> list[bytes]:
        """Drop a transaction and every transaction spending its outputs; their ids."""
        tx_row = self.tx_id(txid)
        return [] if tx_row is None else self.remove_id(tx_row)

    def remove_id(self, tx_row: int) -> list[bytes]:
        self.store.begin()
        removed: list[bytes] = []
        todo = [tx_row]
        while todo:
            current = todo.pop()
            row = self.db.execute("SELECT txid, ord FROM txs WHERE id = ?", (current,)).fetchone()
            if row is None:
                continue
            removed.append(display_txid(bytes(row[0])))
            self._touch_running(int(row[1]), current)
            todo.extend(
                int(s)
                for (s,) in self.db.execute(
                    "SELECT spent_by FROM coins WHERE tx = ? AND spent_by IS NOT NULL",
                    (current,),
                )
            )
            todo.extend(
                int(s)
                for (s,) in self.db.execute(
                    "SELECT DISTINCT i.spender FROM inputs i WHERE i.prev_txid = ?", (row[0],)
                )
                if s != current
            )
            self.db.execute("UPDATE coins SET spent_by = NULL WHERE spent_by = ?", (current,))
            self.db.execute("DELETE FROM coins WHERE tx = ?", (current,))
            self.db.execute("DELETE FROM inputs WHERE spender = ?", (current,))
            self.db.execute("DELETE FROM txs WHERE id = ?", (current,))
            if self._count is not None:
                self._count -= 1
        return removed

    def rewind(self, height: int) -> None:
        """Blocks above `height` left the chain."""
        self.store.begin()
        for (tx_row,) in self.db.execute(
            "SELECT id FROM txs WHERE height > ? AND flags & ? ORDER BY ord DESC",
            (height, FLAG_COINBASE),
        ).fetchall():
            self.remove_id(int(tx_row))
        moved = self.db.execute("SELECT MIN(ord) FROM txs WHERE height > ?", (height,)).fetchone()[
            0
        ]
        if moved is not None:
            self.db.execute(
                "UPDATE coins SET height = NULL WHERE tx IN (SELECT id FROM txs WHERE height > ?)",
                (height,),
            )
            self.db.execute(
                "UPDATE txs SET height = NULL, time = NULL, pos = 0, ord = ? + first_seen "
                "WHERE height > ?",
                (unconfirmed_ord(0), height),
            )
            self._touch_running(int(moved), 0)
        self.tip_height = min(self._tip_height, height)

    # --- running balance (history order) ---

    def _touch_running(self, ord_: int, tx_row: int) -> None:
        key = (ord_, tx_row)
        if self._running_from is None or key < self._running_from:
            self._running_from = key

    def fix_running(self) -> None:
        """Bring the stored running balances up to date from the first changed row on (the
        usual case, new blocks at the end of the history, touches only the new rows and the
        unconfirmed ones after them)."""
        if self._running_from is None:
            return
        ord_, tx_row = self._running_from
        before = self.db.execute(
            "SELECT running FROM txs WHERE (ord, id) < (?, ?) ORDER BY ord DESC, id DESC LIMIT 1",
            (ord_, tx_row),
        ).fetchone()
        base = int(before[0]) if before is not None else 0
        self.store.begin()
        self.db.execute(
            "UPDATE txs SET running = s.running FROM (SELECT id, ? + SUM(amount) OVER "
            "(ORDER BY ord, id ROWS UNBOUNDED PRECEDING) AS running FROM txs "
            "WHERE (ord, id) >= (?, ?)) AS s WHERE txs.id = s.id AND txs.running != s.running",
            (base, ord_, tx_row),
        )
        self._running_from = None

    # --- balances ---

    def balance(self) -> Balance:
        """Spendable / unconfirmed / immature / frozen / expired NS, from indexed queries."""
        db = self.db
        (total,) = db.execute("SELECT COALESCE(SUM(unspent), 0) FROM script_balance").fetchone()
        (unconfirmed,) = db.execute(
            "SELECT COALESCE(SUM(value), 0) FROM coins WHERE spent_by IS NULL AND height IS NULL"
        ).fetchone()
        (immature,) = db.execute(
            "SELECT COALESCE(SUM(value), 0) FROM coins "
            "WHERE spent_by IS NULL AND height > ? AND cb = 1",
            (self.maturity_limit(),),
        ).fetchone()
        (expired,) = db.execute(
            "SELECT COALESCE(SUM(value), 0) FROM coins "
            "WHERE ns = 1 AND spent_by IS NULL AND height <= ?",
            (self.ns_expiry_limit(),),
        ).fetchone()
        frozen_total = frozen_confirmed = 0
        for value, height, cb, ns in self.frozen_coins():
            if cb and height is not None and height > self.maturity_limit():
                continue
            if ns and height is not None and height <= self.ns_expiry_limit():
                continue
            frozen_total += value
            if height is not None:
                frozen_confirmed += value
        confirmed = total - unconfirmed - immature - expired
        return Balance(
            confirmed, unconfirmed, immature, frozen_total, expired, confirmed - frozen_confirmed
        )

    def frozen_coins(self) -> list[tuple[int, int | None, int, int]]:
        """(value, height, coinbase, ns) of the unspent frozen coins."""
        return [
            (int(v), h, int(cb), int(ns))
            for v, h, cb, ns in self.db.execute(
                # CROSS JOIN keeps this order (a few frozen rows first): the planner, with
                # no statistics, would otherwise walk every coin.
                "SELECT c.value, c.height, c.cb, c.ns FROM frozen f "
                "CROSS JOIN txs t ON t.txid = f.txid "
                "CROSS JOIN coins c ON c.tx = t.id AND c.vout = f.vout "
                "WHERE c.spent_by IS NULL"
            )
        ]

    def script_balances(self) -> dict[int, int]:
        """Unspent value per base script id (vote forms folded in)."""
        return {
            int(s): int(v)
            for s, v in self.db.execute(
                "SELECT script, unspent FROM script_balance WHERE coins > 0"
            )
        }

    def used_script_ids(self) -> set[int]:
        """Base ids of scripts that ever received a coin (imported keys' "used")."""
        return {int(s) for (s,) in self.db.execute("SELECT script FROM script_balance")}
