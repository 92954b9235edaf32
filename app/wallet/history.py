"""History views of the ledger: pages of rows (sorted, searched) with the running balance,
transaction details, and mining earnings per day — each an indexed query that reads only
what it shows, so a wallet with a million transactions answers as fast as a new one."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from spv.address import address_from_script
from spv.hashes import hash_from_display
from spv.tx import Transaction

from .ledger import Ledger, display_txid
from .model import HistoryEntry, TxDetails, TxPart, outpoint_text
from .store import FLAG_ALL_INPUTS_OURS, FLAG_ALL_OUTPUTS_OURS, FLAG_COINBASE, FLAG_RBF, FLAG_SPENDS

TXID_PATTERN = re.compile(r"^[0-9a-f]{64}$")

# History sort orders: what the GUI's columns sort by.
SORTS = {
    "date": "t.ord {d}, t.id {d}",
    "amount": "t.amount {d}, t.ord {d}, t.id {d}",
    "label": "label_key {d}, t.ord {d}, t.id {d}",
    "txid": "t.txid {d}",
}

_COLUMNS = "t.id, t.txid, t.height, t.time, t.first_seen, t.flags, t.amount, t.fee, t.running"


@dataclass(frozen=True)
class DailyEarnings:
    day: date
    amount: int
    blocks: int


def direction_of(flags: int) -> str:
    if flags & FLAG_SPENDS and flags & FLAG_ALL_OUTPUTS_OURS:
        return "self"
    if flags & FLAG_SPENDS:
        return "outgoing"
    return "incoming"


class History:
    """Read-only views over a ledger; `labels` is the wallet's label map (live)."""

    def __init__(self, ledger: Ledger, labels: Mapping[str, str]) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.keys = ledger.keys
        self.params = ledger.params
        self.labels = labels

    # --- rows ---

    def _entry(self, row: tuple[object, ...]) -> HistoryEntry:
        tx_row, txid, height, time, first_seen, flags, amount, fee, running = row
        assert isinstance(txid, bytes) and isinstance(flags, int)
        txid_hex = txid.hex()
        direction = direction_of(flags)
        h = height if isinstance(height, int) else None
        return HistoryEntry(
            txid=txid_hex,
            height=h,
            timestamp=int(time) if isinstance(time, int) else int(first_seen),  # type: ignore[call-overload]
            confirmations=self.ledger.confirmations(h),
            amount=int(amount),  # type: ignore[call-overload]
            fee=int(fee) if isinstance(fee, int) else None,
            balance=int(running),  # type: ignore[call-overload]
            direction=direction,
            coinbase=bool(flags & FLAG_COINBASE),
            label=self.labels.get(txid_hex, "") or self._address_label(int(tx_row), direction),  # type: ignore[call-overload]
        )

    def _address_label(self, tx_row: int, direction: str) -> str:
        """A transaction without its own label shows the label of the address it paid: one of
        ours for a payment received, the recipient's for a payment sent."""
        if not any(not TXID_PATTERN.match(t) for t in self.labels):
            return ""
        if direction != "outgoing":
            for (sid,) in self.db.execute(
                "SELECT script FROM coins WHERE tx = ? ORDER BY vout", (tx_row,)
            ):
                address = self.keys.address_of(int(sid))
                if address and self.labels.get(address):
                    return self.labels[address]
            return ""
        (raw,) = self.db.execute("SELECT raw FROM txs WHERE id = ?", (tx_row,)).fetchone()
        if raw is None:
            return ""
        for out in Transaction.parse(raw).outputs:
            if self.keys.owner(out.script) is not None:
                continue
            recipient = address_from_script(out.script, self.params)
            if recipient is not None and self.labels.get(recipient):
                return self.labels[recipient]
        return ""

    def _search(self, text: str) -> tuple[str, list[object]]:
        """SQL condition and parameters: the txid, the transaction's label or the label of one
        of the wallet's addresses it paid contains `text` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return "", []
        conds = ["instr(lower(hex(t.txid)), ?) > 0"]
        params: list[object] = [needle]
        tx_hits = [
            bytes.fromhex(t)
            for t, label in self.labels.items()
            if TXID_PATTERN.match(t) and needle in label.lower()
        ]
        if tx_hits:
            conds.append(f"t.txid IN ({','.join('?' * len(tx_hits))})")
            params.extend(tx_hits)
        script_ids: list[int] = []
        for target, label in self.labels.items():
            if TXID_PATTERN.match(target) or needle not in label.lower():
                continue
            script = self._script_of_address(target)
            if script is not None:
                script_ids.extend(self.keys.ids_for_address_script(script))
        if script_ids:
            conds.append(
                "EXISTS (SELECT 1 FROM coins c WHERE c.tx = t.id AND c.script IN "
                f"({','.join('?' * len(script_ids))}))"
            )
            params.extend(script_ids)
        return "(" + " OR ".join(conds) + ")", params

    def _script_of_address(self, address: str) -> bytes | None:
        from spv.address import script_for_address
        from spv.errors import ParseError

        try:
            return script_for_address(address, self.params)
        except ParseError:
            return None

    def count(self, search: str = "") -> int:
        if not search.strip():
            return self.ledger.count()
        where, params = self._search(search)
        sql = "SELECT COUNT(*) FROM txs t" + (f" WHERE {where}" if where else "")
        return int(self.db.execute(sql, params).fetchone()[0])

    def page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        newest_first: bool = True,
        sort: str = "date",
        search: str = "",
    ) -> list[HistoryEntry]:
        """One page of the history. The running balance is in oldest-first order whatever the
        sort (it is the balance after each transaction)."""
        if sort not in SORTS:
            raise ValueError(f"unknown history sort {sort!r}; choose {', '.join(SORTS)}")
        self.ledger.fix_running()
        where, params = self._search(search)
        order = SORTS[sort].format(d="DESC" if newest_first else "ASC")
        label_join = ""
        columns = _COLUMNS
        if sort == "label":
            label_join = " LEFT JOIN labels l ON l.target = lower(hex(t.txid))"
            columns += ", COALESCE(l.text, '') AS label_key"
        sql = (
            f"SELECT {columns} FROM txs t{label_join}"
            + (f" WHERE {where}" if where else "")
            + f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        rows = self.db.execute(
            sql, [*params, limit if limit >= 0 else -1, max(offset, 0)]
        ).fetchall()
        return [self._entry(tuple(r[:9])) for r in rows]

    def iterate(self, batch: int = 2000) -> Iterator[HistoryEntry]:
        """Every row, oldest first, read in batches (CSV export)."""
        self.ledger.fix_running()
        last = (-1, -1)
        while True:
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, t.ord FROM txs t WHERE (t.ord, t.id) > (?, ?) "
                "ORDER BY t.ord, t.id LIMIT ?",
                (*last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield self._entry(tuple(r[:9]))
            last = (int(rows[-1][9]), int(rows[-1][0]))

    def entry(self, txid_text: str) -> HistoryEntry:
        self.ledger.fix_running()
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM txs t WHERE t.txid = ?", (_txid_bytes(txid_text),)
        ).fetchone()
        if row is None:
            raise KeyError(f"transaction {txid_text} is not in this wallet")
        return self._entry(tuple(row))

    # --- details ---

    def details(self, txid_text: str) -> TxDetails:
        """The inputs and outputs of a ledger transaction, with what the wallet knows of them
        (a light client only knows the value of the inputs that paid it; of a bulky payment
        to the wallet, such as a pool's coinbase, only the wallet's own outputs were kept)."""
        key = _txid_bytes(txid_text)
        row = self.db.execute(
            "SELECT id, height, time, first_seen, flags, fee, n_out, raw FROM txs WHERE txid = ?",
            (key,),
        ).fetchone()
        if row is None:
            raise KeyError(f"transaction {txid_text} is not in this wallet")
        tx_row, height, time, first_seen, flags, fee, n_out, raw = row
        own = {
            int(vout): (int(value), int(sid))
            for vout, value, sid in self.db.execute(
                "SELECT vout, value, script FROM coins WHERE tx = ?", (tx_row,)
            )
        }
        timestamp = time if time is not None else first_seen
        if raw is None:
            outputs = [
                TxPart(f"{txid_text}:{n}", self._address(sid), value, True)
                for n, (value, sid) in sorted(own.items())
            ]
            return TxDetails(
                txid=txid_text,
                inputs=[],
                outputs=outputs,
                size=None,
                vsize=None,
                coinbase=bool(flags & FLAG_COINBASE),
                fee=None,
                other_outputs=int(n_out) - len(outputs),
                height=height,
                timestamp=timestamp,
            )
        tx = Transaction.parse(raw)
        inputs = [self._input_part(i.prevout.txid, i.prevout.index) for i in tx.inputs]
        outputs = [
            TxPart(
                f"{txid_text}:{n}",
                address_from_script(out.script, self.params) or "",
                out.value,
                self.keys.owner(out.script) is not None,
            )
            for n, out in enumerate(tx.outputs)
        ]
        replaceable = (
            bool(flags & FLAG_ALL_INPUTS_OURS) and height is None and bool(flags & FLAG_RBF)
        )
        return TxDetails(
            txid=txid_text,
            inputs=inputs,
            outputs=outputs,
            size=len(raw),
            vsize=tx.vsize,
            coinbase=False,
            replaceable=replaceable,
            fee=int(fee) if fee is not None else None,
            height=height,
            timestamp=timestamp,
        )

    def _address(self, script_id: int) -> str:
        return self.keys.address_of(script_id)

    def _input_part(self, prev_txid: bytes, vout: int) -> TxPart:
        from spv.tx import OutPoint

        text = outpoint_text(OutPoint(prev_txid, vout))
        row = self.db.execute(
            "SELECT c.value, c.script FROM txs t JOIN coins c ON c.tx = t.id "
            "WHERE t.txid = ? AND c.vout = ?",
            (display_txid(prev_txid), vout),
        ).fetchone()
        if row is None:
            return TxPart(text, "", None, False)
        return TxPart(text, self._address(int(row[1])), int(row[0]), True)

    # --- mining earnings ---

    def coinbase_earnings(
        self, *, days: int | None = None, today: date | None = None
    ) -> list[DailyEarnings]:
        """Coins received in confirmed coinbase outputs per UTC day, oldest first; with
        `days`, the last `days` days (days without earnings as zero). Kept per day by the
        store's triggers: no scan of the history."""
        rows = {
            int(d): (int(a), int(b))
            for d, a, b in self.db.execute(
                "SELECT day, amount, blocks FROM coinbase_days WHERE blocks > 0 ORDER BY day"
            )
        }
        return self._fill_days(rows, days, today)

    def script_earnings(
        self, script_ids: list[int], *, days: int | None = None, today: date | None = None
    ) -> list[DailyEarnings]:
        """As `coinbase_earnings`, for coins paid to these scripts only (one pass over the
        wallet's coinbase coins: for the CLI's --payout)."""
        if not script_ids:
            return self._fill_days({}, days, today)
        marks = ",".join("?" * len(script_ids))
        totals: dict[int, tuple[int, int]] = {}
        for d, a, b in self.db.execute(
            f"SELECT t.time / 86400, SUM(c.value), COUNT(DISTINCT t.id) FROM coins c "
            f"JOIN txs t ON t.id = c.tx WHERE c.cb = 1 AND c.height IS NOT NULL "
            f"AND c.script IN ({marks}) GROUP BY 1 ORDER BY 1",
            script_ids,
        ):
            totals[int(d)] = (int(a), int(b))
        return self._fill_days(totals, days, today)

    @staticmethod
    def _fill_days(
        totals: Mapping[int, tuple[int, int]], days: int | None, today: date | None
    ) -> list[DailyEarnings]:
        epoch = date(1970, 1, 1)
        if days is None:
            return [DailyEarnings(epoch + timedelta(days=d), a, b) for d, (a, b) in totals.items()]
        last = today or datetime.now(UTC).date()
        out = []
        for i in range(days - 1, -1, -1):
            day = last - timedelta(days=i)
            a, b = totals.get((day - epoch).days, (0, 0))
            out.append(DailyEarnings(day, a, b))
        return out


def _txid_bytes(text: str) -> bytes:
    """Display-order bytes of a txid text (as stored)."""
    return display_txid(hash_from_display(text.strip()))
