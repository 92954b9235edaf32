"""The wallet's unspent coins read from its database: pages for coin control, the spendable
ones largest first for coin selection, counts and totals without loading them.

A miner's wallet holds hundreds of thousands of coins; nothing here loads them all unless a
caller asks for the whole list (`all_coins`, the CLI's `coins`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Set
from dataclasses import dataclass

from spv.tx import OutPoint

from .ledger import Ledger, display_txid
from .model import Coin
from .store import FLAG_ALL_INPUTS_OURS, FLAG_COINBASE

_SELECT = (
    "SELECT t.txid, c.vout, c.value, c.script, c.height, c.cb, c.ns, t.flags "
    "FROM coins c JOIN txs t ON t.id = c.tx"
)
COIN_ORDERS = {
    "age": "t.ord {d}, t.id {d}, c.vout {d}",
    "value": "c.value {d}, t.ord {d}, c.vout {d}",
}


@dataclass(frozen=True)
class SpendableSummary:
    count: int
    total: int


class CoinQueries:
    def __init__(self, ledger: Ledger, frozen: Set[OutPoint]) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.keys = ledger.keys
        self.frozen = frozen  # the wallet's live set

    def _coin(self, row: tuple[object, ...]) -> Coin:
        txid, vout, value, sid, height, cb, ns, flags = row
        assert isinstance(txid, bytes) and isinstance(flags, int)
        h = height if isinstance(height, int) else None
        script, owned = self.keys.script_of(int(sid))  # type: ignore[call-overload]
        coinbase = bool(cb)
        ledger = self.ledger
        mature = not coinbase or (h is not None and h <= ledger.maturity_limit())
        outpoint = OutPoint(display_txid(txid), int(vout))  # type: ignore[call-overload]
        return Coin(
            outpoint=outpoint,
            value=int(value),  # type: ignore[call-overload]
            script=script,
            owner=owned,
            height=h,
            coinbase=coinbase,
            confirmations=ledger.confirmations(h),
            mature=mature,
            ns_expired=bool(ns) and h is not None and h <= ledger.ns_expiry_limit(),
            trusted=h is not None
            or (not coinbase and bool(flags & FLAG_ALL_INPUTS_OURS) and not flags & FLAG_COINBASE),
            frozen=outpoint in self.frozen,
        )

    def count(self) -> int:
        (n,) = self.db.execute("SELECT COALESCE(SUM(coins), 0) FROM script_balance").fetchone()
        return int(n)

    def page(
        self, *, offset: int = 0, limit: int = 200, order: str = "age", descending: bool = False
    ) -> list[Coin]:
        if order not in COIN_ORDERS:
            raise ValueError(f"unknown coin order {order!r}; choose {', '.join(COIN_ORDERS)}")
        sql = (
            f"{_SELECT} WHERE c.spent_by IS NULL ORDER BY "
            + COIN_ORDERS[order].format(d="DESC" if descending else "ASC")
            + " LIMIT ? OFFSET ?"
        )
        return [self._coin(tuple(r)) for r in self.db.execute(sql, (limit, offset))]

    def all_coins(self) -> list[Coin]:
        """Every unspent coin, oldest first (loads them all)."""
        return self.page(offset=0, limit=-1)

    def get(self, outpoint: OutPoint) -> Coin | None:
        """The unspent coin at `outpoint`, or None."""
        row = self.db.execute(
            f"{_SELECT} WHERE t.txid = ? AND c.vout = ? AND c.spent_by IS NULL",
            (display_txid(outpoint.txid), outpoint.index),
        ).fetchone()
        return None if row is None else self._coin(tuple(row))

    def owned_output(self, outpoint: OutPoint) -> Coin | None:
        """The wallet's output at `outpoint`, spent or not (a fee bump re-spends its coins)."""
        row = self.db.execute(
            f"{_SELECT} WHERE t.txid = ? AND c.vout = ?",
            (display_txid(outpoint.txid), outpoint.index),
        ).fetchone()
        return None if row is None else self._coin(tuple(row))

    def _spendable(self, cur: sqlite3.Cursor, batch: int) -> Iterator[Coin]:
        """The spendable, trusted coins among the rows of `cur`, read `batch` at a time."""
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for r in rows:
                coin = self._coin(tuple(r))
                if coin.spendable and coin.trusted:
                    yield coin

    def spendable_largest(self) -> Iterator[Coin]:
        """Spendable, trusted coins, largest first (read as consumed)."""
        cur = self.db.execute(f"{_SELECT} WHERE c.spent_by IS NULL ORDER BY c.value DESC")
        return self._spendable(cur, 512)

    def spendable_on_script(self, script_id: int) -> Iterator[Coin]:
        """Spendable, trusted coins paying exactly script `script_id` (not its vote forms),
        largest first, read as consumed through the index ``coins_unspent_script``."""
        cur = self.db.execute(
            f"{_SELECT} WHERE c.script = ? AND c.spent_by IS NULL ORDER BY c.value DESC",
            (script_id,),
        )
        return self._spendable(cur, 64)

    def unspent_on_script(self, script_id: int) -> tuple[int, int]:
        """(value, count) of the unspent coins paying exactly script `script_id`."""
        value, count = self.db.execute(
            "SELECT COALESCE(SUM(value), 0), COUNT(*) FROM coins "
            "WHERE script = ? AND spent_by IS NULL",
            (script_id,),
        ).fetchone()
        return int(value), int(count)

    def spendable_smallest(
        self, *, above: int, at_most: int | None, confirmed_only: bool = True
    ) -> Iterator[Coin]:
        """Spendable coins worth more than `above` (and at most `at_most`), smallest first."""
        sql = f"{_SELECT} WHERE c.spent_by IS NULL AND c.value > ?"
        params: list[int] = [above]
        if at_most is not None:
            sql += " AND c.value <= ?"
            params.append(at_most)
        if confirmed_only:
            sql += " AND c.height IS NOT NULL"
        cur = self.db.execute(sql + " ORDER BY c.value, c.tx, c.vout", params)
        return self._spendable(cur, 512)

    def consolidation_rows(self, *, above: int, at_most: int | None) -> Iterator[tuple[int, int]]:
        """(value, script id) of the confirmed spendable coins worth more than `above` (and at
        most `at_most`), smallest first, in `spendable_smallest`'s order: the cheap form of it
        for counting a consolidation of a million coins."""
        ledger = self.ledger
        sql = (
            "SELECT c.value, c.script, c.tx, c.vout FROM coins c WHERE c.spent_by IS NULL "
            "AND c.value > ? AND c.height IS NOT NULL AND (c.cb = 0 OR c.height <= ?) "
            "AND (c.ns = 0 OR c.height > ?)"
        )
        params: list[int] = [above, ledger.maturity_limit(), ledger.ns_expiry_limit()]
        if at_most is not None:
            sql += " AND c.value <= ?"
            params.append(at_most)
        frozen = self._frozen_rows()
        cur = self.db.execute(sql + " ORDER BY c.value, c.tx, c.vout", params)
        while True:
            rows = cur.fetchmany(4096)
            if not rows:
                return
            for value, sid, tx, vout in rows:
                if not frozen or (tx, vout) not in frozen:
                    yield int(value), int(sid)

    def _frozen_rows(self) -> set[tuple[int, int]]:
        out = set()
        for op in self.frozen:
            row = self.db.execute(
                "SELECT id FROM txs WHERE txid = ?", (display_txid(op.txid),)
            ).fetchone()
            if row is not None:
                out.add((int(row[0]), op.index))
        return out

    def _excluded(self) -> dict[tuple[bytes, int], int]:
        """The unspent coins that are not spendable (immature, expiring NS payments, frozen,
        unconfirmed from others): each category is small, read through its index."""
        ledger = self.ledger
        out: dict[tuple[bytes, int], int] = {}
        queries = [
            (
                f"{_SELECT} WHERE c.spent_by IS NULL AND c.height > ? AND c.cb = 1",
                (ledger.maturity_limit(),),
            ),
            (
                f"{_SELECT} WHERE c.ns = 1 AND c.spent_by IS NULL AND c.height <= ?",
                (ledger.ns_expiry_limit(),),
            ),
            (f"{_SELECT} WHERE c.spent_by IS NULL AND c.height IS NULL", ()),
        ]
        for sql, params in queries:
            for r in self.db.execute(sql, params):
                coin = self._coin(tuple(r))
                if not (coin.spendable and coin.trusted):
                    out[(r[0], int(r[1]))] = coin.value
        for op in self.frozen:
            frozen_coin = self.get(op)
            if frozen_coin is not None:
                out[(display_txid(op.txid), op.index)] = frozen_coin.value
        return out

    def spendable_summary(self) -> SpendableSummary:
        """How many coins are spendable and their total, without reading them all."""
        (count, total) = self.db.execute(
            "SELECT COALESCE(SUM(coins), 0), COALESCE(SUM(unspent), 0) FROM script_balance"
        ).fetchone()
        excluded = self._excluded()
        return SpendableSummary(int(count) - len(excluded), int(total) - sum(excluded.values()))
