"""The 1024-byte announcement: layout, hashes and encryption (spec sections 1, 9 and 10).

Layout (version 1)::

    0..88      header (AnnHeader below)
    88..920    13 merkle siblings x 64 bytes, leaf level first, XOR-encrypted
    920..984   merkle root R (64 bytes, never encrypted)
    984..1024  "item 4 prefix": zero before encryption, so final_state[832:872] after it

Hashes of the mining loop (section 9):

* ``annHash0 = B512(hdr || parentHash || 0^32)``, hdr with the soft nonce zeroed;
* ``annHash1 = B512(hdr || R)``;
* ``seed2 = B512(R || annHash0)``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .merkle import DEPTH, HASH_SIZE
from .primitives import b512

ANN_SIZE = 1024
HEADER_SIZE = 88
SIBLINGS_START = 88
SIBLINGS_END = SIBLINGS_START + DEPTH * HASH_SIZE  # 920
ROOT_START = SIBLINGS_END  # 920
ROOT_END = ROOT_START + HASH_SIZE  # 984
ITEM4_PREFIX_START = ROOT_END  # 984
ITEM4_PREFIX_SIZE = ANN_SIZE - ITEM4_PREFIX_START  # 40

ENCRYPTED_SIBLINGS_KEY_BYTES = SIBLINGS_END - SIBLINGS_START  # 832: S[0:832]
"""The siblings are XORed with ``S[0:832]`` and the prefix with ``S[832:872]``."""

MIN_V1_PARENT_HEIGHT = 103869
"""pktd rejects a version > 0 ann whose parent height is below this (section 1.3)."""

_HEADER_STRUCT = struct.Struct("<B3sIIIII32s32s")


@dataclass(frozen=True)
class AnnHeader:
    """The 88-byte header (section 1.1)."""

    version: int
    soft_nonce: int
    hard_nonce: int
    work_bits: int
    parent_block_height: int
    content_type: int = 0
    content_length: int = 0
    content_hash: bytes = bytes(32)
    signing_key: bytes = bytes(32)

    def to_bytes(self) -> bytes:
        if not 0 <= self.soft_nonce <= 0xFFFFFF:
            raise ValueError("the soft nonce is 24 bits")
        return _HEADER_STRUCT.pack(
            self.version,
            self.soft_nonce.to_bytes(3, "little"),
            self.hard_nonce,
            self.work_bits,
            self.parent_block_height,
            self.content_type,
            self.content_length,
            self.content_hash,
            self.signing_key,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AnnHeader:
        """Parse the first 88 bytes of ``data`` (a header or a whole announcement)."""
        if len(data) < HEADER_SIZE:
            raise ValueError("an announcement header is 88 bytes")
        fields = _HEADER_STRUCT.unpack_from(data, 0)
        return cls(
            version=fields[0],
            soft_nonce=int.from_bytes(fields[1], "little"),
            hard_nonce=fields[2],
            work_bits=fields[3],
            parent_block_height=fields[4],
            content_type=fields[5],
            content_length=fields[6],
            content_hash=fields[7],
            signing_key=fields[8],
        )

    def without_soft_nonce(self) -> AnnHeader:
        """The header with bytes 1..3 zeroed, as it enters annHash0 and annHash1."""
        return replace(self, soft_nonce=0)


def ann_hash0(header_no_soft_nonce: bytes, parent_hash: bytes) -> bytes:
    """``annHash0 = B512(hdr || parentHash || 0^32)`` (152 bytes in)."""
    if len(header_no_soft_nonce) != HEADER_SIZE or len(parent_hash) != 32:
        raise ValueError("annHash0 takes an 88-byte header and a 32-byte parent hash")
    return b512(header_no_soft_nonce + parent_hash + bytes(32))


def ann_hash1(header_no_soft_nonce: bytes, merkle_root: bytes) -> bytes:
    """``annHash1 = B512(hdr || R)`` (152 bytes in)."""
    if len(header_no_soft_nonce) != HEADER_SIZE or len(merkle_root) != HASH_SIZE:
        raise ValueError("annHash1 takes an 88-byte header and a 64-byte root")
    return b512(header_no_soft_nonce + merkle_root)


def table2_seed(merkle_root: bytes, hash0: bytes) -> bytes:
    """``seed2 = B512(R || annHash0)``: progSeed = ``seed2[0:32]``, itemSeed = ``seed2[32:64]``."""
    return b512(merkle_root + hash0)


def assemble_plain(header: AnnHeader, siblings: Sequence[bytes], merkle_root: bytes) -> bytes:
    """The announcement before encryption (section 9 step 9): item 4 prefix all zero."""
    if len(siblings) != DEPTH:
        raise ValueError(f"an announcement carries {DEPTH} siblings")
    return header.to_bytes() + b"".join(siblings) + merkle_root + bytes(ITEM4_PREFIX_SIZE)


def crypt_ann(ann: bytes, final_state: bytes | bytearray) -> bytes:
    """XOR ``ann[88:920]`` with ``S[0:832]`` and ``ann[984:1024]`` with ``S[832:872]``.

    ``final_state`` is the CryptoCycle state after ``final`` (its first 32 bytes are the work
    hash). The operation is its own inverse: it encrypts (section 9 step 10) and decrypts
    (section 10 step 6).
    """
    if len(ann) != ANN_SIZE:
        raise ValueError(f"an announcement is {ANN_SIZE} bytes")
    key = int.from_bytes(final_state[: ENCRYPTED_SIBLINGS_KEY_BYTES + ITEM4_PREFIX_SIZE], "little")
    sib_key = key & ((1 << (8 * ENCRYPTED_SIBLINGS_KEY_BYTES)) - 1)
    prefix_key = key >> (8 * ENCRYPTED_SIBLINGS_KEY_BYTES)
    siblings = int.from_bytes(ann[SIBLINGS_START:SIBLINGS_END], "little") ^ sib_key
    prefix = int.from_bytes(ann[ITEM4_PREFIX_START:], "little") ^ prefix_key
    return (
        ann[:SIBLINGS_START]
        + siblings.to_bytes(ENCRYPTED_SIBLINGS_KEY_BYTES, "little")
        + ann[ROOT_START:ROOT_END]
        + prefix.to_bytes(ITEM4_PREFIX_SIZE, "little")
    )


def siblings_of(ann: bytes) -> list[bytes]:
    """The 13 sibling hashes stored in a (decrypted) announcement."""
    return [
        ann[SIBLINGS_START + HASH_SIZE * i : SIBLINGS_START + HASH_SIZE * (i + 1)]
        for i in range(DEPTH)
    ]


def merkle_root_of(ann: bytes) -> bytes:
    """``ann[920:984]``."""
    return ann[ROOT_START:ROOT_END]
