"""What the window shows of a wallet (a copy made on the network thread) and a wallet's seed
words on their way to the screen."""

from __future__ import annotations

from dataclasses import dataclass

from ..wallet.history import DailyEarnings
from ..wallet.model import Balance, HistoryEntry

RECENT_HISTORY = 100  # transactions a WalletView carries; older ones are read by pages


@dataclass(frozen=True)
class WalletView:
    """What the window shows of a wallet, copied on the network thread."""

    name: str
    balance: Balance
    receive_address: str
    history: list[HistoryEntry]  # the newest RECENT_HISTORY transactions, oldest first
    synced_height: int
    backed_up: bool = True  # False: the seed words were never confirmed
    history_count: int = 0  # all transactions (pages: AppCore.history_page)
    mining_address: str = ""  # the steady address mining pays to
    earnings: tuple[DailyEarnings, ...] = ()  # coinbase earnings per UTC day
    vote_reminder: str = ""  # a Network Steward vote expires within four weeks: vote again


@dataclass(frozen=True)
class SeedWords:
    """A wallet's seed words, for the person to write down (never logged or stored)."""

    words: str
    seed_type: str  # "bip39" or "pktwallet"
    has_passphrase: bool

    def __repr__(self) -> str:
        return f"SeedWords(seed_type={self.seed_type!r}, <words redacted>)"
