"""CryptoCycle: PacketCrypt's 2048-byte state machine (spec section 3).

Layout of the state ``S`` (a ``bytearray`` of 2048 bytes):

====================  ==========================================================
``S[0:12]``           ChaCha20 nonce (``S[0:8]`` holds the u64 nonce after init)
``S[12:16]``          header word ``W`` (u32 LE, bit fields below)
``S[16:48]``          ChaCha20 key; ``S[16:32]`` also receives the Poly1305 tag
``S[48:2048]``        payload: additional data then message, 125 blocks of 16
====================  ==========================================================

Every function here works in place on the ``bytearray`` so the state can be snapshotted
(``bytes(state)``) between any two steps.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .primitives import b256, chacha20_xor, expand, poly1305

STATE_SIZE = 2048
ITEM_SIZE = 1024
PAYLOAD_OFFSET = 48
PAYLOAD_BLOCKS = 125
"""``(2048 - 48) / 16``: the payload holds 125 blocks of 16 bytes."""

ITEM_OFFSET = 32
"""``update`` copies the 1024-byte item to ``S[32:1056]``."""

TABLE_SIZE = 8192
"""Announcement tables have 8192 items; ``itemNo`` is reduced modulo this."""

_U64_MASK = (1 << 64) - 1

# Bit fields of the header word W (spec section 3, "Bit fields of W").
_AZC_MASK = 0xF  # bits 0-3: additional-data zero count
_TZC_SHIFT = 8  # bits 8-11: trailing zero count
_DECRYPT_BIT = 1 << 12  # bit 12
_ADD_LEN_SHIFT = 13  # bits 13-15: additional data length in 16-byte blocks
_TRUNCATED_BIT = 1 << 16  # bit 16
_LEN_SHIFT = 17  # bits 17-23: message length in 16-byte blocks
_LEN_MASK = 0x7F
_FAILED_BIT = 1 << 24  # bit 24
_VERSION_SHIFT = 25  # bits 25-31
_MIN_LEN = 32
"""makeFuzzable forces ``len |= 32`` so every cycle encrypts at least 512 bytes."""


@dataclass(frozen=True)
class HeaderWord:
    """The decoded header word ``W = u32le(S[12:16])`` (for inspection and tests)."""

    azc: int
    tzc: int
    decrypt: bool
    add_len: int
    truncated: bool
    length: int
    failed: bool
    version: int
    unused: int = 0
    """Bits 4-7, which nothing reads."""

    @classmethod
    def from_u32(cls, word: int) -> HeaderWord:
        return cls(
            azc=word & _AZC_MASK,
            tzc=(word >> _TZC_SHIFT) & 0xF,
            decrypt=bool(word & _DECRYPT_BIT),
            add_len=(word >> _ADD_LEN_SHIFT) & 0x7,
            truncated=bool(word & _TRUNCATED_BIT),
            length=(word >> _LEN_SHIFT) & _LEN_MASK,
            failed=bool(word & _FAILED_BIT),
            version=word >> _VERSION_SHIFT,
            unused=(word >> 4) & 0xF,
        )

    def to_u32(self) -> int:
        return (
            (self.azc & _AZC_MASK)
            | (self.tzc & 0xF) << _TZC_SHIFT
            | (_DECRYPT_BIT if self.decrypt else 0)
            | (self.add_len & 0x7) << _ADD_LEN_SHIFT
            | (_TRUNCATED_BIT if self.truncated else 0)
            | (self.length & _LEN_MASK) << _LEN_SHIFT
            | (_FAILED_BIT if self.failed else 0)
            | (self.version & 0x7F) << _VERSION_SHIFT
            | (self.unused & 0xF) << 4
        )


def read_header(state: bytearray | bytes) -> HeaderWord:
    """Decode the header word of ``state``."""
    return HeaderWord.from_u32(int.from_bytes(state[12:16], "little"))


def write_header(state: bytearray, header: HeaderWord) -> None:
    """Encode ``header`` into ``state[12:16]``."""
    state[12:16] = struct.pack("<I", header.to_u32())


def make_fuzzable(state: bytearray) -> None:
    """makeFuzzable(S): ``W = S[16:20]``, version = 0, F = 0, ``len |= 32`` (section 3)."""
    word = int.from_bytes(state[16:20], "little")
    word &= ~(_FAILED_BIT | (0x7F << _VERSION_SHIFT)) & 0xFFFFFFFF
    word |= _MIN_LEN << _LEN_SHIFT
    state[12:16] = struct.pack("<I", word)


def crypt(state: bytearray) -> None:
    """crypt(S): ChaCha20 over the message, Poly1305 tag into ``S[16:32]`` (section 3).

    With version != 0 or F set the C code only sets F and returns; after makeFuzzable that
    never happens, but the rule is kept so the function is total.
    """
    word = int.from_bytes(state[12:16], "little")
    if word >> _VERSION_SHIFT or word & _FAILED_BIT:
        state[12:16] = struct.pack("<I", word | _FAILED_BIT)
        return

    key = bytes(state[16:48])
    nonce = bytes(state[0:12])
    # Block 0 of the keystream is the Poly1305 key; the message uses blocks 1, 2, ...
    poly_key = chacha20_xor(key, nonce, 0, bytes(32))

    add_len = (word >> _ADD_LEN_SHIFT) & 0x7
    length = (word >> _LEN_SHIFT) & _LEN_MASK
    final_len = min(length, PAYLOAD_BLOCKS - add_len)
    word &= ~(_TRUNCATED_BIT | (_LEN_MASK << _LEN_SHIFT)) & 0xFFFFFFFF
    word |= (_TRUNCATED_BIT if final_len != length else 0) | final_len << _LEN_SHIFT
    state[12:16] = struct.pack("<I", word)

    ad_bytes = 16 * add_len
    msg_bytes = 16 * final_len
    tzc = (word >> _TZC_SHIFT) & 0xF
    azc = word & _AZC_MASK
    msg_start = PAYLOAD_OFFSET + ad_bytes
    msg_end = msg_start + msg_bytes
    additional_data = bytes(state[PAYLOAD_OFFSET:msg_start])
    message = bytes(state[msg_start:msg_end])

    if word & _DECRYPT_BIT:
        # Decrypt: authenticate the ciphertext first, then decrypt; nothing is zeroed.
        authenticated = message
        output = chacha20_xor(key, nonce, 1, message)
    else:
        # Encrypt: encrypt, zero the last tzc bytes, then authenticate the ciphertext.
        output = chacha20_xor(key, nonce, 1, message)
        if tzc:
            output = output[: msg_bytes - tzc] + bytes(tzc)
        authenticated = output
    state[msg_start:msg_end] = output

    lengths = struct.pack("<QQ", (ad_bytes - azc) & _U64_MASK, (msg_bytes - tzc) & _U64_MASK)
    state[16:32] = poly1305(poly_key, additional_data + authenticated + lengths)


def init(seed32: bytes, nonce: int) -> bytearray:
    """init(seed32, nonce): ``Expand(2048, seed, 0)``, ``S[0:8] = u64le(nonce)``, makeFuzzable."""
    state = bytearray(expand(STATE_SIZE, seed32, 0))
    state[0:8] = struct.pack("<Q", nonce & _U64_MASK)
    make_fuzzable(state)
    return state


def update(state: bytearray, item: bytes) -> None:
    """update(S, item): ``S[32:1056] = item``; makeFuzzable; crypt."""
    if len(item) != ITEM_SIZE:
        raise ValueError(f"an item is {ITEM_SIZE} bytes, got {len(item)}")
    state[ITEM_OFFSET : ITEM_OFFSET + ITEM_SIZE] = item
    make_fuzzable(state)
    crypt(state)


def item_no_u64(state: bytearray | bytes) -> int:
    """The full 64-bit ``u64le(S[16:24])`` (block proofs use it unreduced, spec section 18.3)."""
    return int.from_bytes(state[16:24], "little")


def item_no(state: bytearray | bytes) -> int:
    """itemNo(S) = ``u64le(S[16:24]) mod 8192``."""
    return item_no_u64(state) % TABLE_SIZE


def final(state: bytearray) -> bytes:
    """final(S): ``S[0:32] = B256(S)``; returns the 32-byte work hash (internal order)."""
    digest = b256(state)
    state[0:32] = digest
    return digest
