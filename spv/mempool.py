"""Unconfirmed transactions: fetch what peers announce and pass what concerns the watcher on;
broadcast our own transactions (announce, serve on getdata, collect rejects and relays)."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ParseError
from .messages import MSG_TX, MSG_WITNESS_TX, GetData, InvVector, Reject
from .peer import Peer, PeerError
from .peerset import PeerSet
from .tx import Transaction
from .watcher import ChainWatcher

SEEN_TXIDS = 20_000  # announced transactions remembered, so each is fetched once
MAX_TX_REQUESTS = 1000  # transactions asked for per announcement


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


class Mempool:
    def __init__(self, peer_set: PeerSet, *, on_news: Callable[[], None]) -> None:
        self.peer_set = peer_set
        self.watcher: ChainWatcher | None = None
        self._on_news = on_news
        self._broadcasts: dict[bytes, tuple[bytes, BroadcastResult]] = {}
        self._seen_txids: dict[bytes, None] = {}  # announced transactions already asked for

    async def on_inv(self, peer: Peer, items: list[InvVector]) -> None:
        """Transactions announced by `peer`: fetch those not seen yet (when watching)."""
        wanted: list[InvVector] = []
        for item in items:
            if item.inv_type not in (MSG_TX, MSG_WITNESS_TX):
                continue
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

    async def on_reject(self, peer: Peer, reject: Reject) -> None:
        if reject.hash is not None and reject.hash in self._broadcasts:
            result = self._broadcasts[reject.hash][1]
            result.rejected.append((peer.info.address, f"{reject.reason} (code {reject.code:#x})"))

    async def on_tx(self, peer: Peer, raw: bytes) -> None:
        if self.watcher is None:
            return
        try:
            tx = Transaction.parse(raw)
        except ParseError:
            return
        if self.watcher.on_mempool_transaction(tx):
            self._on_news()  # followers (the app core) refresh what they show

    async def on_getdata(self, peer: Peer, items: list[InvVector]) -> None:
        for item in items:
            entry = self._broadcasts.get(item.hash)
            if entry is not None and item.inv_type in (MSG_TX, MSG_WITNESS_TX):
                raw, result = entry
                if peer.info.address not in result.requested_by:
                    result.requested_by.append(peer.info.address)
                await peer.send_raw_transaction(raw)

    async def broadcast(self, raw: bytes, wait: float = 3.0) -> BroadcastResult:
        """Announce a transaction to every peer and serve it to those that ask; waits up to
        `wait` seconds for requests, rejects and relays."""
        tx = Transaction.parse(raw)
        result = BroadcastResult(tx.txid)
        self._broadcasts[tx.txid] = (raw, result)
        peer_set = self.peer_set
        if not peer_set.peers:
            await peer_set.wait_for_peers(1, timeout=peer_set.peer_timeout)
        for peer in list(peer_set.peers.values()):
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
