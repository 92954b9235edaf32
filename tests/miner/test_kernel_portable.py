"""miner._kernel_portable: the MSVC-style code paths of the C kernel, bit-exact on Linux.

setup.py builds the kernel's sources a second time with ``-DPC_FORCE_PORTABLE``
(miner/native/compat.h): a switch instead of computed-goto dispatch in RandHash, 128-bit
products from 32-bit halves instead of ``unsigned __int128`` (RandHash's 64x64 -> 128 ops and
Poly1305), plain-C clz/ctz/bswap, no prefetch, no SIMD. Those are the paths MSVC compiles, so
every check here compares that build with the native kernel ``miner._kernel`` and the
pure-Python reference: primitives, RandHash programs (every opcode, with 64-bit operands whose
products need all 128 bits), CryptoCycle, table items, validation of the real and synthetic
announcements, and mining the synthetic job's anns byte for byte.
"""

from __future__ import annotations

import hashlib
import random
import struct
from typing import Any

import pytest

from miner import kernel
from miner.reference import cryptocycle as cc
from miner.reference import items, primitives, randgen, randhash
from miner.reference.opcodes import Op
from miner.reference.validate import AnnCheck

from .conftest import load_json
from .test_kernel_native import _vector_state

portable = pytest.importorskip(
    "miner._kernel_portable",
    reason="miner._kernel_portable (the kernel built with -DPC_FORCE_PORTABLE) is not built: "
    "pip install -e . with a C compiler",
)
native = pytest.importorskip(
    "miner._kernel", reason="the C kernel miner._kernel is not built (pip install -e .)"
)

GENERATED = load_json("generated_reference_vectors.json")
MASK64 = (1 << 64) - 1


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def test_portable_build_has_no_simd() -> None:
    assert portable.__name__ == "miner._kernel_portable"
    assert portable.simd() == "portable" and portable.simd_levels() == ["portable"]
    assert portable.Job.__module__ == "miner._kernel_portable"


# -- primitives: Poly1305 is where the portable 128-bit products run -------------------------------


def test_poly1305_matches_reference_and_native() -> None:
    key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    assert portable.poly1305(key, b"Cryptographic Forum Research Group").hex() == (
        "a8061dc1305136c6c22b8baf0c0127a9"
    )
    rng = _rng(31)
    for n in [0, 1, 15, 16, 17, 64, 528, 1024, 2000] + [rng.randrange(2100) for _ in range(60)]:
        key, data = rng.randbytes(32), rng.randbytes(n)
        expected = primitives.poly1305(key, data)
        assert portable.poly1305(key, data) == expected == native.poly1305(key, data)
    # all-ones keys and messages: the largest limb products and every carry
    for key in (b"\xff" * 32, bytes(32), b"\xff" * 16 + bytes(16), b"\xfc" * 16 + b"\xff" * 16):
        for data in (b"\xff" * 16 * 40, bytes(16 * 33), b"\xff" * 17):
            assert portable.poly1305(key, data) == primitives.poly1305(key, data)
    for nblocks in (0, 1, 3, 4, 5, 63, 64, 65, 130):
        key, data, last = rng.randbytes(32), rng.randbytes(16 * nblocks), rng.randbytes(16)
        assert portable.poly1305_blocks_last(key, data, last) == primitives.poly1305(
            key, data + last
        )


def test_other_primitives() -> None:
    rng = _rng(32)
    for n in (0, 1, 127, 128, 129, 2048, 4097):
        data = rng.randbytes(n)
        assert portable.blake2b(data) == hashlib.blake2b(data).digest()
    for _ in range(20):
        key, nonce, data = rng.randbytes(32), rng.randbytes(12), rng.randbytes(rng.randrange(3000))
        assert portable.chacha20_xor(key, nonce, 1, data) == primitives.chacha20_xor(
            key, nonce, 1, data
        )
    states = [rng.randbytes(2048) for _ in range(4)]
    assert portable.blake2b256_x4(*states) == tuple(primitives.b256(s) for s in states)
    vector = GENERATED["hash_expand"]
    out = portable.expand(vector["len"], bytes.fromhex(vector["key"]), vector["num"])
    assert out.hex() == vector["out"]


# -- RandHash: every opcode, switch dispatch, 128-bit results ---------------------------------------

# 64-bit operands: signs, carries out of each 32-bit half, full-width products
EDGE64 = [
    0,
    1,
    0xFFFFFFFF,
    0x100000000,
    0x7FFFFFFFFFFFFFFF,
    0x8000000000000000,
    0x8000000000000001,
    0xFFFFFFFFFFFFFFFF,
    0xFFFFFFFFFFFFFFFE,
    0xFFFFFFFF00000001,
    0xDEADBEEFCAFEBABE,
    0x0180018000010080,  # clz/ctz lanes: 0x01, 0x80, 0x0001, 0x8000
    0x0000010000FF0000,
]

ARITH_OPS = [op for op in Op if Op.POPCNT8 <= op < Op.IN]


def _in(word_index: int) -> int:
    return (word_index << 20) | Op.IN


def _edge_program(imm_fields: list[int]) -> list[int]:
    """LOOP 1 { IN w0..w3; every arithmetic op on registers (a=2, b=4), i.e. the 64-bit
    operands w0|w1<<32 and w2|w3<<32 (32-bit ops see w1 and w3), then each op again with
    each immediate } END. END adds every result into hashOut, so each one reaches the state.
    """
    body = [_in(0), _in(1), _in(2), _in(3)]
    for op in ARITH_OPS:
        body.append(op | (2 << 9) | (4 << 20))
        body.append(op | (1 << 9) | (3 << 20))  # the low words too
        for field in imm_fields:
            body.append(op | (2 << 9) | (1 << 18) | field)
    return [(1 << 20) | Op.LOOP, *body, Op.END]


IMM_FIELDS = [
    0xFFF << 20,  # sign-extended -1
    0x800 << 20,  # -2048
    0x7FF << 20,
    (1 << 19) | (0x800 | 0x3F) << 20,  # pattern immediates: bit 63 set, bits 0/1 flipped
    (1 << 19) | (0x400 | (31 << 5) | 0) << 20,  # ~0 with bits 31 and 0 cleared
    (1 << 19) | ((7 << 5) | 3) << 20,
]


def _run_all(
    program: list[int], memory: bytes, state: bytes, cycles: int
) -> tuple[bytes | None, tuple[int, ...]]:
    expected = bytearray(state)
    result = randhash.randhash(
        randhash.decode_program(program), struct.unpack("<256I", memory), expected, cycles
    )
    got = portable.randhash(program, memory, state, cycles)
    assert got == native.randhash(program, memory, state, cycles)
    assert got == (bytes(expected), result.op_counts)
    return got


def test_edge_operands_need_all_128_bits() -> None:
    """The operands below are a real test of the 128-bit helpers: both 32-bit halves of the
    high 64 bits vary, and signed products of both signs occur."""
    highs = {((a * b) >> 64) for a in EDGE64 for b in EDGE64}
    assert any(h >> 32 and h & 0xFFFFFFFF for h in highs)
    signed = [((a - (a >> 63 << 64)) * (b - (b >> 63 << 64))) >> 64 for a in EDGE64 for b in EDGE64]
    assert any(h < 0 for h in signed) and any(h > 0xFFFFFFFF for h in signed)


def test_randhash_every_opcode_on_edge_operands() -> None:
    program = _edge_program(IMM_FIELDS)
    rng = _rng(33)
    memory = rng.randbytes(1024)
    for a in EDGE64:
        for b in EDGE64:
            words = [a & 0xFFFFFFFF, a >> 32, b & 0xFFFFFFFF, b >> 32]
            state = struct.pack("<4I", *words) + rng.randbytes(cc.STATE_SIZE - 16)
            got, _ = _run_all(program, memory, state, 1)
            assert got is not None, (hex(a), hex(b))


def test_randhash_wide_multiplies_directly() -> None:
    """MUL64C, MULSU64C, MULU64C, ADD64C, SUB64C alone: hashOut's first four words are the
    128-bit result (plus what was there), so a wrong high half cannot hide."""
    rng = _rng(34)
    for op in (Op.ADD64C, Op.SUB64C, Op.MUL64C, Op.MULSU64C, Op.MULU64C):
        program = [
            (1 << 20) | Op.LOOP,
            _in(0),
            _in(1),
            _in(2),
            _in(3),
            op | (2 << 9) | (4 << 20),
            Op.END,
        ]
        for a in EDGE64 + [rng.randrange(1 << 64) for _ in range(20)]:
            for b in EDGE64[::2] + [rng.randrange(1 << 64)]:
                state = struct.pack("<4I", a & 0xFFFFFFFF, a >> 32, b & 0xFFFFFFFF, b >> 32)
                state += bytes(cc.STATE_SIZE - 16)
                got, _ = _run_all(program, bytes(1024), state, 1)
                assert got is not None
                # END flushed marker-less frame values IN x4 then the result: words 4..7
                out = struct.unpack_from("<4I", got, 1024 + 16)
                value = out[0] | out[1] << 32 | out[2] << 64 | out[3] << 96
                sa, sb = a - (a >> 63 << 64), b - (b >> 63 << 64)
                want = {
                    Op.ADD64C: a + b,
                    Op.SUB64C: a - b,
                    Op.MUL64C: sa * sb,
                    Op.MULSU64C: sa * b,
                    Op.MULU64C: a * b,
                }[op] & ((1 << 128) - 1)
                assert value == want, (op.name, hex(a), hex(b))


def test_randhash_random_programs() -> None:
    rng = _rng(35)
    for _ in range(16):
        try:
            program = randgen.generate(rng.randbytes(32))
        except randgen.ProgramTooBigError:
            continue
        _run_all(list(program), rng.randbytes(1024), rng.randbytes(cc.STATE_SIZE), 2)


def test_randhash_mixed_immediates() -> None:
    """The native tests' hand-made programs: every opcode, random register/immediate forms."""
    rng = _rng(36)
    for _ in range(6):
        body = [(rng.randrange(1 << 24) << 8) | Op.IN for _ in range(4)]
        for op in ARITH_OPS:
            a = rng.randrange(2, 5)
            if rng.random() < 0.5:
                body.append(op | (rng.randrange(2, 5) << 20) | (a << 9))
            else:
                body.append(op | (rng.randrange(1 << 13) << 19) | (1 << 18) | (a << 9))
        program = [(3 << 20) | Op.LOOP, *body, Op.END]
        _run_all(program, rng.randbytes(1024), rng.randbytes(cc.STATE_SIZE), 2)


@pytest.mark.parametrize(("count", "tail"), [(1999, 8), (1999, 9), (2000, 0)])
def test_randhash_operation_limit(count: int, tail: int) -> None:
    program = [(count << 20) | Op.LOOP, *([_in(5)] * 9), Op.END, *([_in(5)] * tail), Op.END]
    state = bytes(range(256)) * 8
    got = portable.randhash(program, bytes(1024), state, 1)
    assert got == native.randhash(program, bytes(1024), state, 1)


def test_randgen_and_items() -> None:
    rng = _rng(37)
    for _ in range(60):
        seed = rng.randbytes(32)
        assert portable.randgen(seed) == native.randgen(seed) == randgen.generate(seed)
    mk = GENERATED["mkitem"]
    ctx = portable.table_context(bytes.fromhex(mk["prog_seed"]), bytes.fromhex(mk["item_seed"]))
    assert ctx is not None
    for vector in mk["items"]:
        item, counts = ctx.item(vector["num"])
        assert item is not None and item.hex() == vector["item"]
        assert counts[-1] == vector["opCtr_last_cycle"]
    prog_seed, item_seed = rng.randbytes(32), rng.randbytes(32)
    ref_ctx = items.make_context(prog_seed)
    ctx = portable.table_context(prog_seed, item_seed)
    native_ctx = native.table_context(prog_seed, item_seed)
    assert ctx is not None and native_ctx is not None
    for index in (0, 1791, 1792, 8191):
        trace = items.make_item_traced(ref_ctx, index, item_seed)
        assert ctx.item(index) == (trace.item, trace.randhash.op_counts)
    assert ctx.build(0, 64) == native_ctx.build(0, 64)


# -- CryptoCycle -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector", load_json("cryptocycle_vectors.json")["vectors"], ids=lambda v: v["name"]
)
def test_pktd_cryptocycle_vectors(vector: dict[str, Any]) -> None:
    state, start, length = _vector_state(vector)
    out = portable.cc_crypt(bytes(state))
    assert out == native.cc_crypt(bytes(state))
    if vector["mode"] == "encrypt":
        assert (out[start : start + length] + out[16:32]).hex() == vector["expected_hex"]
    else:
        assert out[start : start + length].hex() == vector["expected_hex"]


def test_cryptocycle_chain() -> None:
    rng = _rng(38)
    for i in range(25):
        seed, nonce = rng.randbytes(32), rng.randrange(1 << 64)
        ref = cc.init(seed, nonce)
        got = portable.cc_init(seed, nonce)
        assert got == bytes(ref) == native.cc_init(seed, nonce)
        for _ in range(4):
            item = rng.randbytes(cc.ITEM_SIZE)
            cc.update(ref, item)
            got = portable.cc_update(got, item)
            assert got == bytes(ref), i
        cc.final(ref)
        assert portable.cc_final(got) == bytes(ref)
    for _ in range(40):
        state = bytearray(rng.randbytes(cc.STATE_SIZE))
        word = struct.unpack_from("<I", state, 12)[0] & ~((0x7F << 25) | (1 << 24)) | (1 << 17)
        state[12:16] = struct.pack("<I", word)
        expected = bytearray(state)
        cc.crypt(expected)
        assert portable.cc_crypt(bytes(state)) == bytes(expected)


def test_difficulty_helpers() -> None:
    """pc_soft_nonce_max uses clz: the portable one on every exponent and mantissa width."""
    rng = _rng(39)
    compacts = [0, 0x7FFFFF, 0x01000001, 0xFF7FFFFF, 0x20000FFF, 0x1F100000]
    compacts += [(e << 24) | (1 << b) for e in range(0, 0x24) for b in range(23)]
    compacts += [rng.randrange(1 << 32) for _ in range(300)]
    for compact in compacts:
        assert portable.soft_nonce_max(compact) == native.soft_nonce_max(compact), hex(compact)
        h = rng.randbytes(32)
        assert portable.hash_meets(h, compact, False) == native.hash_meets(h, compact, False)


# -- announcements: validation and mining ------------------------------------------------------------


def test_validate_real_and_synthetic_anns(
    real_ann: bytes,
    real_ann_json: Any,
    real_parent_hash: bytes,
    synthetic_anns: list[bytes],
    synthetic_json: Any,
) -> None:
    code, work_hash, item_nos = portable.validate(real_ann, real_parent_hash)
    assert kernel._CODES[code] is AnnCheck.OK
    assert work_hash is not None
    assert work_hash.hex() == real_ann_json["expected_work_hash_internal_order"]
    assert (code, work_hash, item_nos) == native.validate(real_ann, real_parent_hash)
    parent = bytes.fromhex(synthetic_json["job"]["parent_block_hash_internal_order"])
    for entry, ann in list(zip(synthetic_json["anns"], synthetic_anns, strict=True))[::4]:
        code, work_hash, _ = portable.validate(ann, parent)
        assert kernel._CODES[code] is AnnCheck.OK and work_hash is not None
        assert work_hash.hex() == entry["work_hash_internal_order"]


def test_validate_mutations_agree_with_native(real_ann: bytes, real_parent_hash: bytes) -> None:
    for offset in (0, 3, 8, 14, 40, 87, 88, 500, 919, 920, 983, 1023):
        mutated = bytearray(real_ann)
        mutated[offset] ^= 1
        result = portable.validate(bytes(mutated), real_parent_hash)
        assert result == native.validate(bytes(mutated), real_parent_hash), offset
        assert kernel._CODES[result[0]] is not AnnCheck.OK


@pytest.fixture(scope="module")
def synthetic_pair(synthetic_job: Any) -> tuple[Any, Any]:
    """The synthetic job built by both extensions (the native one through miner.kernel)."""
    job = kernel.prepare_job(
        synthetic_job.parent_hash,
        synthetic_job.parent_height,
        synthetic_job.work_bits,
        hard_nonce=synthetic_job.hard_nonce,
        backend="native",
    )
    assert isinstance(job, kernel._NativeJob)
    pjob = portable.Job(job.header, synthetic_job.parent_hash)
    assert pjob.status == 0
    assert pjob.table1(0, 8192) == 0
    assert pjob.middle() == 0
    assert pjob.table2(0, 8192) == 0
    assert pjob.end() == 0
    return job._k, pjob


def test_synthetic_job_tables(synthetic_pair: tuple[Any, Any], generated: Any) -> None:
    njob, pjob = synthetic_pair
    sj = generated["synthetic_job"]
    assert pjob.ann_hash0.hex() == sj["annHash0"]
    assert pjob.merkle_root.hex() == sj["merkle_root"]
    assert pjob.ann_hash1.hex() == sj["annHash1"]
    assert pjob.seed2.hex() == sj["seed2"]
    assert pjob.soft_nonce_max == sj["soft_nonce_max"]
    assert (pjob.prog1_len, pjob.prog2_len) == (njob.prog1_len, njob.prog2_len)
    table2 = pjob.table2_bytes()
    assert hashlib.blake2b(table2).hexdigest() == sj["table2_concat_blake2b512"]
    assert table2 == njob.table2_bytes()
    for trace in sj["nonce_traces"]:
        item_nos, state = pjob.hash_nonce(trace["soft_nonce"])
        assert list(item_nos) == trace["item_nos"]
        assert state[:32].hex() == trace["final_hash"]
        assert (item_nos, state) == njob.hash_nonce(trace["soft_nonce"])
    assert pjob.branch(1234) == njob.branch(1234)


def test_mining_gives_byte_identical_anns(
    synthetic_pair: tuple[Any, Any], synthetic_anns: list[bytes], synthetic_json: Any
) -> None:
    """Same job, same nonces: the first 4 of the reference miner's 64 anns, from both builds."""
    njob, pjob = synthetic_pair
    stop = synthetic_json["anns"][3]["soft_nonce"] + 1
    nxt, blob = pjob.mine(0, stop, 100)
    assert (nxt, blob) == njob.mine(0, stop, 100)
    anns = [blob[i : i + 1024] for i in range(0, len(blob), 1024)]
    assert anns == synthetic_anns[:4]
    # a batch starting in the middle, cut by max_results
    start = synthetic_json["anns"][2]["soft_nonce"]
    assert pjob.mine(start, 10**5, 2) == njob.mine(start, 10**5, 2)
