"""One P2P connection to a pktd-compatible peer over asyncio streams.

The peer layer speaks only messages pktd knows (spv.messages refuses anything else), answers
pings, and offers request/response helpers for headers, filter headers, filters, blocks and
transactions. Each kind of request is serialized per peer; a missing answer is a timeout (pktd
silently ignores header requests while it is not "current"), never a protocol error.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .blockwaiters import BlockWaiters
from .bytes_io import ByteReader
from .errors import ParseError
from .hashes import hash_to_display
from .header import HEADER_SIZE
from .messages import (
    FILTER_TYPE_BASIC,
    MAX_HEADERS_PER_MSG,
    MSG_BLOCK,
    MSG_TX,
    MSG_WITNESS_BLOCK,
    MSG_WITNESS_TX,
    NODE_COMPACT_FILTERS,
    NODE_WITNESS,
    PROTOCOL_VERSION,
    ZERO_HASH,
    CFCheckpt,
    CFHeaders,
    CFilter,
    FrameDecoder,
    GetCFCheckpt,
    GetCFHeaders,
    GetCFilters,
    GetData,
    GetHeaders,
    Inv,
    InvVector,
    Message,
    NetAddress,
    NotFound,
    Ping,
    Pong,
    RawMessage,
    Reject,
    SendHeaders,
    Verack,
    Version,
    encode_message,
    parse_payload,
)
from .params import NetworkParams
from .peerinfo import (
    NotFoundError,
    PeerError,
    PeerEvents,
    PeerInfo,
    PeerMisbehaving,
    PeerTimeout,
)
from .tasks import within

__all__ = [
    "CLIENT_SERVICES",
    "NotFoundError",
    "Peer",
    "PeerError",
    "PeerEvents",
    "PeerInfo",
    "PeerMisbehaving",
    "PeerTimeout",
    "parse_headers_payload",
]

try:  # the native helper (spv/native/headers.c); the Python code below is the fallback
    from . import _headers  # type: ignore[attr-defined]

    _join_headers = _headers.join_headers
except ImportError:
    _join_headers = None

log = logging.getLogger(__name__)

MIN_PEER_VERSION = 209
CLIENT_SERVICES = NODE_WITNESS | NODE_COMPACT_FILTERS  # what neutrino advertises (0x48)
USER_AGENT_PREFIX = "/pkt-wallet:"
HANDSHAKE_TIMEOUT = 10.0  # at most; a shorter peer timeout shortens it
DISPATCH_SLICE = 0.02  # seconds of message handling before the receive loop lets others run


@dataclass
class _Pending:
    """A request waiting for its answer(s)."""

    future: "asyncio.Future[Any]"
    collect: list[object] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


def parse_headers_payload(payload: bytes) -> bytes:
    """Fast path for `headers`: returns the concatenated 80-byte headers; each entry's tx count
    must be zero, as pktd sends them."""
    reader = ByteReader(payload)
    n = reader.compact_size(MAX_HEADERS_PER_MSG)
    start = reader.pos
    if len(payload) - start != n * (HEADER_SIZE + 1):
        raise ParseError("headers message length does not match its count")
    if _join_headers is not None:
        with memoryview(payload) as view:
            joined: bytes | None = _join_headers(view[start:], n)
        if joined is None:
            raise ParseError("headers entry with a non-zero transaction count")
        return joined
    body = payload[start:]
    if n and body[HEADER_SIZE :: HEADER_SIZE + 1] != bytes(n):
        raise ParseError("headers entry with a non-zero transaction count")
    return b"".join(body[i * 81 : i * 81 + 80] for i in range(n))


class Peer:
    def __init__(
        self,
        params: NetworkParams,
        host: str,
        port: int,
        *,
        best_height: Callable[[], int] = lambda: 0,
        events: PeerEvents | None = None,
        user_agent_version: str = "0.1.0",
        timeout: float = 30.0,
    ) -> None:
        self.params = params
        self.info = PeerInfo(host, port)
        self._best_height = best_height
        self.events = events or PeerEvents()
        self.user_agent = f"{USER_AGENT_PREFIX}{user_agent_version}/"
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = FrameDecoder(params.magic)
        self._recv_task: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}
        self._blocks = BlockWaiters()  # asked for, by block hash
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = asyncio.Event()
        self.close_reason = ""
        self.ban_score = 0
        self.nonce = random.getrandbits(64)
        self._handshake: asyncio.Future[None] | None = None
        self._got_version = False
        self._got_verack = False

    def __repr__(self) -> str:
        return f"<Peer {self.info.address}>"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # --- connection ---

    async def connect(self, connect_timeout: float | None = None) -> None:
        """Open the connection and shake hands, within `connect_timeout` seconds for each
        (default: the peer timeout, at most HANDSHAKE_TIMEOUT)."""
        if connect_timeout is None:
            connect_timeout = min(HANDSHAKE_TIMEOUT, self.timeout)
        try:
            self._reader, self._writer = await within(
                asyncio.open_connection(self.info.host, self.info.port), connect_timeout
            )
        except (TimeoutError, OSError) as exc:
            raise PeerError(f"cannot connect to {self.info.address}: {exc or 'timeout'}") from None
        loop = asyncio.get_running_loop()
        self._handshake = loop.create_future()
        self._recv_task = asyncio.create_task(self._receive_loop())
        await self._send(self._version_message())
        try:
            await within(asyncio.shield(self._handshake), connect_timeout)
        except TimeoutError:
            self._handshake.cancel()
            await self.close("handshake timed out")
            raise PeerTimeout(f"{self.info.address}: handshake timed out") from None
        except PeerError:
            await self.close(self.close_reason or "handshake failed")
            raise
        self.info.connected_at = time.time()
        await self._send(SendHeaders())

    def _version_message(self) -> Version:
        host = self.info.host
        try:
            recv = NetAddress.from_ip(host, self.info.port)
        except ValueError:
            recv = NetAddress.from_ip("0.0.0.0", 0)
        return Version(
            version=PROTOCOL_VERSION,
            services=CLIENT_SERVICES,
            timestamp=int(time.time()),
            addr_recv=recv,
            addr_from=NetAddress.from_ip("0.0.0.0", 0, services=CLIENT_SERVICES),
            nonce=self.nonce,
            user_agent=self.user_agent,
            start_height=max(0, self._best_height()),
            relay=True,
        )

    async def close(self, reason: str = "closed") -> None:
        if self._closed.is_set():
            return
        self.close_reason = reason
        self._closed.set()
        log.debug("%s closed: %s", self, reason)
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(PeerError(f"{self.info.address} closed: {reason}"))
        self._pending.clear()
        self._blocks.fail_all(PeerError(f"{self.info.address} closed: {reason}"))
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_exception(PeerError(f"{self.info.address}: {reason}"))
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(TimeoutError, OSError):
                await within(self._writer.wait_closed(), 2)
        if self._recv_task is not None and self._recv_task is not asyncio.current_task():
            self._recv_task.cancel()
        if self.events.on_close:
            await _maybe_await(self.events.on_close(self))

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def _send(self, message: Message) -> None:
        if self._writer is None or self._closed.is_set():
            raise PeerError(f"{self.info.address} is not connected")
        frame = encode_message(self.params.magic, message)
        self.info.bytes_sent += len(frame)
        self._writer.write(frame)
        try:
            await self._writer.drain()
        except OSError as exc:
            await self.close(f"send failed: {exc}")
            raise PeerError(f"{self.info.address}: send failed") from None

    async def send(self, message: Message) -> None:
        await self._send(message)

    # --- receiving ---

    async def _receive_loop(self) -> None:
        assert self._reader is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await self._reader.read(1 << 18)
                if not data:
                    await self.close("connection closed by peer")
                    return
                self.info.bytes_received += len(data)
                slice_end = loop.time() + DISPATCH_SLICE
                for command, payload in self._decoder.feed(data):
                    await self._dispatch(command, payload)
                    if loop.time() > slice_end:  # many small messages: let others run
                        await asyncio.sleep(0)
                        slice_end = loop.time() + DISPATCH_SLICE
        except ParseError as exc:
            self.ban_score += 100
            await self.close(f"protocol error: {exc}")
        except PeerMisbehaving as exc:
            self.ban_score += 100
            await self.close(f"misbehaving: {exc}")
        except PeerError as exc:  # e.g. connected to ourselves, or a send failed
            await self.close(str(exc))
        except (OSError, ConnectionError) as exc:
            await self.close(f"connection error: {exc}")
        except asyncio.CancelledError:
            raise

    async def _dispatch(self, command: str, payload: bytes) -> None:
        if command == "headers":
            raw = parse_headers_payload(payload)
            if self._resolve("headers", raw):
                return
            if raw and self.events.on_headers:
                await _maybe_await(self.events.on_headers(self, raw))
            return
        msg = parse_payload(command, payload)
        if isinstance(msg, Version):
            await self._on_version(msg)
        elif isinstance(msg, Verack):
            self._got_verack = True
            self._check_handshake_done()
        elif not (self._got_version and self._got_verack):
            raise PeerMisbehaving(f"{command} before the handshake finished")
        elif isinstance(msg, Ping):
            await self._send(Pong(msg.nonce))
        elif isinstance(msg, Pong):
            self._resolve("pong", msg.nonce)
        elif isinstance(msg, CFHeaders):
            self._resolve("cfheaders", msg)
        elif isinstance(msg, CFCheckpt):
            self._resolve("cfcheckpt", msg)
        elif isinstance(msg, CFilter):
            self._collect("cfilter", msg)
        elif isinstance(msg, RawMessage) and command == "block":
            self._blocks.arrived(msg.payload)
        elif isinstance(msg, RawMessage) and command == "tx":
            if not self._collect("tx", msg.payload) and self.events.on_tx:
                await _maybe_await(self.events.on_tx(self, msg.payload))
        elif isinstance(msg, NotFound):
            self._not_found(msg)
        elif isinstance(msg, Inv):
            for item in msg.items:
                if item.inv_type in (MSG_BLOCK, MSG_WITNESS_BLOCK):
                    self.info.best_height = max(self.info.best_height, self.info.start_height)
            if self.events.on_inv:
                await _maybe_await(self.events.on_inv(self, list(msg.items)))
        elif isinstance(msg, GetData):
            if self.events.on_getdata:
                await _maybe_await(self.events.on_getdata(self, list(msg.items)))
        elif isinstance(msg, Reject):
            log.info("%s rejected %s: %s", self, msg.message, msg.reason)
            if self.events.on_reject:
                await _maybe_await(self.events.on_reject(self, msg))
        elif command == "addr":
            addrs = [a.address for a in getattr(msg, "addresses", ())]
            if self.events.on_addr:
                await _maybe_await(self.events.on_addr(self, addrs))
        # sendheaders, feefilter, getaddr, getheaders, mempool...: nothing to do for a client

    async def _on_version(self, msg: Version) -> None:
        if self._got_version:
            raise PeerMisbehaving("duplicate version message")
        if msg.nonce == self.nonce:
            raise PeerError("connected to ourselves")
        if msg.version < MIN_PEER_VERSION:
            if self._handshake and not self._handshake.done():
                self._handshake.set_exception(PeerError(f"peer version {msg.version} too old"))
            return
        self._got_version = True
        info = self.info
        info.version = msg.version
        info.services = msg.services
        info.user_agent = msg.user_agent
        info.start_height = msg.start_height
        info.best_height = msg.start_height
        info.relay = msg.relay is not False
        await self._send(Verack())
        self._check_handshake_done()

    def _check_handshake_done(self) -> None:
        if (
            self._got_version
            and self._got_verack
            and self._handshake
            and not self._handshake.done()
        ):
            self._handshake.set_result(None)

    def _resolve(self, key: str, value: object) -> bool:
        pending = self._pending.get(key)
        if pending is None or pending.future.done():
            return False
        pending.future.set_result(value)
        return True

    def _collect(self, key: str, value: object) -> bool:
        pending = self._pending.get(key)
        if pending is None or pending.future.done():
            return False
        pending.collect.append(value)
        pending.arrived.set()
        return True

    def _not_found(self, msg: NotFound) -> None:
        missing = NotFoundError(f"{self.info.address} does not have {len(msg.items)} item(s)")
        self._blocks.fail([item.hash for item in msg.items], missing)
        pending = self._pending.get("tx")
        if pending is not None and not pending.future.done():
            pending.future.set_exception(missing)

    # --- requests ---

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _request(
        self,
        key: str,
        message: Message,
        done: Callable[[_Pending], bool] | None = None,
        timeout: float | None = None,
    ) -> _Pending:
        """Send `message` and wait until the answer resolves `key` (or `done` says the
        collected answers are complete)."""
        if self._closed.is_set():
            raise PeerError(f"{self.info.address} is closed")
        async with self._lock(key):
            loop = asyncio.get_running_loop()
            pending = _Pending(loop.create_future())
            self._pending[key] = pending
            try:
                await self._send(message)
                deadline = loop.time() + (timeout or self.timeout)
                if done is None:
                    await within(asyncio.shield(pending.future), deadline - loop.time())
                    return pending
                while not done(pending):
                    if pending.future.done():
                        pending.future.result()  # raises notfound/closed errors
                    pending.arrived.clear()
                    waiter: asyncio.Future[Any] = asyncio.ensure_future(pending.arrived.wait())
                    finished, _ = await asyncio.wait(
                        {waiter, pending.future},
                        timeout=deadline - loop.time(),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    waiter.cancel()
                    if not finished:
                        raise TimeoutError
                return pending
            except TimeoutError:
                raise PeerTimeout(f"{self.info.address} did not answer {message.command}") from None
            finally:
                if self._pending.get(key) is pending:
                    del self._pending[key]

    async def get_headers(
        self, locator: list[bytes], stop: bytes = ZERO_HASH, timeout: float | None = None
    ) -> bytes:
        """`timeout`: seconds for this answer (default: the peer timeout), as for the other
        requests below."""
        message = GetHeaders(PROTOCOL_VERSION, tuple(locator), stop)
        pending = await self._request("headers", message, timeout=timeout)
        result = pending.future.result()
        assert isinstance(result, bytes)
        return result

    async def get_cfheaders(
        self, start_height: int, stop_hash: bytes, timeout: float | None = None
    ) -> CFHeaders:
        message = GetCFHeaders(FILTER_TYPE_BASIC, start_height, stop_hash)
        pending = await self._request("cfheaders", message, timeout=timeout)
        result = pending.future.result()
        assert isinstance(result, CFHeaders)
        if result.stop_hash != stop_hash:
            raise PeerMisbehaving("cfheaders for another stop hash")
        return result

    async def get_cfcheckpt(self, stop_hash: bytes, timeout: float | None = None) -> CFCheckpt:
        message = GetCFCheckpt(FILTER_TYPE_BASIC, stop_hash)
        pending = await self._request("cfcheckpt", message, timeout=timeout)
        result = pending.future.result()
        assert isinstance(result, CFCheckpt)
        if result.stop_hash != stop_hash:
            raise PeerMisbehaving("cfcheckpt for another stop hash")
        return result

    async def get_cfilters(self, start_height: int, stop_hash: bytes, count: int) -> list[CFilter]:
        """`count` filters from `start_height` to the block `stop_hash`, in order."""
        pending = await self._request(
            "cfilter",
            GetCFilters(FILTER_TYPE_BASIC, start_height, stop_hash),
            done=lambda p: len(p.collect) >= count,
        )
        filters = [f for f in pending.collect if isinstance(f, CFilter)]
        return filters[:count]

    async def request_blocks(
        self, hashes: list[bytes], witness: bool = True
    ) -> list["asyncio.Future[bytes]"]:
        """Ask for `hashes` in one getdata; returns one future per hash (in the order asked)
        that gets the raw block, or fails with PeerError (closed, not found). Any number of
        requests may be in flight; the caller gives up on a request with `abandon_blocks`."""
        if self._closed.is_set():
            raise PeerError(f"{self.info.address} is closed")
        futures = self._blocks.expect(hashes)
        kind = MSG_WITNESS_BLOCK if witness else MSG_BLOCK
        await self._send(GetData(tuple(InvVector(kind, h) for h in hashes)))
        return futures

    def abandon_blocks(self, hashes: list[bytes]) -> None:
        """Stop waiting for these blocks; if they still come, they are dropped quietly."""
        self._blocks.abandon(hashes)

    def block_timeout(self, count: int) -> float:
        """How long `count` blocks asked in one getdata may take."""
        return self.timeout + 0.05 * count

    async def get_blocks(self, hashes: list[bytes], witness: bool = True) -> list[bytes]:
        """Raw block payloads for `hashes`, in the order asked."""
        futures = await self.request_blocks(hashes, witness)
        try:
            return list(await within(asyncio.gather(*futures), self.block_timeout(len(hashes))))
        except TimeoutError:
            raise PeerTimeout(f"{self.info.address} did not send the blocks asked for") from None
        finally:
            self.abandon_blocks(hashes)  # those that came are no longer waited for: no-op

    async def get_transaction(self, txid: bytes, witness: bool = True) -> bytes:
        kind = MSG_WITNESS_TX if witness else MSG_TX
        pending = await self._request(
            "tx", GetData((InvVector(kind, txid),)), done=lambda p: len(p.collect) >= 1
        )
        result = pending.collect[0]
        assert isinstance(result, bytes)
        return result

    async def ping(self) -> float:
        start = time.monotonic()
        nonce = random.getrandbits(64)
        pending = await self._request("pong", Ping(nonce))
        if pending.future.result() != nonce:
            raise PeerMisbehaving("pong with the wrong nonce")
        return time.monotonic() - start

    async def announce_transaction(self, txid: bytes) -> None:
        await self._send(Inv((InvVector(MSG_TX, txid),)))

    async def send_raw_transaction(self, raw: bytes) -> None:
        await self._send(RawMessage(command="tx", payload=raw))

    def describe(self) -> str:
        i = self.info
        return f"{i.address} {i.user_agent} height {i.best_height} services {i.services:#x}"


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if result is not None:
        await result


def display(block_hash: bytes) -> str:
    return hash_to_display(block_hash)
