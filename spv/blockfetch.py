"""Fetching whole blocks: pipelined over every connected peer, handed out in the order asked.

Each peer gets `window` blocks in flight, asked for in getdata messages of `batch` blocks
(so `window // batch` requests outstanding per peer). Every block is checked (it is the block
asked for, parses, its merkle root matches) off the event loop, then waits in a reorder buffer
until the blocks before it are handed out. A peer that sends something invalid is banned; one
that times out gets a strike (`PeerSet.timed_out`); one that does not have a block is not asked
again in this download; their unfinished requests go to the other peers. When the next block
to hand out has been on its way from one peer for HEDGE_AFTER seconds and another peer has
nothing to do, that one is asked too: the first copy to arrive is used. `window == batch`
gives the old behaviour: one request at a time per peer.
"""

import asyncio
import contextlib
import functools
import heapq
import logging
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .block import Block
from .errors import ParseError, ValidationError
from .params import NetworkParams
from .peer import NotFoundError, Peer, PeerError, PeerMisbehaving
from .peerset import PeerSet
from .tasks import cancel_and_wait, within

log = logging.getLogger(__name__)

BATCH = 16  # blocks per getdata
WINDOW = 64  # blocks in flight per peer
MAX_AHEAD = 1024  # blocks fetched beyond the next one to hand out
MAX_AHEAD_BYTES = 64 * 1024 * 1024  # received blocks waiting for their turn
RECHECK = 0.5  # seconds between looks for new peers while blocks are on their way
HEDGE_AFTER = 3.0  # seconds the next block to hand out may be on its way from one peer
# before an idle peer is asked for it too (a slow peer must not hold everything up)


# Block checks are Python code holding the GIL: one worker thread does them all, in turn.
# More would not go faster, and each extra thread competing for the GIL delays the event loop.
_CHECKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="block-check")


class BlocksUnavailable(PeerError):
    """No connected peer can serve the next block (all failed, refused or went away)."""


@dataclass(frozen=True)
class FetchedBlock:
    height: int
    raw: bytes
    block: Block


class BlockFetcher:
    def __init__(
        self, params: NetworkParams, peer_set: PeerSet, *, batch: int = BATCH, window: int = WINDOW
    ) -> None:
        self.params = params
        self.peer_set = peer_set
        self.batch = batch
        self.window = max(window, batch)

    def fetch(self, wanted: Sequence[tuple[int, bytes]]) -> AsyncGenerator[FetchedBlock, None]:
        """The blocks `wanted` ((height, hash) pairs), checked, in the order given. Use it with
        `contextlib.aclosing` so that leaving early stops the requests. Raises
        BlocksUnavailable when no connected peer can serve the next block."""
        return _Download(self, list(wanted)).blocks()

    async def fetch_raw_blocks(self, hashes: list[bytes]) -> list[bytes]:
        """Raw blocks for `hashes`, each checked: parses, has the asked hash, merkle root."""
        raws: list[bytes] = []
        async with contextlib.aclosing(self.fetch(list(enumerate(hashes)))) as stream:
            async for fetched in stream:
                raws.append(fetched.raw)
        return raws

    def check(self, wanted: list[tuple[int, bytes]], raws: list[bytes]) -> list[FetchedBlock]:
        """Parse and check blocks (run in a worker thread: big blocks take a while)."""
        fetched = []
        for (height, want), raw in zip(wanted, raws, strict=True):
            block = Block.parse(raw, self.params.has_packetcrypt)
            if block.hash != want:
                raise PeerMisbehaving("sent a block we did not ask for")
            block.check_merkle_root()
            fetched.append(FetchedBlock(height, raw, block))
        return fetched


class _Download:
    """One ordered download: lanes (one per outstanding getdata) on every usable peer take
    work from a heap of positions in `wanted`, lowest first."""

    def __init__(self, fetcher: BlockFetcher, wanted: list[tuple[int, bytes]]) -> None:
        self.fetcher = fetcher
        self.peer_set = fetcher.peer_set
        self.wanted = wanted
        self.todo = list(range(len(wanted)))  # a heap of positions nobody has asked for yet
        self.ready: dict[int, FetchedBlock] = {}
        self.ready_bytes = 0
        self.next = 0  # position of the next block to hand out
        self.asking: dict[int, dict[Peer, float]] = {}  # position -> peers asking, since when
        self.lanes: dict[Peer, list[asyncio.Task[None]]] = {}
        self.refused: set[int] = set()  # ids of peers that do not have some of the blocks
        self.changed = asyncio.Event()

    async def blocks(self) -> AsyncGenerator[FetchedBlock, None]:
        try:
            while self.next < len(self.wanted):
                fetched = self.ready.pop(self.next, None)
                if fetched is not None:
                    self.next += 1
                    self.ready_bytes -= len(fetched.raw)
                    self.changed.set()  # lanes waiting for room go on
                    yield fetched
                    continue
                self._start_lanes()
                if not any(not t.done() for tasks in self.lanes.values() for t in tasks):
                    # every peer failed or refused: the caller keeps what it got and waits
                    # for peers (a new download starts where this one stopped)
                    raise BlocksUnavailable(
                        f"no connected peer serves block {self.wanted[self.next][0]}"
                    )
                await self._wait(RECHECK)
        finally:
            await self._stop_lanes()

    def _start_lanes(self) -> None:
        for peer in self.peer_set.usable():
            if peer in self.lanes or id(peer) in self.refused:
                continue
            lanes = max(1, self.fetcher.window // self.fetcher.batch)
            self.lanes[peer] = [
                asyncio.create_task(self._lane(peer), name=f"blocks {peer.info.address} {i}")
                for i in range(lanes)
            ]

    async def _stop_lanes(self) -> None:
        for tasks in self.lanes.values():
            for task in tasks:
                await cancel_and_wait(task)
        self.lanes.clear()

    async def _wait(self, timeout: float) -> None:
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await within(self.changed.wait(), timeout)

    def _take(self, peer: Peer) -> list[int]:
        """Up to `batch` positions for `peer` to ask for, within the look-ahead limits; when
        none is left, the ones holding up delivery (see HEDGE_AFTER)."""
        limit = self.next + MAX_AHEAD
        taken: list[int] = []
        while (
            self.todo
            and len(taken) < self.fetcher.batch
            and self.todo[0] < limit
            and self.ready_bytes < MAX_AHEAD_BYTES
        ):
            taken.append(heapq.heappop(self.todo))
        if not taken:
            taken = self._stuck(peer)
        now = asyncio.get_running_loop().time()
        for pos in taken:
            self.asking.setdefault(pos, {})[peer] = now
        return taken

    def _stuck(self, peer: Peer) -> list[int]:
        """Positions from the next one to hand out that other peers were asked for more than
        HEDGE_AFTER seconds ago (and `peer` was not)."""
        too_old = asyncio.get_running_loop().time() - HEDGE_AFTER
        stuck: list[int] = []
        pos = self.next
        while pos < len(self.wanted) and len(stuck) < self.fetcher.batch:
            if pos not in self.ready:
                askers = self.asking.get(pos)
                if not askers or peer in askers or min(askers.values()) > too_old:
                    break
                stuck.append(pos)
            pos += 1
        return stuck

    def _settled(self, pos: int) -> bool:
        return pos < self.next or pos in self.ready

    def _done_asking(self, peer: Peer, positions: list[int]) -> None:
        """`peer` no longer brings these: those nobody has and nobody else is asking for go
        back to the heap."""
        for pos in positions:
            askers = self.asking.get(pos, {})
            askers.pop(peer, None)
            if not askers:
                self.asking.pop(pos, None)
                if not self._settled(pos):
                    heapq.heappush(self.todo, pos)
        self.changed.set()

    async def _lane(self, peer: Peer) -> None:
        """Ask `peer` for one batch after another until it fails or the download ends."""
        while self.peer_set.peers.get(peer.info.address) is peer and id(peer) not in self.refused:
            positions = self._take(peer)
            if not positions:
                await self._wait(RECHECK)
                continue
            try:
                await self._ask(peer, positions)
            except TimeoutError:
                self.peer_set.timed_out(peer, "getdata (blocks)")
            except NotFoundError as exc:
                log.info("blocks from %s: %s", peer.info.address, exc)
                self.refused.add(id(peer))
                return
            except (ParseError, ValidationError, PeerMisbehaving) as exc:
                self.peer_set.ban(peer, f"bad block: {exc}")
                return
            except PeerError as exc:
                log.info("blocks from %s: %s", peer.info.address, exc)
                return

    async def _ask(self, peer: Peer, positions: list[int]) -> None:
        """One getdata for the blocks at `positions`; those that came and check out go to
        the reorder buffer, the rest back to the heap. Raises what went wrong: TimeoutError,
        NotFoundError, PeerError, or the check's error for an invalid block."""
        wanted = [self.wanted[p] for p in positions]
        hashes = [h for _, h in wanted]
        kept: set[int] = set()
        try:
            futures = await peer.request_blocks(hashes)
            done, _ = await asyncio.wait(
                futures,
                timeout=peer.block_timeout(len(hashes)),
                return_when=asyncio.FIRST_EXCEPTION,
            )
            came = [i for i, f in enumerate(futures) if f in done and _succeeded(f)]
            if came:  # blocks that came are checked first: an invalid one means a ban
                check = functools.partial(
                    self.fetcher.check,
                    [wanted[i] for i in came],
                    [futures[i].result() for i in came],
                )
                fetched = await asyncio.get_running_loop().run_in_executor(_CHECKER, check)
                for i, block in zip(came, fetched, strict=True):
                    kept.add(i)
                    if not self._settled(positions[i]):  # else another peer's copy came first
                        self.ready[positions[i]] = block
                        self.ready_bytes += len(block.raw)
                self.changed.set()
            for f in done:
                failure = None if f.cancelled() else f.exception()
                if failure is not None:
                    raise failure
            if len(kept) < len(positions):
                raise TimeoutError
            self.peer_set.answered(peer)
        finally:
            peer.abandon_blocks([h for i, h in enumerate(hashes) if i not in kept])
            self._done_asking(peer, positions)


def _succeeded(future: "asyncio.Future[bytes]") -> bool:
    return not future.cancelled() and future.exception() is None
