"""The filter scan: fetch BIP158 filters, check them against the verified filter headers, match
them against the watcher's scripts, and hand every transaction of the matching blocks to the
watcher, in height order (blocks fetched pipelined: spv.blockfetch).

Progress is committed as it goes: after each filter batch, and every few seconds or few hundred
blocks while matched blocks arrive, the watcher is told how far everything was delivered
(`ChainWatcher.on_scan_progress`, where it commits) and the scan position is saved right after
in `chain/scan.json`. A kill loses at most that much work.
"""

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path

from .atomic import atomic_write
from .bip158 import filter_header, match_many
from .blockfetch import BlockFetcher, BlocksUnavailable
from .chain import HeaderChain
from .errors import ChainError
from .filterheaders import FilterHeaderStore
from .messages import CFilter
from .peer import Peer, PeerError, PeerTimeout
from .peerset import PeerSet
from .progress import ProgressReporter
from .tasks import cancel_and_wait
from .watcher import ChainWatcher

log = logging.getLogger(__name__)

CFILTERS_BATCH = 1000
COMMIT_SECONDS = 2.0  # while matched blocks arrive, commit at least this often...
COMMIT_BLOCKS = 500  # ...and at least every this many blocks
REPORT_SECONDS = 0.2  # progress reports while blocks arrive, at most this often
DELIVERY_SLICE = 0.02  # seconds of handing out blocks before letting the event loop run


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
        self.height = self._load_height()
        self._generation = 0  # bumped when the position moves back: work in flight is stale

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
        self._generation += 1
        self.save_height()

    def rewind_to(self, height: int) -> None:
        """Filters above `height` must be matched again (the chain or filter headers changed)."""
        if self.height > height:
            self.height = max(height, self.chain.first_height - 1)
            self.save_height()
        self._generation += 1

    def _commit(self, height: int) -> None:
        """Everything up to `height` was matched and delivered: the watcher commits, then the
        position is saved."""
        if height <= self.height:
            return
        if self.watcher is not None:
            self.watcher.on_scan_progress(height)
        self.height = height
        self.save_height()

    # --- scanning ---

    async def scan(self) -> None:
        """Match filters up to the filter-header tip. Returns early (position kept) when no
        peer serves the filters or blocks; the next sync round goes on from there."""
        watcher = self.watcher
        if watcher is None:
            # Nothing to look for: the scan position follows the verified filter headers.
            if self.height < self.filter_headers.tip_height:
                self.height = self.filter_headers.tip_height
                self.save_height()
            return
        wanted = watcher.scan_start_height() - 1
        if wanted > self.height:
            self.height = min(wanted, self.filter_headers.tip_height)
        generation = self._generation
        started = time.monotonic()
        scanned = 0
        prefetch: tuple[int, int, asyncio.Task[list[CFilter] | None]] | None = None
        try:
            while self.height < self.filter_headers.tip_height:
                if generation != self._generation:
                    return  # rewound meanwhile: the next round starts again from there
                start, stop = self._next_batch(self.height + 1)
                if prefetch is not None and prefetch[:2] == (start, stop):
                    filters = await prefetch[2]
                else:
                    if prefetch is not None:
                        await cancel_and_wait(prefetch[2])
                    filters = await self._fetch_filters(start, stop)
                prefetch = None
                if filters is None or generation != self._generation:
                    return
                if stop < self.filter_headers.tip_height:  # the next batch comes meanwhile
                    nstart, nstop = self._next_batch(stop + 1)
                    task = asyncio.create_task(self._fetch_filters(nstart, nstop))
                    prefetch = (nstart, nstop, task)
                scripts = list(watcher.watched_scripts())
                batch = [(cf.block_hash, cf.filter_data) for cf in filters]
                hits = await asyncio.to_thread(_match, batch, scripts) if scripts else []
                if not await self._deliver([start + i for i in hits], stop, generation):
                    return
                self._commit(stop)
                scanned += len(filters)
                self.reporter.stage(
                    "filters",
                    stop,
                    self.filter_headers.tip_height,
                    scanned / max(time.monotonic() - started, 1e-6),
                )
        finally:
            if prefetch is not None:
                await cancel_and_wait(prefetch[2])

    def _next_batch(self, start: int) -> tuple[int, int]:
        return start, min(start + CFILTERS_BATCH - 1, self.filter_headers.tip_height)

    async def _fetch_filters(self, start: int, stop: int) -> list[CFilter] | None:
        """Filters start..stop, each checked against its filter header, from the best peer
        that serves them; None when no peer did."""
        tried: list[Peer] = []
        while (peer := self.peer_set.best(filters=True, exclude=tried)) is not None:
            tried.append(peer)
            try:
                block_hashes = self.chain.hashes_between(start, stop)
                filters = await peer.get_cfilters(start, block_hashes[-1], stop - start + 1)
                expected = self._filter_headers_around(start, stop)
            except PeerTimeout:
                self.peer_set.timed_out(peer, "getcfilters")
                continue
            except PeerError as exc:
                log.info("cfilters from %s: %s", peer.info.address, exc)
                continue
            except ChainError as exc:  # the chain or filter headers moved meanwhile
                log.info("filters %d-%d no longer wanted: %s", start, stop, exc)
                return None
            bad = next(
                (
                    start + i
                    for i, cf in enumerate(filters)
                    if cf.block_hash != block_hashes[i]
                    or filter_header(cf.filter_data, expected[i]) != expected[i + 1]
                ),
                None,
            )
            if bad is not None or len(filters) != stop - start + 1:
                what = f"block {bad}" if bad is not None else f"{len(filters)} of the blocks"
                self.peer_set.ban(peer, f"filter for {what} does not match its filter header")
                continue
            self.peer_set.answered(peer)
            return filters
        return None

    def _filter_headers_around(self, start: int, stop: int) -> list[bytes]:
        """Filter headers for heights start-1 .. stop (the one below `start` may be the base)."""
        fh = self.filter_headers
        if stop > fh.tip_height:
            raise ChainError(f"filter headers end at {fh.tip_height}, below {stop}")
        if start - 1 >= fh.first_height:
            return fh.get_range(start - 1, stop - start + 2)
        return [fh.base, *fh.get_range(start, stop - start + 1)]

    async def _deliver(self, heights: list[int], batch_stop: int, generation: int) -> bool:
        """Fetch the matched blocks and hand each to the watcher in height order, committing
        as it goes. False when it stopped early (no peer, or the chain moved back)."""
        watcher = self.watcher
        if not heights or watcher is None:
            return watcher is not None
        loop = asyncio.get_running_loop()
        hashes = self.chain.hashes_between(heights[0], heights[-1])
        wanted = [(h, hashes[h - heights[0]]) for h in heights]
        delivered = 0
        committed_at = reported_at = slice_end = loop.time()
        uncommitted = 0
        started = time.monotonic()
        try:
            async with contextlib.aclosing(self.blocks.fetch(wanted)) as stream:
                async for fetched in stream:
                    if generation != self._generation:
                        return False
                    block = fetched.block
                    watcher.on_block_transactions(
                        fetched.height, block.hash, block.header.timestamp, block.transactions
                    )
                    delivered += 1
                    uncommitted += 1
                    now = loop.time()
                    if uncommitted >= COMMIT_BLOCKS or now - committed_at >= COMMIT_SECONDS:
                        # filters below the next matched block are done with
                        self._commit(
                            heights[delivered] - 1 if delivered < len(heights) else batch_stop
                        )
                        committed_at, uncommitted = now, 0
                    if now - reported_at >= REPORT_SECONDS:
                        reported_at = now
                        rate = delivered / max(time.monotonic() - started, 1e-6)
                        self.reporter.stage(
                            "blocks", fetched.height, self.filter_headers.tip_height, rate
                        )
                    if now > slice_end:
                        await asyncio.sleep(0)
                        slice_end = loop.time() + DELIVERY_SLICE
        except BlocksUnavailable as exc:
            log.info("filter scan paused: %s", exc)
            if generation == self._generation and delivered:
                self._commit(heights[delivered] - 1)
            return False
        self.reporter.stage("blocks", heights[-1], self.filter_headers.tip_height)
        return generation == self._generation


def _match(filters: list[tuple[bytes, bytes]], scripts: list[bytes]) -> list[int]:
    """Indexes of the filters matching `scripts`. A filter that cannot be decoded counts as a
    match (its block is fetched and looked at): it passed its filter-header check, so every
    peer we asked agreed on it, and skipping it could miss a payment."""
    try:
        return match_many(filters, scripts)
    except ValueError:
        hits = []
        for i, item in enumerate(filters):
            try:
                if match_many([item], scripts):
                    hits.append(i)
            except ValueError as exc:
                log.warning("undecodable filter for block %s: %s", item[0][::-1].hex(), exc)
                hits.append(i)
        return hits
