"""P2P wire messages as pktd speaks them: frames and typed payloads (bytes <-> messages).

This module does no I/O. The peer layer feeds received bytes to a :class:`FrameDecoder`,
turns each ``(command, payload)`` into a message with :func:`parse_payload`, and sends
messages built with :func:`encode_message`.

Frame layout (spec section 3.1)::

    magic(4) | command(12, ASCII, NUL-padded) | payload length u32 LE
             | checksum = sha256d(payload)[:4] | payload

Rules enforced here:

* Received bytes: every parser raises only :class:`~spv.errors.ParseError` subclasses, and a
  payload parser requires the whole payload to be consumed (:class:`TrailingDataError`).
* Sent bytes: only the commands in :data:`KNOWN_COMMANDS` (exactly what pktd knows, spec
  section 3.2) can be encoded; anything else raises :class:`UnsupportedCommandError`, because
  pktd answers an unknown command with ``reject`` and a disconnect.
* Count and size limits are pktd's (btcd's) wire limits, listed below as ``MAX_*``.
* ``tx``, ``block`` and the BIP37 commands are carried as :class:`RawMessage` (payload bytes
  untouched); the transaction and block layers parse them. PKT blocks carry a PacketCrypt proof
  between the header and the transactions (spec section 3.5), so a Bitcoin block parser would
  misread them anyway.

Constructors of the payload classes validate their fields: out-of-range integers or hashes
that are not 32 bytes raise ``ValueError``; counts and lengths over a wire limit raise
:class:`OversizeError` (also a ``ValueError``). Parsing never produces such values.

Strings (user agent, reject message and reason) that are not valid UTF-8 are decoded with every
invalid sequence replaced by ``"?"``; such a message does not re-serialize byte-exactly, and its
encoded length never grows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Self

from .bytes_io import ByteReader, ByteWriter
from .errors import ChainError, OversizeError, ParseError, TrailingDataError, TruncatedError
from .hashes import sha256d
from .header import BlockHeader

__all__ = [
    "BIP0037_VERSION",
    "COMMAND_SIZE",
    "FILTER_TYPE_BASIC",
    "FRAME_HEADER_SIZE",
    "KNOWN_COMMANDS",
    "MAX_ADDR_PER_MSG",
    "MAX_BLOCK_LOCATORS_PER_MSG",
    "MAX_CFCHECKPT_HEADERS",
    "MAX_CFHEADERS_PER_MSG",
    "MAX_CFILTER_DATA_SIZE",
    "MAX_HEADERS_PER_MSG",
    "MAX_INV_PER_MSG",
    "MAX_MESSAGE_PAYLOAD",
    "MAX_USER_AGENT_LEN",
    "MSG_BLOCK",
    "MSG_FILTERED_BLOCK",
    "MSG_FILTERED_WITNESS_BLOCK",
    "MSG_TX",
    "MSG_WITNESS_BLOCK",
    "MSG_WITNESS_FLAG",
    "MSG_WITNESS_TX",
    "NODE_BLOOM",
    "NODE_COMPACT_FILTERS",
    "NODE_GETUTXO",
    "NODE_NETWORK",
    "NODE_WITNESS",
    "PROTOCOL_VERSION",
    "RAW_PAYLOAD_COMMANDS",
    "REJECT_CHECKPOINT",
    "REJECT_DUPLICATE",
    "REJECT_DUST",
    "REJECT_INSUFFICIENT_FEE",
    "REJECT_INVALID",
    "REJECT_MALFORMED",
    "REJECT_NONSTANDARD",
    "REJECT_OBSOLETE",
    "ZERO_HASH",
    "Addr",
    "BadChecksumError",
    "BadCommandError",
    "BadMagicError",
    "CFCheckpt",
    "CFHeaders",
    "CFilter",
    "FeeFilter",
    "FrameDecoder",
    "GetAddr",
    "GetBlocks",
    "GetCFCheckpt",
    "GetCFHeaders",
    "GetCFilters",
    "GetData",
    "GetHeaders",
    "Headers",
    "Inv",
    "InvVector",
    "MalformedMessageError",
    "MemPool",
    "Message",
    "NetAddress",
    "NotFound",
    "PayloadMessage",
    "Ping",
    "Pong",
    "RawMessage",
    "Reject",
    "SendHeaders",
    "TimedNetAddress",
    "UnknownMessage",
    "UnsupportedCommandError",
    "Verack",
    "Version",
    "encode_frame",
    "encode_message",
    "parse_frame",
    "parse_payload",
]

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

FRAME_HEADER_SIZE = 24
COMMAND_SIZE = 12
MAX_MESSAGE_PAYLOAD = 32 * 1024 * 1024  # 33554432, btcd MaxMessagePayload

PROTOCOL_VERSION = 70013  # pktd's protocol.ProtocolVersion (= FeeFilterVersion)
BIP0037_VERSION = 70001  # first version whose `version` message carries the relay flag

# Wire limits (btcd/pktd `wire` package).
MAX_USER_AGENT_LEN = 256  # MaxUserAgentLen, in bytes
MAX_BLOCK_LOCATORS_PER_MSG = 500  # MaxBlockLocatorsPerMsg (getheaders / getblocks)
MAX_HEADERS_PER_MSG = 2000  # MaxBlockHeadersPerMsg
MAX_INV_PER_MSG = 50000  # MaxInvPerMsg (inv / getdata / notfound)
MAX_ADDR_PER_MSG = 1000  # MaxAddrPerMsg
MAX_CFILTER_DATA_SIZE = 256 * 1024  # MaxCFilterDataSize = 262144 bytes
MAX_CFHEADERS_PER_MSG = 2000  # MaxCFHeadersPerMsg
# cfcheckpt has no protocol-level cap; pktd's wire/msgcfcheckpt.go refuses to decode more than
# maxCFHeadersLen = 100000 entries ("unreasonable number of filter headers"). At one checkpoint
# per 1000 blocks that covers 10^8 blocks, far beyond any real chain, and bounds the message at
# about 3.2 MB. We apply the same cap in both directions.
MAX_CFCHECKPT_HEADERS = 100000

ZERO_HASH = bytes(32)

# Service bits (spec section 3.3).
NODE_NETWORK = 1
NODE_GETUTXO = 2
NODE_BLOOM = 4
NODE_WITNESS = 8
NODE_COMPACT_FILTERS = 64

# Inventory vector types.
MSG_TX = 1
MSG_BLOCK = 2
MSG_FILTERED_BLOCK = 3
MSG_WITNESS_FLAG = 1 << 30
MSG_WITNESS_TX = MSG_TX | MSG_WITNESS_FLAG
MSG_WITNESS_BLOCK = MSG_BLOCK | MSG_WITNESS_FLAG
MSG_FILTERED_WITNESS_BLOCK = MSG_FILTERED_BLOCK | MSG_WITNESS_FLAG

# BIP61 reject codes.
REJECT_MALFORMED = 0x01
REJECT_INVALID = 0x10
REJECT_OBSOLETE = 0x11
REJECT_DUPLICATE = 0x12
REJECT_NONSTANDARD = 0x40
REJECT_DUST = 0x41
REJECT_INSUFFICIENT_FEE = 0x42
REJECT_CHECKPOINT = 0x43

# BIP158 filter types.
FILTER_TYPE_BASIC = 0

# Exactly the commands pktd knows (spec section 3.2). Nothing else may ever be sent.
KNOWN_COMMANDS: frozenset[str] = frozenset(
    {
        "version",
        "verack",
        "getaddr",
        "addr",
        "getblocks",
        "inv",
        "getdata",
        "notfound",
        "block",
        "tx",
        "getheaders",
        "headers",
        "ping",
        "pong",
        "mempool",
        "filteradd",
        "filterclear",
        "filterload",
        "merkleblock",
        "reject",
        "sendheaders",
        "feefilter",
        "getcfilters",
        "getcfheaders",
        "getcfcheckpt",
        "cfilter",
        "cfheaders",
        "cfcheckpt",
    }
)

# Known commands whose payload this module passes through untouched as a RawMessage.
RAW_PAYLOAD_COMMANDS: frozenset[str] = frozenset(
    {"tx", "block", "filterload", "filteradd", "filterclear", "merkleblock"}
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class BadMagicError(ParseError):
    """A frame does not start with this network's magic bytes."""


class BadChecksumError(ParseError):
    """A frame's checksum does not match sha256d(payload)[:4]."""


class BadCommandError(ParseError):
    """A frame's command field is empty, not NUL-padded, or not printable ASCII."""


class MalformedMessageError(ParseError):
    """A payload is well-framed but breaks a rule of its message (e.g. a headers tx count)."""


class UnsupportedCommandError(ChainError, ValueError):
    """Refusal to encode a command that pktd does not know (it would disconnect us)."""


# --------------------------------------------------------------------------------------------
# Field validation and text helpers
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value: int, bits: int, *, signed: bool = False) -> None:
    if signed:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        low, high = 0, (1 << bits) - 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ValueError(f"{name} must be 32 bytes")


def _check_count(name: str, count: int, limit: int) -> None:
    if count > limit:
        raise OversizeError(f"{count} {name} exceed the limit of {limit}")


def _check_hashes(name: str, values: tuple[bytes, ...], limit: int) -> None:
    _check_count(name, len(values), limit)
    for value in values:
        _check_hash(name, value)


def _decode_text(raw: bytes) -> str:
    """UTF-8 text; each invalid sequence becomes "?" so the encoded length never grows."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").replace("\ufffd", "?")


def _encode_text(name: str, text: str, limit: int) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > limit:
        raise OversizeError(f"{name} is {len(raw)} bytes, the limit is {limit}")
    return raw


def _read_text(reader: ByteReader, limit: int) -> str:
    return _decode_text(reader.var_bytes(limit))


def _read_hashes(reader: ByteReader, limit: int) -> tuple[bytes, ...]:
    count = reader.compact_size(limit)
    return tuple(reader.hash32() for _ in range(count))


def _write_hashes(writer: ByteWriter, hashes: tuple[bytes, ...]) -> None:
    writer.compact_size(len(hashes))
    for value in hashes:
        writer.write(value)


def _check_empty(payload: bytes, command: str) -> None:
    if payload:
        raise TrailingDataError(f"{command} has an empty payload, got {len(payload)} bytes")


# --------------------------------------------------------------------------------------------
# Network addresses
# --------------------------------------------------------------------------------------------

_IPV4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"


@dataclass(frozen=True, slots=True)
class NetAddress:
    """A network address as in `version` and `addr`: services, 16-byte IP, big-endian port."""

    services: int  # u64 service bits
    ip: bytes  # 16 bytes; IPv4 is IPv4-mapped IPv6 (::ffff:a.b.c.d)
    port: int  # u16, big-endian on the wire

    SIZE: ClassVar[int] = 26

    def __post_init__(self) -> None:
        _check_int("services", self.services, 64)
        if not isinstance(self.ip, bytes) or len(self.ip) != 16:
            raise ValueError("a network address IP is 16 bytes")
        _check_int("port", self.port, 16)

    @classmethod
    def from_ip(
        cls,
        ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address,
        port: int,
        services: int = 0,
    ) -> NetAddress:
        """Build from an IPv4 or IPv6 address; IPv4 is stored IPv4-mapped."""
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if isinstance(address, ipaddress.IPv4Address):
            raw = _IPV4_MAPPED_PREFIX + address.packed
        else:
            raw = address.packed
        return cls(services=services, ip=raw, port=port)

    @property
    def is_ipv4(self) -> bool:
        """True when the IP is IPv4-mapped."""
        return self.ip.startswith(_IPV4_MAPPED_PREFIX)

    @property
    def ip_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The IP as an `ipaddress` object; IPv4-mapped addresses come back as IPv4."""
        if self.is_ipv4:
            return ipaddress.IPv4Address(self.ip[12:])
        return ipaddress.IPv6Address(self.ip)

    @property
    def host(self) -> str:
        return str(self.ip_address)

    @classmethod
    def read(cls, reader: ByteReader) -> NetAddress:
        return cls(services=reader.u64(), ip=reader.read(16), port=reader.u16be())

    def write(self, writer: ByteWriter) -> None:
        writer.u64(self.services).write(self.ip).u16be(self.port)


@dataclass(frozen=True, slots=True)
class TimedNetAddress:
    """An `addr` entry: last-seen time (u32 seconds) followed by a network address."""

    timestamp: int
    address: NetAddress

    def __post_init__(self) -> None:
        _check_int("timestamp", self.timestamp, 32)

    @classmethod
    def read(cls, reader: ByteReader) -> TimedNetAddress:
        return cls(timestamp=reader.u32(), address=NetAddress.read(reader))

    def write(self, writer: ByteWriter) -> None:
        writer.u32(self.timestamp)
        self.address.write(writer)


@dataclass(frozen=True, slots=True)
class InvVector:
    """An inventory item: u32 type (MSG_*) and a 32-byte hash in internal order."""

    inv_type: int
    hash: bytes

    SIZE: ClassVar[int] = 36

    def __post_init__(self) -> None:
        _check_int("inventory type", self.inv_type, 32)
        _check_hash("inventory hash", self.hash)

    @classmethod
    def read(cls, reader: ByteReader) -> InvVector:
        return cls(inv_type=reader.u32(), hash=reader.hash32())

    def write(self, writer: ByteWriter) -> None:
        writer.u32(self.inv_type).write(self.hash)


# --------------------------------------------------------------------------------------------
# Payload messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """`version`: the first message each side sends.

    All fields up to `start_height` are required (pktd refuses peers below version 209, and
    every such peer sends them). `relay` is the BIP37 flag: it is read whenever a byte follows
    `start_height` (as btcd does, whatever the version; any non-zero byte means true) and is
    ``None`` when absent; it is written whenever it is not ``None``, so set it for version
    >= 70001 and leave it ``None`` below.
    """

    COMMAND: ClassVar[str] = "version"

    version: int  # int32
    services: int  # u64
    timestamp: int  # int64 Unix seconds
    addr_recv: NetAddress
    addr_from: NetAddress
    nonce: int  # u64, detects connections to self
    user_agent: str  # at most 256 bytes as UTF-8
    start_height: int  # int32
    relay: bool | None = True

    def __post_init__(self) -> None:
        _check_int("version", self.version, 32, signed=True)
        _check_int("services", self.services, 64)
        _check_int("timestamp", self.timestamp, 64, signed=True)
        _check_int("nonce", self.nonce, 64)
        _encode_text("user agent", self.user_agent, MAX_USER_AGENT_LEN)
        _check_int("start height", self.start_height, 32, signed=True)
        if self.relay is not None and not isinstance(self.relay, bool):
            raise ValueError("relay must be a bool or None")

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter()
        writer.i32(self.version).u64(self.services).i64(self.timestamp)
        self.addr_recv.write(writer)
        self.addr_from.write(writer)
        writer.u64(self.nonce)
        writer.var_bytes(_encode_text("user agent", self.user_agent, MAX_USER_AGENT_LEN))
        writer.i32(self.start_height)
        if self.relay is not None:
            writer.u8(1 if self.relay else 0)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        version = reader.i32()
        services = reader.u64()
        timestamp = reader.i64()
        addr_recv = NetAddress.read(reader)
        addr_from = NetAddress.read(reader)
        nonce = reader.u64()
        user_agent = _read_text(reader, MAX_USER_AGENT_LEN)
        start_height = reader.i32()
        relay = reader.u8() != 0 if not reader.at_end() else None
        reader.expect_end("version")
        return cls(
            version=version,
            services=services,
            timestamp=timestamp,
            addr_recv=addr_recv,
            addr_from=addr_from,
            nonce=nonce,
            user_agent=user_agent,
            start_height=start_height,
            relay=relay,
        )


@dataclass(frozen=True, slots=True)
class _EmptyMessage:
    """A message whose payload is empty."""

    COMMAND: ClassVar[str] = ""

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        return b""

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        _check_empty(payload, cls.COMMAND)
        return cls()


@dataclass(frozen=True, slots=True)
class Verack(_EmptyMessage):
    """`verack`: acknowledges the peer's `version`."""

    COMMAND: ClassVar[str] = "verack"


@dataclass(frozen=True, slots=True)
class GetAddr(_EmptyMessage):
    """`getaddr`: asks for known peer addresses (answered with v1 `addr`)."""

    COMMAND: ClassVar[str] = "getaddr"


@dataclass(frozen=True, slots=True)
class SendHeaders(_EmptyMessage):
    """`sendheaders` (BIP130): announce new blocks with `headers` instead of `inv`."""

    COMMAND: ClassVar[str] = "sendheaders"


@dataclass(frozen=True, slots=True)
class MemPool(_EmptyMessage):
    """`mempool`: asks for the peer's mempool txids (pktd: only with NODE_BLOOM)."""

    COMMAND: ClassVar[str] = "mempool"


@dataclass(frozen=True, slots=True)
class _NonceMessage:
    COMMAND: ClassVar[str] = ""

    nonce: int  # u64

    def __post_init__(self) -> None:
        _check_int("nonce", self.nonce, 64)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        return ByteWriter().u64(self.nonce).getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        nonce = reader.u64()
        reader.expect_end(cls.COMMAND)
        return cls(nonce=nonce)


@dataclass(frozen=True, slots=True)
class Ping(_NonceMessage):
    """`ping` (BIP31): the peer answers `pong` with the same nonce."""

    COMMAND: ClassVar[str] = "ping"


@dataclass(frozen=True, slots=True)
class Pong(_NonceMessage):
    """`pong`: echoes a `ping` nonce."""

    COMMAND: ClassVar[str] = "pong"


@dataclass(frozen=True, slots=True)
class _LocatorMessage:
    COMMAND: ClassVar[str] = ""

    version: int  # u32 protocol version
    locator: tuple[bytes, ...]  # block hashes, internal order, newest first
    stop_hash: bytes = ZERO_HASH  # all zero: as many as the peer will send

    def __post_init__(self) -> None:
        _check_int("version", self.version, 32)
        _check_hashes("locator hashes", self.locator, MAX_BLOCK_LOCATORS_PER_MSG)
        _check_hash("stop hash", self.stop_hash)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().u32(self.version)
        _write_hashes(writer, self.locator)
        writer.write(self.stop_hash)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        version = reader.u32()
        locator = _read_hashes(reader, MAX_BLOCK_LOCATORS_PER_MSG)
        stop_hash = reader.hash32()
        reader.expect_end(cls.COMMAND)
        return cls(version=version, locator=locator, stop_hash=stop_hash)


@dataclass(frozen=True, slots=True)
class GetHeaders(_LocatorMessage):
    """`getheaders`: up to 2000 headers after the first locator hash the peer knows."""

    COMMAND: ClassVar[str] = "getheaders"


@dataclass(frozen=True, slots=True)
class GetBlocks(_LocatorMessage):
    """`getblocks`: an `inv` of up to 500 blocks after the first locator hash the peer knows."""

    COMMAND: ClassVar[str] = "getblocks"


@dataclass(frozen=True, slots=True)
class Headers:
    """`headers`: block headers, each followed on the wire by a tx count that must be 0.

    PKT headers messages carry no PacketCrypt proof (spec section 3.4).
    """

    COMMAND: ClassVar[str] = "headers"

    headers: tuple[BlockHeader, ...]

    def __post_init__(self) -> None:
        _check_count("headers", len(self.headers), MAX_HEADERS_PER_MSG)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().compact_size(len(self.headers))
        for header in self.headers:
            header.write(writer)
            writer.compact_size(0)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        count = reader.compact_size(MAX_HEADERS_PER_MSG)
        headers = []
        for index in range(count):
            headers.append(BlockHeader.read(reader))
            tx_count = reader.compact_size()
            if tx_count != 0:
                raise MalformedMessageError(
                    f"headers entry {index} has tx count {tx_count}, must be 0"
                )
        reader.expect_end(cls.COMMAND)
        return cls(headers=tuple(headers))


@dataclass(frozen=True, slots=True)
class _InvListMessage:
    COMMAND: ClassVar[str] = ""

    items: tuple[InvVector, ...]

    def __post_init__(self) -> None:
        _check_count("inventory items", len(self.items), MAX_INV_PER_MSG)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().compact_size(len(self.items))
        for item in self.items:
            item.write(writer)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        count = reader.compact_size(MAX_INV_PER_MSG)
        items = tuple(InvVector.read(reader) for _ in range(count))
        reader.expect_end(cls.COMMAND)
        return cls(items=items)


@dataclass(frozen=True, slots=True)
class Inv(_InvListMessage):
    """`inv`: announces transactions or blocks."""

    COMMAND: ClassVar[str] = "inv"


@dataclass(frozen=True, slots=True)
class GetData(_InvListMessage):
    """`getdata`: requests transactions or blocks (unknown items come back in `notfound`)."""

    COMMAND: ClassVar[str] = "getdata"


@dataclass(frozen=True, slots=True)
class NotFound(_InvListMessage):
    """`notfound`: the `getdata` items the peer does not have."""

    COMMAND: ClassVar[str] = "notfound"


@dataclass(frozen=True, slots=True)
class Addr:
    """`addr` (v1, BIP155 addrv2 is not supported by pktd): timestamped peer addresses."""

    COMMAND: ClassVar[str] = "addr"

    addresses: tuple[TimedNetAddress, ...]

    def __post_init__(self) -> None:
        _check_count("addresses", len(self.addresses), MAX_ADDR_PER_MSG)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().compact_size(len(self.addresses))
        for entry in self.addresses:
            entry.write(writer)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        count = reader.compact_size(MAX_ADDR_PER_MSG)
        addresses = tuple(TimedNetAddress.read(reader) for _ in range(count))
        reader.expect_end(cls.COMMAND)
        return cls(addresses=addresses)


@dataclass(frozen=True, slots=True)
class Reject:
    """`reject` (BIP61): why the peer refused one of our messages.

    `message` is the rejected command; `hash` identifies the rejected tx or block. pktd writes
    the hash only when `message` is "tx" or "block"; here it is read whenever bytes remain after
    `reason` and written whenever it is not ``None``. Neither string has a protocol limit beyond
    the frame size.
    """

    COMMAND: ClassVar[str] = "reject"

    message: str
    code: int  # u8, REJECT_*
    reason: str
    hash: bytes | None = None

    def __post_init__(self) -> None:
        _check_int("reject code", self.code, 8)
        if self.hash is not None:
            _check_hash("rejected hash", self.hash)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter()
        writer.var_bytes(_encode_text("reject message", self.message, MAX_MESSAGE_PAYLOAD))
        writer.u8(self.code)
        writer.var_bytes(_encode_text("reject reason", self.reason, MAX_MESSAGE_PAYLOAD))
        if self.hash is not None:
            writer.write(self.hash)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        message = _read_text(reader, MAX_MESSAGE_PAYLOAD)
        code = reader.u8()
        reason = _read_text(reader, MAX_MESSAGE_PAYLOAD)
        rejected_hash = reader.hash32() if not reader.at_end() else None
        reader.expect_end(cls.COMMAND)
        return cls(message=message, code=code, reason=reason, hash=rejected_hash)


@dataclass(frozen=True, slots=True)
class FeeFilter:
    """`feefilter` (BIP133): do not announce transactions below this fee rate (units per kB)."""

    COMMAND: ClassVar[str] = "feefilter"

    fee_rate: int  # int64

    def __post_init__(self) -> None:
        _check_int("fee rate", self.fee_rate, 64, signed=True)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        return ByteWriter().i64(self.fee_rate).getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        fee_rate = reader.i64()
        reader.expect_end(cls.COMMAND)
        return cls(fee_rate=fee_rate)


@dataclass(frozen=True, slots=True)
class _FilterRangeRequest:
    COMMAND: ClassVar[str] = ""

    filter_type: int  # u8
    start_height: int  # u32
    stop_hash: bytes

    def __post_init__(self) -> None:
        _check_int("filter type", self.filter_type, 8)
        _check_int("start height", self.start_height, 32)
        _check_hash("stop hash", self.stop_hash)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().u8(self.filter_type).u32(self.start_height)
        return writer.write(self.stop_hash).getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        filter_type = reader.u8()
        start_height = reader.u32()
        stop_hash = reader.hash32()
        reader.expect_end(cls.COMMAND)
        return cls(filter_type=filter_type, start_height=start_height, stop_hash=stop_hash)


@dataclass(frozen=True, slots=True)
class GetCFilters(_FilterRangeRequest):
    """`getcfilters` (BIP157): filters for start_height..stop_hash (pktd serves <= 1000)."""

    COMMAND: ClassVar[str] = "getcfilters"


@dataclass(frozen=True, slots=True)
class GetCFHeaders(_FilterRangeRequest):
    """`getcfheaders` (BIP157): filter hashes for start_height..stop_hash (<= 2000)."""

    COMMAND: ClassVar[str] = "getcfheaders"


@dataclass(frozen=True, slots=True)
class CFilter:
    """`cfilter` (BIP157): one block's compact filter (at most 262144 bytes)."""

    COMMAND: ClassVar[str] = "cfilter"

    filter_type: int  # u8
    block_hash: bytes  # internal order
    filter_data: bytes

    def __post_init__(self) -> None:
        _check_int("filter type", self.filter_type, 8)
        _check_hash("block hash", self.block_hash)
        _check_count("filter bytes", len(self.filter_data), MAX_CFILTER_DATA_SIZE)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().u8(self.filter_type).write(self.block_hash)
        return writer.var_bytes(self.filter_data).getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        filter_type = reader.u8()
        block_hash = reader.hash32()
        filter_data = reader.var_bytes(MAX_CFILTER_DATA_SIZE)
        reader.expect_end(cls.COMMAND)
        return cls(filter_type=filter_type, block_hash=block_hash, filter_data=filter_data)


@dataclass(frozen=True, slots=True)
class CFHeaders:
    """`cfheaders` (BIP157): the filter header before the range, then each filter's hash."""

    COMMAND: ClassVar[str] = "cfheaders"

    filter_type: int  # u8
    stop_hash: bytes
    prev_filter_header: bytes
    filter_hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_int("filter type", self.filter_type, 8)
        _check_hash("stop hash", self.stop_hash)
        _check_hash("previous filter header", self.prev_filter_header)
        _check_hashes("filter hashes", self.filter_hashes, MAX_CFHEADERS_PER_MSG)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().u8(self.filter_type).write(self.stop_hash)
        writer.write(self.prev_filter_header)
        _write_hashes(writer, self.filter_hashes)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        filter_type = reader.u8()
        stop_hash = reader.hash32()
        prev_filter_header = reader.hash32()
        filter_hashes = _read_hashes(reader, MAX_CFHEADERS_PER_MSG)
        reader.expect_end(cls.COMMAND)
        return cls(
            filter_type=filter_type,
            stop_hash=stop_hash,
            prev_filter_header=prev_filter_header,
            filter_hashes=filter_hashes,
        )


@dataclass(frozen=True, slots=True)
class GetCFCheckpt:
    """`getcfcheckpt` (BIP157): filter headers at every 1000th block up to stop_hash."""

    COMMAND: ClassVar[str] = "getcfcheckpt"

    filter_type: int  # u8
    stop_hash: bytes

    def __post_init__(self) -> None:
        _check_int("filter type", self.filter_type, 8)
        _check_hash("stop hash", self.stop_hash)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        return ByteWriter().u8(self.filter_type).write(self.stop_hash).getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        filter_type = reader.u8()
        stop_hash = reader.hash32()
        reader.expect_end(cls.COMMAND)
        return cls(filter_type=filter_type, stop_hash=stop_hash)


@dataclass(frozen=True, slots=True)
class CFCheckpt:
    """`cfcheckpt` (BIP157): filter headers at heights 1000, 2000, ... (see MAX_CFCHECKPT_HEADERS)."""

    COMMAND: ClassVar[str] = "cfcheckpt"

    filter_type: int  # u8
    stop_hash: bytes
    filter_headers: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_int("filter type", self.filter_type, 8)
        _check_hash("stop hash", self.stop_hash)
        _check_hashes("filter headers", self.filter_headers, MAX_CFCHECKPT_HEADERS)

    @property
    def command(self) -> str:
        return self.COMMAND

    def serialize(self) -> bytes:
        writer = ByteWriter().u8(self.filter_type).write(self.stop_hash)
        _write_hashes(writer, self.filter_headers)
        return writer.getvalue()

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        reader = ByteReader(payload)
        filter_type = reader.u8()
        stop_hash = reader.hash32()
        filter_headers = _read_hashes(reader, MAX_CFCHECKPT_HEADERS)
        reader.expect_end(cls.COMMAND)
        return cls(filter_type=filter_type, stop_hash=stop_hash, filter_headers=filter_headers)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A known command whose payload is passed through untouched (see RAW_PAYLOAD_COMMANDS)."""

    command: str
    payload: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.command not in RAW_PAYLOAD_COMMANDS:
            raise UnsupportedCommandError(
                f"{self.command!r} is not a raw-payload command; use its message class"
            )
        _check_count("payload bytes", len(self.payload), MAX_MESSAGE_PAYLOAD)

    def serialize(self) -> bytes:
        return self.payload


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A received command pktd does not know. It can be inspected, never encoded."""

    command: str
    payload: bytes = field(repr=False)

    def serialize(self) -> bytes:
        raise UnsupportedCommandError(f"refusing to serialize unknown command {self.command!r}")


PayloadMessage = (
    Version
    | Verack
    | Ping
    | Pong
    | GetHeaders
    | GetBlocks
    | Headers
    | Inv
    | GetData
    | NotFound
    | Addr
    | GetAddr
    | Reject
    | FeeFilter
    | SendHeaders
    | MemPool
    | GetCFilters
    | CFilter
    | GetCFHeaders
    | CFHeaders
    | GetCFCheckpt
    | CFCheckpt
)
"""Every message with a typed payload."""

Message = PayloadMessage | RawMessage | UnknownMessage
"""Anything :func:`parse_payload` returns."""

_PAYLOAD_CLASSES: tuple[type[PayloadMessage], ...] = (
    Version,
    Verack,
    Ping,
    Pong,
    GetHeaders,
    GetBlocks,
    Headers,
    Inv,
    GetData,
    NotFound,
    Addr,
    GetAddr,
    Reject,
    FeeFilter,
    SendHeaders,
    MemPool,
    GetCFilters,
    CFilter,
    GetCFHeaders,
    CFHeaders,
    GetCFCheckpt,
    CFCheckpt,
)

_PARSERS: dict[str, Callable[[bytes], PayloadMessage]] = {
    cls.COMMAND: cls.parse for cls in _PAYLOAD_CLASSES
}

if set(_PARSERS) | RAW_PAYLOAD_COMMANDS != KNOWN_COMMANDS or set(_PARSERS) & RAW_PAYLOAD_COMMANDS:
    raise RuntimeError("message registry does not match KNOWN_COMMANDS")  # pragma: no cover


def parse_payload(command: str, payload: bytes) -> Message:
    """The message for a received (command, payload).

    Typed commands are fully parsed (raising ParseError subclasses on bad payloads); the
    RAW_PAYLOAD_COMMANDS come back as RawMessage; any other command comes back as
    UnknownMessage without raising, so the peer layer can decide what to do.
    """
    parser = _PARSERS.get(command)
    if parser is not None:
        return parser(payload)
    if command in RAW_PAYLOAD_COMMANDS:
        return RawMessage(command=command, payload=payload)
    return UnknownMessage(command=command, payload=payload)


def encode_message(magic: bytes, message: Message) -> bytes:
    """The complete frame for a message; refuses commands pktd does not know."""
    if isinstance(message, UnknownMessage) or message.command not in KNOWN_COMMANDS:
        raise UnsupportedCommandError(f"pktd does not know {message.command!r}; not sending it")
    return encode_frame(magic, message.command, message.serialize())


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _checksum(payload: bytes | bytearray | memoryview) -> bytes:
    return sha256d(bytes(payload))[:4]


def _check_magic_arg(magic: bytes) -> None:
    if not isinstance(magic, bytes) or len(magic) != 4:
        raise ValueError("network magic is 4 bytes")


def encode_frame(magic: bytes, command: str, payload: bytes) -> bytes:
    """magic | NUL-padded command | length | checksum | payload, for a command pktd knows."""
    _check_magic_arg(magic)
    if command not in KNOWN_COMMANDS:
        raise UnsupportedCommandError(f"pktd does not know {command!r}; not sending it")
    if len(payload) > MAX_MESSAGE_PAYLOAD:
        raise OversizeError(f"payload of {len(payload)} bytes exceeds {MAX_MESSAGE_PAYLOAD}")
    writer = ByteWriter().write(magic)
    writer.write(command.encode("ascii").ljust(COMMAND_SIZE, b"\x00"))
    writer.u32(len(payload)).write(_checksum(payload)).write(payload)
    return writer.getvalue()


def _decode_command(field_bytes: bytes) -> str:
    """The command in a 12-byte field: printable ASCII, then only NULs."""
    name, _, padding = field_bytes.partition(b"\x00")
    if not name:
        raise BadCommandError("empty command")
    if padding.strip(b"\x00"):
        raise BadCommandError(f"command field is not NUL-padded: {field_bytes.hex()}")
    if any(not 0x20 <= byte <= 0x7E for byte in name):
        raise BadCommandError(f"command is not printable ASCII: {field_bytes.hex()}")
    return name.decode("ascii")


def _read_frame_header(
    magic: bytes, data: bytes | bytearray, max_payload: int, start: int = 0
) -> tuple[str, int, bytes] | None:
    """(command, payload length, checksum) of the frame at data[start:]; None if too short.

    Every field is checked as soon as enough bytes are present: a wrong magic fails on its
    first wrong byte, and an oversize length is refused before any payload is buffered.
    """
    available = len(data) - start
    received_magic = bytes(data[start : start + min(4, available)])
    if received_magic != magic[: len(received_magic)]:
        raise BadMagicError(f"wrong network magic {received_magic.hex()}, expected {magic.hex()}")
    if available < 4 + COMMAND_SIZE:
        return None
    command = _decode_command(bytes(data[start + 4 : start + 4 + COMMAND_SIZE]))
    if available < 4 + COMMAND_SIZE + 4:
        return None
    length = int.from_bytes(data[start + 16 : start + 20], "little")
    if length > max_payload:
        raise OversizeError(f"{command} frame announces {length} bytes, the limit is {max_payload}")
    if available < FRAME_HEADER_SIZE:
        return None
    return command, length, bytes(data[start + 20 : start + 24])


def _check_max_payload(max_payload: int) -> None:
    if not 0 <= max_payload <= MAX_MESSAGE_PAYLOAD:
        raise ValueError(f"max_payload must be between 0 and {MAX_MESSAGE_PAYLOAD}")


def parse_frame(
    magic: bytes, data: bytes, max_payload: int = MAX_MESSAGE_PAYLOAD
) -> tuple[str, bytes]:
    """(command, payload) of exactly one frame; the command may be one pktd does not know."""
    _check_magic_arg(magic)
    _check_max_payload(max_payload)
    header = _read_frame_header(magic, data, max_payload)
    if header is None:
        raise TruncatedError(f"a frame header is {FRAME_HEADER_SIZE} bytes, got {len(data)}")
    command, length, checksum = header
    end = FRAME_HEADER_SIZE + length
    if len(data) < end:
        raise TruncatedError(f"{command} frame needs {length} payload bytes")
    if len(data) > end:
        raise TrailingDataError(f"{len(data) - end} bytes after the {command} frame")
    payload = bytes(data[FRAME_HEADER_SIZE:end])
    if _checksum(payload) != checksum:
        raise BadChecksumError(f"{command} frame checksum mismatch")
    return command, payload


class FrameDecoder:
    """Splits a received byte stream into frames, across arbitrary chunk boundaries.

    `feed` returns the frames completed by the new bytes. Any error is final: the stream can
    no longer be trusted to be aligned, so the connection must be dropped; every later call to
    `feed` raises the same error again. Frames completed earlier in the failing call are
    discarded with it.
    """

    def __init__(self, magic: bytes, max_payload: int = MAX_MESSAGE_PAYLOAD) -> None:
        _check_magic_arg(magic)
        _check_max_payload(max_payload)
        self._magic = magic
        self._max_payload = max_payload
        self._buffer = bytearray()
        self._error: ParseError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[tuple[str, bytes]]:
        """Append received bytes; return the frames they complete, in order."""
        if self._error is not None:
            raise self._error
        self._buffer += data
        frames: list[tuple[str, bytes]] = []
        consumed = 0
        try:
            while (frame := self._frame_at(consumed)) is not None:
                frames.append(frame)
                consumed += FRAME_HEADER_SIZE + len(frame[1])
        except ParseError as error:
            self._error = error
            raise
        finally:
            del self._buffer[:consumed]  # once per call, so many small frames stay linear
        return frames

    def _frame_at(self, start: int) -> tuple[str, bytes] | None:
        header = _read_frame_header(self._magic, self._buffer, self._max_payload, start)
        if header is None:
            return None
        command, length, checksum = header
        payload_start = start + FRAME_HEADER_SIZE
        if len(self._buffer) < payload_start + length:
            return None
        payload = bytes(self._buffer[payload_start : payload_start + length])
        if _checksum(payload) != checksum:
            raise BadChecksumError(f"{command} frame checksum mismatch")
        return command, payload
