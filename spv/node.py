"""The light client: keeps several peers, syncs headers, filter headers and filters, fetches
the blocks that matter to the wallet, and broadcasts transactions.

Everything runs on one asyncio event loop. The wallet side is a `ChainWatcher`: it provides
scripts (never keys) and receives the transactions that touch them.
"""

import asyncio
import contextlib
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from miner.threadguard import forbid_gui_thread

from .addrbook import AddressBook
from .atomic import atomic_write
from .bip158 import filter_header, filter_header_from_hash, match_many
from .block import Block
from .chain import HeaderChain, HeaderRejected
from .errors import ChainError, ParseError, ValidationError
from .filtercheck import filter_is_consistent, known_elements
from .filterheaders import FilterHeaderStore
from .hashes import hash_to_display, sha256d
from .messages import (
    MAX_HEADERS_PER_MSG,
    MSG_BLOCK,
    MSG_TX,
    MSG_WITNESS_BLOCK,
    MSG_WITNESS_TX,
    GetData,
    InvVector,
    NetAddress,
    Reject,
)
from .params import NetworkParams
from .peer import Peer, PeerError, PeerEvents, PeerMisbehaving, PeerTimeout
from .proofcheck import ProofInvalid, ProofSampler, check_block_proof
from .script import split_vote
from .tasks import cancel_and_wait, within
from .tx import OutPoint, Transaction

log = logging.getLogger(__name__)

CFHEADERS_BATCH = 2000
CFILTERS_BATCH = 1000
BLOCKS_BATCH = 16
CFCHECKPT_INTERVAL = 1000
SEEN_TXIDS = 20_000  # announced transactions remembered, so each is fetched once
MAX_TX_REQUESTS = 1000  # transactions asked for per announcement


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


@dataclass
class SyncProgress:
    stage: str  # connecting, headers, filter headers, filters, blocks, synced
    height: int
    target: int
    peers: int
    filter_header_height: int
    filter_height: int
    rate: float = 0.0  # items per second in this stage
    eta: float | None = None  # seconds

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class BroadcastResult:
    txid: bytes
    sent_to: list[str] = field(default_factory=list)
    requested_by: list[str] = field(default_factory=list)
    relayed_back_by: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return bool(self.requested_by) and not self.rejected


class NoPeersError(ChainError):
    """No peer could be reached."""


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
        self.manual_peers = [(h, p or params.default_port) for h, p in peers]
        for host, port in self.manual_peers:
            self.addrbook.add(host, port, "manual")
        self.use_dns_seeds = use_dns_seeds and not self.manual_peers and bool(params.dns_seeds)
        self.target_peers = target_peers
        self.watcher = watcher
        self.on_progress = on_progress
        self.peer_timeout = peer_timeout
        # PacketCrypt proof spot checks (PKT networks only), as pktd's neutrino does them.
        self.verify_packetcrypt_proofs = verify_packetcrypt_proofs
        self.clock = clock
        self.peers: dict[str, Peer] = {}
        self._connecting: set[str] = set()
        self._retry_at: dict[str, float] = {}
        self._scan_path = chain_dir / "scan.json"
        self.scan_height = self._load_scan_height()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._broadcasts: dict[bytes, tuple[bytes, BroadcastResult]] = {}
        self._own_outpoints: set[OutPoint] = set()
        self._seen_txids: dict[bytes, None] = {}  # announced transactions already asked for
        self.progress = SyncProgress(
            "connecting",
            self.chain.height,
            self.chain.height,
            0,
            self.filter_headers.tip_height,
            self.scan_height,
        )
        self._stopping = False
        self._header_sources: list[tuple[int, int, Peer]] = []  # (first, last, peer)
        self._proofs_checked_to = self.chain.height  # headers below are not sampled again
        self.proof_sampler = ProofSampler()
        self.proofs_checked: list[int] = []  # heights whose PacketCrypt proof was validated

    # --- persistence of the filter scan position ---

    def _load_scan_height(self) -> int:
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

    def _save_scan_height(self) -> None:
        h = self.scan_height
        block_hash = self.chain.hash_at(h) if self.chain.store.has_height(h) else b"\x00" * 32
        atomic_write(
            self._scan_path,
            json.dumps({"height": h, "hash": block_hash.hex()}).encode(),
            mode=0o644,
        )

    def rescan_from(self, height: int) -> None:
        """Scan filters again from `height` (e.g. the wallet birthday) on the next sync."""
        self.scan_height = max(self.chain.first_height - 1, min(self.scan_height, height - 1))
        self._save_scan_height()
        self._wake.set()

    # --- lifecycle ---

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._maintain_peers(), name="peers"))

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks.clear()
        await asyncio.gather(*(p.close("shutting down") for p in list(self.peers.values())))
        self.peers.clear()
        self.addrbook.save()
        self.chain.flush()

    async def __aenter__(self) -> "SpvNode":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- peers ---

    async def _maintain_peers(self) -> None:
        dns_done = False
        while not self._stopping:
            missing = self.target_peers - len(self.peers) - len(self._connecting)
            if missing > 0:
                now = self.clock()
                exclude = set(self.peers) | self._connecting
                candidates = [
                    r
                    for r in self.addrbook.candidates(exclude)
                    if self._retry_at.get(r.key, 0) <= now
                ]
                if not candidates and self.use_dns_seeds and not dns_done:
                    dns_done = True
                    await self._resolve_dns_seeds()
                    continue
                for rec in candidates[:missing]:
                    self._connecting.add(rec.key)
                    asyncio.create_task(self._connect(rec.host, rec.port, rec.key))
            await asyncio.sleep(0.5)

    async def _resolve_dns_seeds(self) -> None:
        loop = asyncio.get_running_loop()
        for seed in self.params.dns_seeds:
            try:
                infos = await within(
                    loop.getaddrinfo(seed, self.params.default_port, type=socket.SOCK_STREAM), 10
                )
            except (TimeoutError, OSError) as exc:
                log.info("DNS seed %s failed: %s", seed, exc)
                continue
            for info in infos:
                host = str(info[4][0])
                self.addrbook.add(host, self.params.default_port, "dns")

    async def _connect(self, host: str, port: int, key: str) -> None:
        events = PeerEvents(
            on_inv=self._on_inv,
            on_headers=self._on_headers_announced,
            on_reject=self._on_reject,
            on_tx=self._on_tx,
            on_getdata=self._on_getdata,
            on_addr=self._on_addr,
            on_close=self._on_peer_closed,
        )
        peer = Peer(
            self.params,
            host,
            port,
            best_height=lambda: self.chain.height,
            events=events,
            timeout=self.peer_timeout,
        )
        try:
            await peer.connect()
        except PeerError as exc:
            log.info("peer %s: %s", key, exc)
            self.addrbook.mark_failure(host, port)
            failures = self.addrbook.get(host, port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures, 8), 300) * random.uniform(
                0.5, 1.0
            )
            return
        finally:
            self._connecting.discard(key)
        if self._stopping:
            await peer.close("shutting down")
            return
        self.addrbook.mark_success(host, port)
        self.peers[key] = peer
        log.info("connected to %s", peer.describe())
        self._wake.set()
        self._report()

    async def _on_peer_closed(self, peer: Peer) -> None:
        key = peer.info.address
        if peer.ban_score >= 100 and not self.addrbook.is_banned(peer.info.host, peer.info.port):
            self.ban(peer, peer.close_reason)
        if self.peers.get(key) is peer:
            del self.peers[key]
            failures = self.addrbook.get(peer.info.host, peer.info.port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures + 1, 8), 300)
        self._report()

    def ban(self, peer: Peer, reason: str) -> None:
        log.warning("banning %s: %s", peer.info.address, reason)
        self.addrbook.ban(peer.info.host, peer.info.port, reason)
        self.peers.pop(peer.info.address, None)
        asyncio.ensure_future(peer.close(f"banned: {reason}"))

    async def _on_addr(self, peer: Peer, addrs: list[NetAddress]) -> None:
        for a in addrs[:100]:
            if a.port:
                self.addrbook.add(a.host, a.port, "addr")

    async def wait_for_peers(self, n: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.peers) < n:
            if time.monotonic() > deadline:
                raise NoPeersError(
                    f"no peer reachable after {timeout:.0f} s"
                    + (
                        f" (tried {', '.join(k for k in self.addrbook.records)})"
                        if self.addrbook.records
                        else ""
                    )
                )
            await asyncio.sleep(0.05)

    def _best_peer(self, filters: bool = False, exclude: Iterable[Peer] = ()) -> Peer | None:
        skip = set(map(id, exclude))
        usable = [
            p
            for p in self.peers.values()
            if not p.closed and id(p) not in skip and (p.info.serves_filters or not filters)
        ]
        if not usable:
            return None
        return max(usable, key=lambda p: (p.info.best_height, random.random()))

    # --- announcements ---

    async def _on_inv(self, peer: Peer, items: list[InvVector]) -> None:
        wanted: list[InvVector] = []
        for item in items:
            if item.inv_type in (MSG_BLOCK, MSG_WITNESS_BLOCK):
                peer.info.best_height = max(peer.info.best_height, self.chain.height + 1)
                self._wake.set()
            elif item.inv_type in (MSG_TX, MSG_WITNESS_TX):
                entry = self._broadcasts.get(item.hash)
                if entry is not None:
                    if peer.info.address not in entry[1].relayed_back_by:
                        entry[1].relayed_back_by.append(peer.info.address)
                elif self.watcher is not None and item.hash not in self._seen_txids:
                    # Unconfirmed transactions: fetch what is announced, keep what pays us.
                    self._seen_txids[item.hash] = None
                    wanted.append(InvVector(MSG_WITNESS_TX, item.hash))
        while len(self._seen_txids) > SEEN_TXIDS:
            del self._seen_txids[next(iter(self._seen_txids))]
        if wanted:
            with contextlib.suppress(PeerError):
                await peer.send(GetData(tuple(wanted[:MAX_TX_REQUESTS])))

    async def _on_headers_announced(self, peer: Peer, raw: bytes) -> None:
        try:
            result = self.chain.connect(raw)
        except HeaderRejected as exc:
            if exc.misbehaving:
                self.ban(peer, str(exc))
            return
        if result.reorged_from is not None:
            self._rewound(result.reorged_from - 1)
        peer.info.best_height = max(peer.info.best_height, self.chain.height)
        self._wake.set()

    async def _on_reject(self, peer: Peer, reject: Reject) -> None:
        if reject.hash is not None and reject.hash in self._broadcasts:
            result = self._broadcasts[reject.hash][1]
            result.rejected.append((peer.info.address, f"{reject.reason} (code {reject.code:#x})"))

    async def _on_tx(self, peer: Peer, raw: bytes) -> None:
        if self.watcher is None:
            return
        try:
            tx = Transaction.parse(raw)
        except ParseError:
            return
        if self._relevant(tx, set(self.watcher.watched_scripts())):
            self.watcher.on_mempool_transaction(tx)
            self._wake.set()  # followers (the app core) refresh what they show

    async def _on_getdata(self, peer: Peer, items: list[InvVector]) -> None:
        for item in items:
            entry = self._broadcasts.get(item.hash)
            if entry is not None and item.inv_type in (MSG_TX, MSG_WITNESS_TX):
                raw, result = entry
                if peer.info.address not in result.requested_by:
                    result.requested_by.append(peer.info.address)
                await peer.send_raw_transaction(raw)

    # --- broadcast ---

    async def broadcast(self, raw: bytes, wait: float = 3.0) -> BroadcastResult:
        """Announce a transaction to every peer and serve it to those that ask; waits up to
        `wait` seconds for requests, rejects and relays."""
        tx = Transaction.parse(raw)
        result = BroadcastResult(tx.txid)
        self._broadcasts[tx.txid] = (raw, result)
        if not self.peers:
            await self.wait_for_peers(1, timeout=self.peer_timeout)
        for peer in list(self.peers.values()):
            try:
                await peer.announce_transaction(tx.txid)
                result.sent_to.append(peer.info.address)
            except PeerError:
                continue
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if result.rejected or (
                result.requested_by and len(result.requested_by) >= len(result.sent_to)
            ):
                break
            await asyncio.sleep(0.05)
        return result

    # --- sync ---

    async def sync(self, timeout: float | None = None) -> SyncProgress:
        """Sync headers, filter headers and (when watching) filters and blocks up to the best
        peer's height. Returns the final progress."""
        forbid_gui_thread("SpvNode.sync")
        await self.wait_for_peers(1, timeout=min(timeout or self.peer_timeout, self.peer_timeout))
        await asyncio.sleep(0.2)  # let other connections finish their handshakes
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            await self._sync_headers()
            await self._check_packetcrypt_proofs()
            await self._sync_filter_headers()
            await self._scan_filters()
            best = max((p.info.best_height for p in self.peers.values()), default=0)
            if self.chain.height >= best and self.filter_headers.tip_height >= self.chain.height:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise PeerTimeout("sync did not finish in time")
            if not self.peers:
                await self.wait_for_peers(1, timeout=self.peer_timeout)
        self._stage("synced", self.chain.height, self.chain.height)
        return self.progress

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

    def _stage(self, stage: str, current: int, target: int, rate: float = 0.0) -> None:
        eta = (target - current) / rate if rate > 0 and target > current else None
        self.progress = SyncProgress(
            stage,
            self.chain.height,
            max(target, self.chain.height),
            len(self.peers),
            self.filter_headers.tip_height,
            self.scan_height,
            rate,
            eta,
        )
        if stage != "headers":
            self.progress.target = max(
                [self.chain.height] + [p.info.best_height for p in self.peers.values()]
            )
        self._report()

    def _report(self) -> None:
        self.progress.peers = len(self.peers)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def _sync_headers(self) -> None:
        try:
            await self._sync_headers_from_peers()
        finally:
            self.chain.flush()

    async def _sync_headers_from_peers(self) -> None:
        tried: set[int] = set()
        while True:
            peer = self._best_peer(exclude=[p for p in self.peers.values() if id(p) in tried])
            if peer is None:
                return
            if peer.info.best_height <= self.chain.height and tried:
                return
            started = time.monotonic()
            start_height = self.chain.height
            stop = self.chain.next_checkpoint_hash() or b"\x00" * 32
            prefetch: asyncio.Task[bytes] | None = None
            try:
                raw = await peer.get_headers(self.chain.locator(), stop)
                while raw:
                    # Ask for the next batch before validating this one, so the peer prepares
                    # it while we work; a full batch means there is probably more.
                    if len(raw) == MAX_HEADERS_PER_MSG * 80:
                        last = sha256d(raw[-80:])
                        prefetch = asyncio.create_task(peer.get_headers([last], stop))
                    before = self.chain.height
                    result = self.chain.connect(raw)
                    if not result.connected:
                        raise PeerMisbehaving("headers that connect to nothing we sent")
                    if result.added:
                        first = (
                            result.reorged_from if result.reorged_from is not None else before + 1
                        )
                        self._header_sources.append((first, self.chain.height, peer))
                    if result.reorged_from is not None:
                        self._rewound(result.reorged_from - 1)
                    peer.info.best_height = max(peer.info.best_height, self.chain.height)
                    elapsed = max(time.monotonic() - started, 1e-6)
                    self._stage(
                        "headers",
                        self.chain.height,
                        peer.info.best_height,
                        (self.chain.height - start_height) / elapsed,
                    )
                    if prefetch is None:
                        if self.chain.next_checkpoint_hash() is None:
                            break
                        raw = await peer.get_headers(self.chain.locator(), stop)
                        continue
                    raw, prefetch = await prefetch, None
            except HeaderRejected as exc:
                if exc.misbehaving:
                    self.ban(peer, str(exc))
                tried.add(id(peer))
                continue
            except PeerMisbehaving as exc:
                self.ban(peer, str(exc))
                tried.add(id(peer))
                continue
            except PeerError as exc:
                log.info("header sync with %s stopped: %s", peer.info.address, exc)
                tried.add(id(peer))
                continue
            finally:
                if prefetch is not None:
                    await cancel_and_wait(prefetch)
            tried.add(id(peer))
            behind = [
                p
                for p in self.peers.values()
                if p.info.best_height > self.chain.height and id(p) not in tried
            ]
            if not behind:
                return

    async def _check_packetcrypt_proofs(self) -> None:
        """Spot-check the PacketCrypt proofs of newly received headers (see spv.proofcheck)."""
        if not (self.verify_packetcrypt_proofs and self.params.has_packetcrypt):
            self._proofs_checked_to = self.chain.height
            self._header_sources.clear()
            return
        tip = max([self.chain.height] + [p.info.best_height for p in self.peers.values()])
        start = max(self._proofs_checked_to + 1, self.chain.first_height)
        heights = [
            h
            for h in range(start, self.chain.height + 1)
            if self.proof_sampler.should_check(h, tip - h + 1)
        ]
        for height in heights:
            if height > self.chain.height:
                break  # rewound below it meanwhile
            block_hash = self.chain.hash_at(height)
            raw = (await self._fetch_raw_blocks([block_hash]))[0]
            try:
                await asyncio.to_thread(check_block_proof, raw, height, self.chain.hash_at)
            except KeyError:
                log.info(
                    "block %d: an announcement's parent is below our headers; not checked", height
                )
                continue
            except ProofInvalid as exc:
                source = self._source_of(height)
                log.warning("%s", exc)
                self.chain.rewind(height - 1)
                self._rewound(height - 1)
                if source is not None:
                    self.ban(source, str(exc))
                self._proofs_checked_to = height - 1
                return
            self.proofs_checked.append(height)
        self._proofs_checked_to = self.chain.height
        self._header_sources.clear()

    def _source_of(self, height: int) -> Peer | None:
        for first, last, peer in reversed(self._header_sources):
            if first <= height <= last:
                return peer
        return None

    def _rewound(self, height: int) -> None:
        """The active chain changed above `height`."""
        self.filter_headers.truncate_above(height)
        if self.scan_height > height:
            self.scan_height = height
            self._save_scan_height()
        if self.watcher is not None:
            self.watcher.on_chain_rewound(height)

    async def _sync_filter_headers(self) -> None:
        await self._check_cfcheckpts()
        fh = self.filter_headers
        while True:
            target = self.chain.height
            start = fh.tip_height + 1 if fh.is_initialized else self.chain.first_height
            if fh.is_initialized and start > target:
                return
            stop = min(start + CFHEADERS_BATCH - 1, target)
            stop_hash = self.chain.hash_at(stop)
            peers = [p for p in self.peers.values() if p.info.serves_filters and not p.closed]
            if not peers:
                return
            random.shuffle(peers)
            peers.sort(key=lambda p: -p.info.best_height)
            answers = await self._ask_cfheaders(peers[:3], start, stop_hash)
            if not answers:
                return
            chosen = await self._agree_on_cfheaders(answers, start, stop)
            if chosen is None:
                continue
            prev, hashes = chosen
            if not fh.is_initialized:
                fh.initialize(start, prev)
            elif prev != fh.get(start - 1):
                # What we stored disagrees with what the peers now say: step back one batch
                # (or start over) and fetch again.
                log.warning("stored filter headers disagree with peers at height %d", start - 1)
                back = start - 1 - CFHEADERS_BATCH
                if back < fh.first_height:
                    fh.reset()
                else:
                    fh.truncate_above(back)
                continue
            headers = []
            for fhash in hashes:
                prev = filter_header_from_hash(fhash, prev)
                headers.append(prev)
            fh.append(headers)
            self._stage("filter headers", fh.tip_height, target)

    async def _check_cfcheckpt_answers(self) -> dict[Peer, tuple[bytes, ...]]:
        """The filter-header checkpoints (every 1000 blocks) of every filter-serving peer."""
        top = self.chain.height - self.chain.height % CFCHECKPT_INTERVAL
        if top < max(CFCHECKPT_INTERVAL, self.chain.first_height):
            return {}
        stop_hash = self.chain.hash_at(top)
        peers = [p for p in self.peers.values() if p.info.serves_filters and not p.closed]

        async def ask(peer: Peer) -> tuple[Peer, tuple[bytes, ...] | None]:
            try:
                return peer, (await peer.get_cfcheckpt(stop_hash)).filter_headers
            except PeerMisbehaving as exc:
                self.ban(peer, str(exc))
            except PeerError as exc:
                log.info("cfcheckpt from %s: %s", peer.info.address, exc)
            return peer, None

        results = await asyncio.gather(*(ask(p) for p in peers))
        return {peer: ans for peer, ans in results if ans is not None}

    async def _check_cfcheckpts(self) -> None:
        """Compare the peers' filter-header checkpoints. Where they disagree, fetch that
        1000-block stretch from the disagreeing peers and let the block decide who lied; then
        make sure our stored filter headers agree with the peers left."""
        answers = await self._check_cfcheckpt_answers()
        if len(answers) < 2:
            return
        count = min(len(a) for a in answers.values())
        for k in range(count):
            height = (k + 1) * CFCHECKPT_INTERVAL
            if height - CFCHECKPT_INTERVAL + 1 < self.chain.first_height:
                continue
            values = {a[k] for a in answers.values()}
            if len(values) == 1:
                continue
            start = height - CFCHECKPT_INTERVAL + 1
            replies = await self._ask_cfheaders(list(answers), start, self.chain.hash_at(height))
            await self._agree_on_cfheaders(replies, start, height)
            break
        fh = self.filter_headers
        survivors = [a for p, a in answers.items() if self.peers.get(p.info.address) is p]
        for k in range(min((len(a) for a in survivors), default=0)):
            height = (k + 1) * CFCHECKPT_INTERVAL
            values = {a[k] for a in survivors}
            if (
                len(values) == 1
                and fh.is_initialized
                and fh.first_height <= height <= fh.tip_height
                and fh.get(height) != next(iter(values))
            ):
                log.warning("stored filter headers disagree with peers at %d; refetching", height)
                back = height - CFCHECKPT_INTERVAL
                if back < fh.first_height:
                    fh.reset()
                else:
                    fh.truncate_above(back)
                self._rewind_scan(fh.tip_height)
                return

    def _rewind_scan(self, height: int) -> None:
        if self.scan_height > height:
            self.scan_height = max(height, self.chain.first_height - 1)
            self._save_scan_height()

    async def _ask_cfheaders(
        self, peers: list[Peer], start: int, stop_hash: bytes
    ) -> dict[Peer, tuple[bytes, tuple[bytes, ...]]]:
        async def ask(peer: Peer) -> tuple[Peer, tuple[bytes, tuple[bytes, ...]] | None]:
            try:
                msg = await peer.get_cfheaders(start, stop_hash)
                return peer, (msg.prev_filter_header, msg.filter_hashes)
            except PeerMisbehaving as exc:
                self.ban(peer, str(exc))
            except PeerError as exc:
                log.info("cfheaders from %s: %s", peer.info.address, exc)
            return peer, None

        results = await asyncio.gather(*(ask(p) for p in peers))
        return {peer: ans for peer, ans in results if ans is not None}

    async def _agree_on_cfheaders(
        self, answers: dict[Peer, tuple[bytes, tuple[bytes, ...]]], start: int, stop: int
    ) -> tuple[bytes, tuple[bytes, ...]] | None:
        n = stop - start + 1
        for peer, (_, hashes) in list(answers.items()):
            if len(hashes) != n:
                self.ban(peer, f"cfheaders with {len(hashes)} hashes for {n} blocks")
                del answers[peer]
        if not answers:
            return None
        distinct = {ans for ans in answers.values()}
        if len(distinct) == 1:
            return next(iter(distinct))
        # Peers disagree: find the first differing block and let the block decide.
        items = list(answers.items())
        first_diff = n
        for i in range(n):
            if len({hashes[i] for _, (_, hashes) in items}) > 1:
                first_diff = i
                break
        prevs = {prev for _, (prev, _) in items}
        if len(prevs) > 1 or first_diff == n:
            # disagreement below this batch: restart the filter header chain one batch earlier
            log.warning("peers disagree on the filter header before height %d", start)
            majority = max(distinct, key=lambda a: sum(1 for v in answers.values() if v == a))
            return majority
        height = start + first_diff
        liars = await self._judge_filters(
            height, [p for p, _ in items], {p: a[1][first_diff] for p, a in items}
        )
        honest = [p for p, _ in items if p not in liars]
        for liar in liars:
            self.ban(liar, f"served a false filter for block {height}")
        if not honest:
            return None
        return answers[honest[0]]

    async def _judge_filters(
        self, height: int, peers: list[Peer], claimed: dict[Peer, bytes]
    ) -> set[Peer]:
        """Fetch block `height` and each peer's filter for it; return the peers that lied."""
        block_hash = self.chain.hash_at(height)
        block = None
        for peer in peers:
            try:
                raw = (await peer.get_blocks([block_hash]))[0]
                candidate = Block.parse(raw, self.params.has_packetcrypt)
                if candidate.hash == block_hash:
                    candidate.check_merkle_root()
                    block = candidate
                    break
            except (PeerError, ParseError, ValidationError, IndexError):
                continue
        if block is None:
            return set()
        known = known_elements(block)
        liars: set[Peer] = set()
        for peer in peers:
            try:
                (cf,) = await peer.get_cfilters(height, block_hash, 1)
            except (PeerError, ValueError):
                continue
            if sha256d(cf.filter_data) != claimed[peer] or not filter_is_consistent(
                cf.filter_data, block, known
            ):
                liars.add(peer)
        return liars

    # --- filters and blocks ---

    async def _scan_filters(self) -> None:
        if self.watcher is None:
            # Nothing to look for: the scan position follows the verified filter headers.
            if self.scan_height < self.filter_headers.tip_height:
                self.scan_height = self.filter_headers.tip_height
                self._save_scan_height()
            return
        wanted = self.watcher.scan_start_height() - 1
        if wanted > self.scan_height:
            self.scan_height = min(wanted, self.filter_headers.tip_height)
        started = time.monotonic()
        scanned = 0
        while self.scan_height < self.filter_headers.tip_height:
            start = self.scan_height + 1
            stop = min(start + CFILTERS_BATCH - 1, self.filter_headers.tip_height)
            peer = self._best_peer(filters=True)
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
                self.ban(peer, f"filter for block {bad_height} does not match its filter header")
                continue
            batch = [(cf.block_hash, cf.filter_data) for cf in filters]
            try:
                hits = await asyncio.to_thread(match_many, batch, scripts) if scripts else []
            except ValueError as exc:
                self.ban(peer, f"malformed filter: {exc}")
                continue
            matched = [start + i for i in hits]
            await self._process_matches(matched)
            self.scan_height = stop
            self._save_scan_height()
            scanned += len(filters)
            self._stage(
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
            blocks = await self._fetch_blocks(hashes)
            for height, block in zip(batch, blocks, strict=True):
                scripts = set(self.watcher.watched_scripts())
                self._own_outpoints.update(self.watcher.watched_outpoints())
                relevant = [tx for tx in block.transactions if self._relevant(tx, scripts)]
                for tx in relevant:
                    for n, out in enumerate(tx.outputs):
                        if self._script_watched(out.script, scripts):
                            self._own_outpoints.add(OutPoint(tx.txid, n))
                if relevant:
                    self.watcher.on_block_transactions(
                        height, block.hash, block.header.timestamp, relevant
                    )
            self._stage("blocks", batch[-1], self.filter_headers.tip_height)

    async def _fetch_blocks(self, hashes: list[bytes]) -> list[Block]:
        raws = await self._fetch_raw_blocks(hashes)
        return [Block.parse(r, self.params.has_packetcrypt) for r in raws]

    async def _fetch_raw_blocks(self, hashes: list[bytes]) -> list[bytes]:
        """Raw blocks for `hashes`, each checked: parses, has the asked hash, merkle root."""
        for _ in range(len(self.peers) + 2):
            peer = self._best_peer()
            if peer is None:
                await self.wait_for_peers(1, self.peer_timeout)
                continue
            try:
                raws = await peer.get_blocks(hashes)
                if len(raws) != len(hashes):
                    raise PeerError("incomplete block answer")
                for want, raw in zip(hashes, raws, strict=True):
                    block = Block.parse(raw, self.params.has_packetcrypt)
                    if block.hash != want:
                        raise PeerMisbehaving("sent a block we did not ask for")
                    block.check_merkle_root()
                return raws
            except (ParseError, ValidationError, PeerMisbehaving, ValueError) as exc:
                self.ban(peer, f"bad block: {exc}")
            except PeerError as exc:
                log.info("blocks from %s: %s", peer.info.address, exc)
        raise PeerError("no peer served the blocks")

    def _script_watched(self, script: bytes, scripts: set[bytes]) -> bool:
        if script in scripts:
            return True
        vote = split_vote(script)
        return vote is not None and vote.base_script in scripts

    def _relevant(self, tx: Transaction, scripts: set[bytes]) -> bool:
        if any(self._script_watched(o.script, scripts) for o in tx.outputs):
            return True
        return any(i.prevout in self._own_outpoints for i in tx.inputs)

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
