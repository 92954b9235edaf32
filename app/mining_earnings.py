"""Today's and total mining earnings, for the Mining page.

The same rule as ``pkt-wallet mining-earnings`` (``Wallet.coinbase_earnings``): coins the wallet
received in confirmed coinbase outputs, grouped by the block's UTC day (kept per day by the
wallet database, so this reads a few hundred rows, not the history).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .wallet.history import DailyEarnings


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
