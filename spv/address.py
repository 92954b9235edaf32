"""Addresses (P2PKH, P2SH, segwit v0..v16), their output scripts, and WIF private keys.

`decode_address` accepts text typed or pasted by a user: surrounding whitespace is ignored,
bech32 addresses may be all upper case, and every failure is a one-line :class:`AddressError`
(:class:`ChecksumError` for a mistyped character, :class:`WrongNetworkError` for a valid
address of another known network).
"""

from dataclasses import dataclass
from typing import Literal

from .base58 import b58check_decode, b58check_encode
from .bech32 import (
    CHARSET,
    check_witness_program,
    decode_segwit_address,
    encode_segwit_address,
)
from .errors import AddressError, ParseError, WrongNetworkError
from .hashes import hash160, sha256
from .params import NETWORKS, NetworkParams
from .script import (
    OP_0,
    OP_1,
    OP_CHECKSIG,
    OP_DUP,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_HASH160,
    split_vote,
    witness_program,
)

AddressKind = Literal["p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr", "witness_unknown"]

MAX_ADDRESS_LENGTH = 90  # the bech32 limit; base58 addresses are at most 35 characters
MAX_WIF_LENGTH = 60
HASH160_SIZE = 20
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


_P2PKH_SIZE = 25
_P2SH_SIZE = 23


def _witness_kind(version: int, program: bytes) -> AddressKind:
    if version == 0:
        return "p2wpkh" if len(program) == 20 else "p2wsh"
    if version == 1 and len(program) == 32:
        return "p2tr"
    return "witness_unknown"


def _witness_version_opcode(version: int) -> int:
    return OP_0 if version == 0 else OP_1 + version - 1


@dataclass(frozen=True)
class Address:
    """A decoded address: what it pays to, independent of its text form."""

    kind: AddressKind
    payload: bytes  # the 20-byte hash (p2pkh, p2sh) or the witness program
    witness_version: int | None
    network: str  # NetworkParams.name

    def __post_init__(self) -> None:
        if self.kind in ("p2pkh", "p2sh"):
            if self.witness_version is not None:
                raise AddressError(f"a {self.kind} address has no witness version")
            if len(self.payload) != HASH160_SIZE:
                raise AddressError(f"a {self.kind} address holds a 20-byte hash")
            return
        if self.witness_version is None:
            raise AddressError(f"a {self.kind} address needs a witness version")
        check_witness_program(self.witness_version, self.payload)
        if _witness_kind(self.witness_version, self.payload) != self.kind:
            raise AddressError(
                f"version {self.witness_version} program of {len(self.payload)} bytes "
                f"is not {self.kind}"
            )

    def to_script(self) -> bytes:
        """The output script (scriptPubKey) that pays to this address."""
        if self.kind == "p2pkh":
            return (
                bytes([OP_DUP, OP_HASH160, HASH160_SIZE])
                + self.payload
                + bytes([OP_EQUALVERIFY, OP_CHECKSIG])
            )
        if self.kind == "p2sh":
            return bytes([OP_HASH160, HASH160_SIZE]) + self.payload + bytes([OP_EQUAL])
        assert self.witness_version is not None  # enforced by __post_init__
        opcode = _witness_version_opcode(self.witness_version)
        return bytes([opcode, len(self.payload)]) + self.payload

    def encode(self, params: NetworkParams) -> str:
        """The address text on `params`' network (bech32 in lower case)."""
        if params.name != self.network:
            raise AddressError(
                f"cannot write a {self.network} address for {params.name}; decode it again"
            )
        if self.kind == "p2pkh":
            return b58check_encode(bytes([params.p2pkh_version]) + self.payload)
        if self.kind == "p2sh":
            return b58check_encode(bytes([params.p2sh_version]) + self.payload)
        assert self.witness_version is not None
        return encode_segwit_address(params.bech32_hrp, self.witness_version, self.payload)

    @classmethod
    def from_script(
        cls, script: bytes, params: NetworkParams, allow_vote: bool = True
    ) -> "Address | None":
        """The address a standard output script pays to, or None.

        With `allow_vote`, a P2PKH or P2SH script followed by one Network Steward vote
        (`<for> <against> OP_VOTE`) counts as that P2PKH/P2SH script, as pktd classifies it.
        Witness programs never carry votes; such scripts give None.
        """
        base = script
        if allow_vote:
            vote = split_vote(script)
            if vote is not None and (_is_p2pkh(vote.base_script) or _is_p2sh(vote.base_script)):
                base = vote.base_script
        if _is_p2pkh(base):
            return cls("p2pkh", base[3:23], None, params.name)
        if _is_p2sh(base):
            return cls("p2sh", base[2:22], None, params.name)
        witness = witness_program(script)
        if witness is None:
            return None
        version, program = witness
        try:
            check_witness_program(version, program)
        except AddressError:
            return None  # e.g. a v0 program of a length other than 20 or 32
        return cls(_witness_kind(version, program), program, version, params.name)


# --- output scripts ---------------------------------------------------------------------------


def _is_p2pkh(script: bytes) -> bool:
    return (
        len(script) == _P2PKH_SIZE
        and script[:3] == bytes([OP_DUP, OP_HASH160, HASH160_SIZE])
        and script[23:] == bytes([OP_EQUALVERIFY, OP_CHECKSIG])
    )


def _is_p2sh(script: bytes) -> bool:
    return (
        len(script) == _P2SH_SIZE
        and script[:2] == bytes([OP_HASH160, HASH160_SIZE])
        and script[22] == OP_EQUAL
    )


# --- decoding text ------------------------------------------------------------------------------


def _other_networks(params: NetworkParams) -> list[NetworkParams]:
    return [p for p in NETWORKS.values() if p.name != params.name]


def _wrong_network(names: list[str], what: str, params: NetworkParams) -> WrongNetworkError:
    return WrongNetworkError(
        f"this is a {' or '.join(names)} {what}, but the wallet is on {params.name}"
    )


def _looks_like_bech32(text: str) -> str | None:
    """The prefix of a string shaped like bech32 (single case, charset data), else None."""
    lowered = text.lower()
    if text not in (lowered, text.upper()):
        return None  # base58 text is almost always mixed case
    separator = lowered.rfind("1")
    if separator < 1 or len(lowered) - separator - 1 < 6:
        return None
    if any(char not in CHARSET for char in lowered[separator + 1 :]):
        return None
    return lowered[:separator]


def _decode_segwit(text: str, params: NetworkParams) -> Address:
    decoded = decode_segwit_address(text)
    version, program = decoded.version, decoded.program
    if decoded.hrp != params.bech32_hrp:
        names = [p.name for p in _other_networks(params) if p.bech32_hrp == decoded.hrp]
        if names:
            raise _wrong_network(names, "address", params)
        raise AddressError(f"unknown address prefix {decoded.hrp!r}")
    return Address(_witness_kind(version, program), program, version, params.name)


def _is_wif_version(version: int) -> bool:
    return any(p.wif_version == version for p in NETWORKS.values())


def _decode_base58(text: str, params: NetworkParams) -> Address:
    payload = b58check_decode(text)
    if len(payload) != 1 + HASH160_SIZE:
        if len(payload) in (33, 34) and _is_wif_version(payload[0]):
            raise AddressError("this is a private key (WIF), not an address; keep it secret")
        raise AddressError(f"bad length: an address holds 21 bytes, this one {len(payload)}")
    version, body = payload[0], payload[1:]
    if version == params.p2pkh_version:
        return Address("p2pkh", body, None, params.name)
    if version == params.p2sh_version:
        return Address("p2sh", body, None, params.name)
    names = [
        p.name for p in _other_networks(params) if version in (p.p2pkh_version, p.p2sh_version)
    ]
    if names:
        raise _wrong_network(names, "address", params)
    raise AddressError(f"unknown address version byte 0x{version:02x}")


def decode_address(text: str, params: NetworkParams) -> Address:
    """Parse a P2PKH, P2SH or segwit address for the network `params`."""
    stripped = text.strip()
    if not stripped:
        raise AddressError("empty address")
    if len(stripped) > MAX_ADDRESS_LENGTH:
        raise AddressError(f"too long to be an address ({len(stripped)} characters)")
    lowered = stripped.lower()
    known_prefixes = {p.bech32_hrp for p in NETWORKS.values()} | {params.bech32_hrp}
    has_known_prefix = any(lowered.startswith(hrp + "1") for hrp in known_prefixes)
    shaped_prefix = _looks_like_bech32(stripped)
    if not has_known_prefix and shaped_prefix is None:
        return _decode_base58(stripped, params)
    try:
        # A base58 address can start like a bech32 one by chance; a valid base58check wins.
        return _decode_base58(stripped, params)
    except WrongNetworkError:
        raise
    except ParseError:
        if not has_known_prefix:
            raise AddressError(
                f"unknown address prefix {shaped_prefix!r}; {params.name} segwit addresses "
                f"start with {params.bech32_hrp}1"
            ) from None
    return _decode_segwit(stripped, params)


def is_valid_address(text: str, params: NetworkParams) -> bool:
    """True if `text` is a valid address on `params`' network."""
    try:
        decode_address(text, params)
    except ParseError:
        return False
    return True


def script_for_address(text: str, params: NetworkParams) -> bytes:
    """The output script paying to the address `text` (raises AddressError if invalid)."""
    return decode_address(text, params).to_script()


def address_from_script(script: bytes, params: NetworkParams) -> str | None:
    """The address text a standard output script pays to (vote suffix allowed), else None."""
    address = Address.from_script(script, params)
    return address.encode(params) if address is not None else None


# --- addresses from keys and scripts ------------------------------------------------------------


def _check_pubkey(pubkey: bytes, compressed_only: bool) -> None:
    compressed = len(pubkey) == 33 and pubkey[0] in (2, 3)
    uncompressed = len(pubkey) == 65 and pubkey[0] == 4
    if compressed or (uncompressed and not compressed_only):
        return
    wanted = "a 33-byte compressed" if compressed_only else "a 33- or 65-byte"
    raise AddressError(f"expected {wanted} public key, got {len(pubkey)} bytes")


def p2pkh_address(pubkey: bytes, params: NetworkParams) -> Address:
    """Legacy P2PKH address of a public key (m/44' scope)."""
    _check_pubkey(pubkey, compressed_only=False)
    return Address("p2pkh", hash160(pubkey), None, params.name)


def p2wpkh_address(pubkey: bytes, params: NetworkParams) -> Address:
    """Native segwit P2WPKH address of a compressed public key (m/84' scope)."""
    _check_pubkey(pubkey, compressed_only=True)
    return Address("p2wpkh", hash160(pubkey), 0, params.name)


def p2sh_address(redeem_script: bytes, params: NetworkParams) -> Address:
    """P2SH address of a redeem script."""
    return Address("p2sh", hash160(redeem_script), None, params.name)


def p2sh_p2wpkh_address(pubkey: bytes, params: NetworkParams) -> Address:
    """P2SH-wrapped P2WPKH address of a compressed public key (m/49' scope)."""
    return p2sh_address(p2wpkh_address(pubkey, params).to_script(), params)


def p2wsh_address(witness_script: bytes, params: NetworkParams) -> Address:
    """Native segwit P2WSH address of a witness script."""
    return Address("p2wsh", sha256(witness_script), 0, params.name)


# --- WIF private keys ---------------------------------------------------------------------------


def _check_private_key(privkey: bytes) -> None:
    if len(privkey) != 32 or not 0 < int.from_bytes(privkey, "big") < SECP256K1_ORDER:
        raise AddressError("a private key is 32 bytes in the range 1..n-1")


def encode_wif(privkey: bytes, compressed: bool, params: NetworkParams) -> str:
    """Wallet Import Format text of a 32-byte private key for `params`' network."""
    _check_private_key(privkey)
    suffix = b"\x01" if compressed else b""
    return b58check_encode(bytes([params.wif_version]) + privkey + suffix)


def decode_wif(text: str, params: NetworkParams) -> tuple[bytes, bool]:
    """(private key, compressed) from WIF text; error messages never repeat the key."""
    stripped = text.strip()
    if not stripped:
        raise AddressError("empty private key")
    if len(stripped) > MAX_WIF_LENGTH:
        raise AddressError("too long to be a private key (WIF)")
    payload = b58check_decode(stripped)
    version, body = payload[0], payload[1:]
    if len(body) == HASH160_SIZE:
        raise AddressError("this is an address, not a private key")
    if version != params.wif_version:
        names = [p.name for p in _other_networks(params) if p.wif_version == version]
        if names:
            raise _wrong_network(names, "private key", params)
        raise AddressError(f"unknown private key version byte 0x{version:02x}")
    if len(body) == 33 and body[-1] == 1:
        privkey, compressed = body[:32], True
    elif len(body) == 32:
        privkey, compressed = body, False
    else:
        raise AddressError(f"bad length for a private key ({len(body)} bytes)")
    _check_private_key(privkey)
    return privkey, compressed
