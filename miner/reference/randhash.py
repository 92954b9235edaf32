"""RandHash: the interpreter of RandGen programs (spec sections 5.1 to 5.3).

A program is *decoded* once (:func:`decode_program`) and then run for every item of its table
(:func:`randhash`). Decoding turns each u32 instruction into a ``(kind, argument)`` pair;
an arithmetic instruction becomes a small closure that reads its operands from the variable
stack and pushes its result words (operand fetch and result push of section 5.2, semantics
from :mod:`.randhash_ops`).

Interpreter state (section 5.1):

* ``vars``: a u32 stack including 0xFFFFFFFF scope markers; register numbers are absolute
  indexes into it, markers included;
* a *single global* ``loop_cycle`` (not restored after an inner loop);
* ``op_ctr``: executed instructions in the current cycle, every kind counted, limit 20000;
* ``hash_ctr``: next output word, restarting at 0 each cycle.

``varCount`` of the C code (values pushed in the current frame) is ``len(vars) - base`` here,
where ``base`` is the stack height just after the frame's marker.

For checking a native kernel, :func:`randhash` accepts an ``on_end`` hook that receives, for
every END executed, its pc, the first ``hashOut`` index written and the values added. Every
value that reaches the state passes through an END, so the first differing call pinpoints a
divergence.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .opcodes import (
    TYPE_OF_OP,
    Op,
    OpType,
    decode_imm,
    has_imm,
    jmp_offset,
    memory_base,
    memory_carry,
    memory_step,
    opcode,
    reg_a,
    reg_b,
)
from .randhash_ops import M32, OPS_1_1, OPS_2_1, OPS_2_2, OPS_4_2, OPS_4_4, to_signed

MAX_OPS = 20000
"""Executed instructions allowed per cycle (C ``Conf_RandHash_MAX_OPS``)."""

MEMORY_WORDS = 256
"""RandHash sees a 256-word window of the memory buffer."""

HASH_WORDS = 256
"""``hashIn`` and ``hashOut`` are 256 u32 words (1024 bytes) each."""

_SCOPE_MARKER = 0xFFFFFFFF


class RandHashOpLimitError(Exception):
    """A cycle executed more than 20000 instructions; the item (and its table) fails."""


class Kind(IntEnum):
    """Decoded instruction kinds."""

    ARITH = 0
    MEMORY = 1
    IN = 2
    LOOP = 3
    IF = 4
    JMP = 5
    END = 6


# Plain-int copies of the kinds for the interpreter's dispatch (enum lookups are slow).
_ARITH, _MEMORY, _IN, _LOOP, _IF, _JMP = (int(k) for k in Kind if k is not Kind.END)

ArithStep = Callable[[list[int]], None]
"""An arithmetic instruction: reads its operands from the stack and pushes its result."""

EndHook = Callable[[int, int, list[int]], None]
"""``on_end(pc, first_hash_out_index, values)``, called at every END."""


@dataclass(frozen=True)
class DecodedInsn:
    """One decoded instruction.

    ``arg`` depends on ``kind``: ARITH -> :data:`ArithStep`; MEMORY -> ``(base, carry, step)``;
    IN -> input word index; LOOP -> cycle count; IF -> ``(regA, test mask)``; JMP -> offset;
    END -> ``None``.
    """

    kind: Kind
    arg: Any
    insn: int


def _arith_step(insn: int) -> ArithStep:
    """The closure executing one arithmetic instruction (section 5.2, last row).

    Operand A is ``vars[regA]`` (64-bit ops: low ``vars[regA-1]``, high ``vars[regA]``).
    Operand B is the immediate when HAS_IMM is set (its low 32 bits for 32-bit ops, the full
    sign-extended or pattern value for 64-bit ops), else ``vars[regB]`` (or the pair).
    """
    op = Op(opcode(insn))
    op_type = TYPE_OF_OP[op]
    ra = reg_a(insn)
    rb = reg_b(insn)
    imm = decode_imm(insn) if has_imm(insn) else None

    if op_type == OpType.T1_1:
        f1 = OPS_1_1[op]
        return lambda v: v.append(f1(v[ra]))

    if op_type == OpType.T2_1:
        f21 = OPS_2_1[op]
        if imm is None:
            return lambda v: v.append(f21(v[ra], v[rb]))
        imm32 = imm & M32
        return lambda v: v.append(f21(v[ra], imm32))

    if op_type == OpType.T2_2:
        f22 = OPS_2_2[op]
        imm_b = None if imm is None else imm & M32

        def step22(v: list[int]) -> None:
            r = f22(v[ra], v[rb] if imm_b is None else imm_b)
            v.append(r & M32)
            v.append(r >> 32)

        return step22

    if op_type == OpType.T4_2:
        f42 = OPS_4_2[op]

        def step42(v: list[int]) -> None:
            r = f42(v[ra - 1] | v[ra] << 32, v[rb - 1] | v[rb] << 32 if imm is None else imm)
            v.append(r & M32)
            v.append(r >> 32)

        return step42

    f44 = OPS_4_4[op]

    def step44(v: list[int]) -> None:
        r = f44(v[ra - 1] | v[ra] << 32, v[rb - 1] | v[rb] << 32 if imm is None else imm)
        v.append(r & M32)
        v.append((r >> 32) & M32)
        v.append((r >> 64) & M32)
        v.append((r >> 96) & M32)

    return step44


def decode_insn(insn: int) -> DecodedInsn:
    """Decode one instruction word (section 4.7)."""
    op = opcode(insn)
    if op == Op.MEMORY:
        memory_arg = (memory_base(insn), memory_carry(insn), memory_step(insn))
        return DecodedInsn(Kind.MEMORY, memory_arg, insn)
    if op == Op.IN:
        return DecodedInsn(Kind.IN, (decode_imm(insn) & M32) % HASH_WORDS, insn)
    if op == Op.LOOP:
        # C: ``int count = DecodeInsn_imm(insn)``; a negative count runs no iteration.
        return DecodedInsn(Kind.LOOP, max(0, to_signed(decode_imm(insn), 32)), insn)
    if op in (Op.IF_LIKELY, Op.IF_RANDOM):
        return DecodedInsn(Kind.IF, (reg_a(insn), 7 if op == Op.IF_LIKELY else 1), insn)
    if op == Op.JMP:
        return DecodedInsn(Kind.JMP, jmp_offset(insn), insn)
    if op == Op.END:
        return DecodedInsn(Kind.END, None, insn)
    if op in TYPE_OF_OP:
        return DecodedInsn(Kind.ARITH, _arith_step(insn), insn)
    raise ValueError(f"invalid RandHash opcode {op} in {insn:#010x}")


@dataclass(frozen=True)
class DecodedProgram:
    """A program decoded for the interpreter; ``kinds`` and ``args`` mirror ``insns``."""

    insns: tuple[DecodedInsn, ...]
    kinds: tuple[int, ...]
    args: tuple[Any, ...]

    @property
    def words(self) -> tuple[int, ...]:
        """The original u32 instruction words."""
        return tuple(d.insn for d in self.insns)


def decode_program(program: Sequence[int]) -> DecodedProgram:
    """Decode every instruction of a program once, for repeated interpretation."""
    insns = tuple(decode_insn(insn) for insn in program)
    return DecodedProgram(insns, tuple(int(d.kind) for d in insns), tuple(d.arg for d in insns))


class _Machine:
    """The state of one RandHash cycle and the recursive ``run(pc)`` of section 5.2.

    Hot counters are kept in locals and synchronised with the attributes around recursive
    calls; that is only for speed.
    """

    def __init__(
        self,
        program: DecodedProgram,
        memory: Sequence[int],
        hash_in: list[int],
        hash_out: list[int],
        on_end: EndHook | None,
    ) -> None:
        self.kinds = program.kinds
        self.args = program.args
        self.memory = memory
        self.hash_in = hash_in
        self.hash_out = hash_out
        self.on_end = on_end
        self.vars: list[int] = []
        self.op_ctr = 0
        self.hash_ctr = 0
        self.loop_cycle = 0

    def run(self, pc: int) -> int:
        """Execute from ``pc`` until the frame's END (or the program's end); return that pc.

        A call with ``pc != 0`` opens a frame: it pushes a scope marker.
        """
        variables = self.vars
        if pc != 0:
            variables.append(_SCOPE_MARKER)
        base = len(variables)
        kinds = self.kinds
        args = self.args
        memory = self.memory
        hash_in = self.hash_in
        last_pc = len(kinds) - 1
        op_ctr = self.op_ctr
        while True:
            if op_ctr > MAX_OPS:
                raise RandHashOpLimitError(f"more than {MAX_OPS} instructions")
            op_ctr += 1
            kind = kinds[pc]
            if kind == _ARITH:
                args[pc](variables)
            elif kind == _MEMORY:
                # push mem[(base + (loopCycle + carry) * step) & 255]
                mem_base, carry, step = args[pc]
                variables.append(memory[(mem_base + (self.loop_cycle + carry) * step) & 0xFF])
            elif kind == _IN:
                variables.append(hash_in[args[pc]])
            elif kind == _LOOP:
                self.op_ctr = op_ctr
                ret = pc
                for cycle in range(args[pc]):
                    self.loop_cycle = cycle
                    ret = self.run(pc + 1)
                op_ctr = self.op_ctr
                pc = ret
                if pc == last_pc:
                    return pc
            elif kind == _IF:
                # non-zero: run the then-body at pc + 2; zero: a frame starting at the JMP
                register, mask = args[pc]
                self.op_ctr = op_ctr
                pc = self.run(pc + 2) if variables[register] & mask else self.run(pc + 1)
                op_ctr = self.op_ctr
            elif kind == _JMP:
                pc += args[pc]
            else:  # END: add this frame's values into hashOut, pop them and the marker
                self.op_ctr = op_ctr
                self._output(pc, variables[base:])
                del variables[base - 1 :]
                return pc
            pc += 1

    def _output(self, pc: int, values: list[int]) -> None:
        """END's accumulation: ``hashOut[hashctr] += v`` (mod 2^32), hashctr advancing mod 256."""
        if self.on_end is not None:
            self.on_end(pc, self.hash_ctr, values)
        hash_out = self.hash_out
        ctr = self.hash_ctr
        for value in values:
            hash_out[ctr] = (hash_out[ctr] + value) & M32
            ctr = (ctr + 1) % HASH_WORDS
        self.hash_ctr = ctr


@dataclass(frozen=True)
class RandHashResult:
    """Executed-instruction count of each cycle (``opCtr`` at the end of the cycle)."""

    op_counts: tuple[int, ...]


def randhash(
    program: DecodedProgram,
    memory: Sequence[int],
    state: bytearray,
    cycles: int = 2,
    on_end: EndHook | None = None,
) -> RandHashResult:
    """RandHash(prog, mem, S, cycles) of section 5.3, updating ``state`` in place.

    Cycle 1 reads ``S[0:1024]`` and adds into ``S[1024:2048]``; each further cycle swaps the
    two halves. ``memory`` is the 256-word window. Raises :class:`RandHashOpLimitError`.
    """
    if len(memory) != MEMORY_WORDS:
        raise ValueError("RandHash memory is 256 words")
    low = list(struct.unpack_from("<256I", state, 0))
    high = list(struct.unpack_from("<256I", state, 1024))
    hash_in, hash_out = low, high
    counts = []
    for _ in range(cycles):
        machine = _Machine(program, memory, hash_in, hash_out, on_end)
        machine.run(0)
        if machine.op_ctr > MAX_OPS:
            raise RandHashOpLimitError(f"more than {MAX_OPS} instructions")
        counts.append(machine.op_ctr)
        hash_in, hash_out = hash_out, hash_in
    struct.pack_into("<256I", state, 0, *low)
    struct.pack_into("<256I", state, 1024, *high)
    return RandHashResult(tuple(counts))
