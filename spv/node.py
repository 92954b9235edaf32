"""The light client: keeps several peers, syncs headers, filter headers and filters, fetches
the blocks that matter to the wallet, and broadcasts transactions.

Everything runs on one asyncio event loop. `SpvNode` is the coordinator; each job lives in its
own module (the map of lightninglabs/neutrino, which pktd vendors):

- `spv.peerset`: connections, ranking, bans, the address book;
- `spv.headersync`: headers and PacketCrypt proof spot checks;
- `spv.cfheadersync`: BIP157 filter headers, cross-checked between peers;
- `spv.filterscan`: filters matched against the watcher's scripts, the scan position;
- `spv.blockfetch`: blocks;
- `spv.mempool`: unconfirmed transactions and broadcast.

The wallet side is a `ChainWatcher` (spv.watcher): it provides scripts (never keys) and
receives every transaction of the blocks whose filters matched them, keeping what concerns it.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from miner.threadguard import forbid_gui_thread

from .addrbook import AddressBook
from .blockfetch import BlockFetcher
from .cfheadersync import FilterHeaderSync
from .chain import HeaderChain
from .filterheaders import FilterHeaderStore
from .filterscan import FilterScan
from .hashes import hash_to_display
from .headersync import HeaderSync
from .mempool import BroadcastResult, Mempool
from .messages import MSG_BLOCK, MSG_WITNESS_BLOCK, InvVector, Reject
from .params import NetworkParams
from .peer import Peer, PeerError, PeerEvents, PeerTimeout
from .peerset import NoPeersError, PeerSet
from .progress import ProgressReporter, SyncProgress
from .tasks import cancel_and_wait, within
from .watcher import ChainWatcher

__all__ = [
    "BroadcastResult",
    "ChainWatcher",
    "NoPeersError",
    "SpvNode",
    "SyncTimeout",
    "SyncProgress",
]

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # a sync round that moved nothing waits this long for news
SECOND_PEER_GRACE = 0.3  # seconds a sync waits for a second peer before starting alone


class SyncTimeout(PeerTimeout, TimeoutError):
    """The sync did not finish within the time the caller gave."""


class SpvNode:
    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        *,
        peers: Iterable[tuple[str, int]] = (),
        use_dns_seeds: bool = True,
        target_peers: int = 4,
        watcher: ChainWatcher | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
        peer_timeout: float = 20.0,
        verify_packetcrypt_proofs: bool = True,
        history_from_height: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`history_from_height`: the lowest block the wallet may need (from a restored
        wallet's birthday); headers are kept from the newest checkpoint at or below it, the
        newest checkpoint when None."""
        self.params = params
        self.datadir = Path(datadir)
        chain_dir = self.datadir / "chain"
        self.chain = HeaderChain(params, chain_dir, clock=clock, history_from=history_from_height)
        self.filter_headers = FilterHeaderStore(chain_dir, params.name)
        fh = self.filter_headers
        if fh.is_initialized and fh.first_height != self.chain.first_height:
            fh.reset()  # the header store was started further back: filter headers follow it
        self.addrbook = AddressBook(chain_dir / "peers.json", clock=clock)
        manual_peers = [(h, p or params.default_port) for h, p in peers]
        for host, port in manual_peers:
            self.addrbook.add(host, port, "manual")
        self._wake = asyncio.Event()  # for followers: wait_for_news
        self._news = asyncio.Event()  # for the sync rounds: something may have changed
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.peer_set = PeerSet(
            params,
            self.addrbook,
            manual_peers=manual_peers,
            use_dns_seeds=use_dns_seeds and not manual_peers and bool(params.dns_seeds),
            target_peers=target_peers,
            peer_timeout=peer_timeout,
            clock=clock,
            best_height=lambda: self.chain.height,
            events=PeerEvents(
                on_inv=self._on_inv,
                on_headers=self._on_headers_announced,
                on_reject=self._on_reject,
                on_tx=self._on_tx,
                on_getdata=self._on_getdata,
            ),
            on_connected=self._on_peer_connected,
            on_closed=self._on_peer_closed,
        )
        self.peers = self.peer_set.peers
        self.reporter = ProgressReporter(
            self.chain,
            self.filter_headers,
            self.peers,
            lambda: self.filter_scan.height,
            on_progress,
        )
        self.blocks = BlockFetcher(params, self.peer_set)
        self.filter_scan = FilterScan(
            self.chain,
            self.filter_headers,
            self.peer_set,
            self.reporter,
            self.blocks,
            chain_dir / "scan.json",
        )
        self.reporter.restart()
        self.header_sync = HeaderSync(
            params,
            self.chain,
            self.peer_set,
            self.reporter,
            on_rewound=self._rewound,
            on_news=self.wake,
            fetch_raw_blocks=self.blocks.fetch_raw_blocks,
            verify_packetcrypt_proofs=verify_packetcrypt_proofs,
        )
        self.filter_header_sync = FilterHeaderSync(
            params,
            self.chain,
            self.filter_headers,
            self.peer_set,
            self.reporter,
            rewind_scan=self.filter_scan.rewind_to,
        )
        self.mempool = Mempool(self.peer_set, on_news=self.wake)
        self.watcher = watcher

    # --- the parts' settings, as attributes of the node ---

    @property
    def watcher(self) -> ChainWatcher | None:
        return self.filter_scan.watcher

    @watcher.setter
    def watcher(self, watcher: ChainWatcher | None) -> None:
        self.filter_scan.watcher = watcher
        self.mempool.watcher = watcher

    @property
    def peer_timeout(self) -> float:
        return self.peer_set.peer_timeout

    @peer_timeout.setter
    def peer_timeout(self, seconds: float) -> None:
        self.peer_set.peer_timeout = seconds

    @property
    def manual_peers(self) -> list[tuple[str, int]]:
        return self.peer_set.manual_peers

    @property
    def use_dns_seeds(self) -> bool:
        return self.peer_set.use_dns_seeds

    @property
    def on_progress(self) -> Callable[[SyncProgress], None] | None:
        return self.reporter.on_progress

    @on_progress.setter
    def on_progress(self, callback: Callable[[SyncProgress], None] | None) -> None:
        self.reporter.on_progress = callback

    @property
    def progress(self) -> SyncProgress:
        return self.reporter.progress

    @property
    def scan_height(self) -> int:
        return self.filter_scan.height

    @property
    def proofs_checked(self) -> list[int]:
        """Heights whose PacketCrypt proof was validated."""
        return self.header_sync.proofs_checked

    def rescan_from(self, height: int) -> None:
        """Scan filters again from `height` (e.g. the wallet birthday) on the next sync."""
        self.filter_scan.rescan_from(height)
        self.wake()

    # --- lifecycle ---

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.peer_set.maintain(), name="peers"))

    async def stop(self) -> None:
        self._stopping = True
        self.peer_set.stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks.clear()
        await self.peer_set.close_all()
        self.addrbook.save()
        self.chain.flush()

    async def __aenter__(self) -> "SpvNode":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- peers ---

    def _on_peer_connected(self) -> None:
        self.wake()
        self.reporter.report()

    def _on_peer_closed(self) -> None:
        self._news.set()
        self.reporter.report()

    def ban(self, peer: Peer, reason: str) -> None:
        self.peer_set.ban(peer, reason)

    async def wait_for_peers(self, n: int = 1, timeout: float = 30.0) -> None:
        await self.peer_set.wait_for_peers(n, timeout)

    # --- announcements ---

    async def _on_inv(self, peer: Peer, items: list[InvVector]) -> None:
        for item in items:
            if item.inv_type in (MSG_BLOCK, MSG_WITNESS_BLOCK):
                self.header_sync.on_block_announced(peer, item.hash)
        await self.mempool.on_inv(peer, items)

    async def _on_headers_announced(self, peer: Peer, raw: bytes) -> None:
        await self.header_sync.on_announced(peer, raw)

    async def _on_reject(self, peer: Peer, reject: Reject) -> None:
        await self.mempool.on_reject(peer, reject)

    async def _on_tx(self, peer: Peer, raw: bytes) -> None:
        await self.mempool.on_tx(peer, raw)

    async def _on_getdata(self, peer: Peer, items: list[InvVector]) -> None:
        await self.mempool.on_getdata(peer, items)

    # --- broadcast ---

    async def broadcast(self, raw: bytes, wait: float = 3.0) -> BroadcastResult:
        """Announce a transaction to every peer and serve it to those that ask; waits up to
        `wait` seconds for requests, rejects and relays."""
        return await self.mempool.broadcast(raw, wait)

    # --- sync ---

    async def sync(self, timeout: float | None = None) -> SyncProgress:
        """Sync headers, filter headers and (when watching) filters and blocks up to the best
        peer's height. Returns the final progress. Raises SyncTimeout after `timeout` seconds
        (None: no limit), NoPeersError when no peer is connected for the peer timeout.

        Failing peers are banned or dropped and the work moves to the others; a round that
        moved nothing waits for news (a peer connecting, a block announced) or a second
        before the next, so the event loop is never held."""
        forbid_gui_thread("SpvNode.sync")
        limit = asyncio.timeout(timeout)
        try:
            async with limit:
                await self._sync_rounds()
        except TimeoutError:
            if not limit.expired():
                raise
            if not self.peers:
                raise NoPeersError(self.peer_set.no_peer_message(timeout or 0)) from None
            raise SyncTimeout(f"sync did not finish within {timeout:g} s") from None
        self.reporter.stage("synced", self.chain.height, self.chain.height)
        return self.progress

    async def _sync_rounds(self) -> None:
        peer_set = self.peer_set
        await peer_set.wait_for_peers(1, self.peer_timeout)
        if peer_set.target_peers > 1:  # a moment for a second peer, so answers can be compared
            with contextlib.suppress(NoPeersError):
                await peer_set.wait_for_peers(2, SECOND_PEER_GRACE)
        while True:
            before = self._position()
            self._news.clear()
            await self._sync_headers()
            await self._check_packetcrypt_proofs()
            await self.filter_header_sync.sync()
            await self.filter_scan.scan()
            if self.peers and self._caught_up():
                return
            if not self.peers:
                await peer_set.wait_for_peers(1, self.peer_timeout)
            elif self._position() == before:
                with contextlib.suppress(TimeoutError):
                    await within(self._news.wait(), RETRY_SECONDS)

    def _position(self) -> tuple[int, bytes, int, int]:
        return (
            self.chain.height,
            self.chain.tip_hash,
            self.filter_headers.tip_height,
            self.filter_scan.height,
        )

    def _caught_up(self) -> bool:
        return (
            self.chain.height >= self.peer_set.best_height()
            and self.header_sync.proofs_checked_to >= self.chain.height
            and self.filter_headers.tip_height >= self.chain.height
            and self.filter_scan.height >= self.filter_headers.tip_height
        )

    async def _sync_headers(self) -> None:
        await self.header_sync.sync()

    async def _check_packetcrypt_proofs(self) -> None:
        await self.header_sync.check_packetcrypt_proofs()

    async def run(self) -> None:
        """Sync, then follow new blocks until cancelled."""
        while not self._stopping:
            try:
                await self.sync()
            except (PeerError, NoPeersError) as exc:
                log.info("sync interrupted: %s", exc)
            await self.wait_for_news(30)

    async def wait_for_news(self, timeout: float) -> None:
        """Wait until something may need a sync (a new block announced, a peer connected, a
        rescan asked for) or `timeout` seconds pass. News that came during the last sync
        counts: it returns at once then."""
        with contextlib.suppress(asyncio.TimeoutError):
            await within(self._wake.wait(), timeout)
        self._wake.clear()

    def wake(self) -> None:
        """Make a waiting `run` / `wait_for_news` go on at once."""
        self._wake.set()
        self._news.set()

    def _rewound(self, height: int) -> None:
        """The active chain changed above `height`."""
        self.filter_headers.truncate_above(height)
        self.filter_scan.rewind_to(height)
        if self.watcher is not None:
            self.watcher.on_chain_rewound(height)

    # --- information ---

    def chain_info(self) -> dict[str, object]:
        return {
            "network": self.params.name,
            "height": self.chain.height,
            "tip": hash_to_display(self.chain.tip_hash),
            "filter_header_height": self.filter_headers.tip_height,
            "filter_height": self.scan_height,
            "peers": [p.describe() for p in self.peers.values()],
        }
