"""The set of connected peers: keeps `target_peers` connections from the address book (manual
peers first, DNS seeds when there are none), reconnects with a backoff, bans misbehaving
peers, and picks peers for requests."""

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from .addrbook import AddressBook
from .errors import ChainError
from .messages import NetAddress
from .params import NetworkParams
from .peer import Peer, PeerError, PeerEvents
from .tasks import within

log = logging.getLogger(__name__)


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
        self.stopping = False

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
            await asyncio.sleep(0.5)

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
            self.addrbook.mark_failure(host, port)
            failures = self.addrbook.get(host, port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures, 8), 300) * random.uniform(
                0.5, 1.0
            )
            return
        finally:
            self._connecting.discard(key)
        if self.stopping:
            await peer.close("shutting down")
            return
        self.addrbook.mark_success(host, port)
        self.peers[key] = peer
        log.info("connected to %s", peer.describe())
        self._on_connected()

    async def _on_peer_closed(self, peer: Peer) -> None:
        key = peer.info.address
        if peer.ban_score >= 100 and not self.addrbook.is_banned(peer.info.host, peer.info.port):
            self.ban(peer, peer.close_reason)
        if self.peers.get(key) is peer:
            del self.peers[key]
            failures = self.addrbook.get(peer.info.host, peer.info.port).failures
            self._retry_at[key] = self.clock() + min(2 ** min(failures + 1, 8), 300)
        self._on_closed()

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

    def best(self, filters: bool = False, exclude: Iterable[Peer] = ()) -> Peer | None:
        """The usable peer with the highest announced chain (ties broken at random)."""
        skip = set(map(id, exclude))
        usable = [
            p
            for p in self.peers.values()
            if not p.closed and id(p) not in skip and (p.info.serves_filters or not filters)
        ]
        if not usable:
            return None
        return max(usable, key=lambda p: (p.info.best_height, random.random()))

    def serving_filters(self) -> list[Peer]:
        return [p for p in self.peers.values() if p.info.serves_filters and not p.closed]

    def best_height(self) -> int:
        """The highest chain any connected peer announced (0 without peers)."""
        return max((p.info.best_height for p in self.peers.values()), default=0)
