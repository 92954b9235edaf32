"""What mining earned, from the wallet: coins received in confirmed coinbase outputs.

``Wallet.coinbase_earnings`` gives them per UTC day (kept by the wallet database as blocks
arrive, ``pkt-wallet mining-earnings``); the wallet only holds its own scripts, so a payout
address outside the wallet shows no earnings. :func:`earnings_summary` gives today's and the
total for the Mining page from those days; :func:`format_earnings` the CLI's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from spv.params import NetworkParams
from spv.units import format_amount

from ..wallet.history import DailyEarnings


@dataclass(frozen=True)
class EarningsSummary:
    today: int
    """Units mined in blocks of the current UTC day."""
    total: int
    """Units mined in all confirmed blocks."""
    blocks: int
    """Coinbases that paid the wallet."""


def earnings_summary(days: Iterable[DailyEarnings], today: date | None = None) -> EarningsSummary:
    day = today or datetime.now(UTC).date()
    today_units = total = blocks = 0
    for row in days:
        total += row.amount
        blocks += row.blocks
        if row.day == day:
            today_units += row.amount
    return EarningsSummary(today_units, total, blocks)


def format_earnings(rows: Sequence[DailyEarnings], params: NetworkParams) -> list[str]:
    return [
        f"{r.day.isoformat()}  {format_amount(r.amount, params.units_per_coin)} "
        f"{params.coin_symbol} ({r.blocks} blocks)"
        for r in rows
    ]
