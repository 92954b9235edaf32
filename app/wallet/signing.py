"""Signing of P2WPKH, P2SH-P2WPKH and P2PKH inputs with coincurve (libsecp256k1).

Signatures are DER with a low S value (libsecp256k1 always produces one; it is checked anyway)
followed by the SIGHASH_ALL byte. Witness inputs use the BIP143 digest, P2PKH inputs the legacy
digest over the previous output's full script (a Network Steward vote suffix included, as
script execution sees it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coincurve import PrivateKey

from spv.hashes import hash160
from spv.script import p2wpkh_script, push_data
from spv.sighash import SIGHASH_ALL, bip143_sighash, legacy_sighash, p2wpkh_script_code
from spv.tx import Transaction, TxIn

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SPEND_KINDS = ("p2wpkh", "p2sh-p2wpkh", "p2pkh", "p2pkh-uncompressed")


class SigningError(ValueError):
    """A transaction input cannot be signed."""


@dataclass(frozen=True, repr=False)
class SigningInput:
    """What is needed to sign one input. `private_key` is secret (never shown by repr)."""

    prev_script: bytes
    value: int
    kind: str  # one of SPEND_KINDS
    private_key: bytes

    def __repr__(self) -> str:
        return f"SigningInput(kind={self.kind!r}, value={self.value}, key=<redacted>)"


def public_key_of(private_key: bytes, compressed: bool = True) -> bytes:
    return PrivateKey(private_key).public_key.format(compressed=compressed)


def der_signature_is_low_s(der: bytes) -> bool:
    # 0x30 len 0x02 rlen r 0x02 slen s
    rlen = der[3]
    slen = der[5 + rlen]
    s = int.from_bytes(der[6 + rlen : 6 + rlen + slen], "big")
    return 0 < s <= SECP256K1_ORDER // 2


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """DER ECDSA signature (low S, RFC 6979 nonce) of a 32-byte digest."""
    der: bytes = PrivateKey(private_key).sign(digest, hasher=None)
    if not der_signature_is_low_s(der):  # libsecp256k1 normalizes; never expected
        raise SigningError("signature with a high S value")
    return der


def sign_transaction(tx: Transaction, inputs: Sequence[SigningInput]) -> Transaction:
    """`tx` with every input signed; `inputs[i]` describes input i."""
    if len(inputs) != len(tx.inputs):
        raise SigningError("one signing entry per input is needed")
    signed: list[TxIn] = []
    for i, (txin, info) in enumerate(zip(tx.inputs, inputs, strict=True)):
        compressed = info.kind != "p2pkh-uncompressed"
        pubkey = public_key_of(info.private_key, compressed)
        pkh = hash160(pubkey)
        if info.kind in ("p2wpkh", "p2sh-p2wpkh"):
            digest = bip143_sighash(tx, i, p2wpkh_script_code(pkh), info.value, SIGHASH_ALL)
            sig = sign_digest(info.private_key, digest) + bytes((SIGHASH_ALL,))
            script_sig = b"" if info.kind == "p2wpkh" else push_data(p2wpkh_script(pkh))
            signed.append(TxIn(txin.prevout, script_sig, txin.sequence, (sig, pubkey)))
        elif info.kind in ("p2pkh", "p2pkh-uncompressed"):
            digest = legacy_sighash(tx, i, info.prev_script, SIGHASH_ALL)
            sig = sign_digest(info.private_key, digest) + bytes((SIGHASH_ALL,))
            signed.append(TxIn(txin.prevout, push_data(sig) + push_data(pubkey), txin.sequence))
        else:
            raise SigningError(f"cannot sign an input of kind {info.kind!r}")
    return Transaction(tx.version, tuple(signed), tx.outputs, tx.locktime)
