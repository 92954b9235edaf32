"""RandGen: the random program generator (spec section 4; consensus-critical).

``generate(seed)`` returns the program as a tuple of u32 instruction words. The order in which
random words are drawn is part of consensus, so every draw below happens exactly where the spec
(and the C ``RandGen.c`` / Go ``randgen``) draws it:

* ``op()`` draws its opcode word *before* checking the budget;
* ``getA`` is evaluated before ``getB``;
* the reuse toss of ``getVar`` is drawn only when its left-hand condition holds, the walk-up
  toss only for a frame that is large enough and not the outermost one;
* ``loop()`` draws its cycle count and memory-access count before the budget check and always
  returns false, so a body ends right after its first ``loop()`` call.
"""

from __future__ import annotations

import struct

from .opcodes import OPS_BY_TYPE, OUTPUT_WORDS, WIDE_INPUT_TYPES, Op, OpType
from .primitives import expand

# Constants of spec section 4.1 (C Conf.h).
INITIAL_BUDGET = 20000
MAX_INSNS = 2048
OP_COST: dict[OpType, int] = {
    OpType.T1_1: 1,
    OpType.T2_1: 2,
    OpType.T2_2: 4,
    OpType.T4_2: 8,
    OpType.T4_4: 16,
}
INPUT_COST = 2
MEMORY_COST = 20
BRANCH_COST = 50
LOOP_MIN_CYCLES = 2
RANDOM_BRANCH_ONE_IN = 2
HIGHER_SCOPE_ONE_IN = 4
VAR_REUSE_ONE_IN = 8
IMMEDIATE_ONE_IN = 4

_SCOPE_MARKER = 0xFFFFFFFF
"""Scope markers on the generator's variable stack (bit 0 set: always "used")."""


class ProgramTooBigError(Exception):
    """RandGen would emit more than 2048 instructions; the program is rejected."""


def loop_max_cycles(depth: int) -> int:
    """Exclusive upper bound of a loop's cycle count: ``7 + 29 * depth``."""
    return 7 + depth * 29


def if_body_budget(budget: int) -> int:
    """Budget of each IF body: ``budget * 7 / 32``."""
    return budget * 7 // 32


class RandGenPrng:
    """The generator's PRNG (section 4.2): u32 words of ``Expand(64, seed, ctr)``, ctr = 0, 1, ..."""

    def __init__(self, seed32: bytes) -> None:
        self._seed = bytes(seed32)
        self._counter = 0
        self._words: tuple[int, ...] = ()
        self._next = 0

    def next_u32(self) -> int:
        """``r()``: the next word, refilling the 64-byte buffer when it is used up."""
        if self._next >= len(self._words):
            self._words = struct.unpack("<16I", expand(64, self._seed, self._counter))
            self._counter += 1
            self._next = 0
        word = self._words[self._next]
        self._next += 1
        return word

    def toss(self, one_in: int) -> bool:
        """``toss(n)``: ``r() % n == 0``."""
        return self.next_u32() % one_in == 0

    def range(self, start: int, end: int) -> int:
        """``range(a, b)``: ``r() % (b - a) + a``."""
        return self.next_u32() % (end - start) + start


class _Generator:
    """Generator state (section 4.3): instructions, variable stack, scope depth."""

    def __init__(self, seed32: bytes) -> None:
        self.rng = RandGenPrng(seed32)
        self.insns: list[int] = []
        self.vars: list[int] = []
        self.depth = 0
        self.too_big = False

    # -- helpers (section 4.3) --------------------------------------------------------------

    def emit(self, insn: int) -> None:
        if len(self.insns) >= MAX_INSNS:
            self.too_big = True
            return
        self.insns.append(insn & 0xFFFFFFFF)

    def scope(self) -> None:
        self.depth += 1
        self.vars.append(_SCOPE_MARKER)

    def end(self) -> None:
        self.emit(Op.END)
        self.depth -= 1
        while self.vars.pop() != _SCOPE_MARKER:
            pass

    def mkvar(self) -> None:
        self.vars.append(0)

    # -- picking variables (section 4.4) -----------------------------------------------------

    def get_var(self, dbl: bool) -> int:
        """getVar(dbl): pick a register index; for ``dbl`` the pair ``j-1`` (low), ``j`` (high)."""
        variables = self.vars
        eof = len(variables)
        bof = eof - 1
        while bof >= 0:
            if variables[bof] != _SCOPE_MARKER:
                bof -= 1
                continue
            # A frame too small for the operand is skipped without drawing randomness; the
            # outermost frame is taken; otherwise toss(4) decides whether to walk up.
            frame_too_small = bof >= eof - (2 if dbl else 1)
            if not frame_too_small and (bof == 0 or not self.rng.toss(HIGHER_SCOPE_ONE_IN)):
                break
            eof = bof
            bof -= 1
        if bof < 0:
            raise AssertionError("RandGen: no variable frame found")

        j = self.rng.range(bof + 1, eof) + 1
        while True:
            if j >= eof:
                j = bof + 1
            if (not dbl or j > bof + 1) and self.rng.toss(VAR_REUSE_ONE_IN):
                break
            if not variables[j] & 1 and (not dbl or not variables[j - 1] & 1):
                break
            j += 1
        variables[j] |= 1
        if dbl:
            variables[j - 1] |= 1
        return j

    def get_a(self, dbl: bool) -> int:
        return self.get_var(dbl) << 9

    def get_b(self, dbl: bool) -> int:
        if self.rng.toss(IMMEDIATE_ONE_IN):
            return ((self.rng.next_u32() << 20) | (1 << 18)) & 0xFFFFFFFF
        return self.get_var(dbl) << 20

    # -- emitters (section 4.5) --------------------------------------------------------------

    def op(self, op_type: OpType, budget: list[int]) -> bool:
        rnd = self.rng.next_u32()
        cost = OP_COST[op_type]
        if budget[0] < cost:
            return False
        budget[0] -= cost
        choices = OPS_BY_TYPE[op_type]
        code = int(choices[rnd % len(choices)])
        dbl = op_type in WIDE_INPUT_TYPES
        insn = code | self.get_a(dbl)
        if op_type != OpType.T1_1:
            insn |= self.get_b(dbl)
        self.emit(insn)
        for _ in range(OUTPUT_WORDS[op_type]):
            self.mkvar()
        return True

    def input(self, budget: list[int]) -> bool:
        if budget[0] < INPUT_COST:
            return False
        budget[0] -= INPUT_COST
        self.mkvar()
        self.emit((self.rng.next_u32() << 8) | Op.IN)
        return True

    def branch(self, budget: list[int]) -> bool:
        if budget[0] < BRANCH_COST:
            return False
        budget[0] -= BRANCH_COST
        opcode = Op.IF_RANDOM if self.rng.toss(RANDOM_BRANCH_ONE_IN) else Op.IF_LIKELY
        self.emit(self.get_a(False) | opcode | (2 << 20))
        j1 = len(self.insns)
        self.emit(Op.JMP)
        self.body([if_body_budget(budget[0])], new_scope=True)
        j2 = len(self.insns)
        self.emit(Op.JMP)
        self.body([if_body_budget(budget[0])], new_scope=True)
        # Patch the two jumps (when tooBig stopped emitting, the slots may not exist; the
        # program is rejected then anyway).
        if j1 < len(self.insns):
            self.insns[j1] = ((j2 - j1) << 8) | Op.JMP
        if j2 < len(self.insns):
            self.insns[j2] = ((len(self.insns) - j2 - 1) << 8) | Op.JMP
        return True

    def loop(self, budget: list[int]) -> bool:
        cycles = self.rng.range(LOOP_MIN_CYCLES, loop_max_cycles(self.depth))
        memory_reads = self.rng.range(2, 4)
        if budget[0] < MEMORY_COST * cycles:
            return False
        budget[0] //= cycles
        self.emit((cycles << 20) | Op.LOOP)
        self.scope()
        template = ((self.rng.next_u32() << 8) | Op.MEMORY) & 0xFFFFFFFF
        for _ in range(memory_reads):
            if budget[0] < MEMORY_COST:
                break
            budget[0] -= MEMORY_COST
            self.mkvar()
            carry = self.rng.next_u32() & 15
            self.emit((template & ~(15 << 9)) | (carry << 9))
        self.body(budget, new_scope=False)
        self.end()
        return False

    def body(self, budget: list[int], new_scope: bool) -> bool:
        """body(budget, newScope); ``budget`` is a one-element list shared with the caller."""
        rng = self.rng
        if new_scope:
            self.scope()
        while True:
            mx = rng.range(2, 12)
            out_of_budget = False
            for i in range(1, mx + 1):
                if rng.toss(4 * mx // i) and self.op(OpType.T4_4, budget):
                    continue
                if rng.toss(3 * mx // i) and self.op(OpType.T4_2, budget):
                    continue
                if rng.toss(3 * mx // i) and self.op(OpType.T2_2, budget):
                    continue
                if rng.toss(2 * mx // i) and self.op(OpType.T2_1, budget):
                    continue
                if rng.toss(i) and self.input(budget):
                    continue
                if self.op(OpType.T1_1, budget):
                    continue
                out_of_budget = True
                break
            if out_of_budget:
                break
            if (rng.next_u32() % 64 + len(self.insns) * 25 // MAX_INSNS) < 50 and not self.branch(
                budget
            ):
                break
            if rng.next_u32() % 32 < 23 and not self.loop(budget):
                break
        if new_scope:
            self.end()
        return False


def generate(seed32: bytes) -> tuple[int, ...]:
    """generate(seed32): the RandHash program for ``seed32`` (spec section 4.5).

    Raises :class:`ProgramTooBigError` when the program would exceed 2048 instructions.
    """
    if len(seed32) != 32:
        raise ValueError("RandGen seeds are 32 bytes")
    gen = _Generator(seed32)
    gen.loop([INITIAL_BUDGET])
    if gen.too_big:
        raise ProgramTooBigError("RandGen program exceeds 2048 instructions")
    return tuple(gen.insns)
