"""Hash and stream-cipher primitives used by PacketCrypt (spec section 2).

* ``b512`` / ``b256``: unkeyed BLAKE2b with a 64- or 32-byte digest (B256 is *not* a truncated
  B512; the digest size is a BLAKE2b parameter).
* ``chacha20_*``: IETF ChaCha20 (RFC 8439, 32-bit block counter, 96-bit nonce).
* ``poly1305``: the one-time authenticator of RFC 8439 section 2.5.
* ``expand``: PacketCrypt's ``Hash_expand``, a ChaCha20 keystream used as a PRNG.

ChaCha20 and Poly1305 come from the ``cryptography`` package (OpenSSL); the test-suite checks
them against the RFC 8439 vectors.
"""

from __future__ import annotations

import hashlib
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.poly1305 import Poly1305

CHACHA_BLOCK = 64
"""ChaCha20 block size in bytes."""

EXPAND_NONCE_SUFFIX = b"PC_EXPND"
"""The 8 ASCII bytes that follow ``u32le(num)`` in the nonce of ``Expand`` (spec section 2)."""


def b512(data: bytes | bytearray | memoryview) -> bytes:
    """``B512(x)``: unkeyed BLAKE2b with a 64-byte digest."""
    return hashlib.blake2b(data).digest()


def b256(data: bytes | bytearray | memoryview) -> bytes:
    """``B256(x)``: unkeyed BLAKE2b with digest size 32 (not a truncated B512)."""
    return hashlib.blake2b(data, digest_size=32).digest()


def _chacha20(key: bytes, nonce12: bytes, counter: int) -> Cipher[None]:
    """A ChaCha20 cipher positioned at block ``counter``.

    ``cryptography`` takes a 16-byte "nonce" made of the 32-bit little-endian block counter
    followed by the 12-byte IETF nonce.
    """
    if len(key) != 32 or len(nonce12) != 12:
        raise ValueError("ChaCha20 needs a 32-byte key and a 12-byte nonce")
    full_nonce = struct.pack("<I", counter) + bytes(nonce12)
    return Cipher(algorithms.ChaCha20(bytes(key), full_nonce), mode=None)


def chacha20_keystream(key: bytes, nonce12: bytes, counter: int, length: int) -> bytes:
    """``length`` bytes of the ChaCha20 keystream starting at block ``counter``."""
    return _chacha20(key, nonce12, counter).encryptor().update(bytes(length))


def chacha20_xor(key: bytes, nonce12: bytes, counter: int, data: bytes) -> bytes:
    """``data`` XOR the ChaCha20 keystream starting at block ``counter``."""
    return _chacha20(key, nonce12, counter).encryptor().update(bytes(data))


def poly1305(key32: bytes, data: bytes) -> bytes:
    """The 16-byte Poly1305 tag of ``data`` under the one-time key ``key32``."""
    return Poly1305.generate_tag(bytes(key32), bytes(data))


def expand(length: int, seed32: bytes, num: int) -> bytes:
    """``Expand(len, seed32, num)`` (C/Go ``Hash_expand``), spec section 2.

    The first ``length`` bytes of ChaCha20 keystream with key ``seed32`` and nonce
    ``u32le(num) || "PC_EXPND"``, block counter 0.
    """
    nonce = struct.pack("<I", num & 0xFFFFFFFF) + EXPAND_NONCE_SUFFIX
    return chacha20_keystream(seed32, nonce, 0, length)
