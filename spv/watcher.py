"""What the light client needs from a wallet: scripts to look for (never keys), and callbacks
for what it finds. The node keeps no list of the wallet's coins: it hands over every
transaction of a block whose filter matched, and the wallet keeps what concerns it (it knows
its own unspent outputs; a miner's wallet has hundreds of thousands)."""

from collections.abc import Iterable, Sequence
from typing import Protocol

from .tx import Transaction


class ChainWatcher(Protocol):
    def watched_scripts(self) -> Iterable[bytes]:
        """The output scripts to match filters against. Read once per filter batch (1000
        blocks): a script added while a batch is being delivered counts from the next batch
        (a wallet that derives new keys asks for a rescan, see `SpvNode.rescan_from`)."""
        ...

    def scan_start_height(self) -> int:
        """The first block that can concern the watcher (e.g. from a wallet's birthday)."""
        ...

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        """All transactions of a block whose filter matched, blocks in height order; the
        watcher keeps what concerns it."""
        ...

    def on_scan_progress(self, height: int) -> None:
        """Filters up to `height` were matched and every matched block up to it delivered:
        make what was delivered durable (commit). The node saves its own scan position right
        after this returns. Called after every filter batch, and every ~2 s or few hundred
        blocks while matched blocks arrive."""
        ...

    def on_chain_rewound(self, height: int) -> None:
        """Blocks above `height` left the active chain (a reorg)."""
        ...

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        """An unconfirmed transaction a peer announced (every one the node fetched). True when
        it concerned the watcher: the node then wakes its followers."""
        ...
