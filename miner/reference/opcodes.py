"""RandHash opcodes and instruction fields (spec sections 4.6 and 4.7).

An instruction is a u32. Its low byte is the opcode; the other fields depend on the opcode:

* arithmetic: ``regA`` bits 9-17, ``HAS_IMM`` bit 18, then either ``regB`` bits 20-28 or an
  immediate decoded by :func:`decode_imm` from bits 19-31;
* MEMORY: carry bits 9-12, step bits 13-16, base bits 17-31;
* JMP: offset ``insn >> 8``; LOOP: count ``insn >> 20``; IF: ``regA`` and ``insn >> 20 == 2``;
* IN: an immediate (pattern form included) selecting one of 256 input words.
"""

from __future__ import annotations

from enum import IntEnum


class Op(IntEnum):
    """Every opcode value (``insn & 0xFF``), in the order of spec section 4.6."""

    INVALID_ZERO = 0
    # type 1-1: one 32-bit input, one 32-bit output
    POPCNT8 = 1
    POPCNT16 = 2
    POPCNT32 = 3
    CLZ8 = 4
    CLZ16 = 5
    CLZ32 = 6
    CTZ8 = 7
    CTZ16 = 8
    CTZ32 = 9
    BSWAP16 = 10
    BSWAP32 = 11
    # type 2-1: two 32-bit inputs, one 32-bit output
    ADD8 = 12
    ADD16 = 13
    ADD32 = 14
    SUB8 = 15
    SUB16 = 16
    SUB32 = 17
    SHLL8 = 18
    SHLL16 = 19
    SHLL32 = 20
    SHRL8 = 21
    SHRL16 = 22
    SHRL32 = 23
    SHRA8 = 24
    SHRA16 = 25
    SHRA32 = 26
    ROTL8 = 27
    ROTL16 = 28
    ROTL32 = 29
    MUL8 = 30
    MUL16 = 31
    MUL32 = 32
    AND = 33
    OR = 34
    XOR = 35
    # type 2-2: two 32-bit inputs, one 64-bit output (two words)
    ADD8C = 36
    ADD16C = 37
    ADD32C = 38
    SUB8C = 39
    SUB16C = 40
    SUB32C = 41
    MUL8C = 42
    MUL16C = 43
    MUL32C = 44
    MULSU8C = 45
    MULSU16C = 46
    MULSU32C = 47
    MULU8C = 48
    MULU16C = 49
    MULU32C = 50
    # type 4-2: two 64-bit inputs, one 64-bit output
    ADD64 = 51
    SUB64 = 52
    SHLL64 = 53
    SHRL64 = 54
    SHRA64 = 55
    ROTL64 = 56
    ROTR64 = 57
    MUL64 = 58
    # type 4-4: two 64-bit inputs, one 128-bit output (four words)
    ADD64C = 59
    SUB64C = 60
    MUL64C = 61
    MULSU64C = 62
    MULU64C = 63
    # control
    IN = 64
    MEMORY = 65
    LOOP = 66
    IF_LIKELY = 67
    IF_RANDOM = 68
    JMP = 69
    END = 70
    INVALID_BIG = 71


class OpType(IntEnum):
    """The five arithmetic op shapes: (input words)-(output words)."""

    T1_1 = 0
    T2_1 = 1
    T2_2 = 2
    T4_2 = 3
    T4_4 = 4


OPS_BY_TYPE: dict[OpType, tuple[Op, ...]] = {
    OpType.T1_1: tuple(Op(v) for v in range(1, 12)),
    OpType.T2_1: tuple(Op(v) for v in range(12, 36)),
    OpType.T2_2: tuple(Op(v) for v in range(36, 51)),
    OpType.T4_2: tuple(Op(v) for v in range(51, 59)),
    OpType.T4_4: tuple(Op(v) for v in range(59, 64)),
}
"""RandGen's ``LIST[type]``: the opcodes of each type, in opcode order (11, 24, 15, 8, 5)."""

TYPE_OF_OP: dict[int, OpType] = {op: t for t, ops in OPS_BY_TYPE.items() for op in ops}

OUTPUT_WORDS: dict[OpType, int] = {
    OpType.T1_1: 1,
    OpType.T2_1: 1,
    OpType.T2_2: 2,
    OpType.T4_2: 2,
    OpType.T4_4: 4,
}
"""How many u32 words each op type pushes (and how many vars RandGen creates for it)."""

WIDE_INPUT_TYPES = frozenset({OpType.T4_2, OpType.T4_4})
"""Op types whose operands are 64-bit (register pairs ``reg-1`` low, ``reg`` high)."""

_U64_MASK = (1 << 64) - 1


def opcode(insn: int) -> int:
    """Bits 0-7."""
    return insn & 0xFF


def reg_a(insn: int) -> int:
    """Bits 9-17."""
    return (insn >> 9) & 0x1FF


def reg_b(insn: int) -> int:
    """Bits 20-28."""
    return (insn >> 20) & 0x1FF


def has_imm(insn: int) -> bool:
    """Bit 18: operand B is an immediate."""
    return bool((insn >> 18) & 1)


def memory_carry(insn: int) -> int:
    """MEMORY bits 9-12."""
    return (insn >> 9) & 15


def memory_step(insn: int) -> int:
    """MEMORY bits 13-16."""
    return (insn >> 13) & 15


def memory_base(insn: int) -> int:
    """MEMORY bits 17-31."""
    return insn >> 17


def jmp_offset(insn: int) -> int:
    """JMP offset, ``insn >> 8`` (unsigned)."""
    return insn >> 8


def decode_imm(insn: int) -> int:
    """DecodeImm(insn) as an unsigned 64-bit value (spec section 4.7).

    * Bit 19 clear: the sign-extended 12-bit value ``(int32)insn >> 20``, extended to 64 bits.
    * Bit 19 set ("pattern"): ``v = insn >> 20``, ``a = v & 31``, ``b = (v >> 5) & 31``,
      ``i = (v >> 10) & 1``, ``s = v >> 11``; the value is
      ``((i << 63) - 1) ^ (1 << b) ^ (1 << a)`` mod 2^64, OR ``s << 63``.

    32-bit consumers take the low word (``decode_imm(insn) & 0xFFFFFFFF``).
    """
    value = (insn >> 20) & 0xFFF
    if insn & (1 << 19):
        a = value & 31
        b = (value >> 5) & 31
        i = (value >> 10) & 1
        s = value >> 11
        out = (((i << 63) - 1) ^ (1 << b) ^ (1 << a)) & _U64_MASK
        return out | (s << 63)
    if value & 0x800:
        value -= 0x1000
    return value & _U64_MASK
