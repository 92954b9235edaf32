"""The blocks asked of one peer, by hash: any number of getdata may be in flight, each block
resolves its own future. A block nobody asked for is an offence; one we stopped waiting for
(abandoned after a timeout) is dropped quietly when it comes late."""

import asyncio
from collections import OrderedDict
from collections.abc import Iterable

from .errors import ParseError
from .hashes import hash_to_display, sha256d
from .header import HEADER_SIZE
from .peerinfo import PeerError, PeerMisbehaving

ABANDONED_BLOCKS = 4096  # hashes of blocks we stopped waiting for, remembered


class BlockWaiters:
    def __init__(self) -> None:
        self._waiting: dict[bytes, asyncio.Future[bytes]] = {}
        self._abandoned: OrderedDict[bytes, None] = OrderedDict()

    def expect(self, hashes: Iterable[bytes]) -> list["asyncio.Future[bytes]"]:
        """One future per hash, in order (the same one for a hash already awaited)."""
        loop = asyncio.get_running_loop()
        futures = []
        for h in hashes:
            waiter = self._waiting.get(h)
            if waiter is None or waiter.done():
                waiter = self._waiting[h] = loop.create_future()
            futures.append(waiter)
        return futures

    def arrived(self, payload: bytes) -> None:
        """A `block` message: resolve its future. Raises ParseError (not even a header) or
        PeerMisbehaving (a block that was not asked for)."""
        if len(payload) < HEADER_SIZE:
            raise ParseError("block message shorter than a header")
        block_hash = sha256d(payload[:HEADER_SIZE])
        waiter = self._waiting.pop(block_hash, None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(payload)
            return
        if block_hash in self._abandoned:
            del self._abandoned[block_hash]  # late: we had stopped waiting for it
            return
        raise PeerMisbehaving(f"sent block {hash_to_display(block_hash)}, which was not asked for")

    def fail(self, hashes: Iterable[bytes], error: PeerError) -> None:
        """These blocks will not come (`notfound`)."""
        for h in hashes:
            waiter = self._waiting.pop(h, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)

    def fail_all(self, error: PeerError) -> None:
        """The connection closed."""
        self.fail(list(self._waiting), error)

    def abandon(self, hashes: Iterable[bytes]) -> None:
        """Stop waiting for these blocks; if they still come, they are dropped quietly."""
        for h in hashes:
            waiter = self._waiting.pop(h, None)
            if waiter is None:
                continue
            if not waiter.done():
                waiter.cancel()
            self._abandoned[h] = None
        while len(self._abandoned) > ABANDONED_BLOCKS:
            self._abandoned.popitem(last=False)
