"""Signature hashes: the legacy algorithm for non-witness inputs and BIP143 for v0 witness inputs.

Hash types ALL, NONE and SINGLE, each optionally with ANYONECANPAY. PKT has no fork id and
no taproot. Digests are returned as the 32 raw bytes that get signed.
"""

from .bytes_io import ByteWriter
from .hashes import sha256d
from .script import iter_ops
from .tx import Transaction, TxIn, TxOut

SIGHASH_ALL = 0x01
SIGHASH_NONE = 0x02
SIGHASH_SINGLE = 0x03
SIGHASH_ANYONECANPAY = 0x80
_OP_CODESEPARATOR = 0xAB

# Bitcoin's SIGHASH_SINGLE bug: with no matching output, the "hash" is the integer 1.
_SINGLE_NO_OUTPUT = (1).to_bytes(32, "little")


def _base_type(hash_type: int) -> int:
    return hash_type & 0x1F


def _strip_codeseparators(script: bytes) -> bytes:
    try:
        ops = list(iter_ops(script))
    except ValueError:
        return script  # an unparsable script is signed as it is
    return b"".join(script[op.start : op.end] for op in ops if op.opcode != _OP_CODESEPARATOR)


def legacy_sighash(tx: Transaction, index: int, script_code: bytes, hash_type: int) -> bytes:
    """The original Bitcoin signature hash of input `index` (the previous output's script)."""
    if not 0 <= index < len(tx.inputs):
        raise IndexError(f"transaction has no input {index}")
    base = _base_type(hash_type)
    if base == SIGHASH_SINGLE and index >= len(tx.outputs):
        return _SINGLE_NO_OUTPUT
    sub = _strip_codeseparators(script_code)
    inputs: list[TxIn] = []
    for i, txin in enumerate(tx.inputs):
        if i == index:
            inputs.append(TxIn(txin.prevout, sub, txin.sequence))
        else:
            keep_sequence = base not in (SIGHASH_NONE, SIGHASH_SINGLE)
            inputs.append(TxIn(txin.prevout, b"", txin.sequence if keep_sequence else 0))
    if hash_type & SIGHASH_ANYONECANPAY:
        inputs = [inputs[index]]
    outputs: list[TxOut]
    if base == SIGHASH_NONE:
        outputs = []
    elif base == SIGHASH_SINGLE:
        outputs = [TxOut(-1, b"") for _ in range(index)] + [tx.outputs[index]]
    else:
        outputs = list(tx.outputs)
    copy = Transaction(tx.version, tuple(inputs), tuple(outputs), tx.locktime)
    w = ByteWriter()
    copy.write(w, include_witness=False)
    w.u32(hash_type & 0xFFFFFFFF)
    return sha256d(w.getvalue())


def bip143_sighash(
    tx: Transaction, index: int, script_code: bytes, amount: int, hash_type: int
) -> bytes:
    """BIP143 signature hash of witness v0 input `index` spending `amount` units."""
    if not 0 <= index < len(tx.inputs):
        raise IndexError(f"transaction has no input {index}")
    base = _base_type(hash_type)
    anyone = bool(hash_type & SIGHASH_ANYONECANPAY)
    zero = b"\x00" * 32
    hash_prevouts = zero
    if not anyone:
        hash_prevouts = sha256d(
            b"".join(t.prevout.txid + t.prevout.index.to_bytes(4, "little") for t in tx.inputs)
        )
    hash_sequence = zero
    if not anyone and base not in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_sequence = sha256d(b"".join(t.sequence.to_bytes(4, "little") for t in tx.inputs))
    hash_outputs = zero
    if base not in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_outputs = sha256d(b"".join(_txout_bytes(o) for o in tx.outputs))
    elif base == SIGHASH_SINGLE and index < len(tx.outputs):
        hash_outputs = sha256d(_txout_bytes(tx.outputs[index]))
    txin = tx.inputs[index]
    w = ByteWriter()
    w.i32(tx.version).write(hash_prevouts).write(hash_sequence)
    w.write(txin.prevout.txid).u32(txin.prevout.index)
    w.var_bytes(script_code).i64(amount).u32(txin.sequence)
    w.write(hash_outputs).u32(tx.locktime).u32(hash_type & 0xFFFFFFFF)
    return sha256d(w.getvalue())


def _txout_bytes(out: TxOut) -> bytes:
    return ByteWriter().i64(out.value).var_bytes(out.script).getvalue()


def p2wpkh_script_code(pubkey_hash: bytes) -> bytes:
    """The BIP143 scriptCode of a P2WPKH input: the equivalent P2PKH script."""
    return b"\x76\xa9\x14" + pubkey_hash + b"\x88\xac"
