"""Tests for spv.messages: frames, typed payloads, limits, and real pktd traffic."""

import contextlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spv.bytes_io import encode_compact_size
from spv.errors import (
    NonCanonicalError,
    OversizeError,
    ParseError,
    TrailingDataError,
    TruncatedError,
)
from spv.hashes import hash_to_display, sha256d
from spv.header import BlockHeader
from spv.messages import (
    FRAME_HEADER_SIZE,
    KNOWN_COMMANDS,
    MAX_ADDR_PER_MSG,
    MAX_BLOCK_LOCATORS_PER_MSG,
    MAX_CFCHECKPT_HEADERS,
    MAX_CFHEADERS_PER_MSG,
    MAX_CFILTER_DATA_SIZE,
    MAX_HEADERS_PER_MSG,
    MAX_INV_PER_MSG,
    MAX_MESSAGE_PAYLOAD,
    MAX_USER_AGENT_LEN,
    MSG_BLOCK,
    MSG_FILTERED_BLOCK,
    MSG_FILTERED_WITNESS_BLOCK,
    MSG_TX,
    MSG_WITNESS_BLOCK,
    MSG_WITNESS_FLAG,
    MSG_WITNESS_TX,
    PROTOCOL_VERSION,
    RAW_PAYLOAD_COMMANDS,
    REJECT_INVALID,
    REJECT_MALFORMED,
    ZERO_HASH,
    Addr,
    BadChecksumError,
    BadCommandError,
    BadMagicError,
    CFCheckpt,
    CFHeaders,
    CFilter,
    FeeFilter,
    FrameDecoder,
    GetAddr,
    GetBlocks,
    GetCFCheckpt,
    GetCFHeaders,
    GetCFilters,
    GetData,
    GetHeaders,
    Headers,
    Inv,
    InvVector,
    MalformedMessageError,
    MemPool,
    Message,
    NetAddress,
    NotFound,
    PayloadMessage,
    Ping,
    Pong,
    RawMessage,
    Reject,
    SendHeaders,
    TimedNetAddress,
    UnknownMessage,
    UnsupportedCommandError,
    Verack,
    Version,
    encode_frame,
    encode_message,
    parse_frame,
    parse_payload,
)
from spv.params import MAINNET, TESTNET

DATA_DIR = Path(__file__).parent / "data" / "pkt"
MAGIC = MAINNET.magic


def _load(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text())


CAPTURE = _load("p2p_local_pktd_capture.json")
GENESIS = _load("genesis.json")
RECEIVED = {m["command"]: m for m in CAPTURE["handshake"]["messages_received"]}

GENESIS_HASH = bytes.fromhex(GENESIS["hash_internal"])
GENESIS_HEADER = BlockHeader.parse(bytes.fromhex(GENESIS["header_hex"]))
GENESIS_FILTER = bytes.fromhex(GENESIS["bip158_basic"]["filter_hex"])


def _hash(n: int) -> bytes:
    return sha256d(n.to_bytes(4, "little"))


# --------------------------------------------------------------------------------------------
# Real pktd traffic. Each check must fail on any one-byte change of its vector.
# --------------------------------------------------------------------------------------------


def check_client_version_payload(payload: bytes) -> None:
    version = Version.parse(payload)
    localhost = NetAddress.from_ip("127.0.0.1", 0, services=0)
    assert version == Version(
        version=70013,
        services=0x48,
        timestamp=0x6B04A6E1,
        addr_recv=localhost,
        addr_from=localhost,
        nonce=0x9CCDF6992F749945,
        user_agent="/probe:0.1/",
        start_height=0,
        relay=True,
    )
    assert version.serialize() == payload


def check_pktd_version_frame(frame: bytes) -> None:
    command, payload = parse_frame(MAGIC, frame)
    assert command == "version"
    version = parse_payload(command, payload)
    assert isinstance(version, Version)
    assert version.version == 70013 == PROTOCOL_VERSION
    assert version.services == 0x4D
    assert version.user_agent.startswith("/btcwire:0.5.0/pktd:")
    assert version == Version(
        version=70013,
        services=0x4D,
        timestamp=0x6B04A6E1,
        addr_recv=NetAddress.from_ip("127.0.0.1", 33144, services=0x4D),
        addr_from=NetAddress.from_ip("::", 0, services=0x4D),
        nonce=0x5D12265F1705B52B,
        user_agent="/btcwire:0.5.0/pktd:0.0.0-custom/",
        start_height=0,
        relay=True,
    )
    assert encode_message(MAGIC, version) == frame


def check_verack_frame(frame: bytes) -> None:
    command, payload = parse_frame(MAGIC, frame)
    message = parse_payload(command, payload)
    assert message == Verack()
    assert encode_message(MAGIC, message) == frame


def check_pong_frame(frame: bytes) -> None:
    command, payload = parse_frame(MAGIC, frame)
    message = parse_payload(command, payload)
    assert message == Pong(nonce=0x1122334455667788)
    assert encode_message(MAGIC, message) == frame


def check_getcfilters_request(payload: bytes) -> None:
    request = GetCFilters.parse(payload)
    assert request == GetCFilters(filter_type=0, start_height=0, stop_hash=GENESIS_HASH)
    assert request.serialize() == payload


def check_cfilter_response(payload: bytes) -> None:
    response = parse_payload("cfilter", payload)
    assert isinstance(response, CFilter)
    assert response.filter_type == 0
    assert response.block_hash == GENESIS_HASH
    assert response.filter_data == GENESIS_FILTER
    assert response.serialize() == payload


VECTOR_CHECKS: list[tuple[str, Callable[[bytes], None], bytes]] = [
    (
        "client version payload",
        check_client_version_payload,
        bytes.fromhex(CAPTURE["handshake"]["client_version_payload_sent"]),
    ),
    (
        "pktd version frame",
        check_pktd_version_frame,
        bytes.fromhex(RECEIVED["version"]["full_frame_hex"]),
    ),
    ("verack frame", check_verack_frame, bytes.fromhex(RECEIVED["verack"]["full_frame_hex"])),
    ("pong frame", check_pong_frame, bytes.fromhex(RECEIVED["pong"]["full_frame_hex"])),
    (
        "getcfilters request",
        check_getcfilters_request,
        bytes.fromhex(CAPTURE["getcfilters_genesis"]["request_payload_hex"]),
    ),
    (
        "cfilter response",
        check_cfilter_response,
        bytes.fromhex(CAPTURE["getcfilters_genesis"]["response_cfilter_payload_hex"]),
    ),
]


@pytest.mark.parametrize(
    ("name", "check", "data"), VECTOR_CHECKS, ids=[v[0] for v in VECTOR_CHECKS]
)
def test_vector(name: str, check: Callable[[bytes], None], data: bytes) -> None:
    check(data)


@pytest.mark.parametrize(
    ("name", "check", "data"), VECTOR_CHECKS, ids=[v[0] for v in VECTOR_CHECKS]
)
def test_vector_check_fails_on_every_one_byte_change(
    name: str, check: Callable[[bytes], None], data: bytes
) -> None:
    for index in range(len(data)):
        for flip in (0x01, 0x80):
            mutated = bytearray(data)
            mutated[index] ^= flip
            with pytest.raises((AssertionError, ParseError)):
                check(bytes(mutated))


FRAME_CHECKS = [v for v in VECTOR_CHECKS if v[0].endswith("frame")]


@pytest.mark.parametrize(("name", "check", "frame"), FRAME_CHECKS, ids=[v[0] for v in FRAME_CHECKS])
def test_frame_vector_checks_do_not_rely_on_the_checksum(
    name: str, check: Callable[[bytes], None], frame: bytes
) -> None:
    command, payload = parse_frame(MAGIC, frame)
    for index in range(len(payload)):
        mutated = bytearray(payload)
        mutated[index] ^= 0x01
        reframed = _raw_frame(command.encode(), bytes(mutated))  # valid checksum
        with pytest.raises((AssertionError, ParseError)):
            check(reframed)


def test_received_frames_carry_their_listed_payloads() -> None:
    for entry in CAPTURE["handshake"]["messages_received"]:
        command, payload = parse_frame(MAGIC, bytes.fromhex(entry["full_frame_hex"]))
        assert command == entry["command"]
        assert payload == bytes.fromhex(entry["payload_hex"])


def test_capture_cfilter_matches_genesis_vector() -> None:
    payload = bytes.fromhex(CAPTURE["getcfilters_genesis"]["response_cfilter_payload_hex"])
    observed = GENESIS["observed_from_local_pktd"]["cfilter_message_payload_hex"]
    assert payload == bytes.fromhex(observed)
    cfilter = CFilter.parse(payload)
    assert (
        hash_to_display(sha256d(cfilter.filter_data))
        == (GENESIS["bip158_basic"]["filter_hash_display"])
    )
    assert GENESIS_HASH == MAINNET.genesis_hash == GENESIS_HEADER.hash


def test_genesis_block_passes_through_as_raw_block() -> None:
    block = bytes.fromhex(GENESIS["block_hex"])
    assert CAPTURE["getdata_block_genesis"]["inv_type"] == MSG_BLOCK
    request = GetData(items=(InvVector(MSG_BLOCK, GENESIS_HASH),))
    assert parse_payload("getdata", request.serialize()) == request
    message = parse_payload("block", block)
    assert message == RawMessage("block", block)
    frame = encode_message(MAGIC, message)
    assert parse_frame(MAGIC, frame) == ("block", block)


def test_genesis_header_in_headers_message() -> None:
    message = Headers(headers=(GENESIS_HEADER,))
    payload = message.serialize()
    assert payload == b"\x01" + bytes.fromhex(GENESIS["header_hex"]) + b"\x00"
    parsed = Headers.parse(payload)
    assert parsed == message
    assert parsed.headers[0].hash == GENESIS_HASH


# --------------------------------------------------------------------------------------------
# Round trips of every message type
# --------------------------------------------------------------------------------------------

LOCALHOST = NetAddress.from_ip("127.0.0.1", 64764, services=0x4D)
IPV6_PEER = NetAddress.from_ip("2001:db8::1", 64512, services=0x48)

SAMPLES: list[PayloadMessage | RawMessage] = [
    Version(70013, 0x48, 1_700_000_000, LOCALHOST, IPV6_PEER, 2**64 - 1, "/wallet:0.1/", 123, True),
    Version(70013, 0, -1, LOCALHOST, LOCALHOST, 0, "", -1, False),
    Version(60002, 1, 0, LOCALHOST, LOCALHOST, 7, "x" * MAX_USER_AGENT_LEN, 2**31 - 1, None),
    Verack(),
    Ping(0),
    Ping(2**64 - 1),
    Pong(0x1122334455667788),
    GetHeaders(PROTOCOL_VERSION, (), ZERO_HASH),
    GetHeaders(PROTOCOL_VERSION, tuple(_hash(i) for i in range(11)), _hash(99)),
    GetHeaders(2**32 - 1, tuple(_hash(i) for i in range(MAX_BLOCK_LOCATORS_PER_MSG))),
    GetBlocks(PROTOCOL_VERSION, (GENESIS_HASH,), ZERO_HASH),
    Headers(()),
    Headers((GENESIS_HEADER, BlockHeader(-1, _hash(1), _hash(2), 2**32 - 1, 0x1F0FFFFF, 5))),
    Headers((GENESIS_HEADER,) * MAX_HEADERS_PER_MSG),
    Inv(()),
    Inv((InvVector(MSG_TX, _hash(1)), InvVector(MSG_BLOCK, _hash(2)))),
    Inv(tuple(InvVector(MSG_WITNESS_TX, _hash(i)) for i in range(MAX_INV_PER_MSG))),
    GetData((InvVector(MSG_WITNESS_BLOCK, _hash(3)), InvVector(MSG_FILTERED_BLOCK, _hash(4)))),
    GetData((InvVector(MSG_FILTERED_WITNESS_BLOCK, _hash(5)), InvVector(2**32 - 1, _hash(6)))),
    NotFound((InvVector(MSG_TX, _hash(7)),)),
    Addr(()),
    Addr((TimedNetAddress(1_600_000_000, LOCALHOST), TimedNetAddress(2**32 - 1, IPV6_PEER))),
    Addr(tuple(TimedNetAddress(i, LOCALHOST) for i in range(MAX_ADDR_PER_MSG))),
    GetAddr(),
    Reject("tx", REJECT_INVALID, "bad-txns-inputs-missingorspent", _hash(8)),
    Reject("malformed", REJECT_MALFORMED, "unknown command", None),
    Reject("", 255, "r\u00e9sum\u00e9 \u2603", None),
    FeeFilter(1000),
    FeeFilter(-(2**63)),
    SendHeaders(),
    MemPool(),
    GetCFilters(0, 0, GENESIS_HASH),
    GetCFilters(255, 2**32 - 1, _hash(9)),
    CFilter(0, GENESIS_HASH, GENESIS_FILTER),
    CFilter(0, _hash(10), b""),
    CFilter(0, _hash(11), bytes(range(256)) * (MAX_CFILTER_DATA_SIZE // 256)),
    GetCFHeaders(0, 1000, _hash(12)),
    CFHeaders(0, _hash(13), ZERO_HASH, ()),
    CFHeaders(0, _hash(14), _hash(15), tuple(_hash(i) for i in range(MAX_CFHEADERS_PER_MSG))),
    GetCFCheckpt(0, _hash(16)),
    CFCheckpt(0, _hash(17), ()),
    CFCheckpt(0, _hash(18), tuple(_hash(i) for i in range(25))),
    RawMessage("tx", bytes.fromhex(GENESIS["coinbase_tx_hex"])),
    RawMessage("block", bytes.fromhex(GENESIS["block_hex"])),
    RawMessage("filterclear", b""),
    RawMessage("filterload", b"\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
    RawMessage("filteradd", b"\x01\xaa"),
    RawMessage("merkleblock", bytes(84)),
]

SAMPLE_IDS = [f"{i}-{m.command}" for i, m in enumerate(SAMPLES)]

# Prefix lengths that are themselves valid messages because an optional trailer is absent.
OPTIONAL_TRAILER = {"version": 1, "reject": 32}


def test_samples_cover_every_known_command() -> None:
    assert {m.command for m in SAMPLES} == KNOWN_COMMANDS


@pytest.mark.parametrize("message", SAMPLES, ids=SAMPLE_IDS)
def test_round_trip(message: PayloadMessage | RawMessage) -> None:
    payload = message.serialize()
    assert parse_payload(message.command, payload) == message
    if not isinstance(message, RawMessage):
        assert type(message).parse(payload) == message
    frame = encode_message(MAGIC, message)
    assert frame[:4] == MAGIC
    assert frame[4:16] == message.command.encode().ljust(12, b"\x00")
    assert frame[16:20] == len(payload).to_bytes(4, "little")
    assert frame[20:24] == sha256d(payload)[:4]
    command, received = parse_frame(MAGIC, frame)
    assert parse_payload(command, received) == message


def _small_samples() -> list[PayloadMessage | RawMessage]:
    return [m for m in SAMPLES if len(m.serialize()) <= 600 and not isinstance(m, RawMessage)]


@pytest.mark.parametrize("message", _small_samples(), ids=lambda m: m.command)
def test_truncated_payloads_raise(message: PayloadMessage) -> None:
    payload = message.serialize()
    has_trailer = (isinstance(message, Version) and message.relay is not None) or (
        isinstance(message, Reject) and message.hash is not None
    )
    optional = OPTIONAL_TRAILER[message.command] if has_trailer else None
    for cut in range(len(payload)):
        prefix = payload[:cut]
        if optional is not None and cut == len(payload) - optional:
            parsed = parse_payload(message.command, prefix)  # the optional field is absent
            assert parsed != message
            continue
        with pytest.raises(ParseError):
            parse_payload(message.command, prefix)


@pytest.mark.parametrize("message", _small_samples(), ids=lambda m: m.command)
def test_trailing_bytes_raise(message: PayloadMessage) -> None:
    payload = message.serialize()
    if isinstance(message, Version) and message.relay is None:
        # A byte after start_height is the relay flag.
        assert Version.parse(payload + b"\x01").relay is True
        with pytest.raises(TrailingDataError):
            Version.parse(payload + b"\x01\x00")
        return
    if isinstance(message, Reject) and message.hash is None:
        # Bytes after the reason are the rejected hash.
        with pytest.raises(TruncatedError):
            Reject.parse(payload + b"\x00")
        with pytest.raises(TrailingDataError):
            Reject.parse(payload + bytes(33))
        return
    with pytest.raises(TrailingDataError):
        parse_payload(message.command, payload + b"\x00")


def test_every_payload_class_command_is_known() -> None:
    for message in SAMPLES:
        assert message.command in KNOWN_COMMANDS
    assert RAW_PAYLOAD_COMMANDS < KNOWN_COMMANDS


def test_known_commands_are_exactly_pktds() -> None:
    pktd_commands = {
        "version", "verack", "getaddr", "addr", "getblocks", "inv", "getdata", "notfound",
        "block", "tx", "getheaders", "headers", "ping", "pong", "mempool", "filteradd",
        "filterclear", "filterload", "merkleblock", "reject", "sendheaders", "feefilter",
        "getcfilters", "getcfheaders", "getcfcheckpt", "cfilter", "cfheaders", "cfcheckpt",
    }  # fmt: skip
    assert pktd_commands == KNOWN_COMMANDS
    for extra in ("sendcmpct", "wtxidrelay", "sendaddrv2", "getblocktxn", "addrv2", "alert"):
        assert extra not in KNOWN_COMMANDS


def test_inventory_type_constants() -> None:
    assert (MSG_TX, MSG_BLOCK, MSG_FILTERED_BLOCK) == (1, 2, 3)
    assert MSG_WITNESS_FLAG == 1 << 30
    assert MSG_WITNESS_TX == 0x40000001
    assert MSG_WITNESS_BLOCK == 0x40000002
    assert MSG_FILTERED_WITNESS_BLOCK == 0x40000003


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _raw_frame(
    command: bytes, payload: bytes, magic: bytes = MAGIC, checksum: bytes | None = None
) -> bytes:
    """A frame built by hand, for commands and fields encode_frame refuses to produce."""
    checksum = sha256d(payload)[:4] if checksum is None else checksum
    return (
        magic + command.ljust(12, b"\x00") + len(payload).to_bytes(4, "little") + checksum + payload
    )


def _stream() -> tuple[bytes, list[tuple[str, bytes]]]:
    frames = [bytes.fromhex(m["full_frame_hex"]) for m in CAPTURE["handshake"]["messages_received"]]
    small = [m for m in SAMPLES if len(m.serialize()) < 4000]
    frames += [encode_message(MAGIC, m) for m in small]
    frames.append(_raw_frame(b"sendcmpct", b"\x00" + bytes(8)))
    expected = [parse_frame(MAGIC, f) for f in frames]
    return b"".join(frames), expected


def test_frame_decoder_one_byte_at_a_time() -> None:
    stream, expected = _stream()
    decoder = FrameDecoder(MAGIC)
    received: list[tuple[str, bytes]] = []
    frame_ends = set()
    position = 0
    for _, payload in expected:
        position += FRAME_HEADER_SIZE + len(payload)
        frame_ends.add(position)
    for index in range(len(stream)):
        out = decoder.feed(stream[index : index + 1])
        if index + 1 in frame_ends:
            assert len(out) == 1
        else:
            assert out == []
        received += out
    assert received == expected
    assert decoder.buffered == 0


def test_frame_decoder_random_chunks_and_all_at_once() -> None:
    stream, expected = _stream()
    rng = random.Random(158)
    for _ in range(20):
        decoder = FrameDecoder(MAGIC)
        received: list[tuple[str, bytes]] = []
        position = 0
        while position < len(stream):
            size = rng.randint(1, 300)
            received += decoder.feed(memoryview(stream)[position : position + size])
            position += size
        assert received == expected
    assert FrameDecoder(MAGIC).feed(stream) == expected


def test_frame_decoder_keeps_partial_frame() -> None:
    frame = encode_message(MAGIC, Ping(42))
    decoder = FrameDecoder(MAGIC)
    assert decoder.feed(frame + frame[:30]) == [("ping", Ping(42).serialize())]
    assert decoder.buffered == 30
    assert decoder.feed(frame[30:]) == [("ping", Ping(42).serialize())]
    assert decoder.buffered == 0


def test_unknown_command_is_received_not_raised() -> None:
    frame = _raw_frame(b"sendcmpct", b"\x00\x01\x00\x00\x00\x00\x00\x00\x00")
    [(command, payload)] = FrameDecoder(MAGIC).feed(frame)
    message = parse_payload(command, payload)
    assert message == UnknownMessage("sendcmpct", payload)
    with pytest.raises(UnsupportedCommandError):
        encode_message(MAGIC, message)


def test_wrong_magic() -> None:
    frame = encode_message(TESTNET.magic, Verack())
    with pytest.raises(BadMagicError):
        FrameDecoder(MAGIC).feed(frame)
    with pytest.raises(BadMagicError):
        parse_frame(MAGIC, frame)
    decoder = FrameDecoder(MAGIC)
    assert decoder.feed(MAGIC[:2]) == []
    with pytest.raises(BadMagicError):
        decoder.feed(b"\x00")  # detected on the first wrong byte
    good = encode_message(MAGIC, Verack())
    with pytest.raises(BadMagicError):
        FrameDecoder(MAGIC).feed(good + b"\x00" * FRAME_HEADER_SIZE)


def test_bad_checksum() -> None:
    frame = bytearray(encode_message(MAGIC, Ping(7)))
    frame[20] ^= 0xFF
    with pytest.raises(BadChecksumError):
        FrameDecoder(MAGIC).feed(bytes(frame))
    with pytest.raises(BadChecksumError):
        parse_frame(MAGIC, bytes(frame))
    empty_with_bad_checksum = _raw_frame(b"verack", b"", checksum=b"\x00\x00\x00\x00")
    with pytest.raises(BadChecksumError):
        parse_frame(MAGIC, empty_with_bad_checksum)


def test_oversize_length_refused_before_payload_arrives() -> None:
    header = MAGIC + b"block".ljust(12, b"\x00") + (MAX_MESSAGE_PAYLOAD + 1).to_bytes(4, "little")
    with pytest.raises(OversizeError):
        FrameDecoder(MAGIC).feed(header)  # no checksum, no payload yet
    with pytest.raises(OversizeError):
        parse_frame(MAGIC, header + bytes(4))
    at_limit = MAGIC + b"block".ljust(12, b"\x00") + MAX_MESSAGE_PAYLOAD.to_bytes(4, "little")
    assert FrameDecoder(MAGIC).feed(at_limit + bytes(4)) == []
    small = FrameDecoder(MAGIC, max_payload=8)
    assert small.feed(encode_message(MAGIC, Ping(1))) == [("ping", bytes(Ping(1).serialize()))]
    with pytest.raises(OversizeError):
        small.feed(encode_message(MAGIC, FeeFilter(1))[:16] + (9).to_bytes(4, "little"))


@pytest.mark.parametrize(
    "command_field",
    [
        b"ver\x00ack\x00\x00\x00\x00\x00",  # not NUL-padded
        b"verack\x00\x00\x00\x00\x00\x01",
        b"\xffersion\x00\x00\x00\x00\x00",  # not ASCII
        b"ping\x0a\x00\x00\x00\x00\x00\x00\x00",  # control character
        b"\x00" * 12,  # empty
        b"getcfcheckpx",  # 12 characters, no NUL: well-formed but unknown
    ],
)
def test_bad_command_field(command_field: bytes) -> None:
    frame = MAGIC + command_field + (0).to_bytes(4, "little") + sha256d(b"")[:4]
    if command_field == b"getcfcheckpx":
        assert parse_frame(MAGIC, frame) == ("getcfcheckpx", b"")
        return
    with pytest.raises(BadCommandError):
        parse_frame(MAGIC, frame)
    decoder = FrameDecoder(MAGIC)
    with pytest.raises(BadCommandError):
        decoder.feed(frame[:16])  # refused as soon as the command field is complete


def test_decoder_error_is_final() -> None:
    decoder = FrameDecoder(MAGIC)
    with pytest.raises(BadMagicError):
        decoder.feed(b"\x00\x00\x00\x00")
    with pytest.raises(BadMagicError):
        decoder.feed(encode_message(MAGIC, Verack()))


def test_parse_frame_truncated_and_trailing() -> None:
    frame = encode_message(MAGIC, Pong(3))
    for cut in range(len(frame)):
        with pytest.raises(TruncatedError):
            parse_frame(MAGIC, frame[:cut])
    with pytest.raises(TrailingDataError):
        parse_frame(MAGIC, frame + b"\x00")


def test_encode_refuses_unknown_commands() -> None:
    for command in ("sendcmpct", "wtxidrelay", "sendaddrv2", "getblocktxn", "", "VERSION"):
        with pytest.raises(UnsupportedCommandError):
            encode_frame(MAGIC, command, b"")
        with pytest.raises(UnsupportedCommandError):
            encode_message(MAGIC, UnknownMessage(command, b""))
        with pytest.raises(UnsupportedCommandError):
            RawMessage(command, b"")
    with pytest.raises(UnsupportedCommandError):
        UnknownMessage("ping", bytes(8)).serialize()
    with pytest.raises(UnsupportedCommandError):
        RawMessage("ping", bytes(8))  # typed commands go through their message class


def test_encode_frame_limits() -> None:
    with pytest.raises(OversizeError):
        encode_frame(MAGIC, "block", bytes(MAX_MESSAGE_PAYLOAD + 1))
    with pytest.raises(ValueError):
        encode_frame(b"\xfc\x00\x2f", "verack", b"")
    assert encode_frame(MAGIC, "verack", b"") == bytes.fromhex(RECEIVED["verack"]["full_frame_hex"])


# --------------------------------------------------------------------------------------------
# Payload rules and limits
# --------------------------------------------------------------------------------------------

HEADER_BYTES = bytes.fromhex(GENESIS["header_hex"])


def test_headers_with_nonzero_tx_count() -> None:
    with pytest.raises(MalformedMessageError):
        Headers.parse(b"\x01" + HEADER_BYTES + b"\x01")
    with pytest.raises(MalformedMessageError):
        Headers.parse(b"\x02" + HEADER_BYTES + b"\x00" + HEADER_BYTES + b"\xfd\x00\x01")
    with pytest.raises(NonCanonicalError):
        Headers.parse(b"\x01" + HEADER_BYTES + b"\xfd\x00\x00")


def test_non_canonical_counts() -> None:
    with pytest.raises(NonCanonicalError):
        Inv.parse(b"\xfd\x01\x00" + bytes(36))
    with pytest.raises(NonCanonicalError):
        Headers.parse(b"\xfe\x00\x00\x00\x00")


OVER_LIMIT_PAYLOADS = {
    "getheaders": bytes(4) + encode_compact_size(MAX_BLOCK_LOCATORS_PER_MSG + 1),
    "getblocks": bytes(4) + encode_compact_size(MAX_BLOCK_LOCATORS_PER_MSG + 1),
    "headers": encode_compact_size(MAX_HEADERS_PER_MSG + 1),
    "inv": encode_compact_size(MAX_INV_PER_MSG + 1),
    "getdata": encode_compact_size(MAX_INV_PER_MSG + 1),
    "notfound": encode_compact_size(MAX_INV_PER_MSG + 1),
    "addr": encode_compact_size(MAX_ADDR_PER_MSG + 1),
    "cfilter": bytes(33) + encode_compact_size(MAX_CFILTER_DATA_SIZE + 1),
    "cfheaders": bytes(65) + encode_compact_size(MAX_CFHEADERS_PER_MSG + 1),
    "cfcheckpt": bytes(33) + encode_compact_size(MAX_CFCHECKPT_HEADERS + 1),
    "version": bytes(20 + 26 + 26 + 8) + encode_compact_size(MAX_USER_AGENT_LEN + 1),
}


@pytest.mark.parametrize("command", sorted(OVER_LIMIT_PAYLOADS))
def test_counts_over_limits_raise_before_reading_items(command: str) -> None:
    with pytest.raises(OversizeError):
        parse_payload(command, OVER_LIMIT_PAYLOADS[command])


def test_counts_at_limits_parse() -> None:
    payload = CFCheckpt(0, ZERO_HASH, (ZERO_HASH,) * MAX_CFCHECKPT_HEADERS).serialize()
    assert len(CFCheckpt.parse(payload).filter_headers) == MAX_CFCHECKPT_HEADERS


def test_constructors_enforce_limits() -> None:
    with pytest.raises(OversizeError):
        GetHeaders(PROTOCOL_VERSION, (ZERO_HASH,) * (MAX_BLOCK_LOCATORS_PER_MSG + 1))
    with pytest.raises(OversizeError):
        Headers((GENESIS_HEADER,) * (MAX_HEADERS_PER_MSG + 1))
    with pytest.raises(OversizeError):
        Inv((InvVector(MSG_TX, ZERO_HASH),) * (MAX_INV_PER_MSG + 1))
    with pytest.raises(OversizeError):
        Addr((TimedNetAddress(0, LOCALHOST),) * (MAX_ADDR_PER_MSG + 1))
    with pytest.raises(OversizeError):
        CFilter(0, ZERO_HASH, bytes(MAX_CFILTER_DATA_SIZE + 1))
    with pytest.raises(OversizeError):
        CFHeaders(0, ZERO_HASH, ZERO_HASH, (ZERO_HASH,) * (MAX_CFHEADERS_PER_MSG + 1))
    with pytest.raises(OversizeError):
        CFCheckpt(0, ZERO_HASH, (ZERO_HASH,) * (MAX_CFCHECKPT_HEADERS + 1))
    with pytest.raises(OversizeError):
        Version(70013, 0, 0, LOCALHOST, LOCALHOST, 0, "\u00e9" * 129, 0)  # 258 bytes


def test_constructors_validate_fields() -> None:
    with pytest.raises(ValueError):
        InvVector(MSG_TX, bytes(31))
    with pytest.raises(ValueError):
        InvVector(-1, ZERO_HASH)
    with pytest.raises(ValueError):
        NetAddress(0, bytes(4), 1)
    with pytest.raises(ValueError):
        NetAddress.from_ip("127.0.0.1", 65536)
    with pytest.raises(ValueError):
        Ping(2**64)
    with pytest.raises(ValueError):
        FeeFilter(2**63)
    with pytest.raises(ValueError):
        GetCFilters(256, 0, ZERO_HASH)
    with pytest.raises(ValueError):
        Reject("tx", 1, "x", bytes(20))
    with pytest.raises(ValueError):
        Version(2**31, 0, 0, LOCALHOST, LOCALHOST, 0, "", 0)


def test_net_address_helpers() -> None:
    v4 = NetAddress.from_ip("192.0.2.7", 64764, services=1)
    assert v4.ip == bytes(10) + b"\xff\xff\xc0\x00\x02\x07"
    assert v4.is_ipv4 and v4.host == "192.0.2.7"
    v6 = NetAddress.from_ip("2001:db8::1", 1)
    assert not v6.is_ipv4 and v6.host == "2001:db8::1"
    assert len(v6.ip) == 16
    payload = Addr((TimedNetAddress(5, v4),)).serialize()
    assert payload[-2:] == (64764).to_bytes(2, "big")  # the port is big-endian


def test_version_relay_flag() -> None:
    base = Version(70013, 0, 0, LOCALHOST, LOCALHOST, 0, "/a/", 0, None).serialize()
    assert Version.parse(base).relay is None
    assert Version.parse(base + b"\x00").relay is False
    assert Version.parse(base + b"\x01").relay is True
    assert Version.parse(base + b"\x02").relay is True  # any non-zero byte, as btcd reads it


def test_invalid_utf8_is_replaced_not_raised() -> None:
    ua = b"/bad\xff\xfe:1/"
    payload = Version(70013, 0, 0, LOCALHOST, LOCALHOST, 0, "", 0, True).serialize()
    head, tail = payload[:80], payload[81:]
    version = Version.parse(head + bytes([len(ua)]) + ua + tail)
    assert version.user_agent == "/bad??:1/"
    full = b"\xff" * MAX_USER_AGENT_LEN
    version = Version.parse(head + b"\xfd\x00\x01" + full + tail)
    assert version.user_agent == "?" * MAX_USER_AGENT_LEN
    assert len(version.serialize()) == len(head) + 3 + MAX_USER_AGENT_LEN + len(tail)
    reject = Reject.parse(b"\x02\xc3\x28" + b"\x10" + b"\x01\x80")
    assert (reject.message, reject.code, reject.reason) == ("?(", 0x10, "?")


def test_reject_hash_optional() -> None:
    with_hash = Reject("block", REJECT_INVALID, "bad", _hash(1))
    payload = with_hash.serialize()
    assert payload.endswith(_hash(1))
    assert Reject.parse(payload[:-32]).hash is None
    for cut in range(1, 32):
        with pytest.raises(TruncatedError):
            Reject.parse(payload[:-cut])


def test_empty_messages_reject_payload() -> None:
    for cls in (Verack, GetAddr, SendHeaders, MemPool):
        assert cls.parse(b"") == cls()
        with pytest.raises(TrailingDataError):
            cls.parse(b"\x00")


def test_distinct_types_with_same_layout_are_not_equal() -> None:
    pairs: list[tuple[Message, Message]] = [
        (Ping(1), Pong(1)),
        (GetHeaders(1, ()), GetBlocks(1, ())),
        (Inv(()), GetData(())),
        (GetCFilters(0, 0, ZERO_HASH), GetCFHeaders(0, 0, ZERO_HASH)),
    ]
    for first, second in pairs:
        assert first != second
        assert first.serialize() == second.serialize()
    assert isinstance(parse_payload("getblocks", GetBlocks(1, ()).serialize()), GetBlocks)


# --------------------------------------------------------------------------------------------
# Robustness: garbage and mutations only ever raise ParseError
# --------------------------------------------------------------------------------------------


def _mutations(rng: random.Random, payload: bytes) -> list[bytes]:
    out = []
    for _ in range(40):
        data = bytearray(payload)
        for _ in range(rng.randint(1, 3)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.randint(0, len(data))
        out.append(bytes(data[:cut]) if rng.random() < 0.3 else bytes(data))
    out += [rng.randbytes(rng.randint(0, 120)) for _ in range(40)]
    out += [b"\xff" * n for n in range(12)]
    return out


def test_parsers_raise_only_parse_errors() -> None:
    rng = random.Random(70013)
    for message in _small_samples():
        for data in _mutations(rng, message.serialize()):
            try:
                parsed: Message = parse_payload(message.command, data)
            except ParseError:
                continue
            assert parse_payload(parsed.command, parsed.serialize()) == parsed


def test_frame_decoder_raises_only_parse_errors() -> None:
    rng = random.Random(64764)
    stream, _ = _stream()
    for _ in range(200):
        data = bytearray(stream[: rng.randint(0, 2000)])
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        decoder = FrameDecoder(MAGIC)
        try:
            for start in range(0, len(data), 97):
                for command, payload in decoder.feed(data[start : start + 97]):
                    with contextlib.suppress(ParseError):
                        parse_payload(command, payload)
        except ParseError:
            pass
