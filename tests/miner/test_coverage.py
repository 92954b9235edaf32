"""Meta-checks: the vectors exercise every opcode, and each checked value depends on every input.

The vector tests compare whole byte strings, so any one-byte difference in an output fails
them; these tests make sure the converse holds too: a one-byte change of an input changes the
output that the vectors pin down.
"""

from __future__ import annotations

from typing import Any

import pytest

from miner.reference import cryptocycle, items, randgen
from miner.reference.opcodes import Op, opcode
from miner.reference.primitives import expand


def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def test_vector_programs_contain_every_opcode(generated: Any, real_ann_json: Any) -> None:
    trace = real_ann_json["trace_generated_by_reference_C"]
    sj = generated["synthetic_job"]
    seeds = [bytes.fromhex(v["seed"]) for v in generated["randgen"]]
    seeds.append(bytes.fromhex(generated["mkitem"]["prog_seed"]))
    for key, source in (("annHash0", trace), ("seed2", trace), ("annHash0", sj), ("seed2", sj)):
        seeds.append(bytes.fromhex(source[key])[:32])
    used = {opcode(insn) for seed in seeds for insn in randgen.generate(seed)}
    assert used == set(range(Op.POPCNT8, Op.INVALID_BIG))


@pytest.mark.parametrize("offset", [0, 13, 31])
def test_outputs_depend_on_every_seed_byte(generated: Any, offset: int) -> None:
    mk = generated["mkitem"]
    prog_seed = bytes.fromhex(mk["prog_seed"])
    item_seed = bytes.fromhex(mk["item_seed"])
    assert expand(64, prog_seed, 0) != expand(64, _flip(prog_seed, offset), 0)
    assert randgen.generate(prog_seed) != randgen.generate(_flip(prog_seed, offset))
    ctx = items.make_context(prog_seed)
    assert items.make_item(ctx, 0, item_seed) != items.make_item(ctx, 0, _flip(item_seed, offset))


@pytest.mark.parametrize("offset", [0, 12, 16, 47, 48, 1055, 2047])
def test_crypt_depends_on_every_state_region(offset: int) -> None:
    state = cryptocycle.init(bytes(range(32)), 5)
    other = bytearray(_flip(bytes(state), offset))
    if offset in (12,):  # the header word is rebuilt from S[16:20] by makeFuzzable
        cryptocycle.make_fuzzable(other)
        cryptocycle.make_fuzzable(state)
        assert state == other
        return
    cryptocycle.crypt(state)
    cryptocycle.crypt(other)
    assert cryptocycle.final(state) != cryptocycle.final(other)
