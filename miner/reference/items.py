"""Version-1 items ("mkitem2") and 8192-item tables (spec section 6.1).

A *program context* is built once per table from a 32-byte ``progSeed``:

* ``P = generate(progSeed)``;
* the memory buffer ``MB = Expand(8192, progSeed, 0)`` viewed as 2048 u32 LE words, with
  ``MB[0:len(P)]`` overwritten by the program words.

``item(i, itemSeed)``:

1. ``S = init(itemSeed, i)``;
2. ``RandHash(P, MB[i % 1792 : i % 1792 + 256], S, cycles=2)``;
3. makeFuzzable(S); crypt(S);
4. the item is ``S[0:1024]``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from . import cryptocycle
from .primitives import expand
from .randgen import generate
from .randhash import MEMORY_WORDS, DecodedProgram, RandHashResult, decode_program, randhash

MEMORY_BUFFER_WORDS = 2048
"""The program/memory buffer is 8192 bytes = 2048 u32 words."""

WINDOW_STARTS = MEMORY_BUFFER_WORDS - MEMORY_WORDS
"""Item i reads the window starting at word ``i % 1792``."""

RANDHASH_CYCLES = 2


@dataclass(frozen=True)
class ProgramContext:
    """The per-table program and memory buffer.

    ``program`` holds the raw u32 words, ``memory`` the 2048-word buffer (program words
    first), ``decoded`` the interpreter's decoded form of ``program``.
    """

    program: tuple[int, ...]
    memory: tuple[int, ...]
    decoded: DecodedProgram

    def memory_bytes(self) -> bytes:
        """The 8192-byte buffer as the C code holds it (``progbuf``)."""
        return struct.pack(f"<{MEMORY_BUFFER_WORDS}I", *self.memory)

    def window(self, index: int) -> Sequence[int]:
        """The 256-word memory window of item ``index``."""
        start = index % WINDOW_STARTS
        return self.memory[start : start + MEMORY_WORDS]


def make_context(prog_seed: bytes) -> ProgramContext:
    """Build the program context (raises ``ProgramTooBigError`` for a rejected program)."""
    program = generate(prog_seed)
    words = list(struct.unpack(f"<{MEMORY_BUFFER_WORDS}I", expand(8192, prog_seed, 0)))
    words[: len(program)] = program
    return ProgramContext(program, tuple(words), decode_program(program))


@dataclass(frozen=True)
class ItemTrace:
    """Intermediate values of one item computation (for checking a native kernel)."""

    state_after_init: bytes
    state_after_randhash: bytes
    randhash: RandHashResult
    item: bytes


def make_item_traced(ctx: ProgramContext, index: int, item_seed: bytes) -> ItemTrace:
    """Compute item ``index`` keeping the 2048-byte state after each step."""
    state = cryptocycle.init(item_seed, index)
    after_init = bytes(state)
    result = randhash(ctx.decoded, ctx.window(index), state, RANDHASH_CYCLES)
    after_randhash = bytes(state)
    cryptocycle.make_fuzzable(state)
    cryptocycle.crypt(state)
    return ItemTrace(after_init, after_randhash, result, bytes(state[: cryptocycle.ITEM_SIZE]))


def make_item(ctx: ProgramContext, index: int, item_seed: bytes) -> bytes:
    """item(i, itemSeed): the 1024-byte item (raises ``RandHashOpLimitError`` on failure)."""
    state = cryptocycle.init(item_seed, index)
    randhash(ctx.decoded, ctx.window(index), state, RANDHASH_CYCLES)
    cryptocycle.make_fuzzable(state)
    cryptocycle.crypt(state)
    return bytes(state[: cryptocycle.ITEM_SIZE])


class ItemTable:
    """An 8192-item table computed on demand and cached.

    The mining loop needs table2 only for lookups, so a test or a short run touches a few
    items; :meth:`fill` computes them all (needed for table1, whose merkle tree covers all).
    """

    def __init__(self, prog_seed: bytes, item_seed: bytes) -> None:
        self.context = make_context(prog_seed)
        self.item_seed = bytes(item_seed)
        self._items: dict[int, bytes] = {}

    def __getitem__(self, index: int) -> bytes:
        if not 0 <= index < cryptocycle.TABLE_SIZE:
            raise IndexError(index)
        item = self._items.get(index)
        if item is None:
            item = make_item(self.context, index, self.item_seed)
            self._items[index] = item
        return item

    def __len__(self) -> int:
        return cryptocycle.TABLE_SIZE

    @property
    def computed(self) -> int:
        """How many items have been computed so far."""
        return len(self._items)

    def fill(self) -> list[bytes]:
        """Compute every item; return the full table in order."""
        return [self[i] for i in range(cryptocycle.TABLE_SIZE)]
