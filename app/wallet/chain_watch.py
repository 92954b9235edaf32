"""The open wallet as the light client's watcher (``spv.watcher.ChainWatcher``): the scripts to
match, where its scan starts, the blocks and unconfirmed transactions that concern it, scan
progress committed as it goes, reorgs, and the rescans the gap limit asks for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from spv.chain import estimate_height_below
from spv.tx import Transaction

from .wallet_parts import HeightIndex, WalletParts

BIRTHDAY_MARGIN_SECONDS = 2 * 86400  # scan from two days before the birthday


def _utc_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class ChainWatching(WalletParts):
    def attach_chain(self, chain: HeightIndex | None) -> None:
        self._chain = chain

    def watched_scripts(self) -> set[bytes]:
        return self.keys.watched_scripts()

    def scan_start_height(self) -> int:
        """The first block that can concern the wallet: the first one less than two days
        before the birthday (0 without a birthday, and on regtest, whose chains carry
        arbitrary timestamps)."""
        if self.birthday_height is not None:
            return self.birthday_height
        chain = self._chain
        if self.birthday is None or self.params.name == "regtest" or chain is None:
            return 0
        target = _utc_midnight(self.birthday) - BIRTHDAY_MARGIN_SECONDS
        low, high = chain.first_height, chain.height
        if high < low or chain.timestamp_at(high) < target:
            return max(high + 1, 0)  # every known block is older than the birthday
        while low < high:
            mid = (low + high) // 2
            if chain.timestamp_at(mid) < target:
                low = mid + 1
            else:
                high = mid
        self.birthday_height = low
        return low

    def history_from_height(self) -> int | None:
        """The lowest block the light client must keep headers for, so this wallet's scan can
        start at its birthday (0 when the birthday is unknown)."""
        if self.birthday_height is not None:
            return self.birthday_height
        if self.birthday is None:
            return 0
        return estimate_height_below(
            self.params, _utc_midnight(self.birthday) - BIRTHDAY_MARGIN_SECONDS
        )

    def _request_rescan(self, height: int) -> None:
        """Ask for the filters from `height` to be scanned again (saved; cleared when a scan
        passed it); `take_rescan_request` hands new requests to the sync loop."""
        if self.pending_rescan is None or height < self.pending_rescan:
            self.pending_rescan = height
        if self._rescan_request is None or height < self._rescan_request:
            self._rescan_request = height

    def take_rescan_request(self) -> int | None:
        found, self._rescan_request = self._rescan_request, None
        return found

    def _keys_added(self, height: int | None) -> None:
        """New keys may already have been used in blocks the filters were matched without
        them: while restoring rescan from the birthday, else from the next block. Keys added
        for an unconfirmed transaction can only be used in blocks still to come."""
        if self.restoring:
            self._request_rescan(self.scan_start_height())
        elif height is not None:
            self._request_rescan(height + 1)

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        now = int(self.clock())
        with self._changing():
            for position, tx in enumerate(txs):
                result = self.ledger.add(
                    tx, height=height, timestamp=timestamp, position=position, now=now
                )
                if result.keys_added:
                    self._keys_added(height)
        self._maybe_commit()

    def on_scan_progress(self, height: int) -> None:
        """Filters up to `height` were matched and their blocks delivered: commit, and keep
        the position so a sync killed now resumes from here."""
        if self.pending_rescan is not None and height >= self.pending_rescan:
            self.pending_rescan = height + 1 if height + 1 <= self.synced_height else None
        if height > self.synced_height:
            self.synced_height = height
            self._update_locator(height)
        self.save(durable=False)

    def _update_locator(self, height: int) -> None:
        chain = self._chain
        if chain is None:
            return
        heights = sorted({height - (1 << i) + 1 for i in range(16)} | {height})
        self.locator = [
            (h, chain.hash_at(h)) for h in heights if chain.first_height <= h <= chain.height
        ]

    def on_chain_rewound(self, height: int) -> None:
        with self._changing():
            self.ledger.rewind(height)
        self.synced_height = min(self.synced_height, height)
        self.locator = [(h, x) for h, x in self.locator if h <= height]
        self.save()

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        with self._changing():
            result = self.ledger.add(tx, now=int(self.clock()))
        if not result.recorded:
            return False
        if result.keys_added:
            self._keys_added(None)
        self.save()
        return True

    def prepare_sync(self, chain: HeightIndex) -> int | None:
        """Before a sync: compare what the wallet saw with the local header chain (a reorg may
        have happened while it was closed) and return the height the filter scan must restart
        from."""
        self.attach_chain(chain)
        fork: int | None = None
        for h, block_hash in reversed(self.locator):
            if h > chain.height or h < chain.first_height:
                continue
            if chain.hash_at(h) == block_hash:
                break
            fork = h - 1 if fork is None else min(fork, h - 1)
        if fork is not None:
            matching = [
                h
                for h, x in self.locator
                if chain.first_height <= h <= min(fork, chain.height) and chain.hash_at(h) == x
            ]
            lowest = min((h for h, _ in self.locator), default=fork + 1) - 1
            self.on_chain_rewound(max(matching, default=min(fork, lowest)))
        self._rescan_request = None  # covered by the start height returned
        if self.pending_rescan is not None:
            return min(self.pending_rescan, self.synced_height + 1)
        return self.synced_height + 1

    def finish_sync(self, chain: HeightIndex, scan_height: int) -> None:
        """After a completed sync up to `scan_height` (the chain tip)."""
        self.synced_height = scan_height
        self.pending_rescan = None
        self.ledger.tip_height = chain.height
        self.attach_chain(chain)
        self._update_locator(scan_height)
        self.restoring = False
        self.save()

    @property
    def tip_height(self) -> int:
        return self.ledger.tip_height
