"""What the light client needs from a wallet: scripts to look for (never keys), and callbacks
for the transactions it finds."""

from collections.abc import Iterable
from typing import Protocol

from .tx import OutPoint, Transaction


class ChainWatcher(Protocol):
    """What the light client needs from a wallet."""

    def watched_scripts(self) -> Iterable[bytes]: ...

    def watched_outpoints(self) -> Iterable[OutPoint]: ...

    def scan_start_height(self) -> int: ...

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: list[Transaction]
    ) -> None: ...

    def on_chain_rewound(self, height: int) -> None:
        """Blocks above `height` left the active chain (a reorg)."""

    def on_mempool_transaction(self, tx: Transaction) -> None: ...
