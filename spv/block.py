"""Blocks: header, the PacketCrypt proof between header and transactions (PKT networks), and
transactions; plus the transaction merkle root.

PKT block layout: header(80) | proof records | varint tx_count | transactions.
Bitcoin-flavoured networks (regtest) have no proof.
"""

from dataclasses import dataclass, field

from .bytes_io import ByteReader, ByteWriter, encode_compact_size
from .errors import ParseError, ValidationError
from .hashes import sha256d
from .header import BlockHeader
from .tx import Transaction

MAX_BLOCK_SIZE = 4_000_000 + 200_000  # block payload plus the PacketCrypt proof (≤ ~131 KB)

PROOF_END = 0
PROOF_PCP = 1
PROOF_SIGNATURES = 2
PROOF_CONTENT_PROOFS = 3
PROOF_VERSION = 4

ANN_SIZE = 1024
PCP_MIN_LENGTH = 4100  # exclusive lower bound: nonce + 4 anns + at least one proof byte
PCP_MAX_LENGTH = 131072
_SIGNING_KEY = slice(56, 88)


@dataclass(frozen=True)
class ProofRecord:
    type: int
    value: bytes


@dataclass(frozen=True)
class PacketCryptProof:
    """The PacketCrypt proof of a PKT block, parsed into its records (unknown ones kept)."""

    records: tuple[ProofRecord, ...]  # in wire order, end record excluded
    encoded_size: int  # bytes the records took on the wire, end record included

    @classmethod
    def read(cls, reader: ByteReader) -> "PacketCryptProof":
        start = reader.pos
        records: list[ProofRecord] = []
        seen_pcp = False
        while True:
            rtype = reader.compact_size(0xFFFFFFFF)
            length = reader.compact_size(PCP_MAX_LENGTH)
            if rtype == PROOF_END:
                if length != 0:
                    raise ParseError("PacketCrypt proof end record must be empty")
                break
            value = reader.read(length)
            if rtype == PROOF_PCP:
                if not PCP_MIN_LENGTH < length <= PCP_MAX_LENGTH:
                    raise ParseError(f"PacketCrypt PcP record of invalid length {length}")
                seen_pcp = True
            elif rtype in (PROOF_SIGNATURES, PROOF_CONTENT_PROOFS) and not seen_pcp:
                raise ParseError(f"PacketCrypt record type {rtype} before the PcP record")
            elif rtype == PROOF_VERSION:
                _single_varint(value)  # must hold exactly one canonical varint
            records.append(ProofRecord(rtype, value))
        if not seen_pcp:
            raise ParseError("missing PacketCrypt proof")
        return cls(tuple(records), reader.pos - start)

    def serialize(self) -> bytes:
        w = ByteWriter()
        for rec in self.records:
            w.compact_size(rec.type).var_bytes(rec.value)
        w.compact_size(PROOF_END).compact_size(0)
        return w.getvalue()

    def _first(self, rtype: int) -> bytes | None:
        for rec in self.records:
            if rec.type == rtype:
                return rec.value
        return None

    @property
    def pcp(self) -> bytes:
        value = self._first(PROOF_PCP)
        assert value is not None  # guaranteed by read()
        return value

    @property
    def nonce2(self) -> int:
        return int.from_bytes(self.pcp[:4], "little")

    @property
    def announcements(self) -> tuple[bytes, bytes, bytes, bytes]:
        p = self.pcp
        return (p[4:1028], p[1028:2052], p[2052:3076], p[3076:4100])

    @property
    def ann_merkle_proof(self) -> bytes:
        return self.pcp[4100:]

    @property
    def signatures(self) -> bytes:
        return self._first(PROOF_SIGNATURES) or b""

    @property
    def content_proofs(self) -> bytes:
        return self._first(PROOF_CONTENT_PROOFS) or b""

    @property
    def version(self) -> int:
        value = self._first(PROOF_VERSION)
        return 0 if value is None else _single_varint(value)

    def signed_announcements(self) -> list[int]:
        """Indexes of the announcements whose signing key is not all zero."""
        return [i for i, ann in enumerate(self.announcements) if any(ann[_SIGNING_KEY])]

    def canonical_size(self) -> int:
        """Size of pktd's canonical encoding of this proof's content (pktd ≥ 1.6.1)."""
        size = _record_size(PROOF_PCP, len(self.pcp))
        if self.signed_announcements():
            size += _record_size(PROOF_SIGNATURES, len(self.signatures))
        if self.content_proofs:
            size += _record_size(PROOF_CONTENT_PROOFS, len(self.content_proofs))
        if self.version > 0:
            size += _record_size(PROOF_VERSION, len(encode_compact_size(self.version)))
        return size + 2  # end record

    def check_structure(self) -> None:
        """Structural rules of pktd's proof parser; raises ValidationError."""
        if self.encoded_size != self.canonical_size():
            raise ValidationError("non-standard / mutated PacketCrypt proof")
        n_signed = len(self.signed_announcements())
        if len(self.signatures) != 64 * n_signed:
            if n_signed and len(self.signatures) < 64 * n_signed:
                raise ValidationError("missing announcement signature")
            raise ValidationError("dangling bytes in announcement signatures")
        if self.version >= 2 and self._first(PROOF_CONTENT_PROOFS) is not None:
            raise ValidationError("content proofs are forbidden with proof version >= 2")


def _record_size(rtype: int, length: int) -> int:
    return len(encode_compact_size(rtype)) + len(encode_compact_size(length)) + length


def _single_varint(value: bytes) -> int:
    reader = ByteReader(value)
    v = reader.compact_size(0xFFFFFFFFFFFFFFFF)
    reader.expect_end("PacketCrypt proof version")
    return v


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    proof: PacketCryptProof | None
    transactions: tuple[Transaction, ...]
    _size: int = field(default=0, compare=False, repr=False)

    @classmethod
    def parse(cls, data: bytes, has_packetcrypt: bool) -> "Block":
        """Parse a whole block message payload; `has_packetcrypt` comes from NetworkParams."""
        if len(data) > MAX_BLOCK_SIZE:
            raise ParseError(f"block of {len(data)} bytes exceeds {MAX_BLOCK_SIZE}")
        reader = ByteReader(data)
        header = BlockHeader.read(reader)
        proof = PacketCryptProof.read(reader) if has_packetcrypt else None
        n_tx = reader.compact_size(reader.remaining // 60)
        if n_tx == 0:
            raise ParseError("block has no transactions")
        txs = tuple(Transaction.read(reader) for _ in range(n_tx))
        reader.expect_end("block")
        return cls(header, proof, txs, len(data))

    def serialize(self) -> bytes:
        w = ByteWriter()
        self.header.write(w)
        if self.proof is not None:
            w.write(self.proof.serialize())
        w.compact_size(len(self.transactions))
        for tx in self.transactions:
            tx.write(w)
        return w.getvalue()

    @property
    def hash(self) -> bytes:
        return self.header.hash

    def computed_merkle_root(self) -> bytes:
        return merkle_root([tx.txid for tx in self.transactions])

    def check_merkle_root(self) -> None:
        """Raise ValidationError unless the header commits to these transactions."""
        if self.computed_merkle_root() != self.header.merkle_root:
            raise ValidationError("block merkle root does not match its transactions")
        txids = [tx.txid for tx in self.transactions]
        if len(set(txids)) != len(txids):  # the merkle mutation of CVE-2012-2459
            raise ValidationError("block contains duplicated transactions")


def merkle_root(hashes: list[bytes]) -> bytes:
    """Bitcoin transaction merkle root over internal-order hashes."""
    if not hashes:
        raise ValueError("merkle root of nothing")
    level = list(hashes)
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]
