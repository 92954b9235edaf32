"""Filter-header sync (BIP157 cfheaders) with cross-checks: several peers are asked for each
batch and their checkpoints (cfcheckpt) compared; where they disagree the block decides who
lied (spv.filtercheck), and the liar is banned."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .bip158 import filter_header_from_hash
from .block import Block
from .chain import HeaderChain
from .errors import ParseError, ValidationError
from .filtercheck import filter_is_consistent, known_elements
from .filterheaders import FilterHeaderStore
from .hashes import sha256d
from .params import NetworkParams
from .peer import Peer, PeerError, PeerMisbehaving, PeerTimeout
from .peerset import PeerSet
from .progress import ProgressReporter

log = logging.getLogger(__name__)
T = TypeVar("T")

CFHEADERS_BATCH = 2000
CFCHECKPT_INTERVAL = 1000


class FilterHeaderSync:
    def __init__(
        self,
        params: NetworkParams,
        chain: HeaderChain,
        filter_headers: FilterHeaderStore,
        peer_set: PeerSet,
        reporter: ProgressReporter,
        *,
        rewind_scan: Callable[[int], None],
    ) -> None:
        self.params = params
        self.chain = chain
        self.filter_headers = filter_headers
        self.peer_set = peer_set
        self.reporter = reporter
        self._rewind_scan = rewind_scan

    async def sync(self) -> None:
        await self._check_cfcheckpts()
        fh = self.filter_headers
        while True:
            target = self.chain.height
            start = fh.tip_height + 1 if fh.is_initialized else self.chain.first_height
            if fh.is_initialized and start > target:
                return
            stop = min(start + CFHEADERS_BATCH - 1, target)
            stop_hash = self.chain.hash_at(stop)
            peers = self.peer_set.serving_filters()
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
            self.reporter.stage("filter headers", fh.tip_height, target)

    async def _check_cfcheckpt_answers(self) -> dict[Peer, tuple[bytes, ...]]:
        """The filter-header checkpoints (every 1000 blocks) of every filter-serving peer."""
        top = self.chain.height - self.chain.height % CFCHECKPT_INTERVAL
        if top < max(CFCHECKPT_INTERVAL, self.chain.first_height):
            return {}
        stop_hash = self.chain.hash_at(top)
        peers = self.peer_set.serving_filters()
        timeout = self.peer_set.small_answer_timeout(len(peers))

        async def ask(peer: Peer) -> tuple[bytes, ...]:
            return (await peer.get_cfcheckpt(stop_hash, timeout)).filter_headers

        return await self._ask_each(peers, ask, "getcfcheckpt")

    async def _ask_each(
        self, peers: list[Peer], ask: Callable[[Peer], Awaitable[T]], what: str
    ) -> dict[Peer, T]:
        """`ask` every peer at once; the answers of those that gave one. A peer that sent
        something invalid is banned, one that timed out gets a strike."""

        async def one(peer: Peer) -> tuple[Peer, T | None]:
            try:
                answer = await ask(peer)
            except PeerMisbehaving as exc:
                self.peer_set.ban(peer, str(exc))
            except PeerTimeout:
                self.peer_set.timed_out(peer, what)
            except PeerError as exc:
                log.info("%s from %s: %s", what, peer.info.address, exc)
            else:
                self.peer_set.answered(peer)
                return peer, answer
            return peer, None

        results = await asyncio.gather(*(one(p) for p in peers))
        return {peer: answer for peer, answer in results if answer is not None}

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
        peers = self.peer_set.peers
        survivors = [a for p, a in answers.items() if peers.get(p.info.address) is p]
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

    async def _ask_cfheaders(
        self, peers: list[Peer], start: int, stop_hash: bytes
    ) -> dict[Peer, tuple[bytes, tuple[bytes, ...]]]:
        timeout = self.peer_set.small_answer_timeout(len(peers))

        async def ask(peer: Peer) -> tuple[bytes, tuple[bytes, ...]]:
            msg = await peer.get_cfheaders(start, stop_hash, timeout)
            return msg.prev_filter_header, msg.filter_hashes

        return await self._ask_each(peers, ask, "getcfheaders")

    async def _agree_on_cfheaders(
        self, answers: dict[Peer, tuple[bytes, tuple[bytes, ...]]], start: int, stop: int
    ) -> tuple[bytes, tuple[bytes, ...]] | None:
        n = stop - start + 1
        for peer, (_, hashes) in list(answers.items()):
            if len(hashes) != n:
                self.peer_set.ban(peer, f"cfheaders with {len(hashes)} hashes for {n} blocks")
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
            self.peer_set.ban(liar, f"served a false filter for block {height}")
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
