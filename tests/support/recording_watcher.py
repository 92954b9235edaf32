"""A ChainWatcher for the light client's tests: keeps the transactions paying its scripts (or
spending what they received), and records scan progress, rewinds and mempool deliveries."""

from collections.abc import Iterable, Sequence

from spv.tx import OutPoint, Transaction


class RecordingWatcher:
    def __init__(self, scripts: Iterable[bytes], start: int = 0) -> None:
        self.scripts = set(scripts)
        self.start = start
        self.seen: dict[bytes, int] = {}  # txid -> height
        self.delivered: list[int] = []  # heights of the blocks handed over, in order
        self.progress: list[int] = []  # on_scan_progress heights
        self.rewound: list[int] = []
        self.mempool: list[bytes] = []
        self._own: set[OutPoint] = set()

    def watched_scripts(self) -> Iterable[bytes]:
        return self.scripts

    def scan_start_height(self) -> int:
        return self.start

    def _concerns(self, tx: Transaction) -> bool:
        mine = [n for n, out in enumerate(tx.outputs) if out.script in self.scripts]
        spends = any(i.prevout in self._own for i in tx.inputs)
        self._own.update(OutPoint(tx.txid, n) for n in mine)
        return bool(mine) or spends

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        self.delivered.append(height)
        for tx in txs:
            if self._concerns(tx):
                self.seen[tx.txid] = height

    def on_scan_progress(self, height: int) -> None:
        self.progress.append(height)

    def on_chain_rewound(self, height: int) -> None:
        self.rewound.append(height)
        self.seen = {t: h for t, h in self.seen.items() if h <= height}

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        if self._concerns(tx):
            self.mempool.append(tx.txid)
            return True
        return False
