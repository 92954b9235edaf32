"""Bech32 (BIP173) and Bech32m (BIP350) strings and segwit addresses.

Witness version 0 uses Bech32, versions 1..16 use Bech32m. Decoders raise :class:`AddressError`
for malformed strings and :class:`ChecksumError` when the checksum matches neither variant.
"""

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import NamedTuple

from .errors import AddressError, ChecksumError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
MAX_LENGTH = 90
CHECKSUM_LENGTH = 6
MAX_WITNESS_VERSION = 16
MIN_PROGRAM_SIZE = 2
MAX_PROGRAM_SIZE = 40
V0_PROGRAM_SIZES = (20, 32)

_CHARSET_INDEX: dict[str, int] = {char: value for value, char in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Encoding(Enum):
    """Which checksum constant a string uses."""

    BECH32 = 1
    BECH32M = 0x2BC830A3

    @property
    def constant(self) -> int:
        return self.value


class Bech32String(NamedTuple):
    hrp: str  # lower case
    data: list[int]  # 5-bit values, checksum removed
    encoding: Encoding


class SegwitAddress(NamedTuple):
    hrp: str  # lower case
    version: int
    program: bytes


def _polymod(values: Iterable[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: Sequence[int], encoding: Encoding) -> list[int]:
    polymod = _polymod([*_expand_hrp(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ encoding.constant
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(CHECKSUM_LENGTH)]


def _encoding_of_checksum(hrp: str, data: Sequence[int]) -> Encoding | None:
    residue = _polymod([*_expand_hrp(hrp), *data])
    for encoding in Encoding:
        if residue == encoding.constant:
            return encoding
    return None


def _check_hrp(hrp: str) -> None:
    if not hrp:
        raise AddressError("empty human-readable prefix")
    for char in hrp:
        if not 33 <= ord(char) <= 126:
            raise AddressError(f"invalid prefix character U+{ord(char):04X}")


def bech32_encode(hrp: str, data: Sequence[int], encoding: Encoding) -> str:
    """Bech32/Bech32m string for `hrp` and 5-bit `data` (lower case)."""
    hrp = hrp.lower()
    _check_hrp(hrp)
    if any(not 0 <= value < 32 for value in data):
        raise AddressError("bech32 data values must be 5-bit")
    combined = [*data, *_create_checksum(hrp, data, encoding)]
    text = hrp + "1" + "".join(CHARSET[value] for value in combined)
    if len(text) > MAX_LENGTH:
        raise AddressError(f"bech32 string longer than {MAX_LENGTH} characters")
    return text


def _check_characters(text: str) -> None:
    for position, char in enumerate(text):
        if not 33 <= ord(char) <= 126:
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            raise AddressError(f"invalid character {shown} at position {position + 1}")
    if text.lower() != text and text.upper() != text:
        raise AddressError("mixes upper and lower case")


def _data_values(part: str, offset: int) -> list[int]:
    values: list[int] = []
    for position, char in enumerate(part):
        value = _CHARSET_INDEX.get(char)
        if value is None:
            hint = " (bech32 has no 1, b, i or o after the separator)" if char in "1bio" else ""
            raise AddressError(
                f"invalid character {char!r} at position {offset + position + 1}{hint}"
            )
        values.append(value)
    return values


def bech32_decode(text: str) -> Bech32String:
    """Split and verify a Bech32 or Bech32m string; reports which checksum it uses."""
    if len(text) > MAX_LENGTH:
        raise AddressError(f"too long for bech32 ({len(text)} > {MAX_LENGTH} characters)")
    _check_characters(text)
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 0:
        raise AddressError("no '1' separator between prefix and data")
    if separator == 0:
        raise AddressError("empty human-readable prefix")
    if len(lowered) - separator - 1 < CHECKSUM_LENGTH:
        raise AddressError("too short: the checksum needs 6 characters")
    hrp = lowered[:separator]
    values = _data_values(lowered[separator + 1 :], separator + 1)
    encoding = _encoding_of_checksum(hrp, values)
    if encoding is None:
        raise ChecksumError("bad checksum (a character is probably mistyped)")
    return Bech32String(hrp, values[:-CHECKSUM_LENGTH], encoding)


def convert_bits(data: Iterable[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    """Regroup a sequence of `from_bits`-bit values into `to_bits`-bit values.

    Without `pad`, leftover bits must be fewer than `from_bits` and all zero (BIP173).
    """
    accumulator = 0
    bits = 0
    result: list[int] = []
    max_out = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise AddressError(f"value {value} does not fit in {from_bits} bits")
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & max_out)
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & max_out)
    elif bits >= from_bits:
        raise AddressError("too much padding in the data part")
    elif (accumulator << (to_bits - bits)) & max_out:
        raise AddressError("non-zero padding in the data part")
    return result


def check_witness_program(version: int, program: bytes) -> None:
    """Raise AddressError unless (version, program) is a valid segwit output."""
    if not 0 <= version <= MAX_WITNESS_VERSION:
        raise AddressError(f"invalid witness version {version} (must be 0..16)")
    if not MIN_PROGRAM_SIZE <= len(program) <= MAX_PROGRAM_SIZE:
        raise AddressError(f"invalid witness program length {len(program)} (must be 2..40 bytes)")
    if version == 0 and len(program) not in V0_PROGRAM_SIZES:
        raise AddressError(
            f"invalid length {len(program)} for a version 0 witness program (must be 20 or 32)"
        )


def encoding_for_version(version: int) -> Encoding:
    """BIP350: Bech32 for witness version 0, Bech32m for 1..16."""
    return Encoding.BECH32 if version == 0 else Encoding.BECH32M


def encode_segwit_address(hrp: str, version: int, program: bytes) -> str:
    """Segwit address text for a witness version and program (lower case)."""
    check_witness_program(version, program)
    data = [version, *convert_bits(program, 8, 5, pad=True)]
    return bech32_encode(hrp, data, encoding_for_version(version))


def decode_segwit_address(text: str, expected_hrp: str | None = None) -> SegwitAddress:
    """Verify and unpack a segwit address.

    With `expected_hrp`, a different prefix raises AddressError; without it the caller
    checks the returned `hrp`.
    """
    decoded = bech32_decode(text)
    if expected_hrp is not None and decoded.hrp != expected_hrp.lower():
        raise AddressError(f"prefix {decoded.hrp!r} is not the expected {expected_hrp.lower()!r}")
    if not decoded.data:
        raise AddressError("empty data part: no witness version")
    version = decoded.data[0]
    if version > MAX_WITNESS_VERSION:
        raise AddressError(f"invalid witness version {version} (must be 0..16)")
    program = bytes(convert_bits(decoded.data[1:], 5, 8, pad=False))
    check_witness_program(version, program)
    if decoded.encoding is not encoding_for_version(version):
        expected = "bech32" if version == 0 else "bech32m"
        raise ChecksumError(
            f"bad checksum: a version {version} address must use the {expected} checksum"
        )
    return SegwitAddress(decoded.hrp, version, program)
