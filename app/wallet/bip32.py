"""BIP32 hierarchical deterministic keys on secp256k1, plus pktwallet's derivation quirk.

Keys are :class:`ExtendedKey` values: immutable, comparable, and never showing secret material
in their ``repr``. Serialization uses the version bytes of a :class:`KeyVersions` pair, taken from
the network parameters (``KeyVersions.for_network``) or, for Bitcoin data, ``BITCOIN_MAINNET``.

Non-standard hardened derivation (pktwallet)
--------------------------------------------
pktwallet derives its keys with btcutil's ``DeriveNonStandard`` (btcutil issue #172). The
derived private key is held as a minimal big-endian integer (leading zero bytes dropped), and
a hardened child hashes ``0x00 || key || u32be(index)`` with that short key copied left-aligned
into a 32-byte field, so a parent key with leading zero bytes gets its zero padding at the end of
the field instead of the start. A master key, or a key parsed from an xprv string, is held as
full 32 bytes and is unaffected. Pass ``nonstandard=True`` to :meth:`ExtendedKey.derive_child`
or :meth:`ExtendedKey.derive_path` to reproduce it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import coincurve

from spv.base58 import b58check_decode, b58check_encode
from spv.errors import AddressError, ChecksumError
from spv.hashes import hash160
from spv.params import NETWORKS, NetworkParams

HARDENED = 0x8000_0000
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MASTER_HMAC_KEY = b"Bitcoin seed"
SERIALIZED_SIZE = 78
MAX_DEPTH = 255
MIN_SEED_SIZE = 16  # BIP32 recommends 128..512 bits; pktwallet seeds are 19 bytes
MAX_SEED_SIZE = 64


class Bip32Error(ValueError):
    """Base class of BIP32 errors. Messages never contain key material."""


class InvalidExtendedKeyError(Bip32Error):
    """An xprv/xpub string that cannot be decoded into a valid key."""


class ExtendedKeyChecksumError(InvalidExtendedKeyError):
    """The base58check checksum of an extended key string does not match."""


class WrongNetworkKeyError(InvalidExtendedKeyError):
    """A well-formed extended key whose version bytes belong to another network."""


class InvalidPathError(Bip32Error):
    """A derivation path that cannot be parsed or applied."""


class HardenedFromPublicError(Bip32Error):
    """A hardened child was requested from a public-only key."""


class InvalidChildError(Bip32Error):
    """The derivation produced an invalid key (probability below 2**-127); use the next index."""


@dataclass(frozen=True)
class KeyVersions:
    """The 4-byte version prefixes of serialized private and public extended keys."""

    private: int
    public: int
    name: str = ""

    @classmethod
    def for_network(cls, params: NetworkParams) -> KeyVersions:
        return cls(params.xprv_version, params.xpub_version, params.name)


BITCOIN_MAINNET = KeyVersions(0x0488ADE4, 0x0488B21E, "bitcoin-mainnet")


def _known_versions() -> list[KeyVersions]:
    return [KeyVersions.for_network(p) for p in NETWORKS.values()] + [BITCOIN_MAINNET]


def _hmac_sha512(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha512).digest()


def _is_valid_scalar(value: int) -> bool:
    return 0 < value < SECP256K1_ORDER


def _public_from_private(private_key: bytes) -> bytes:
    return bytes(coincurve.PrivateKey(private_key).public_key.format(compressed=True))


def is_hardened(index: int) -> bool:
    return index >= HARDENED


# --- paths ----------------------------------------------------------------------------------------


def parse_path(path: str) -> tuple[int, ...]:
    """Child indices of a path such as ``m/84'/0'/0'/0/5`` (``h``/``H`` also mark hardened).

    The leading ``m`` is optional; ``m`` alone is the empty path.
    """
    text = path.strip()
    if not text:
        raise InvalidPathError("empty derivation path")
    parts = text.split("/")
    if parts[0] in ("m", "M"):
        parts = parts[1:]
    indices: list[int] = []
    for position, part in enumerate(parts, start=1):
        indices.append(_parse_path_component(part.strip(), position))
    return tuple(indices)


def _parse_path_component(part: str, position: int) -> int:
    hardened = part.endswith(("'", "h", "H"))
    digits = part[:-1] if hardened else part
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InvalidPathError(f"path component {position} ({part!r}) is not an index")
    if len(digits) > 1 and digits.startswith("0"):
        raise InvalidPathError(f"path component {position} ({part!r}) has a leading zero")
    value = int(digits)
    if value >= HARDENED:
        raise InvalidPathError(
            f"path component {position} ({part!r}) is too large (indices are below 2^31; "
            "mark hardened indices with ')"
        )
    return value + HARDENED if hardened else value


def format_path(indices: Sequence[int]) -> str:
    """``m/...`` text of child indices, with ``'`` for hardened ones."""
    parts = ["m"]
    for index in indices:
        if not 0 <= index <= 0xFFFF_FFFF:
            raise InvalidPathError(f"child index {index} is outside 0..2^32-1")
        parts.append(f"{index - HARDENED}'" if is_hardened(index) else str(index))
    return "/".join(parts)


def _as_indices(path: str | Sequence[int]) -> tuple[bool, tuple[int, ...]]:
    """(path is absolute, indices)."""
    if isinstance(path, str):
        return path.strip()[:1] in ("m", "M"), parse_path(path)
    return False, tuple(path)


# --- extended keys --------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ExtendedKey:
    """A BIP32 extended private or public key.

    ``private_key`` is 32 bytes (or None for a public-only key); ``public_key`` is always the
    33-byte compressed point. ``held_minimal`` records that the key came out of a derivation
    (see the module docstring); it only matters to ``nonstandard`` hardened derivation and is
    ignored by equality.
    """

    versions: KeyVersions
    depth: int
    parent_fingerprint: bytes
    child_number: int
    chain_code: bytes
    public_key: bytes
    private_key: bytes | None = None
    held_minimal: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.depth <= MAX_DEPTH:
            raise Bip32Error("depth must be 0..255")
        if len(self.parent_fingerprint) != 4 or len(self.chain_code) != 32:
            raise Bip32Error("parent fingerprint is 4 bytes and chain code 32 bytes")
        if not 0 <= self.child_number <= 0xFFFF_FFFF:
            raise Bip32Error("child number must be 0..2^32-1")
        if len(self.public_key) != 33 or self.public_key[0] not in (2, 3):
            raise Bip32Error("public key must be 33 bytes, compressed")
        if self.private_key is not None and (
            len(self.private_key) != 32
            or not _is_valid_scalar(int.from_bytes(self.private_key, "big"))
        ):
            raise Bip32Error("private key must be 32 bytes in 1..n-1")

    # -- construction --

    @classmethod
    def from_seed(cls, seed: bytes, versions: KeyVersions) -> ExtendedKey:
        """The master key of `seed` (HMAC-SHA512 keyed with ``"Bitcoin seed"``)."""
        if not MIN_SEED_SIZE <= len(seed) <= MAX_SEED_SIZE:
            raise Bip32Error(f"seed must be {MIN_SEED_SIZE}..{MAX_SEED_SIZE} bytes")
        digest = _hmac_sha512(MASTER_HMAC_KEY, seed)
        secret, chain_code = digest[:32], digest[32:]
        if not _is_valid_scalar(int.from_bytes(secret, "big")):
            raise InvalidChildError("this seed gives an invalid master key")
        return cls(
            versions=versions,
            depth=0,
            parent_fingerprint=b"\x00" * 4,
            child_number=0,
            chain_code=chain_code,
            public_key=_public_from_private(secret),
            private_key=secret,
        )

    @classmethod
    def from_string(cls, text: str, versions: KeyVersions) -> ExtendedKey:
        """Parse an xprv/xpub string, checking it belongs to the network of `versions`."""
        try:
            payload = b58check_decode(text.strip())
        except ChecksumError:
            raise ExtendedKeyChecksumError(
                "extended key checksum mismatch (a character is probably mistyped)"
            ) from None
        except AddressError as exc:
            raise InvalidExtendedKeyError(f"not an extended key: {exc}") from None
        return cls.from_bytes(payload, versions)

    @classmethod
    def from_bytes(cls, payload: bytes, versions: KeyVersions) -> ExtendedKey:
        """Parse the 78-byte serialization (without checksum)."""
        if len(payload) != SERIALIZED_SIZE:
            raise InvalidExtendedKeyError(
                f"an extended key is {SERIALIZED_SIZE} bytes, got {len(payload)}"
            )
        version = int.from_bytes(payload[0:4], "big")
        depth = payload[4]
        parent_fingerprint = payload[5:9]
        child_number = int.from_bytes(payload[9:13], "big")
        chain_code = payload[13:45]
        key_data = payload[45:78]
        if version == versions.private:
            is_private = True
        elif version == versions.public:
            is_private = False
        else:
            raise _version_error(version, versions)
        if depth == 0 and (parent_fingerprint != b"\x00" * 4 or child_number != 0):
            raise InvalidExtendedKeyError(
                "a depth-0 key must have a zero parent fingerprint and child number"
            )
        if is_private:
            if key_data[0] != 0:
                raise InvalidExtendedKeyError("private key data must start with 0x00")
            private_key = key_data[1:]
            if not _is_valid_scalar(int.from_bytes(private_key, "big")):
                raise InvalidExtendedKeyError("private key is not in 1..n-1")
            public_key = _public_from_private(private_key)
        else:
            if key_data[0] not in (2, 3):
                raise InvalidExtendedKeyError("public key data must start with 0x02 or 0x03")
            try:
                coincurve.PublicKey(key_data)
            except ValueError:
                raise InvalidExtendedKeyError("public key is not a point on the curve") from None
            private_key = None
            public_key = key_data
        return cls(
            versions=versions,
            depth=depth,
            parent_fingerprint=parent_fingerprint,
            child_number=child_number,
            chain_code=chain_code,
            public_key=public_key,
            private_key=private_key,
        )

    # -- properties --

    @property
    def is_private(self) -> bool:
        return self.private_key is not None

    @property
    def identifier(self) -> bytes:
        return hash160(self.public_key)

    @property
    def fingerprint(self) -> bytes:
        return self.identifier[:4]

    def neutered(self) -> ExtendedKey:
        """The public-only key with the same chain code."""
        return ExtendedKey(
            versions=self.versions,
            depth=self.depth,
            parent_fingerprint=self.parent_fingerprint,
            child_number=self.child_number,
            chain_code=self.chain_code,
            public_key=self.public_key,
        )

    # -- serialization --

    def to_bytes(self) -> bytes:
        """The 78-byte BIP32 serialization (private form for a private key)."""
        if self.private_key is not None:
            version, key_data = self.versions.private, b"\x00" + self.private_key
        else:
            version, key_data = self.versions.public, self.public_key
        return (
            version.to_bytes(4, "big")
            + bytes([self.depth])
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + key_data
        )

    def to_string(self) -> str:
        """xprv text for a private key, xpub text for a public one."""
        return b58check_encode(self.to_bytes())

    def xpub(self) -> str:
        return self.neutered().to_string()

    def __repr__(self) -> str:
        kind = "private" if self.is_private else "public"
        return (
            f"ExtendedKey({kind}, network={self.versions.name or '?'}, depth={self.depth}, "
            f"child={_describe_index(self.child_number)}, fingerprint={self.fingerprint.hex()})"
        )

    # -- derivation --

    def derive_child(self, index: int, *, nonstandard: bool = False) -> ExtendedKey:
        """CKDpriv (for a private key) or CKDpub (for a public key) of child `index`.

        With `nonstandard`, hardened children are derived the way pktwallet does it.
        """
        if not 0 <= index <= 0xFFFF_FFFF:
            raise InvalidPathError(f"child index {index} is outside 0..2^32-1")
        if self.depth == MAX_DEPTH:
            raise InvalidPathError("cannot derive beyond depth 255")
        if is_hardened(index):
            if self.private_key is None:
                raise HardenedFromPublicError("a hardened child needs the private key")
            data = b"\x00" + self._hardened_key_field(nonstandard) + index.to_bytes(4, "big")
        else:
            data = self.public_key + index.to_bytes(4, "big")
        digest = _hmac_sha512(self.chain_code, data)
        tweak, chain_code = digest[:32], digest[32:]
        tweak_value = int.from_bytes(tweak, "big")
        if tweak_value >= SECP256K1_ORDER:
            raise InvalidChildError(f"child {_describe_index(index)} is invalid; skip it")
        if self.private_key is not None:
            child_value = (tweak_value + int.from_bytes(self.private_key, "big")) % SECP256K1_ORDER
            if child_value == 0:
                raise InvalidChildError(f"child {_describe_index(index)} is invalid; skip it")
            child_private: bytes | None = child_value.to_bytes(32, "big")
            child_public = _public_from_private(child_value.to_bytes(32, "big"))
        else:
            child_private = None
            try:
                point = coincurve.PublicKey(self.public_key).add(tweak)
            except ValueError:
                raise InvalidChildError(
                    f"child {_describe_index(index)} is invalid; skip it"
                ) from None
            child_public = bytes(point.format(compressed=True))
        return ExtendedKey(
            versions=self.versions,
            depth=self.depth + 1,
            parent_fingerprint=self.fingerprint,
            child_number=index,
            chain_code=chain_code,
            public_key=child_public,
            private_key=child_private,
            held_minimal=True,
        )

    def _hardened_key_field(self, nonstandard: bool) -> bytes:
        assert self.private_key is not None
        if nonstandard and self.held_minimal:
            return self.private_key.lstrip(b"\x00").ljust(32, b"\x00")
        return self.private_key

    def derive_path(self, path: str | Sequence[int], *, nonstandard: bool = False) -> ExtendedKey:
        """Follow `path` (text like ``m/84'/0'/0'`` or child indices) from this key.

        A text path starting with ``m`` is absolute and requires a master key (depth 0).
        """
        absolute, indices = _as_indices(path)
        if absolute and self.depth != 0:
            raise InvalidPathError("an absolute path (m/...) must start from the master key")
        key = self
        for index in indices:
            key = key.derive_child(index, nonstandard=nonstandard)
        return key


def _describe_index(index: int) -> str:
    return f"{index - HARDENED}'" if is_hardened(index) else str(index)


def _version_error(version: int, expected: KeyVersions) -> InvalidExtendedKeyError:
    matches = [k for k in _known_versions() if version in (k.private, k.public)]
    if not matches:
        return InvalidExtendedKeyError(f"unknown extended key version 0x{version:08x}")
    kind = "private" if version == matches[0].private else "public"
    names = "/".join(k.name for k in matches)
    wanted = expected.name or "this network"
    return WrongNetworkKeyError(f"this extended {kind} key is for {names}, not {wanted}")


def master_key_from_seed(seed: bytes, params: NetworkParams) -> ExtendedKey:
    """The master key of `seed` with `params`' version bytes."""
    return ExtendedKey.from_seed(seed, KeyVersions.for_network(params))


def parse_extended_key(text: str, params: NetworkParams) -> ExtendedKey:
    """Parse an xprv/xpub of `params`' network."""
    return ExtendedKey.from_string(text, KeyVersions.for_network(params))
