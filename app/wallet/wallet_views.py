"""The open wallet's views: balance, coins, history pages, transaction details, mining
earnings, frozen coins and the CSV export — each read from the database by what it shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from spv.address import script_for_address
from spv.atomic import atomic_write
from spv.tx import OutPoint
from spv.units import format_amount

from .errors import WalletError
from .history import DailyEarnings
from .ledger import display_txid
from .model import Balance, Coin, HistoryEntry, TxDetails, outpoint_from_text, outpoint_text
from .wallet_parts import WalletParts


class Views(WalletParts):
    def balance(self) -> Balance:
        return self.ledger.balance()

    def coins(self) -> list[Coin]:
        """Every unspent coin, oldest first (all of them: see `coins_page` for long lists)."""
        return self.coin_queries.all_coins()

    def coins_page(
        self, *, offset: int = 0, limit: int = 200, order: str = "age", descending: bool = False
    ) -> list[Coin]:
        return self.coin_queries.page(
            offset=offset, limit=limit, order=order, descending=descending
        )

    def coin_count(self) -> int:
        return self.coin_queries.count()

    def spendable_coins(self) -> list[Coin]:
        return list(self.coin_queries.spendable_largest())

    def history(self) -> list[HistoryEntry]:
        """Every transaction, oldest first (all of them: see `history_page`)."""
        return list(self.history_view.iterate())

    def history_page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        newest_first: bool = True,
        sort: str = "date",
        search: str = "",
    ) -> list[HistoryEntry]:
        return self.history_view.page(
            offset=offset, limit=limit, newest_first=newest_first, sort=sort, search=search
        )

    def history_count(self, search: str = "") -> int:
        return self.history_view.count(search)

    def history_entry(self, txid: str) -> HistoryEntry:
        try:
            return self.history_view.entry(txid)
        except KeyError:
            raise WalletError(f"unknown transaction {txid}") from None

    def transaction_details(self, txid: str) -> TxDetails:
        try:
            return self.history_view.details(txid)
        except KeyError:
            raise WalletError(f"unknown transaction {txid}") from None

    def coinbase_earnings(
        self, *, days: int | None = None, today: date | None = None, payout: str | None = None
    ) -> list[DailyEarnings]:
        """Coins received in coinbase outputs per UTC day (to `payout` only, when given)."""
        if payout is None:
            return self.history_view.coinbase_earnings(days=days, today=today)
        script = script_for_address(payout, self.params)
        ids = self.keys.ids_for_address_script(script)
        return self.history_view.script_earnings(ids, days=days, today=today)

    def freeze(self, outpoints: Iterable[OutPoint | str], frozen: bool = True) -> None:
        ops = [outpoint_from_text(i) if isinstance(i, str) else i for i in outpoints]
        for op in ops:
            if self.coin_queries.get(op) is None:
                raise WalletError(f"{outpoint_text(op)} is not an unspent coin of this wallet")
        with self.store.transaction() as db:
            for op in ops:
                key = (display_txid(op.txid), op.index)
                if frozen:
                    db.execute("INSERT OR IGNORE INTO frozen (txid, vout) VALUES (?, ?)", key)
                    self.frozen.add(op)
                else:
                    db.execute("DELETE FROM frozen WHERE txid = ? AND vout = ?", key)
                    self.frozen.discard(op)

    def export_csv(self, target: Path | io.TextIOBase | None = None) -> str:
        """History as CSV (date, txid, amount, fee, balance, label, confirmations), amounts in
        coins; written to `target` when given (atomically for a path). Returns the text."""
        upc = self.params.units_per_coin
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["date", "txid", "amount", "fee", "balance", "label", "confirmations"])
        for e in self.history_view.iterate():
            when = (
                datetime.fromtimestamp(e.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if e.timestamp
                else ""
            )
            writer.writerow(
                [
                    when,
                    e.txid,
                    format_amount(e.amount, upc),
                    format_amount(e.fee, upc) if e.fee is not None else "",
                    format_amount(e.balance, upc),
                    e.label,
                    e.confirmations,
                ]
            )
        text = buf.getvalue()
        if isinstance(target, Path):
            atomic_write(target, text.encode("utf-8"), mode=0o644)
        elif target is not None:
            target.write(text)
        return text
