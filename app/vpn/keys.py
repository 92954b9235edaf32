"""cjdns keys, addresses and signatures.

* cjdns base32: alphabet ``0123456789bcdfghjklmnpqrstuvwxyz``, least-significant bits first;
  decoding rejects leftover bits exactly as cjdns ``util/Base32.h`` does.
* A public key is 52 base32 characters + ``.k`` (32 bytes, a Curve25519 key); its IPv6 address is
  the first 16 bytes of sha512(sha512(key)) and must start with ``fc``.
* ``Sign_sign`` returns ``<base32 Ed25519 public signing key>_<base32 64-byte signature>``; the
  signed message is the ``msgHash`` string. The signer's cjdns key is the Curve25519 form of the
  signing key, u = (1 + y) / (1 - y) mod 2^255 - 19.
"""

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALPHABET = "0123456789bcdfghjklmnpqrstuvwxyz"
_VALUE = {c: i for i, c in enumerate(ALPHABET)} | {c.upper(): i for i, c in enumerate(ALPHABET)}
_P = 2**255 - 19


class CjdnsKeyError(ValueError):
    """A cjdns key or signature that does not parse; the message is cjdns's own wording."""


def b32_encode(data: bytes) -> str:
    out: list[str] = []
    work = bits = 0
    for byte in data:
        work |= byte << bits
        bits += 8
        while bits >= 5:
            out.append(ALPHABET[work & 31])
            work >>= 5
            bits -= 5
    if bits:
        out.append(ALPHABET[work & 31])
    return "".join(out)


def b32_decode(text: str) -> bytes:
    out = bytearray()
    work = bits = 0
    for ch in text:
        value = _VALUE.get(ch)
        if value is None:
            raise CjdnsKeyError(f"invalid base32 character {ch!r}")
        work |= value << bits
        bits += 5
        if bits >= 8:
            out.append(work & 0xFF)
            work >>= 8
            bits -= 8
    if bits >= 5 or work:
        raise CjdnsKeyError("invalid base32 padding")
    return bytes(out)


def address_for_key(key: bytes) -> bytes:
    """The 16-byte cjdns IPv6 address of a 32-byte public key (valid only if it starts 0xfc)."""
    return hashlib.sha512(hashlib.sha512(key).digest()).digest()[:16]


def format_ipv6(address: bytes) -> str:
    """cjdns's printing: eight groups of four hex digits, leading zeros kept."""
    return ":".join(address[i : i + 2].hex() for i in range(0, 16, 2))


def parse_public_key(text: str) -> bytes:
    """The 32 key bytes of ``<52 chars>.k``; raises CjdnsKeyError with cjdns's Key_parse messages."""
    if len(text) < 52:
        raise CjdnsKeyError("key must be 52 characters long")
    if text[52:54] != ".k" or len(text) != 54:
        raise CjdnsKeyError("key must end in .k")
    try:
        key = b32_decode(text[:52])
    except CjdnsKeyError:
        raise CjdnsKeyError("failed to base-32 decode key") from None
    if len(key) != 32:
        raise CjdnsKeyError("failed to base-32 decode key")
    if address_for_key(key)[0] != 0xFC:
        raise CjdnsKeyError("not a valid cjdns public key")
    return key


def is_public_key(text: str) -> bool:
    try:
        parse_public_key(text)
    except CjdnsKeyError:
        return False
    return True


def format_public_key(key: bytes) -> str:
    if len(key) != 32:
        raise CjdnsKeyError("a public key has 32 bytes")
    return b32_encode(key) + ".k"


def key_to_ipv6(key: str | bytes) -> str:
    raw = parse_public_key(key) if isinstance(key, str) else key
    return format_ipv6(address_for_key(raw))


def ed25519_to_curve25519(public_signing_key: bytes) -> bytes:
    """Montgomery u-coordinate of an Ed25519 public key (the cjdns key of a signer)."""
    if len(public_signing_key) != 32:
        raise CjdnsKeyError("a signing key has 32 bytes")
    y = int.from_bytes(public_signing_key, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:
        raise CjdnsKeyError("not a valid curve25519 key")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def format_signature(public_signing_key: bytes, signature: bytes) -> str:
    return f"{b32_encode(public_signing_key)}_{b32_encode(signature)}"


def verify_signature(signature: str, msg_hash: str | bytes) -> str:
    """Check a ``Sign_sign`` signature over ``msg_hash``; returns the signer's cjdns key.

    Raises CjdnsKeyError with the messages of cjdns ``Sign_checkSig``."""
    message = msg_hash.encode() if isinstance(msg_hash, str) else msg_hash
    if len(message) > 64:
        raise CjdnsKeyError("msgHash too long, max 64 bytes")
    head, sep, tail = signature.partition("_")
    if not sep:
        raise CjdnsKeyError("malformed signature, missing separator")
    try:
        signing_key = b32_decode(head)
        if len(signing_key) != 32:
            raise CjdnsKeyError("length")
    except CjdnsKeyError:
        raise CjdnsKeyError("malformed signature, failed to decode pubkey") from None
    try:
        sig = b32_decode(tail)
        if len(sig) != 64:
            raise CjdnsKeyError("length")
    except CjdnsKeyError:
        raise CjdnsKeyError("malformed signature, failed to decode signature") from None
    try:
        Ed25519PublicKey.from_public_bytes(signing_key).verify(sig, message)
    except (InvalidSignature, ValueError):
        raise CjdnsKeyError("invalid signature") from None
    return format_public_key(ed25519_to_curve25519(signing_key))
