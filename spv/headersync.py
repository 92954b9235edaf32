"""Header sync: download headers from the best peers into the header chain, take announced
headers, and spot-check the PacketCrypt proofs of new headers (see spv.proofcheck)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from .chain import HeaderChain, HeaderRejected
from .hashes import sha256d
from .messages import MAX_HEADERS_PER_MSG, ZERO_HASH
from .params import NetworkParams
from .peer import Peer, PeerError, PeerMisbehaving, PeerTimeout
from .peerset import PeerSet
from .progress import ProgressReporter
from .proofcheck import ProofInvalid, ProofSampler, check_block_proof
from .tasks import cancel_and_wait

log = logging.getLogger(__name__)

MAX_UNCONNECTED = 10  # header announcements in a row that connect to nothing, before a ban
CLAIM_SLACK = 6  # blocks a peer may claim beyond what it serves (a reorg, a late announcement)


class HeaderSync:
    def __init__(
        self,
        params: NetworkParams,
        chain: HeaderChain,
        peer_set: PeerSet,
        reporter: ProgressReporter,
        *,
        on_rewound: Callable[[int], None],
        on_news: Callable[[], None],
        fetch_raw_blocks: Callable[[list[bytes]], Awaitable[list[bytes]]],
        verify_packetcrypt_proofs: bool,
    ) -> None:
        self.params = params
        self.chain = chain
        self.peer_set = peer_set
        self.reporter = reporter
        self._on_rewound = on_rewound
        self._on_news = on_news
        self._fetch_raw_blocks = fetch_raw_blocks
        # PacketCrypt proof spot checks (PKT networks only), as pktd's neutrino does them.
        self.verify_packetcrypt_proofs = verify_packetcrypt_proofs
        self._header_sources: list[tuple[int, int, Peer]] = []  # (first, last, peer)
        self._proofs_checked_to = chain.height  # headers below are not sampled again
        self.proof_sampler = ProofSampler()
        self.proofs_checked: list[int] = []  # heights whose PacketCrypt proof was validated
        self._unconnected: dict[str, int] = {}  # announcements in a row that did not connect

    def on_block_announced(self, peer: Peer, block_hash: bytes) -> None:
        """A block `inv`: the peer has a block we may not have yet."""
        if self.chain.height_of(block_hash, search_depth=0) is None:
            peer.info.best_height = max(peer.info.best_height, self.chain.height + 1)
            self._on_news()

    async def on_announced(self, peer: Peer, raw: bytes) -> None:
        """Headers a peer announced on its own (sendheaders). One that does not connect may
        follow blocks we missed (the next sync round asks with a locator); a peer that keeps
        sending such headers is banned."""
        try:
            result = self.chain.connect(raw)
        except HeaderRejected as exc:
            if exc.misbehaving:
                self.peer_set.ban(peer, str(exc))
            return
        key = peer.info.address
        if not result.connected:
            self._unconnected[key] = self._unconnected.get(key, 0) + 1
            if self._unconnected[key] >= MAX_UNCONNECTED:
                self.peer_set.ban(
                    peer, f"{MAX_UNCONNECTED} header announcements that connect to nothing"
                )
            else:
                self._on_news()
            return
        self._unconnected.pop(key, None)
        if result.reorged_from is not None:
            self._on_rewound(result.reorged_from - 1)
        peer.info.best_height = max(peer.info.best_height, self.chain.height)
        self._on_news()

    async def sync(self) -> None:
        try:
            await self._sync_from_peers()
        finally:
            self.chain.flush()

    async def _sync_from_peers(self) -> None:
        """Ask the peers that claim a longer chain, best first, each until it has nothing
        more; a peer that fails is banned (invalid headers) or passed over (silence,
        disconnect), and one that ends below the height it claimed is dropped as a liar."""
        tried: list[Peer] = []
        while True:
            ahead = [
                p
                for p in self.peer_set.usable(exclude=tried)
                if p.info.best_height > self.chain.height or not tried
            ]
            if not ahead:
                return
            peer = ahead[0]
            tried.append(peer)
            try:
                await self._download_from(peer)
            except HeaderRejected as exc:
                if exc.misbehaving:
                    self.peer_set.ban(peer, str(exc))
                continue
            except PeerMisbehaving as exc:
                self.peer_set.ban(peer, str(exc))
                continue
            except PeerTimeout:
                self.peer_set.timed_out(peer, "getheaders")
                continue
            except PeerError as exc:
                log.info("header sync with %s stopped: %s", peer.info.address, exc)
                continue
            self.peer_set.answered(peer)
            claimed = peer.info.best_height
            if claimed > self.chain.height:  # it has no more: its claim was wrong
                peer.info.best_height = self.chain.height
                if claimed > self.chain.height + CLAIM_SLACK and not peer.closed:
                    self.peer_set.drop(
                        peer,
                        f"claimed height {claimed} but had headers only to {self.chain.height}",
                    )

    async def _download_from(self, peer: Peer) -> None:
        """Headers from `peer` until it has no more. Requests stop at the next checkpoint (so
        a peer on another chain is caught there); reaching it, the next request goes on."""
        while True:
            stop = self.chain.next_checkpoint_hash() or ZERO_HASH
            await self._download_until(peer, stop)
            if stop == ZERO_HASH or self.chain.tip_hash != stop:
                return  # the peer had no more (not cut short by the checkpoint)

    async def _download_until(self, peer: Peer, stop: bytes) -> None:
        started = time.monotonic()
        start_height = self.chain.height
        prefetch: asyncio.Task[bytes] | None = None
        try:
            raw = await self._ask(peer, peer.get_headers(self.chain.locator(), stop))
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
                    first = result.reorged_from if result.reorged_from is not None else before + 1
                    self._header_sources.append((first, self.chain.height, peer))
                if result.reorged_from is not None:
                    self._on_rewound(result.reorged_from - 1)
                peer.info.best_height = max(peer.info.best_height, self.chain.height)
                elapsed = max(time.monotonic() - started, 1e-6)
                self.reporter.stage(
                    "headers",
                    self.chain.height,
                    peer.info.best_height,
                    (self.chain.height - start_height) / elapsed,
                )
                if prefetch is None:
                    return
                raw, prefetch = await self._ask(peer, prefetch), None
        finally:
            if prefetch is not None:
                await cancel_and_wait(prefetch)

    async def check_packetcrypt_proofs(self) -> None:
        """Spot-check the PacketCrypt proofs of newly received headers (see spv.proofcheck)."""
        if not (self.verify_packetcrypt_proofs and self.params.has_packetcrypt):
            self._proofs_checked_to = self.chain.height
            self._header_sources.clear()
            return
        tip = max(self.chain.height, self.peer_set.best_height())
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
            try:
                raw = (await self._fetch_raw_blocks([block_hash]))[0]
            except PeerError as exc:  # no peer serves it now: the next round checks again
                log.info("block %d for a proof check: %s", height, exc)
                self._proofs_checked_to = height - 1
                return
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
                self._on_rewound(height - 1)
                if source is not None:
                    self.peer_set.ban(source, str(exc))
                self._proofs_checked_to = height - 1
                return
            self.proofs_checked.append(height)
        self._proofs_checked_to = self.chain.height
        self._header_sources.clear()

    async def _ask(self, peer: Peer, request: Awaitable[bytes]) -> bytes:
        return await self.peer_set.answer_or_alternative(peer, request, "getheaders")

    @property
    def proofs_checked_to(self) -> int:
        """Headers up to here had their proof spot checks (or need none)."""
        if not (self.verify_packetcrypt_proofs and self.params.has_packetcrypt):
            return self.chain.height
        return self._proofs_checked_to

    def _source_of(self, height: int) -> Peer | None:
        for first, last, peer in reversed(self._header_sources):
            if first <= height <= last:
                return peer
        return None
