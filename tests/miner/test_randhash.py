"""The RandHash interpreter (spec sections 5.1 to 5.3) on hand-assembled programs.

The real programs are covered by the item and announcement vectors; these small programs pin
down control flow, the op limit, addressing and the immediate decoder.
"""

from __future__ import annotations

import struct

import pytest

from miner.reference import randhash
from miner.reference.opcodes import Op, decode_imm
from miner.reference.randhash_ops import M32


def loop(count: int) -> int:
    return (count << 20) | Op.LOOP


def memory(base: int, step: int = 0, carry: int = 0) -> int:
    return (base << 17) | (step << 13) | (carry << 9) | Op.MEMORY


def inp(index: int) -> int:
    """IN with a plain (non-pattern) immediate selecting word ``index`` (0..255)."""
    return (index << 20) | Op.IN


def jmp(offset: int) -> int:
    return (offset << 8) | Op.JMP


def op2(op: Op, reg_a: int, reg_b: int) -> int:
    return (reg_b << 20) | (reg_a << 9) | op


def op2_imm(op: Op, reg_a: int, imm12: int) -> int:
    return ((imm12 & 0xFFF) << 20) | (1 << 18) | (reg_a << 9) | op


END = int(Op.END)
MEM = list(range(1000, 1256))


def run(program: list[int], cycles: int = 1) -> tuple[bytearray, randhash.RandHashResult]:
    state = bytearray(struct.pack("<512I", *range(512)))
    result = randhash.randhash(randhash.decode_program(program), MEM, state, cycles)
    return state, result


def words(state: bytearray) -> tuple[int, ...]:
    return struct.unpack("<512I", state)


def test_simple_loop_outputs_into_the_second_half() -> None:
    # LOOP 3 { MEMORY(base 5, step 2): mem[5 + 2*i]; END }
    state, result = run([loop(3), memory(5, step=2), END])
    w = words(state)
    assert result.op_counts == (1 + 3 * 2,)
    assert w[256:259] == (256 + 1005, 257 + 1007, 258 + 1009)
    assert w[:256] == tuple(range(256))


def test_memory_carry_and_window_wrap() -> None:
    state, _ = run([loop(2), memory(250, step=3, carry=2), END])
    w = words(state)
    assert w[256] == 256 + MEM[(250 + 2 * 3) & 255]
    assert w[257] == 257 + MEM[(250 + 3 * 3) & 255]


def test_registers_are_absolute_stack_indexes_including_markers() -> None:
    # stack: [marker, IN(10), IN(20)] -> ADD32 r1, r2 reads indexes 1 and 2
    state, _ = run([loop(2), inp(10), inp(20), op2(Op.ADD32, 1, 2), END])
    w = words(state)
    assert w[256:259] == (256 + 10, 257 + 20, 258 + 30)
    assert w[259:262] == (259 + 10, 260 + 20, 261 + 30)


def test_immediate_operand_is_sign_extended() -> None:
    state, _ = run([loop(2), inp(7), op2_imm(Op.ADD32, 1, -3), END])
    assert words(state)[257] == 257 + ((7 - 3) & M32)


def _if_program(test_word: int, likely: bool) -> list[int]:
    # 0 LOOP 2; 1 IN(test); 2 IF r1; 3 JMP +3; 4 IN 100; 5 END; 6 JMP +2; 7 IN 200; 8 END; 9 END
    cond = Op.IF_LIKELY if likely else Op.IF_RANDOM
    return [
        loop(2),
        inp(test_word),
        (2 << 20) | (1 << 9) | cond,
        jmp(3),
        inp(100),
        END,
        jmp(2),
        inp(200),
        END,
        END,
    ]


@pytest.mark.parametrize(
    ("test_word", "likely", "taken"),
    [(1, False, True), (2, False, False), (4, True, True), (8, True, False)],
)
def test_if_then_and_else(test_word: int, likely: bool, taken: bool) -> None:
    state, result = run(_if_program(test_word, likely))
    w = words(state)
    body_value = 100 if taken else 200
    # each iteration: the IF body's END outputs its IN, then the loop END outputs the test word
    assert w[256:260] == (256 + body_value, 257 + test_word, 258 + body_value, 259 + test_word)
    assert result.op_counts == (1 + 2 * 6,)


def test_two_cycles_swap_halves() -> None:
    state, result = run([loop(2), inp(0), END], cycles=2)
    w = words(state)
    # cycle 1: out[0], out[1] += in[0] (= 0); cycle 2 reads the second half, adds into the first
    assert w[256:258] == (256, 257)
    assert w[0:2] == (0 + 256, 1 + 256)
    assert result.op_counts == (5, 5)


def _nested(outer: int, inner: int) -> list[int]:
    # LOOP outer { MEMORY; LOOP inner { MEMORY; END }; END } runs 1 + outer * (2 * inner + 3)
    return [loop(outer), memory(0), loop(inner), memory(1), END, END]


def test_op_limit_exactly_20000_passes() -> None:
    _, result = run(_nested(7, 1427))
    assert result.op_counts == (20000,)


def test_op_limit_20001_fails() -> None:
    program = [loop(5), loop(1999), memory(1), END, END]  # 1 + 5 * (2 * 1999 + 2) = 20001
    with pytest.raises(randhash.RandHashOpLimitError):
        run(program)


def test_decode_imm_pattern_form() -> None:
    # v = insn >> 20: a = 3, b = 5, i = 0, s = 1 -> (~0 ^ 1<<5 ^ 1<<3) | 1<<63
    insn = ((1 << 11 | 5 << 5 | 3) << 20) | (1 << 19)
    assert decode_imm(insn) == ((1 << 64) - 1) ^ (1 << 5) ^ (1 << 3)
    insn = ((1 << 10 | 5 << 5 | 5) << 20) | (1 << 19)  # i = 1, a == b cancel
    assert decode_imm(insn) == (1 << 63) - 1
    assert decode_imm(0x80000000) == ((1 << 64) - 1) ^ 0x7FF  # -2048 sign-extended


def test_in_uses_the_pattern_decoder() -> None:
    insn = ((2 << 5 | 9) << 20) | (1 << 19) | Op.IN  # ~0 ^ 1<<2 ^ 1<<9 -> low byte 0xFB
    decoded = randhash.decode_insn(insn)
    assert decoded.arg == 0xFB


def test_invalid_opcode_is_rejected() -> None:
    with pytest.raises(ValueError):
        randhash.decode_insn(Op.INVALID_BIG)
