"""Hash functions and the two byte orders used for 32-byte hashes.

"Internal" order is what travels on the wire and is hashed; "display" order is the
byte-reversed hex that RPCs and explorers print.
"""

import hashlib

from .errors import ParseError


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256, as used by P2PKH and P2WPKH."""
    digest = hashlib.sha256(data).digest()
    try:
        return hashlib.new("ripemd160", digest).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider
        from ._ripemd160 import ripemd160

        return ripemd160(digest)


def hash_to_display(internal: bytes) -> str:
    """Hex in display (byte-reversed) order of a hash given in internal order."""
    return internal[::-1].hex()


def hash_from_display(display_hex: str) -> bytes:
    """Internal-order bytes of a hash written in display order; raises ParseError if malformed."""
    try:
        raw = bytes.fromhex(display_hex)
    except ValueError as exc:
        raise ParseError(f"not a hex hash: {display_hex!r}") from exc
    if len(raw) != 32:
        raise ParseError(f"a hash is 32 bytes, got {len(raw)}")
    return raw[::-1]
