"""Script templates, recognition of standard output scripts, and Network Steward vote suffixes.

Only what a light wallet needs: build and recognise output scripts, split a vote suffix
(`<for> <against> OP_VOTE`) off an output script, and walk pushes. No script execution.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from .errors import ParseError

OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1NEGATE = 0x4F
OP_1 = 0x51
OP_16 = 0x60
OP_VOTE = 0x66  # PKT: the re-used OP_VERNOTIF, executes like OP_2DROP
OP_RETURN = 0x6A
OP_DUP = 0x76
OP_EQUAL = 0x87
OP_EQUALVERIFY = 0x88
OP_HASH160 = 0xA9
OP_CHECKSIG = 0xAC
OP_CHECKMULTISIG = 0xAE

MAX_VOTE_CANDIDATE_SCRIPT = 79


class ScriptError(ParseError):
    """A script whose pushes run past its end, or a malformed vote."""


class ScriptClass(Enum):
    P2PKH = "pubkeyhash"
    P2SH = "scripthash"
    P2WPKH = "witness_v0_keyhash"
    P2WSH = "witness_v0_scripthash"
    P2TR = "witness_v1_taproot"
    WITNESS_UNKNOWN = "witness_unknown"
    P2PK = "pubkey"
    MULTISIG = "multisig"
    NULL_DATA = "nulldata"
    NONSTANDARD = "nonstandard"


@dataclass(frozen=True)
class ScriptOp:
    opcode: int
    data: bytes | None  # the pushed bytes for push opcodes (OP_0 pushes b"")
    start: int  # offset of the opcode in the script
    end: int  # offset just past the op and its data


def iter_ops(script: bytes) -> Iterator[ScriptOp]:
    """Walk a script op by op; raises ScriptError when a push runs past the end."""
    i = 0
    n = len(script)
    while i < n:
        start = i
        op = script[i]
        i += 1
        data: bytes | None = None
        if op <= OP_PUSHDATA4:
            if op < OP_PUSHDATA1:
                size = op
            else:
                width = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}[op]
                if i + width > n:
                    raise ScriptError("script push length runs past the end")
                size = int.from_bytes(script[i : i + width], "little")
                i += width
            if i + size > n:
                raise ScriptError("script push runs past the end")
            data = script[i : i + size]
            i += size
        yield ScriptOp(op, data, start, i)


def push_data(data: bytes) -> bytes:
    """Canonical (minimal) push of `data`."""
    n = len(data)
    if n == 0:
        return bytes((OP_0,))
    if n == 1 and 1 <= data[0] <= 16:
        return bytes((OP_1 + data[0] - 1,))
    if n == 1 and data[0] == 0x81:
        return bytes((OP_1NEGATE,))
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + n.to_bytes(2, "little") + data
    return bytes((OP_PUSHDATA4,)) + n.to_bytes(4, "little") + data


# --- templates ---------------------------------------------------------------------------


def p2pkh_script(pubkey_hash: bytes) -> bytes:
    _need_len(pubkey_hash, 20, "public key hash")
    return b"\x76\xa9\x14" + pubkey_hash + b"\x88\xac"


def p2sh_script(script_hash: bytes) -> bytes:
    _need_len(script_hash, 20, "script hash")
    return b"\xa9\x14" + script_hash + b"\x87"


def witness_script(version: int, program: bytes) -> bytes:
    if not 0 <= version <= 16:
        raise ValueError("witness version must be 0..16")
    if not 2 <= len(program) <= 40:
        raise ValueError("witness program must be 2..40 bytes")
    op = OP_0 if version == 0 else OP_1 + version - 1
    return bytes((op, len(program))) + program


def p2wpkh_script(pubkey_hash: bytes) -> bytes:
    _need_len(pubkey_hash, 20, "public key hash")
    return witness_script(0, pubkey_hash)


def p2wsh_script(script_hash: bytes) -> bytes:
    _need_len(script_hash, 32, "script hash")
    return witness_script(0, script_hash)


def op_return_script(data: bytes) -> bytes:
    return bytes((OP_RETURN,)) + push_data(data)


def _need_len(data: bytes, n: int, what: str) -> None:
    if len(data) != n:
        raise ValueError(f"{what} must be {n} bytes, got {len(data)}")


# --- recognition -------------------------------------------------------------------------


def witness_program(script: bytes) -> tuple[int, bytes] | None:
    """(version, program) when `script` is a witness program output, else None."""
    n = len(script)
    if not 4 <= n <= 42:
        return None
    op = script[0]
    if op != OP_0 and not OP_1 <= op <= OP_16:
        return None
    if script[1] != n - 2:
        return None
    version = 0 if op == OP_0 else op - OP_1 + 1
    return version, script[2:]


def classify(script: bytes) -> ScriptClass:
    """Standard class of an output script; a trailing vote is stripped first."""
    vote = split_vote(script)
    base = vote.base_script if vote is not None else script
    return _classify_base(base)


def _classify_base(s: bytes) -> ScriptClass:
    n = len(s)
    if n == 25 and s[:3] == b"\x76\xa9\x14" and s[23:] == b"\x88\xac":
        return ScriptClass.P2PKH
    if n == 23 and s[:2] == b"\xa9\x14" and s[22] == OP_EQUAL:
        return ScriptClass.P2SH
    wp = witness_program(s)
    if wp is not None:
        version, program = wp
        if version == 0 and len(program) == 20:
            return ScriptClass.P2WPKH
        if version == 0 and len(program) == 32:
            return ScriptClass.P2WSH
        if version == 1 and len(program) == 32:
            return ScriptClass.P2TR
        if version != 0:
            return ScriptClass.WITNESS_UNKNOWN
        return ScriptClass.NONSTANDARD
    if n > 0 and s[0] == OP_RETURN:
        try:
            if all(op.data is not None or op.opcode <= OP_16 for op in list(iter_ops(s))[1:]):
                return ScriptClass.NULL_DATA
        except ScriptError:
            pass
        return ScriptClass.NONSTANDARD
    if (n == 35 and s[0] == 33 and s[1] in (2, 3) or n == 67 and s[0] == 65 and s[1] == 4) and s[
        -1
    ] == OP_CHECKSIG:
        return ScriptClass.P2PK
    if _is_multisig(s):
        return ScriptClass.MULTISIG
    return ScriptClass.NONSTANDARD


def _is_multisig(s: bytes) -> bool:
    try:
        ops = list(iter_ops(s))
    except ScriptError:
        return False
    if len(ops) < 4 or ops[-1].opcode != OP_CHECKMULTISIG:
        return False
    m_op, n_op = ops[0].opcode, ops[-2].opcode
    if not (OP_1 <= m_op <= OP_16 and OP_1 <= n_op <= OP_16):
        return False
    m, n = m_op - OP_1 + 1, n_op - OP_1 + 1
    keys = ops[1:-2]
    if len(keys) != n or m > n:
        return False
    return all(k.data is not None and len(k.data) in (33, 65) for k in keys)


# --- Network Steward votes ---------------------------------------------------------------


@dataclass(frozen=True)
class Vote:
    """An output script split into its spendable part and the vote it carries."""

    base_script: bytes
    vote_for: bytes | None  # candidate pkScript, None for OP_0 (no vote)
    vote_against: bytes | None


def split_vote(script: bytes) -> Vote | None:
    """Split `<base> <for> <against> OP_VOTE`; None when the script carries no vote."""
    if not script or script[-1] != OP_VOTE:
        return None
    try:
        ops = list(iter_ops(script))
    except ScriptError:
        return None
    if len(ops) < 3 or ops[-1].opcode != OP_VOTE:
        return None
    for_op, against_op = ops[-3], ops[-2]
    candidates: list[bytes | None] = []
    for op in (for_op, against_op):
        if OP_1 <= op.opcode <= OP_16:  # a minimal push of a one-byte script 0x01..0x10
            candidates.append(bytes((op.opcode - OP_1 + 1,)))
            continue
        if op.data is None:
            return None
        if op.opcode == OP_0:
            candidates.append(None)
            continue
        if (
            not 1 <= len(op.data) <= MAX_VOTE_CANDIDATE_SCRIPT
            or push_data(op.data) != script[op.start : op.end]
        ):
            return None
        candidates.append(op.data)
    return Vote(script[: for_op.start], candidates[0], candidates[1])


def add_vote(base_script: bytes, vote_for: bytes | None, vote_against: bytes | None) -> bytes:
    """Append a vote to an output script. Witness programs cannot carry one (ValueError)."""
    if witness_program(base_script) is not None:
        raise ValueError("segwit outputs cannot carry a Network Steward vote")
    out = bytearray(base_script)
    for candidate in (vote_for, vote_against):
        if candidate is None:
            out.append(OP_0)
            continue
        if not 1 <= len(candidate) <= MAX_VOTE_CANDIDATE_SCRIPT:
            raise ValueError("a vote candidate script is 1..79 bytes")
        out += push_data(candidate)
    out.append(OP_VOTE)
    return bytes(out)
