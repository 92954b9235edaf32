"""What mining earned, from the wallet: coins received in confirmed coinbase outputs.

:func:`coinbase_earnings` sums them per UTC day (``pkt-wallet mining-earnings``). The ledger
only holds the wallet's own scripts, so a payout address outside the wallet shows no earnings.

:func:`earnings_summary` gives today's and the total for the Mining page, by the same rule, from
the wallet's history: a coinbase spends nothing of the wallet's, so a history entry's net amount
is exactly what its outputs paid to the wallet's addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from spv.address import decode_address
from spv.params import NetworkParams
from spv.script import split_vote
from spv.units import format_amount

from ..wallet.ledger import HistoryEntry, LedgerTx


@dataclass(frozen=True)
class EarningsSummary:
    today: int
    """Units mined in blocks of the current UTC day."""
    total: int
    """Units mined in all confirmed blocks."""
    blocks: int
    """Coinbases that paid the wallet."""


def earnings_summary(history: Iterable[HistoryEntry], today: date | None = None) -> EarningsSummary:
    day = today or datetime.now(UTC).date()
    today_units = total = blocks = 0
    for entry in history:
        if not entry.coinbase or entry.height is None or entry.timestamp is None:
            continue
        if entry.amount <= 0:
            continue
        total += entry.amount
        blocks += 1
        if datetime.fromtimestamp(entry.timestamp, UTC).date() == day:
            today_units += entry.amount
    return EarningsSummary(today_units, total, blocks)


# --- per day, from the wallet ledger --------------------------------------------------------------


@dataclass(frozen=True)
class DailyEarnings:
    day: date
    """UTC day of the blocks."""
    amount: int
    """Units received by the payout address in coinbase outputs."""
    blocks: int
    """Coinbases that paid it."""


def coinbase_earnings(
    transactions: Iterable[LedgerTx],
    payout: bytes | Callable[[bytes], bool],
    *,
    days: int | None = None,
    today: date | None = None,
) -> list[DailyEarnings]:
    """Coins received from confirmed coinbase outputs, per UTC day, oldest first.

    ``payout`` is the payout script, or a predicate on output scripts (``wallet.is_mine``:
    every address of the wallet, since its receive address moves on once paid). Pass
    ``wallet.ledger.txs.values()``. With ``days``, only the last ``days`` days, days without
    earnings included as zero. A Network Steward vote suffix on an output is ignored."""
    matches: Callable[[bytes], bool] = payout.__eq__ if isinstance(payout, bytes) else payout
    totals: dict[date, list[int]] = {}
    for ltx in transactions:
        if ltx.height is None or ltx.timestamp is None or not ltx.tx.is_coinbase():
            continue
        amount = 0
        for txout in ltx.tx.outputs:
            vote = split_vote(txout.script)
            base = vote.base_script if vote is not None else txout.script
            if matches(base):
                amount += txout.value
        if amount:
            day = datetime.fromtimestamp(ltx.timestamp, UTC).date()
            entry = totals.setdefault(day, [0, 0])
            entry[0] += amount
            entry[1] += 1
    if days is None:
        return [DailyEarnings(d, a, b) for d, (a, b) in sorted(totals.items())]
    last = today or datetime.now(UTC).date()
    rows: list[DailyEarnings] = []
    for i in range(days - 1, -1, -1):
        d = last - timedelta(days=i)
        a, b = totals.get(d, [0, 0])
        rows.append(DailyEarnings(d, a, b))
    return rows


def payout_earnings(
    transactions: Iterable[LedgerTx],
    payout: str,
    params: NetworkParams,
    *,
    days: int | None = None,
    today: date | None = None,
) -> list[DailyEarnings]:
    script = decode_address(payout, params).to_script()
    return coinbase_earnings(transactions, script, days=days, today=today)


def format_earnings(rows: Sequence[DailyEarnings], params: NetworkParams) -> list[str]:
    return [
        f"{r.day.isoformat()}  {format_amount(r.amount, params.units_per_coin)} "
        f"{params.coin_symbol} ({r.blocks} blocks)"
        for r in rows
    ]
