"""The native kernel (miner._kernel) against the pure-Python reference, piece by piece.

Every test runs once per SIMD code path this CPU supports (portable C, AVX2, AVX-512), so the
vector versions are checked against the reference too. Random inputs come from seeded
generators: a failure is reproducible.
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from miner.reference import cryptocycle as cc
from miner.reference import difficulty, items, merkle, primitives, randgen, randhash
from miner.reference.opcodes import Op

from .conftest import load_json

native = pytest.importorskip(
    "miner._kernel", reason="the C kernel miner._kernel is not built (pip install -e .)"
)

LEVELS = native.simd_levels()
GENERATED = load_json("generated_reference_vectors.json")


@pytest.fixture(params=LEVELS, autouse=True)
def simd_level(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with one SIMD level forced, then restore the best one."""
    native.set_simd(request.param)
    yield str(request.param)
    native.set_simd(LEVELS[-1])


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def _bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


# -- primitives --------------------------------------------------------------------------------


def test_blake2b_matches_hashlib() -> None:
    rng = _rng(1)
    lengths = [0, 1, 127, 128, 129, 152, 255, 256, 1024, 2048, 4097]
    lengths += [rng.randrange(0, 5000) for _ in range(40)]
    for n in lengths:
        data = _bytes(rng, n)
        assert native.blake2b(data) == hashlib.blake2b(data).digest()
        assert native.blake2b(data, 32) == primitives.b256(data)


def test_hash_vectors() -> None:
    for vector in load_json("hash_vectors.json")["vectors"][:2]:
        data = vector["input_ascii"].encode()
        assert native.blake2b(data, vector["digest_size"]).hex() == vector["expected_hex"]


def test_chacha20_matches_reference() -> None:
    rng = _rng(2)
    for _ in range(60):
        key, nonce = _bytes(rng, 32), _bytes(rng, 12)
        counter = rng.choice([0, 1, 2, rng.randrange(1 << 32)])
        counter = min(counter, (1 << 32) - 200)
        data = _bytes(rng, rng.choice([0, 1, 16, 63, 64, 65, 512, 1008, 1952, rng.randrange(3000)]))
        assert native.chacha20_xor(key, nonce, counter, data) == primitives.chacha20_xor(
            key, nonce, counter, data
        )


def test_chacha20_rfc8439() -> None:
    key = bytes(range(32))
    nonce = bytes.fromhex("000000000000004a00000000")
    plaintext = (
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        b"the future, sunscreen would be it."
    )
    assert native.chacha20_xor(key, nonce, 1, plaintext).hex().startswith("6e2e359a2568f980")


def test_poly1305_matches_reference() -> None:
    key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    assert native.poly1305(key, b"Cryptographic Forum Research Group").hex() == (
        "a8061dc1305136c6c22b8baf0c0127a9"
    )
    rng = _rng(3)
    for n in [0, 1, 15, 16, 17, 64, 528, 1024, 2000] + [rng.randrange(2100) for _ in range(60)]:
        key, data = _bytes(rng, 32), _bytes(rng, n)
        assert native.poly1305(key, data) == primitives.poly1305(key, data)
    # limb edge cases: all-ones keys and messages exercise the final reduction
    for key in (b"\xff" * 32, bytes(32), b"\xff" * 16 + bytes(16)):
        for data in (b"\xff" * 16 * 40, bytes(16 * 33), b"\xff" * 17):
            assert native.poly1305(key, data) == primitives.poly1305(key, data)


def test_crypt_poly1305_every_block_count() -> None:
    """crypt()'s Poly1305 (four accumulators under AVX2): every length from 1 to 131 blocks."""
    rng = _rng(13)
    for nblocks in range(0, 131):
        key, data, last = _bytes(rng, 32), _bytes(rng, 16 * nblocks), _bytes(rng, 16)
        expected = primitives.poly1305(key, data + last)
        assert native.poly1305_blocks_last(key, data, last) == expected, nblocks
    for fill in (b"\xff", b"\x00"):
        key = fill * 32
        data = fill * (16 * 100)
        assert native.poly1305_blocks_last(key, data, fill * 16) == primitives.poly1305(
            key, data + fill * 16
        )


def test_blake2b256_of_four_states() -> None:
    rng = _rng(14)
    for _ in range(5):
        states = [_bytes(rng, 2048) for _ in range(4)]
        assert native.blake2b256_x4(*states) == tuple(primitives.b256(s) for s in states)


def test_expand_vector() -> None:
    vector = GENERATED["hash_expand"]
    out = native.expand(vector["len"], bytes.fromhex(vector["key"]), vector["num"])
    assert out.hex() == vector["out"]
    seed = bytes(range(32))
    assert native.expand(8192, seed, 0) == primitives.expand(8192, seed, 0)


# -- CryptoCycle ---------------------------------------------------------------------------------


def _vector_state(vector: dict[str, Any]) -> tuple[bytearray, int, int]:
    message = bytes.fromhex(vector["input_hex"])
    if vector["mode"] == "decrypt":
        message = message[:-16]
    ad = bytes.fromhex(vector["additional_data_hex"])
    blocks, ad_blocks = -(-len(message) // 16), -(-len(ad) // 16)
    state = bytearray(cc.STATE_SIZE)
    state[0:12] = bytes.fromhex(vector["nonce_hex"])
    state[16:48] = bytes.fromhex(vector["key_hex"])
    word = cc.HeaderWord(
        azc=16 * ad_blocks - len(ad),
        tzc=16 * blocks - len(message),
        decrypt=vector["mode"] == "decrypt",
        add_len=ad_blocks,
        truncated=False,
        length=blocks,
        failed=False,
        version=0,
    )
    cc.write_header(state, word)
    state[48 : 48 + len(ad)] = ad
    msg_start = 48 + 16 * ad_blocks
    state[msg_start : msg_start + len(message)] = message
    return state, msg_start, len(message)


@pytest.mark.parametrize(
    "vector", load_json("cryptocycle_vectors.json")["vectors"], ids=lambda v: v["name"]
)
def test_pktd_cryptocycle_vectors(vector: dict[str, Any]) -> None:
    state, start, length = _vector_state(vector)
    out = native.cc_crypt(bytes(state))
    if vector["mode"] == "encrypt":
        assert (out[start : start + length] + out[16:32]).hex() == vector["expected_hex"]
    else:
        assert out[start : start + length].hex() == vector["expected_hex"]
        assert out[16:32] == bytes.fromhex(vector["input_hex"])[-16:]


def test_crypt_on_random_states() -> None:
    """Random header words: every length, AD length, tzc/azc, both directions, bad versions."""
    rng = _rng(4)
    for i in range(150):
        state = bytearray(_bytes(rng, cc.STATE_SIZE))
        word = int.from_bytes(state[12:16], "little")
        if i % 10:  # mostly valid versions so the cipher runs
            word &= ~((0x7F << 25) | (1 << 24))
        if not (word >> 17) & 0x7F:
            # len = 0 with tzc > 0 never happens (makeFuzzable sets len |= 32), and the
            # reference would then grow its bytearray: keep at least one block
            word |= 1 << 17
        state[12:16] = struct.pack("<I", word)
        expected = bytearray(state)
        cc.crypt(expected)
        assert native.cc_crypt(bytes(state)) == bytes(expected), i


def test_init_update_final_chain() -> None:
    rng = _rng(5)
    for i in range(40):
        seed = _bytes(rng, 32)
        nonce = rng.randrange(1 << 64)
        ref = cc.init(seed, nonce)
        got = native.cc_init(seed, nonce)
        assert got == bytes(ref)
        for _ in range(4):
            item = _bytes(rng, cc.ITEM_SIZE)
            cc.update(ref, item)
            got = native.cc_update(got, item)
            assert got == bytes(ref), i
        cc.final(ref)
        assert native.cc_final(got) == bytes(ref)
        assert native.cc_make_fuzzable(got) == _fuzzed(got)


def _fuzzed(state: bytes) -> bytes:
    out = bytearray(state)
    cc.make_fuzzable(out)
    return bytes(out)


# -- RandGen and RandHash -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", GENERATED["randgen"], ids=lambda v: v["seed"][:8])
def test_randgen_vectors_word_for_word(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["insns_le_hex"])
    expected = struct.unpack(f"<{len(raw) // 4}I", raw)
    assert native.randgen(bytes.fromhex(vector["seed"])) == expected
    assert len(expected) == vector["result"]


def test_randgen_random_seeds(simd_level: str) -> None:
    if simd_level != LEVELS[0]:
        pytest.skip("RandGen has no SIMD code: checked once")
    rng = _rng(6)
    for _ in range(250):
        seed = _bytes(rng, 32)
        assert native.randgen(seed) == randgen.generate(seed), seed.hex()


def test_randhash_random_programs() -> None:
    """Programs from random seeds on random states: output state and per-cycle op counts."""
    rng = _rng(7)
    for i in range(12):
        program = randgen.generate(_bytes(rng, 32))
        memory = _bytes(rng, 1024)
        state = bytearray(_bytes(rng, cc.STATE_SIZE))
        decoded = randhash.decode_program(program)
        mem_words = struct.unpack("<256I", memory)
        expected = bytearray(state)
        result = randhash.randhash(decoded, mem_words, expected, 2)
        got, counts = native.randhash(program, memory, bytes(state), 2)
        assert counts == result.op_counts, i
        assert got == bytes(expected), i


def _loop_program(count: int, body_ins: int, tail_ins: int) -> list[int]:
    """LOOP count { IN x body_ins } then IN x tail_ins and a top-level END.

    Executed instructions: 1 + count * (body_ins + 1) + tail_ins + 1.
    """
    insn_in = (5 << 20) | Op.IN  # reads hashIn[5]
    program = [(count << 20) | Op.LOOP, *([insn_in] * body_ins), Op.END]
    return program + [insn_in] * tail_ins + [Op.END]


@pytest.mark.parametrize(
    ("count", "body", "tail", "ops"),
    [(1999, 9, 8, 20000), (1999, 9, 9, 20001), (2000, 9, 0, 20002), (50, 3, 2, 204)],
)
def test_randhash_operation_limit(count: int, body: int, tail: int, ops: int) -> None:
    """The limit is 20000 executed instructions per cycle, every instruction counted."""
    program = _loop_program(count, body, tail)
    state = bytes(range(256)) * 8
    memory = bytes(1024)
    decoded = randhash.decode_program(program)
    expected = bytearray(state)
    got, counts = native.randhash(program, memory, state, 1)
    if ops <= randhash.MAX_OPS:
        result = randhash.randhash(decoded, [0] * 256, expected, 1)
        assert result.op_counts == (ops,) == counts
        assert got == bytes(expected)
    else:
        with pytest.raises(randhash.RandHashOpLimitError):
            randhash.randhash(decoded, [0] * 256, expected, 1)
        assert got is None and counts[-1] > randhash.MAX_OPS


def test_randhash_pattern_immediates_and_every_opcode() -> None:
    """Hand-made straight-line programs: each arithmetic opcode with register and immediate
    operands (sign-extended and pattern forms), inside one loop so END flushes the results."""
    rng = _rng(8)
    for round_ in range(6):
        body: list[int] = []
        for _ in range(4):  # four inputs: registers 1..4 (register 0 is the loop's marker)
            body.append((rng.randrange(1 << 24) << 8) | Op.IN)
        for op in range(Op.POPCNT8, Op.IN):
            a = rng.randrange(2, 5)
            if rng.random() < 0.5:
                b_field = (rng.randrange(2, 5) << 20) | (a << 9)
            else:
                b_field = (rng.randrange(1 << 13) << 19) | (1 << 18) | (a << 9)
            body.append(op | b_field)
        program = [(3 << 20) | Op.LOOP, *body, Op.END]
        state = _bytes(rng, cc.STATE_SIZE)
        memory = _bytes(rng, 1024)
        expected = bytearray(state)
        result = randhash.randhash(
            randhash.decode_program(program), struct.unpack("<256I", memory), expected, 2
        )
        got, counts = native.randhash(program, memory, state, 2)
        assert counts == result.op_counts, round_
        assert got == bytes(expected), round_


# -- items, tables, merkle tree -----------------------------------------------------------------


def test_mkitem_vectors() -> None:
    mk = GENERATED["mkitem"]
    ctx = native.table_context(bytes.fromhex(mk["prog_seed"]), bytes.fromhex(mk["item_seed"]))
    assert ctx is not None
    assert len(ctx.program) == mk["progLen"]
    assert hashlib.blake2b(ctx.memory).hexdigest() == mk["progbuf_8192_blake2b512"]
    for vector in mk["items"]:
        item, counts = ctx.item(vector["num"])
        assert item is not None and item.hex() == vector["item"]
        assert counts[-1] == vector["opCtr_last_cycle"]


def test_items_match_reference_for_random_seeds() -> None:
    rng = _rng(9)
    for _ in range(4):
        prog_seed, item_seed = _bytes(rng, 32), _bytes(rng, 32)
        ref_ctx = items.make_context(prog_seed)
        ctx = native.table_context(prog_seed, item_seed)
        assert ctx is not None
        assert ctx.program == ref_ctx.program
        assert ctx.memory == ref_ctx.memory_bytes()
        for index in (0, 1791, 1792, 8191, rng.randrange(8192)):
            trace = items.make_item_traced(ref_ctx, index, item_seed)
            item, counts = ctx.item(index)
            assert counts == trace.randhash.op_counts
            assert item == trace.item
        assert ctx.build(100, 103) == b"".join(
            items.make_item(ref_ctx, i, item_seed) for i in range(100, 103)
        )


def test_merkle_root_of_a_table() -> None:
    rng = _rng(10)
    table = [_bytes(rng, 1024) for _ in range(merkle.LEAVES)]
    assert native.merkle_root(b"".join(table)) == merkle.build_tree(table).root


# -- difficulty ------------------------------------------------------------------------------------


def test_soft_nonce_max() -> None:
    for vector in GENERATED["soft_nonce_max"]:
        assert native.soft_nonce_max(int(vector["target"], 16)) == vector["soft_nonce_max"]
    rng = _rng(11)
    for compact in [0, 0x7FFFFF, 0x01000001, 0xFF7FFFFF] + [
        rng.randrange(1 << 32) for _ in range(500)
    ]:
        assert native.soft_nonce_max(compact) == difficulty.soft_nonce_max(compact)


def test_hash_meets_target() -> None:
    rng = _rng(12)
    compacts = [0x20000FFF, 0x1F100000, 0x207FFFFF, 0x21010000, 0x22800000, 0x03123456]
    compacts += [0x02123456, 0x01123456, 0x00123456, 0x1F900000, 0xFF7FFFFF, 0x04800000]
    compacts += [rng.randrange(1 << 32) for _ in range(200)]
    for compact in compacts:
        target = difficulty.compact_to_target(compact)
        hashes = [_bytes(rng, 32), bytes(32), b"\xff" * 32]
        if 0 <= target < 1 << 256:
            hashes.append(target.to_bytes(32, "little"))
            if target:
                hashes.append((target - 1).to_bytes(32, "little"))
            if target + 1 < 1 << 256:
                hashes.append((target + 1).to_bytes(32, "little"))
        for h in hashes:
            assert native.hash_meets(h, compact, False) == difficulty.meets_target(h, compact)
            assert native.hash_meets(h, compact, True) == difficulty.is_ok_pktd(h, compact)
