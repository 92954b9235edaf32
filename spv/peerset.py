"""The set of connected peers: keeps `target_peers` connections from the address book (manual
peers first, DNS seeds when there are none), reconnects with a backoff, drops peers that keep
timing out, bans misbehaving ones, and ranks peers for requests.

Nothing here busy-waits: waiting for a peer or for a change is an `asyncio.Event` with a
deadline, so a failing peer never freezes the event loop."""

import asyncio
import contextlib
import logging
import random
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from .addrbook import AddressBook, PeerRecord
from .errors import ChainError
from .messages import NetAddress
from .params import NetworkParams
from .peer import Peer, PeerError, PeerEvents, PeerTimeout
from .tasks import cancel_and_wait, within

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_STRIKES = 2  # requests a peer may leave unanswered (in a row) before it is dropped
QUICK_TIMEOUT = 4.0  # seconds for a small answer (headers, filter headers) when others can give it
RECENT_DROPS = 50  # disconnects remembered for diagnostics (chain-info, tests)
MAINTAIN_INTERVAL = 0.5  # seconds between looks at the connection count


class NoPeersError(ChainError):
    """No peer could be reached."""


class PeerSet:
    def __init__(
        self,
        params: NetworkParams,
        addrbook: AddressBook,
        *,
        manual_peers: list[tuple[str, int]],
        use_dns_seeds: bool,
        target_peers: int,
        peer_timeout: float,
        clock: Callable[[], float],
        best_height: Callable[[], int],
        events: PeerEvents,
        on_connected: Callable[[], None],
        on_closed: Callable[[], None],
    ) -> None:
        self.params = params
        self.addrbook = addrbook
        self.manual_peers = manual_peers
        self.use_dns_seeds = use_dns_seeds
        self.target_peers = target_peers
        self.peer_timeout = peer_timeout
        self.clock = clock
        self._best_height = best_height
        self._events = events
        self._on_connected = on_connected
        self._on_closed = on_closed
        self.peers: dict[str, Peer] = {}
        self._connecting: set[str] = set()
        self._retry_at: dict[str, float] = {}
        self._strikes: dict[str, int] = {}
        self._preference = {PeerRecord(h, p).key: i for i, (h, p) in enumerate(manual_peers)}
        self.recent_drops: deque[tuple[str, str]] = deque(maxlen=RECENT_DROPS)
        self._changed = asyncio.Event()  # a peer connected or went away
        self.stopping = False

    # --- connections ---

    async def maintain(self) -> None:
        """Keep connecting until `target_peers` are connected (runs until cancelled)."""
        dns_done = False
        while not self.stopping:
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
            await asyncio.sleep(MAINTAIN_INTERVAL)

    async def close_all(self) -> None:
        self.stopping = True
        await asyncio.gather(*(p.close("shutting down") for p in list(self.peers.values())))
        self.peers.clear()

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
        events = replace(self._events, on_addr=self._on_addr, on_close=self._on_peer_closed)
        peer = Peer(
            self.params,
            host,
            port,
            best_height=self._best_height,
            events=events,
            timeout=self.peer_timeout,
        )
        try:
            await peer.connect()
        except PeerError as exc:
            log.info("peer %s: %s", key, exc)
            self.recent_drops.append((key, str(exc)))
            self.addrbook.mark_failure(host, port)
            failures = self.addrbook.get(host, port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures, 8), 300) * random.uniform(
                0.5, 1.0
            )
            self._changed.set()
            return
        finally:
            self._connecting.discard(key)
        if self.stopping:
            await peer.close("shutting down")
            return
        self.addrbook.mark_success(host, port)
        self.peers[key] = peer
        self._strikes[key] = 0
        log.info("connected to %s", peer.describe())
        self._changed.set()
        self._on_connected()

    async def _on_peer_closed(self, peer: Peer) -> None:
        key = peer.info.address
        if peer.ban_score >= 100 and not self.addrbook.is_banned(peer.info.host, peer.info.port):
            self.ban(peer, peer.close_reason)
        if self.peers.get(key) is peer:
            del self.peers[key]
            self.recent_drops.append((key, peer.close_reason))
            failures = self.addrbook.get(peer.info.host, peer.info.port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures + 1, 8), 300)
        self._changed.set()
        self._on_closed()

    def ban(self, peer: Peer, reason: str) -> None:
        """Ban `peer` (24 h, remembered in the address book) and disconnect it."""
        log.warning("banning %s: %s", peer.info.address, reason)
        self.addrbook.ban(peer.info.host, peer.info.port, reason)
        self._forget(peer, f"banned: {reason}")

    def drop(self, peer: Peer, reason: str) -> None:
        """Disconnect `peer` (no ban: it may be tried again after a backoff)."""
        log.info("dropping %s: %s", peer.info.address, reason)
        self.addrbook.mark_failure(peer.info.host, peer.info.port)
        self._forget(peer, reason)

    def _forget(self, peer: Peer, reason: str) -> None:
        key = peer.info.address
        if self.peers.get(key) is peer:
            del self.peers[key]
            self.recent_drops.append((key, reason))
            failures = self.addrbook.get(peer.info.host, peer.info.port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures + 1, 8), 300)
        self._changed.set()
        asyncio.ensure_future(peer.close(reason))

    def timed_out(self, peer: Peer, what: str) -> None:
        """`peer` left a request unanswered: silence is no offence (pktd ignores some requests
        while it syncs), but a peer that keeps it up is dropped."""
        key = peer.info.address
        self._strikes[key] = self._strikes.get(key, 0) + 1
        if self._strikes[key] >= MAX_STRIKES:
            self.drop(peer, f"did not answer {what} ({self._strikes[key]} times in a row)")

    def small_answer_timeout(self, alternatives: int) -> float:
        """How long to wait for a small answer (at most ~160 kB: headers, filter headers and
        their checkpoints) when `alternatives` peers could give it: a healthy peer answers in
        well under a second, so with others to ask a slow one is passed over quickly."""
        return self.peer_timeout if alternatives < 2 else min(self.peer_timeout, QUICK_TIMEOUT)

    async def answer_or_alternative(self, peer: Peer, request: Awaitable[T], what: str) -> T:
        """Await `request` to `peer` (its own timeout applies), but once QUICK_TIMEOUT passed
        without an answer, give up as soon as another usable peer is there to ask instead:
        PeerTimeout then. For small answers (headers), which a healthy peer gives at once."""
        task = asyncio.ensure_future(request)
        try:
            done, _ = await asyncio.wait({task}, timeout=QUICK_TIMEOUT)
            while not done:
                if self.usable(exclude=[peer]):
                    raise PeerTimeout(f"{peer.info.address} is slow to answer {what}")
                self._changed.clear()
                waiter: asyncio.Future[Any] = asyncio.ensure_future(self._changed.wait())
                either: set[asyncio.Future[Any]] = {task, waiter}
                finished, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                done = {f for f in finished if f is task}
            return task.result()
        finally:
            if not task.done():
                await cancel_and_wait(task)

    def answered(self, peer: Peer) -> None:
        self._strikes[peer.info.address] = 0

    async def _on_addr(self, peer: Peer, addrs: list[NetAddress]) -> None:
        for a in addrs[:100]:
            if a.port:
                self.addrbook.add(a.host, a.port, "addr")

    # --- waiting ---

    async def wait_for_peers(self, n: int = 1, timeout: float = 30.0) -> None:
        """Wait until `n` peers are connected. NoPeersError after `timeout` seconds, or at once
        when no peer can ever come (every known peer banned, no DNS seeds to ask)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.peers) < n:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NoPeersError(self.no_peer_message(timeout))
            if self._hopeless():
                raise NoPeersError(f"no usable peer: every known peer is banned{self._tried()}")
            await self.wait_for_change(min(remaining, MAINTAIN_INTERVAL * 2))

    async def wait_for_change(self, timeout: float) -> None:
        """Wait until a peer connects or goes away, or `timeout` seconds pass."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await within(self._changed.wait(), max(timeout, 0.0))

    def no_peer_message(self, seconds: float) -> str:
        return f"no peer reachable after {seconds:.0f} s{self._tried()}"

    def _hopeless(self) -> bool:
        if self.peers or self._connecting or self.use_dns_seeds:
            return False
        now = self.clock()
        return bool(self.addrbook.records) and all(
            r.banned_until > now for r in self.addrbook.records.values()
        )

    def _tried(self) -> str:
        records = self.addrbook.records
        if not records:
            return ""
        now = self.clock()
        parts = [
            f"{k} (banned: {r.ban_reason})" if r.banned_until > now else k
            for k, r in list(records.items())[:10]
        ]
        return f" (tried {', '.join(parts)})"

    # --- choosing peers ---

    def usable(self, filters: bool = False, exclude: Iterable[Peer] = ()) -> list[Peer]:
        """Connected peers (serving filters, if asked), best first: the highest announced
        chain, then the fewest unanswered requests, then the order the user listed them."""
        skip = set(map(id, exclude))
        peers = [
            p
            for p in self.peers.values()
            if not p.closed and id(p) not in skip and (p.info.serves_filters or not filters)
        ]
        random.shuffle(peers)  # ties beyond the ranking: at random
        peers.sort(
            key=lambda p: (
                -p.info.best_height,
                self._strikes.get(p.info.address, 0),
                self._preference.get(p.info.address, len(self._preference)),
            )
        )
        return peers

    def best(self, filters: bool = False, exclude: Iterable[Peer] = ()) -> Peer | None:
        usable = self.usable(filters, exclude)
        return usable[0] if usable else None

    def serving_filters(self) -> list[Peer]:
        return self.usable(filters=True)

    def best_height(self) -> int:
        """The highest chain any connected peer announced (0 without peers)."""
        return max((p.info.best_height for p in self.peers.values() if not p.closed), default=0)
