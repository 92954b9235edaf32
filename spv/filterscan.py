"""The filter scan: fetch BIP158 filters, check them against the verified filter headers, match
them against the watcher's scripts, and hand the transactions of matching blocks to the
watcher. The scan position is kept in `chain/scan.json`."""

import asyncio
import json
import logging
import time
from pathlib import Path

from .atomic import atomic_write
from .bip158 import filter_header, match_many
from .blockfetch import BlockFetcher
from .chain import HeaderChain
from .filterheaders import FilterHeaderStore
from .peer import PeerError
from .peerset import PeerSet
from .progress import ProgressReporter
from .script import split_vote
from .tx import OutPoint, Transaction
from .watcher import ChainWatcher

log = logging.getLogger(__name__)

CFILTERS_BATCH = 1000
BLOCKS_BATCH = 16


class FilterScan:
    def __init__(
        self,
        chain: HeaderChain,
        filter_headers: FilterHeaderStore,
        peer_set: PeerSet,
        reporter: ProgressReporter,
        blocks: BlockFetcher,
        scan_path: Path,
    ) -> None:
        self.chain = chain
        self.filter_headers = filter_headers
        self.peer_set = peer_set
        self.reporter = reporter
        self.blocks = blocks
        self.watcher: ChainWatcher | None = None
        self._scan_path = scan_path
        self.own_outpoints: set[OutPoint] = set()
        self.height = self._load_height()

    # --- persistence of the scan position ---

    def _load_height(self) -> int:
        try:
            data = json.loads(self._scan_path.read_text(encoding="utf-8"))
            height = int(data["height"])
            if self.chain.store.has_height(height) and bytes.fromhex(
                data["hash"]
            ) == self.chain.hash_at(height):
                return height
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass
        return self.chain.first_height - 1

    def save_height(self) -> None:
        h = self.height
        block_hash = self.chain.hash_at(h) if self.chain.store.has_height(h) else b"\x00" * 32
        atomic_write(
            self._scan_path,
            json.dumps({"height": h, "hash": block_hash.hex()}).encode(),
            mode=0o644,
        )

    def rescan_from(self, height: int) -> None:
        self.height = max(self.chain.first_height - 1, min(self.height, height - 1))
        self.save_height()

    def rewind_to(self, height: int) -> None:
        """Filters above `height` must be matched again (the chain or filter headers changed)."""
        if self.height > height:
            self.height = max(height, self.chain.first_height - 1)
            self.save_height()

    # --- scanning ---

    async def scan(self) -> None:
        if self.watcher is None:
            # Nothing to look for: the scan position follows the verified filter headers.
            if self.height < self.filter_headers.tip_height:
                self.height = self.filter_headers.tip_height
                self.save_height()
            return
        wanted = self.watcher.scan_start_height() - 1
        if wanted > self.height:
            self.height = min(wanted, self.filter_headers.tip_height)
        started = time.monotonic()
        scanned = 0
        while self.height < self.filter_headers.tip_height:
            start = self.height + 1
            stop = min(start + CFILTERS_BATCH - 1, self.filter_headers.tip_height)
            peer = self.peer_set.best(filters=True)
            if peer is None:
                return
            stop_hash = self.chain.hash_at(stop)
            try:
                filters = await peer.get_cfilters(start, stop_hash, stop - start + 1)
            except PeerError as exc:
                log.info("cfilters from %s: %s", peer.info.address, exc)
                await peer.close(f"cfilters failed: {exc}")
                continue
            if len(filters) != stop - start + 1:
                await peer.close("incomplete cfilters answer")
                continue
            scripts = list(self.watcher.watched_scripts())
            expected = self._filter_headers_around(start, stop)
            bad_height = None
            for i, cf in enumerate(filters):
                prev_fh, fh = expected[i], expected[i + 1]
                if (
                    cf.block_hash != self.chain.hash_at(start + i)
                    or filter_header(cf.filter_data, prev_fh) != fh
                ):
                    bad_height = start + i
                    break
            if bad_height is not None:
                self.peer_set.ban(
                    peer, f"filter for block {bad_height} does not match its filter header"
                )
                continue
            batch = [(cf.block_hash, cf.filter_data) for cf in filters]
            try:
                hits = await asyncio.to_thread(match_many, batch, scripts) if scripts else []
            except ValueError as exc:
                self.peer_set.ban(peer, f"malformed filter: {exc}")
                continue
            matched = [start + i for i in hits]
            await self._process_matches(matched)
            self.height = stop
            self.save_height()
            scanned += len(filters)
            self.reporter.stage(
                "filters",
                stop,
                self.filter_headers.tip_height,
                scanned / max(time.monotonic() - started, 1e-6),
            )

    def _filter_headers_around(self, start: int, stop: int) -> list[bytes]:
        """Filter headers for heights start-1 .. stop (the one below `start` may be the base)."""
        fh = self.filter_headers
        if start - 1 >= fh.first_height:
            return fh.get_range(start - 1, stop - start + 2)
        return [fh.base, *fh.get_range(start, stop - start + 1)]

    async def _process_matches(self, heights: list[int]) -> None:
        assert self.watcher is not None
        for i in range(0, len(heights), BLOCKS_BATCH):
            batch = heights[i : i + BLOCKS_BATCH]
            hashes = [self.chain.hash_at(h) for h in batch]
            blocks = await self.blocks.fetch_blocks(hashes)
            for height, block in zip(batch, blocks, strict=True):
                scripts = set(self.watcher.watched_scripts())
                self.own_outpoints.update(self.watcher.watched_outpoints())
                relevant = [tx for tx in block.transactions if self.relevant(tx, scripts)]
                for tx in relevant:
                    for n, out in enumerate(tx.outputs):
                        if _script_watched(out.script, scripts):
                            self.own_outpoints.add(OutPoint(tx.txid, n))
                if relevant:
                    self.watcher.on_block_transactions(
                        height, block.hash, block.header.timestamp, relevant
                    )
            self.reporter.stage("blocks", batch[-1], self.filter_headers.tip_height)

    def relevant(self, tx: Transaction, scripts: set[bytes]) -> bool:
        if any(_script_watched(o.script, scripts) for o in tx.outputs):
            return True
        return any(i.prevout in self.own_outpoints for i in tx.inputs)


def _script_watched(script: bytes, scripts: set[bytes]) -> bool:
    if script in scripts:
        return True
    vote = split_vote(script)
    return vote is not None and vote.base_script in scripts
