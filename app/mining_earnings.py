"""Today's and total mining earnings from a wallet's history, for the Mining page.

The same rule as ``pkt-wallet mining-earnings`` (:func:`app.mining.coinbase_earnings`): coins
the wallet received in confirmed coinbase outputs, grouped by the block's UTC day. A coinbase
spends nothing of the wallet's, so a history entry's net amount is exactly what its outputs paid
to the wallet's addresses.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .wallet.ledger import HistoryEntry


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
