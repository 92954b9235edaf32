"""A verifier of the spends a wallet makes, for the loopback test peer.

It checks P2WPKH, P2SH-P2WPKH and P2PKH inputs (a Network Steward vote suffix on the spent
output allowed) the way script execution would: the public key hashes to the output's key hash,
the signature is strict DER with a low S value and a known hash type, and it verifies with
libsecp256k1 (coincurve) against the BIP143 digest (witness inputs) or the legacy digest over the
spent output's full script (P2PKH). Anyone-can-spend outputs (OP_TRUE, ``b"\\x51"``) stay valid
with an empty scriptSig and witness. Amounts: every output is non-negative and their sum does not
exceed the inputs' sum. Anything else is rejected.

This is test code: it is independent of the wallet's signer so that it can catch its mistakes.
"""

from __future__ import annotations

from collections.abc import Callable

from coincurve import PublicKey

from spv.hashes import hash160
from spv.script import iter_ops, split_vote
from spv.sighash import bip143_sighash, legacy_sighash
from spv.tx import OutPoint, Transaction

ANYONE_CAN_SPEND = b"\x51"
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
KNOWN_HASH_TYPES = {0x01, 0x02, 0x03, 0x81, 0x82, 0x83}

PrevoutLookup = Callable[[OutPoint], tuple[bytes, int]]  # -> (script, value)


class VerifyError(Exception):
    """The transaction is invalid; `reason` is "bad signature", "bad script" or "bad amounts"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _is_strict_der(sig: bytes) -> bool:
    """BIP66 strict DER (without the hash type byte)."""
    if not 8 <= len(sig) <= 72 or sig[0] != 0x30 or sig[1] != len(sig) - 2:
        return False
    rlen = sig[3]
    if sig[2] != 0x02 or rlen == 0 or 5 + rlen >= len(sig):
        return False
    slen = sig[5 + rlen]
    if sig[4 + rlen] != 0x02 or slen == 0 or rlen + slen + 6 != len(sig):
        return False
    r, s = sig[4 : 4 + rlen], sig[6 + rlen :]
    for part in (r, s):
        if part[0] & 0x80 or (len(part) > 1 and part[0] == 0 and not part[1] & 0x80):
            return False
    return True


def _check_signature(
    sig_with_type: bytes, pubkey: bytes, digest_for: Callable[[int], bytes]
) -> None:
    if len(sig_with_type) < 9:
        raise VerifyError("bad signature", "signature too short")
    der, hash_type = sig_with_type[:-1], sig_with_type[-1]
    if hash_type not in KNOWN_HASH_TYPES:
        raise VerifyError("bad signature", f"unknown hash type {hash_type:#x}")
    if not _is_strict_der(der):
        raise VerifyError("bad signature", "not strict DER")
    rlen = der[3]
    s = int.from_bytes(der[6 + rlen :], "big")
    if s > SECP256K1_HALF_ORDER:
        raise VerifyError("bad signature", "high S value")
    try:
        ok = PublicKey(pubkey).verify(der, digest_for(hash_type), hasher=None)
    except (ValueError, TypeError) as exc:
        raise VerifyError("bad signature", f"unusable key or signature: {exc}") from None
    if not ok:
        raise VerifyError("bad signature", "signature does not verify")


def _pushes(script: bytes) -> list[bytes]:
    """The data of a push-only script; VerifyError otherwise."""
    out = []
    try:
        for op in iter_ops(script):
            if op.data is None:
                raise VerifyError("bad script", "scriptSig is not push-only")
            out.append(op.data)
    except ValueError as exc:
        raise VerifyError("bad script", f"unparsable scriptSig: {exc}") from None
    return out


def _check_pubkey(pubkey: bytes, compressed_only: bool) -> None:
    if len(pubkey) == 33 and pubkey[0] in (2, 3):
        return
    if not compressed_only and len(pubkey) == 65 and pubkey[0] == 4:
        return
    raise VerifyError("bad script", "malformed public key")


def _verify_p2wpkh(tx: Transaction, i: int, key_hash: bytes, value: int) -> None:
    witness = tx.inputs[i].witness
    if len(witness) != 2:
        raise VerifyError("bad script", f"input {i}: a P2WPKH witness has 2 items")
    sig, pubkey = witness
    _check_pubkey(pubkey, compressed_only=True)
    if hash160(pubkey) != key_hash:
        raise VerifyError("bad script", f"input {i}: public key does not match the key hash")
    script_code = b"\x76\xa9\x14" + key_hash + b"\x88\xac"
    _check_signature(sig, pubkey, lambda ht: bip143_sighash(tx, i, script_code, value, ht))


def _verify_input(tx: Transaction, i: int, prev_script: bytes, value: int) -> None:
    txin = tx.inputs[i]
    if prev_script == ANYONE_CAN_SPEND:
        return
    vote = split_vote(prev_script)
    base = vote.base_script if vote is not None else prev_script
    if len(base) == 22 and base[:2] == b"\x00\x14":  # P2WPKH
        if txin.script_sig:
            raise VerifyError("bad script", f"input {i}: P2WPKH spend with a scriptSig")
        _verify_p2wpkh(tx, i, base[2:], value)
        return
    if len(base) == 23 and base[:2] == b"\xa9\x14" and base[22] == 0x87:  # P2SH
        pushes = _pushes(txin.script_sig)
        if len(pushes) != 1 or hash160(pushes[0]) != base[2:22]:
            raise VerifyError("bad script", f"input {i}: redeem script does not match")
        redeem = pushes[0]
        if len(redeem) == 22 and redeem[:2] == b"\x00\x14":
            _verify_p2wpkh(tx, i, redeem[2:], value)
            return
        raise VerifyError("bad script", f"input {i}: unsupported redeem script")
    if len(base) == 25 and base[:3] == b"\x76\xa9\x14" and base[23:] == b"\x88\xac":  # P2PKH
        if txin.witness:
            raise VerifyError("bad script", f"input {i}: P2PKH spend with a witness")
        pushes = _pushes(txin.script_sig)
        if len(pushes) != 2:
            raise VerifyError("bad script", f"input {i}: P2PKH scriptSig needs 2 pushes")
        sig, pubkey = pushes
        _check_pubkey(pubkey, compressed_only=False)
        if hash160(pubkey) != base[3:23]:
            raise VerifyError("bad script", f"input {i}: public key does not match the key hash")
        _check_signature(sig, pubkey, lambda ht: legacy_sighash(tx, i, prev_script, ht))
        return
    raise VerifyError("bad script", f"input {i}: unsupported output script {prev_script.hex()}")


def verify_transaction(tx: Transaction, lookup: PrevoutLookup) -> None:
    """Raise VerifyError unless every input of `tx` is validly signed and amounts add up."""
    total_in = 0
    for i, txin in enumerate(tx.inputs):
        prev_script, value = lookup(txin.prevout)
        _verify_input(tx, i, prev_script, value)
        total_in += value
    if any(o.value < 0 for o in tx.outputs):
        raise VerifyError("bad amounts", "negative output value")
    total_out = sum(o.value for o in tx.outputs)
    if total_out > total_in:
        raise VerifyError("bad amounts", f"outputs {total_out} exceed inputs {total_in}")
