"""Parsing a PKT block message for PacketCrypt block-proof checks (spec sections 12, 18.2).

``block = header (80) | record* | varint tx_count | transactions``;
``record = varint type | varint length | value``. Varints are Bitcoin CompactSize and must be
minimal. Record types: 0 end, 1 PcP (``u32le nonce2 || 4 anns || merkle proof``),
2 signatures, 3 content proofs, 4 proof version; others are skipped (and make the proof
non-standard).

Transactions are parsed only as far as a light client needs: the outputs of each and its txid
(for the header's merkle root, which binds the coinbase commitment).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

HEADER_SIZE = 80
ANN_SIZE = 1024
SIGNATURE_SIZE = 64
PCP_FIXED_SIZE = 4 + 4 * ANN_SIZE  # nonce2 + 4 anns = 4100
PCP_MAX_SIZE = 131072

REC_END, REC_PCP, REC_SIGNATURES, REC_CONTENT_PROOFS, REC_VERSION = 0, 1, 2, 3, 4


class BlockParseError(ValueError):
    """The block message is malformed (pktd's wire decoder would reject it)."""


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def varint_size(value: int) -> int:
    """Bytes of the minimal CompactSize encoding of ``value``."""
    if value < 0xFD:
        return 1
    if value <= 0xFFFF:
        return 3
    if value <= 0xFFFFFFFF:
        return 5
    return 9


def encode_varint(value: int) -> bytes:
    """Minimal CompactSize encoding."""
    if value < 0xFD:
        return bytes([value])
    if value <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", value)
    if value <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", value)
    return b"\xff" + struct.pack("<Q", value)


class Reader:
    """A cursor over bytes that raises :class:`BlockParseError` when running out."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, n: int) -> bytes:
        if n < 0 or self.offset + n > len(self.data):
            raise BlockParseError("unexpected end of data")
        out = self.data[self.offset : self.offset + n]
        self.offset += n
        return out

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def varint(self) -> int:
        """A CompactSize; non-minimal encodings are rejected (as pktd's ReadVarInt does)."""
        first = self.take(1)[0]
        if first < 0xFD:
            return first
        size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
        value = int.from_bytes(self.take(size), "little")
        if varint_size(value) != 1 + size:
            raise BlockParseError("non-canonical varint")
        return value

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset


@dataclass(frozen=True)
class Record:
    """One proof record as read: type, value and its encoded size."""

    type: int
    value: bytes

    @property
    def encoded_size(self) -> int:
        return varint_size(self.type) + varint_size(len(self.value)) + len(self.value)


@dataclass(frozen=True)
class TxOut:
    value: int
    script: bytes


@dataclass(frozen=True)
class Transaction:
    """The parts of a transaction a block-proof check uses."""

    outputs: tuple[TxOut, ...]
    txid: bytes
    """SHA-256d of the serialization without witness data (internal order)."""


@dataclass
class PcBlock:
    """A parsed block: header, PacketCrypt proof records and transactions."""

    header: bytes
    records: list[Record]
    nonce2: int
    anns: tuple[bytes, bytes, bytes, bytes]
    merkle_proof: bytes
    signatures: list[bytes | None] = field(default_factory=lambda: [None] * 4)
    """Per ann: its 64-byte signature (signed anns only, in ann order)."""
    content_proof: bytes | None = None
    """The type-3 record value, or None when absent."""
    version: int = 0
    """The proof version V (type-4 record; 0 when absent)."""
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def bits(self) -> int:
        return int(struct.unpack_from("<I", self.header, 72)[0])

    @property
    def merkle_root(self) -> bytes:
        return self.header[36:68]

    def has_signing_key(self, index: int) -> bool:
        return any(self.anns[index][56:88])

    def records_size(self) -> int:
        """Total encoded size of every record read, end record included."""
        return sum(record.encoded_size for record in self.records)

    def canonical_records_size(self) -> int:
        """Size of the canonical encoding of the parsed content (section 18.2).

        type 1; type 2 if an ann is signed; type 3 if there are content-proof bytes; type 4 if
        V > 0; end.
        """
        pcp_len = PCP_FIXED_SIZE + len(self.merkle_proof)
        size = Record(REC_PCP, bytes(pcp_len)).encoded_size
        sig_len = sum(len(s) for s in self.signatures if s is not None)
        if sig_len:
            size += Record(REC_SIGNATURES, bytes(sig_len)).encoded_size
        if self.content_proof:
            size += Record(REC_CONTENT_PROOFS, self.content_proof).encoded_size
        if self.version > 0:
            size += Record(REC_VERSION, encode_varint(self.version)).encoded_size
        return size + Record(REC_END, b"").encoded_size


def parse_transaction(reader: Reader) -> Transaction:
    """Parse one transaction (with or without segwit data)."""
    start = reader.offset
    version = reader.take(4)
    segwit = reader.data[reader.offset : reader.offset + 2] == b"\x00\x01"
    if segwit:
        reader.take(2)
    body_start = reader.offset
    n_inputs = reader.varint()
    for _ in range(n_inputs):
        reader.take(36)
        reader.take(reader.varint())
        reader.take(4)
    n_outputs = reader.varint()
    outputs = []
    for _ in range(n_outputs):
        value = reader.u64()
        outputs.append(TxOut(value, reader.take(reader.varint())))
    body_end = reader.offset
    if segwit:
        for _ in range(n_inputs):
            for _ in range(reader.varint()):
                reader.take(reader.varint())
    locktime = reader.take(4)
    if segwit:
        stripped = version + reader.data[body_start:body_end] + locktime
    else:
        stripped = reader.data[start : reader.offset]
    return Transaction(tuple(outputs), sha256d(stripped))


def _read_records(reader: Reader) -> list[Record]:
    records = []
    while True:
        rec_type = reader.varint()
        length = reader.varint()
        records.append(Record(rec_type, reader.take(length)))
        if rec_type == REC_END:
            return records


def parse_block(data: bytes) -> PcBlock:
    """Parse a block message (pktd ``readPacketCryptProof`` rules, section 18.2).

    Raises :class:`BlockParseError` for: a missing type-1 record, a type-1 length outside
    4100 < length <= 131072, type 2 or 3 before type 1, a type-2 record that does not hold
    exactly one signature per signed ann, a malformed type-4 record, non-minimal varints,
    truncated data or bytes after the last transaction.
    """
    reader = Reader(data)
    header = reader.take(HEADER_SIZE)
    records = _read_records(reader)
    if records[-1].value:
        raise BlockParseError("the end record must be empty")

    block: PcBlock | None = None
    version = 0
    for record in records[:-1]:
        if record.type == REC_PCP:
            if not PCP_FIXED_SIZE < len(record.value) <= PCP_MAX_SIZE:
                raise BlockParseError("PcP record length out of range")
            value = record.value
            anns = tuple(value[4 + ANN_SIZE * i : 4 + ANN_SIZE * (i + 1)] for i in range(4))
            # A repeated PcP record replaces the first; the size rule then rejects the block.
            block = PcBlock(
                header=header,
                records=records,
                nonce2=int(struct.unpack_from("<I", value, 0)[0]),
                anns=(anns[0], anns[1], anns[2], anns[3]),
                merkle_proof=value[PCP_FIXED_SIZE:],
            )
        elif record.type == REC_SIGNATURES:
            if block is None:
                raise BlockParseError("Signatures came before pcp type")
            _assign_signatures(block, record.value)
        elif record.type == REC_CONTENT_PROOFS:
            if block is None:
                raise BlockParseError("ContentProofs came before pcp type")
            block.content_proof = record.value
        elif record.type == REC_VERSION:
            version_reader = Reader(record.value)
            version = version_reader.varint()
            if version_reader.remaining:
                raise BlockParseError("the version record must hold exactly one varint")
    if block is None:
        raise BlockParseError("Missing PacketCrypt proof")
    block.version = version

    for _ in range(reader.varint()):
        block.transactions.append(parse_transaction(reader))
    if reader.remaining:
        raise BlockParseError("bytes after the last transaction")
    return block


def _assign_signatures(block: PcBlock, value: bytes) -> None:
    """One 64-byte signature per signed ann, in ann order; nothing may remain."""
    reader = Reader(value)
    signatures: list[bytes | None] = [None] * 4
    for i in range(4):
        if block.has_signing_key(i):
            if reader.remaining < SIGNATURE_SIZE:
                raise BlockParseError("Not enough remaining bytes in read announcement signature")
            signatures[i] = reader.take(SIGNATURE_SIZE)
    if reader.remaining:
        raise BlockParseError("Dangling bytes after announcement signatures")
    block.signatures = signatures


def merkle_root_of(txids: list[bytes]) -> bytes:
    """Bitcoin's transaction merkle root (last hash duplicated on odd levels)."""
    if not txids:
        raise ValueError("a block has at least one transaction")
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]
