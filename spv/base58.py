"""Base58 and Base58Check (4-byte sha256d checksum), as used by P2PKH/P2SH addresses and WIF keys.

Decoders raise :class:`AddressError` for characters outside the alphabet or input that is too
short, and :class:`ChecksumError` when the checksum does not match.
"""

from .errors import AddressError, ChecksumError
from .hashes import sha256d

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CHECKSUM_SIZE = 4

_INDEX: dict[str, int] = {char: value for value, char in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 text of `data`; each leading zero byte becomes a leading '1'."""
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * leading_zeros + "".join(reversed(digits))


def _describe_bad_char(char: str, position: int) -> str:
    shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
    hint = " (base58 has no 0, O, I or l)" if char in "0OIl" else ""
    return f"invalid character {shown} at position {position + 1}{hint}"


def b58decode(text: str) -> bytes:
    """Bytes encoded by base58 `text`; raises AddressError on a character outside the alphabet."""
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise AddressError(_describe_bad_char(char, position))
        number = number * 58 + value
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * leading_zeros + body


def checksum(payload: bytes) -> bytes:
    """The Base58Check checksum: the first 4 bytes of sha256d(payload)."""
    return sha256d(payload)[:CHECKSUM_SIZE]


def b58check_encode(payload: bytes) -> str:
    """Base58 text of `payload` followed by its 4-byte checksum."""
    return b58encode(payload + checksum(payload))


def b58check_decode(text: str) -> bytes:
    """The payload of Base58Check `text` (checksum verified and removed).

    Raises AddressError for bad characters or a string too short to hold a checksum, and
    ChecksumError when the checksum does not match.
    """
    raw = b58decode(text)
    if len(raw) <= CHECKSUM_SIZE:
        raise AddressError("too short to be a base58check string")
    payload, check = raw[:-CHECKSUM_SIZE], raw[-CHECKSUM_SIZE:]
    if checksum(payload) != check:
        raise ChecksumError("bad checksum (a character is probably mistyped)")
    return payload
