"""A loopback P2P peer that speaks the real wire protocol like pktd in regtest mode.

It serves a RegtestChain: headers, BIP157 filter headers/checkpoints/filters, blocks and
transactions; accepts transactions (checking that they parse, spend known outputs and carry valid
signatures: `script_verify`); and can misbehave on request (`Misbehaviour`, `Fault`: the hostile
peers of tests/test_hostile_peers.py). It runs its own event loop in a thread, on 127.0.0.1 only.
"""

import asyncio
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from spv.bip158 import build_filter, filter_header
from spv.bytes_io import ByteWriter
from spv.errors import ParseError
from spv.hashes import sha256d
from spv.messages import (
    MAX_MESSAGE_PAYLOAD,
    MSG_BLOCK,
    MSG_TX,
    MSG_WITNESS_BLOCK,
    MSG_WITNESS_TX,
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
    NetAddress,
    NotFound,
    Ping,
    Pong,
    RawMessage,
    Reject,
    SendHeaders,
    Verack,
    Version,
    encode_frame,
    encode_message,
    parse_payload,
)
from spv.params import REGTEST, NetworkParams
from spv.tx import Transaction

from .regtest_chain import RegtestChain
from .script_verify import VerifyError, verify_transaction

SERVICES = 0x4D  # NETWORK | BLOOM | WITNESS | CF, as pktd
OTHER_MAGIC = bytes.fromhex("f9beb4d9")  # Bitcoin mainnet's: a frame for another network


class Fault(Enum):
    """How a hostile peer answers a request (see `Misbehaviour.faults`)."""

    DISCONNECT = "disconnect"  # close the connection instead of answering
    GARBAGE = "garbage"  # random bytes instead of the answer
    BAD_CHECKSUM = "bad checksum"  # the real answer, its frame checksum corrupted
    WRONG_MAGIC = "wrong magic"  # the real answer framed with another network's magic
    DRIP = "slow drip"  # the real answer, one byte every `drip_interval` seconds
    OVERSIZE_COUNT = "oversize count"  # an answer whose count field exceeds the protocol limit
    WRONG_BLOCK = "wrong block"  # getdata: another block than the one asked for
    UNCONNECTED_HEADERS = "unconnected headers"  # getheaders: headers that connect to nothing,
    # then more of them, unasked, until the connection ends


@dataclass
class Misbehaviour:
    """What the peer does wrong. All off by default."""

    stall: set[str] = field(default_factory=set)  # commands never answered
    lie_filters_from: int | None = None  # serve filters without the coinbase output from here
    bad_header_at: int | None = None  # corrupt the bits of the header served at this height
    oversize_after_handshake: bool = False
    disconnect_after_messages: int | None = None
    delay: float = 0.0  # seconds before every answer
    faults: dict[str, Fault] = field(default_factory=dict)  # request command -> bad answer
    drip_interval: float = 1.0
    claim_height: int | None = None  # start height announced in `version` (a lie if above)
    handshake_delay: float = 0.0  # seconds before answering `version`
    latency: float = 0.0  # seconds each message waits before it is handled, overlapping


class TestPeer:
    __test__ = False  # not a pytest class

    def __init__(
        self,
        chain: RegtestChain,
        params: NetworkParams = REGTEST,
        misbehaviour: Misbehaviour | None = None,
        user_agent: str = "/btcwire:0.5.0/testpeer:0.1/",
    ) -> None:
        self.params = params
        self.misbehaviour = misbehaviour or Misbehaviour()
        self.user_agent = user_agent
        self.received_txs: list[Transaction] = []
        self.rejected_txs: list[tuple[Transaction, str]] = []  # with the verifier's reason
        self.mempool: dict[bytes, bytes] = {}
        self.connections = 0
        self.handshakes = 0
        self.requests: dict[str, int] = {}
        self.faults_done: dict[str, int] = {}  # request command -> bad answers given
        self.cfilter_starts: list[int] = []  # start heights of the getcfilters served
        self.user_agents: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._sendheaders: dict[asyncio.StreamWriter, bool] = {}
        self._background: set[asyncio.Future[None]] = set()
        self.port = 0
        self._lock = threading.Lock()
        self.set_chain(chain, announce=False)

    # --- chain data ---

    def set_chain(self, chain: RegtestChain, announce: bool = True) -> None:
        """Serve `chain` (e.g. after mining or a reorg) and announce its tip."""
        base = chain.base_height
        headers = [cb.raw[:80] for cb in chain.blocks]
        hashes = [cb.hash for cb in chain.blocks]
        filters = [cb.filter for cb in chain.blocks]
        fheaders = [cb.filter_header for cb in chain.blocks]
        lie = self.misbehaviour.lie_filters_from
        if lie is not None:
            i0 = lie - base
            prev = fheaders[i0 - 1] if i0 > 0 else chain.base_filter_header
            for i in range(i0, len(filters)):
                block = chain.blocks[i].block
                elements = {
                    o.script for tx in block.transactions[1:] for o in tx.outputs if o.script
                }
                filters[i] = build_filter(hashes[i], elements)
                prev = filter_header(filters[i], prev)
                fheaders[i] = prev
        bad = self.misbehaviour.bad_header_at
        if bad is not None and 0 <= bad - base < len(headers):
            raw = bytearray(headers[bad - base])
            raw[72:76] = (0x1D00FFFF).to_bytes(4, "little")
            headers[bad - base] = bytes(raw)
        with self._lock:
            self.chain = chain
            self.base = base
            self.headers = headers
            self.hashes = hashes
            self.height_of = {h: base + i for i, h in enumerate(hashes)}
            if base > 0:  # the block below the first one served (a checkpoint)
                self.height_of[chain.blocks[0].block.header.prev_hash] = base - 1
            self.blocks = {cb.hash: cb.raw for cb in chain.blocks}
            self.filters = filters
            self.filter_headers = fheaders
            self.base_filter_header = chain.base_filter_header
        if announce and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._announce_tip(), self._loop).result(5)

    @property
    def height(self) -> int:
        return self.base + len(self.headers) - 1

    # --- lifecycle ---

    def start(self) -> tuple[str, int]:
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="test-peer", daemon=True)
        self._thread.start()
        started.wait(5)
        return "127.0.0.1", self.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for w in list(self._writers):
                w.close()
            await asyncio.sleep(0)
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            for task in others:  # connection handlers (a slow drip, say) end here
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._thread = None

    def disconnect_all(self) -> None:
        def close() -> None:
            for w in list(self._writers):
                w.close()

        self._loop.call_soon_threadsafe(close)

    def __enter__(self) -> "TestPeer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- protocol ---

    async def _send(self, writer: asyncio.StreamWriter, message: object) -> None:
        if self.misbehaviour.delay:
            await asyncio.sleep(self.misbehaviour.delay)
        writer.write(encode_message(self.params.magic, message))  # type: ignore[arg-type]
        await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        decoder = FrameDecoder(self.params.magic)
        handled = 0
        latency = self.misbehaviour.latency
        delayed: asyncio.Queue[tuple[float, str, bytes]] = asyncio.Queue()
        worker = asyncio.ensure_future(self._after_latency(writer, delayed)) if latency else None
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    return
                for command, payload in decoder.feed(data):
                    handled += 1
                    limit = self.misbehaviour.disconnect_after_messages
                    if limit is not None and handled > limit:
                        return
                    if worker is not None:
                        delayed.put_nowait((time.monotonic() + latency, command, payload))
                    elif not await self._process(writer, command, payload):
                        return
        except (ParseError, ConnectionError, OSError):
            return
        except asyncio.CancelledError:  # stop(): the server is shutting down
            return
        finally:
            if worker is not None:
                worker.cancel()
            self._writers.discard(writer)
            self._sendheaders.pop(writer, None)
            writer.close()

    async def _after_latency(
        self, writer: asyncio.StreamWriter, delayed: "asyncio.Queue[tuple[float, str, bytes]]"
    ) -> None:
        """Handle each request `latency` seconds after it came, in order (requests overlap:
        a long network path, not a slow peer)."""
        try:
            while True:
                due, command, payload = await delayed.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not await self._process(writer, command, payload):
                    writer.close()
                    return
        except (ParseError, ConnectionError, OSError):
            writer.close()

    async def _process(self, writer: asyncio.StreamWriter, command: str, payload: bytes) -> bool:
        """Answer one message (or misbehave); False when the connection must end."""
        self.requests[command] = self.requests.get(command, 0) + 1
        if command in self.misbehaviour.stall:
            return True
        fault = self.misbehaviour.faults.get(command)
        if fault is not None:
            self.faults_done[command] = self.faults_done.get(command, 0) + 1
            return await self._answer_badly(writer, fault, command, payload)
        await self._on_message(writer, command, payload)
        return True

    async def _on_message(self, writer: asyncio.StreamWriter, command: str, payload: bytes) -> None:
        msg = parse_payload(command, payload)
        if isinstance(msg, Version):
            self.user_agents.append(msg.user_agent)
            if self.misbehaviour.handshake_delay:
                await asyncio.sleep(self.misbehaviour.handshake_delay)
            claimed = self.misbehaviour.claim_height
            reply = Version(
                version=70013,
                services=SERVICES,
                timestamp=int(time.time()),
                addr_recv=NetAddress.from_ip("127.0.0.1", 0),
                addr_from=NetAddress.from_ip("::", 0, services=SERVICES),
                nonce=0x1234,
                user_agent=self.user_agent,
                start_height=self.height if claimed is None else claimed,
                relay=True,
            )
            await self._send(writer, reply)
            await self._send(writer, Verack())
            self.handshakes += 1
            if self.misbehaviour.oversize_after_handshake:
                header = bytearray(encode_frame(self.params.magic, "headers", b""))
                header[16:20] = (MAX_MESSAGE_PAYLOAD + 1).to_bytes(4, "little")
                writer.write(bytes(header))
        elif isinstance(msg, SendHeaders):
            self._sendheaders[writer] = True
        elif isinstance(msg, Ping):
            await self._send(writer, Pong(msg.nonce))
        elif isinstance(msg, GetHeaders):
            await self._send_headers(writer, msg)
        elif isinstance(msg, GetCFHeaders):
            await self._send_cfheaders(writer, msg)
        elif isinstance(msg, GetCFCheckpt):
            await self._send_cfcheckpt(writer, msg)
        elif isinstance(msg, GetCFilters):
            await self._send_cfilters(writer, msg)
        elif isinstance(msg, GetData):
            await self._send_data(writer, msg.items)
        elif isinstance(msg, Inv):
            wanted = [i for i in msg.items if i.inv_type in (MSG_TX, MSG_WITNESS_TX)]
            if wanted:
                items = tuple(InvVector(MSG_WITNESS_TX, i.hash) for i in wanted)
                await self._send(writer, GetData(items))
        elif isinstance(msg, RawMessage) and command == "tx":
            await self._accept_tx(writer, msg.payload)

    def _locate(self, locator: Iterable[bytes]) -> int:
        for h in locator:
            height = self.height_of.get(h)
            if height is not None:
                return height
        return self.base

    async def _send_headers(self, writer: asyncio.StreamWriter, msg: GetHeaders) -> None:
        start = self._locate(msg.locator) + 1
        stop_height = self.height_of.get(msg.stop_hash, self.height)
        end = min(start + 2000, stop_height + 1, self.height + 1)
        await self._send_raw_headers(writer, self.headers[start - self.base : end - self.base])

    async def _send_raw_headers(self, writer: asyncio.StreamWriter, headers: list[bytes]) -> None:
        w = ByteWriter().compact_size(len(headers))
        body = b"\x00".join(headers) + (b"\x00" if headers else b"")
        if self.misbehaviour.delay:
            await asyncio.sleep(self.misbehaviour.delay)
        writer.write(encode_frame(self.params.magic, "headers", w.getvalue() + body))
        await writer.drain()

    async def _send_cfheaders(self, writer: asyncio.StreamWriter, msg: GetCFHeaders) -> None:
        stop = self.height_of.get(msg.stop_hash)
        first = msg.start_height
        if stop is None or first > stop or stop - first >= 2000 or first < self.base:
            return
        prev = (
            self.filter_headers[first - 1 - self.base]
            if first - 1 >= self.base
            else self.base_filter_header
        )
        hashes = tuple(sha256d(self.filters[h - self.base]) for h in range(first, stop + 1))
        await self._send(writer, CFHeaders(0, msg.stop_hash, prev, hashes))

    async def _send_cfcheckpt(self, writer: asyncio.StreamWriter, msg: GetCFCheckpt) -> None:
        stop = self.height_of.get(msg.stop_hash)
        if stop is None:
            return
        first = max(1000, -(-self.base // 1000) * 1000)
        headers = tuple(self.filter_headers[h - self.base] for h in range(first, stop + 1, 1000))
        await self._send(writer, CFCheckpt(0, msg.stop_hash, headers))

    async def _send_cfilters(self, writer: asyncio.StreamWriter, msg: GetCFilters) -> None:
        stop = self.height_of.get(msg.stop_hash)
        first = msg.start_height
        if stop is None or first > stop or stop - first >= 1000 or first < self.base:
            return
        self.cfilter_starts.append(first)
        for h in range(first, stop + 1):
            i = h - self.base
            await self._send(writer, CFilter(0, self.hashes[i], self.filters[i]))

    async def _send_data(self, writer: asyncio.StreamWriter, items: Iterable[InvVector]) -> None:
        missing = []
        for item in items:
            if item.inv_type in (MSG_BLOCK, MSG_WITNESS_BLOCK) and item.hash in self.blocks:
                await self._send(
                    writer, RawMessage(command="block", payload=self.blocks[item.hash])
                )
            elif item.inv_type in (MSG_TX, MSG_WITNESS_TX) and item.hash in self.mempool:
                await self._send(writer, RawMessage(command="tx", payload=self.mempool[item.hash]))
            else:
                missing.append(item)
        if missing:
            await self._send(writer, NotFound(tuple(missing)))

    async def _accept_tx(self, writer: asyncio.StreamWriter, raw: bytes) -> None:
        try:
            tx = Transaction.parse(raw)
        except ParseError as exc:
            await self._send(writer, Reject("tx", 0x01, f"malformed: {exc}", None))
            return
        unknown = [i for i in tx.inputs if i.prevout not in self.chain.utxo_scripts]
        if unknown:
            await self._send(writer, Reject("tx", 0x10, "missing inputs", tx.txid))
            return
        # --- script verification (tests/support/script_verify.py) ---
        try:
            verify_transaction(tx, lambda p: (self.chain.utxo_scripts[p], self.chain.value_of(p)))
        except VerifyError as exc:
            self.rejected_txs.append((tx, str(exc)))
            await self._send(writer, Reject("tx", 0x10, exc.reason, tx.txid))
            return
        # --- end of script verification ---
        self.received_txs.append(tx)
        self.mempool[tx.txid] = raw
        for w in list(self._writers):
            if w is not writer:
                await self._send(w, Inv((InvVector(MSG_TX, tx.txid),)))

    async def _announce_tip(self) -> None:
        tip = self.hashes[-1]
        for w in list(self._writers):
            try:
                if self._sendheaders.get(w):
                    await self._send_raw_headers(w, [self.headers[-1]])
                else:
                    await self._send(w, Inv((InvVector(MSG_BLOCK, tip),)))
            except (ConnectionError, OSError):
                pass

    # --- hostile answers (Misbehaviour.faults) ---

    async def _answer_badly(
        self, writer: asyncio.StreamWriter, fault: Fault, command: str, payload: bytes
    ) -> bool:
        """Answer `command` the way `fault` says; False when the connection must end."""
        magic = self.params.magic
        if fault is Fault.DISCONNECT:
            return False
        if fault is Fault.GARBAGE:
            writer.write(b"\x00garbage" + os.urandom(300))
        elif fault is Fault.OVERSIZE_COUNT:
            writer.write(self._oversize_answer(command, payload))
        elif fault is Fault.WRONG_BLOCK:
            msg = parse_payload(command, payload)
            assert isinstance(msg, GetData)
            for item in msg.items:
                height = self.height_of.get(item.hash, 0)
                other = self.hashes[(height - self.base + 1) % len(self.hashes)]
                await self._send(writer, RawMessage(command="block", payload=self.blocks[other]))
        elif fault is Fault.UNCONNECTED_HEADERS:
            task = asyncio.ensure_future(self._send_unconnected_headers(writer))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            capture = _Capture()
            await self._on_message(capture, command, payload)  # type: ignore[arg-type]
            answer = bytearray(capture.data)
            if not answer:
                return True
            if fault is Fault.BAD_CHECKSUM:
                answer[20] ^= 0xFF
            elif fault is Fault.WRONG_MAGIC:
                answer[:4] = OTHER_MAGIC if magic != OTHER_MAGIC else b"\x0b\x11\x09\x07"
            elif fault is Fault.DRIP:
                for byte in answer:
                    if writer.is_closing():
                        return False
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(self.misbehaviour.drip_interval)
                return True
            writer.write(bytes(answer))
        await writer.drain()
        return True

    def _oversize_answer(self, command: str, payload: bytes) -> bytes:
        """A well-framed answer to `command` whose count field is over the protocol's limit."""
        too_many = ByteWriter().compact_size(1_000_000).getvalue()
        if command == "getheaders":
            return encode_frame(self.params.magic, "headers", too_many)
        if command == "getcfheaders":
            msg = parse_payload(command, payload)
            assert isinstance(msg, GetCFHeaders)
            body = b"\x00" + msg.stop_hash + bytes(32) + too_many
            return encode_frame(self.params.magic, "cfheaders", body)
        if command == "getcfilters":
            msg = parse_payload(command, payload)
            assert isinstance(msg, GetCFilters)
            body = b"\x00" + msg.stop_hash + too_many
            return encode_frame(self.params.magic, "cfilter", body)
        if command == "getdata":
            msg = parse_payload(command, payload)
            assert isinstance(msg, GetData)
            header = (
                self.blocks[msg.items[0].hash][:80] if msg.items[0].hash in self.blocks else b""
            )
            return encode_frame(self.params.magic, "block", header.ljust(80, b"\x00") + too_many)
        return encode_frame(self.params.magic, "inv", too_many)

    async def _send_unconnected_headers(self, writer: asyncio.StreamWriter) -> None:
        """Headers whose first parent is unknown: first as the answer, then unasked, again and
        again (every 20 ms) until the connection ends."""
        while not writer.is_closing():
            headers = [bytearray(h) for h in self.headers[1 : 1 + 200]]
            headers[0][4:36] = os.urandom(32)
            try:
                await self._send_raw_headers(writer, [bytes(h) for h in headers])
            except (ConnectionError, OSError):
                return
            await asyncio.sleep(0.02)


class _Capture:
    """Stands in for a stream writer to catch the bytes of an answer."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None
