"""Every RandHash arithmetic opcode (spec section 5.4).

Each op is checked on hand-computed values and against an independent oracle that mimics the C
integer casts of ``OpTemplate2.h`` with ``ctypes`` (uint8/int8/... conversions per lane).
"""

from __future__ import annotations

import ctypes
import random
from collections.abc import Callable

import pytest

from miner.reference import randhash_ops as ops
from miner.reference.opcodes import OPS_BY_TYPE, Op, OpType


def _cast(ctype: type[ctypes._SimpleCData[int]]) -> Callable[[int], int]:
    """A C integer conversion, e.g. ``(uint8_t)x`` for ``ctypes.c_uint8``."""

    def convert(x: int) -> int:
        return int(ctype(x).value)

    return convert


u8, i8 = _cast(ctypes.c_uint8), _cast(ctypes.c_int8)
u16, i16 = _cast(ctypes.c_uint16), _cast(ctypes.c_int16)
u32, i32 = _cast(ctypes.c_uint32), _cast(ctypes.c_int32)
u64, i64 = _cast(ctypes.c_uint64), _cast(ctypes.c_int64)
U128 = (1 << 128) - 1

WIDTH_CAST = {8: (u8, i8), 16: (u16, i16), 32: (u32, i32), 64: (u64, i64)}


def _split(a: int, width: int) -> list[int]:
    return [(a >> s) & ((1 << width) - 1) for s in range(0, 32, width)]


def _join(lanes: list[int], width: int) -> int:
    return sum(v << (width * i) for i, v in enumerate(lanes))


def _lane_op(width: int, fn: Callable[[int, int], int]) -> Callable[[int, int], int]:
    cast = WIDTH_CAST[width][0]
    return lambda a, b: _join(
        [cast(fn(x, y)) for x, y in zip(_split(a, width), _split(b, width), strict=True)], width
    )


def _lane_op1(width: int, fn: Callable[[int], int]) -> Callable[[int], int]:
    cast = WIDTH_CAST[width][0]
    return lambda a: _join([cast(fn(x)) for x in _split(a, width)], width)


def _carry_op(width: int, fn: Callable[[int, int], int]) -> Callable[[int, int], int]:
    cast = WIDTH_CAST[2 * width][0]
    return lambda a, b: _join(
        [cast(fn(x, y)) for x, y in zip(_split(a, width), _split(b, width), strict=True)],
        2 * width,
    )


def _clz(width: int) -> Callable[[int], int]:
    def f(x: int) -> int:
        if x == 0:
            return width
        n = 0
        while not x & (1 << (width - 1 - n)):
            n += 1
        return n

    return f


def _ctz(width: int) -> Callable[[int], int]:
    def f(x: int) -> int:
        if x == 0:
            return width
        n = 0
        while not x & (1 << n):
            n += 1
        return n

    return f


def _shl(w: int) -> Callable[[int, int], int]:
    return lambda x, y: x << (y & (w - 1))


def _shr(w: int) -> Callable[[int, int], int]:
    return lambda x, y: x >> (y & (w - 1))


def _sar(w: int) -> Callable[[int, int], int]:
    signed = WIDTH_CAST[w][1]
    return lambda x, y: signed(x) >> (y & (w - 1))


def _rotl(w: int) -> Callable[[int, int], int]:
    # C: shll(a, b) | shrl(a, w - b), both shifts masked to w - 1
    return lambda x, y: (x << (y & (w - 1))) | (x >> ((w - y) & (w - 1)))


def _rotr(w: int) -> Callable[[int, int], int]:
    return lambda x, y: (x << ((w - y) & (w - 1))) | (x >> (y & (w - 1)))


def _mulh_c_style(a: int, b: int, signed_a: bool, signed_b: bool) -> int:
    """Full 128-bit product as the C's mulhu64 / negate-with-borrow path computes it."""
    sa = i64(a) if signed_a else a
    sb = i64(b) if signed_b else b
    negate = (sa < 0) != (sb < 0)
    hi = ((abs(sa) * abs(sb)) >> 64) & ((1 << 64) - 1)
    lo = u64(a * b)
    if negate:
        hi = u64(~hi)
        if lo == 0:
            hi = u64(hi + 1)
    return (hi << 64) | lo


ORACLE_1_1: dict[Op, Callable[[int], int]] = {
    Op.POPCNT8: _lane_op1(8, lambda x: bin(x).count("1")),
    Op.POPCNT16: _lane_op1(16, lambda x: bin(x).count("1")),
    Op.POPCNT32: lambda a: bin(a).count("1"),
    Op.CLZ8: _lane_op1(8, _clz(8)),
    Op.CLZ16: _lane_op1(16, _clz(16)),
    Op.CLZ32: _clz(32),
    Op.CTZ8: _lane_op1(8, _ctz(8)),
    Op.CTZ16: _lane_op1(16, _ctz(16)),
    Op.CTZ32: _ctz(32),
    Op.BSWAP16: _lane_op1(16, lambda x: ((x & 0xFF) << 8) | (x >> 8)),
    Op.BSWAP32: lambda a: int.from_bytes(a.to_bytes(4, "big"), "little"),
}

ORACLE_2_1: dict[Op, Callable[[int, int], int]] = {}
for _w in (8, 16, 32):
    ORACLE_2_1[Op[f"ADD{_w}"]] = _lane_op(_w, lambda x, y: x + y)
    ORACLE_2_1[Op[f"SUB{_w}"]] = _lane_op(_w, lambda x, y: x - y)
    ORACLE_2_1[Op[f"SHLL{_w}"]] = _lane_op(_w, _shl(_w))
    ORACLE_2_1[Op[f"SHRL{_w}"]] = _lane_op(_w, _shr(_w))
    ORACLE_2_1[Op[f"SHRA{_w}"]] = _lane_op(_w, _sar(_w))
    ORACLE_2_1[Op[f"ROTL{_w}"]] = _lane_op(_w, _rotl(_w))
    ORACLE_2_1[Op[f"MUL{_w}"]] = _lane_op(_w, lambda x, y: x * y)
ORACLE_2_1[Op.AND] = lambda a, b: a & b
ORACLE_2_1[Op.OR] = lambda a, b: a | b
ORACLE_2_1[Op.XOR] = lambda a, b: a ^ b


def _signed_mul(
    cast_a: Callable[[int], int], cast_b: Callable[[int], int]
) -> Callable[[int, int], int]:
    return lambda x, y: cast_a(x) * cast_b(y)


ORACLE_2_2: dict[Op, Callable[[int, int], int]] = {}
for _w in (8, 16, 32):
    _s = WIDTH_CAST[_w][1]
    ORACLE_2_2[Op[f"ADD{_w}C"]] = _carry_op(_w, lambda x, y: x + y)
    ORACLE_2_2[Op[f"SUB{_w}C"]] = _carry_op(_w, lambda x, y: x - y)
    ORACLE_2_2[Op[f"MUL{_w}C"]] = _carry_op(_w, _signed_mul(_s, _s))
    ORACLE_2_2[Op[f"MULSU{_w}C"]] = _carry_op(_w, _signed_mul(_s, int))
    ORACLE_2_2[Op[f"MULU{_w}C"]] = _carry_op(_w, lambda x, y: x * y)

ORACLE_4_2: dict[Op, Callable[[int, int], int]] = {
    Op.ADD64: lambda a, b: u64(a + b),
    Op.SUB64: lambda a, b: u64(a - b),
    Op.SHLL64: lambda a, b: u64(_shl(64)(a, b)),
    Op.SHRL64: lambda a, b: u64(_shr(64)(a, b)),
    Op.SHRA64: lambda a, b: u64(_sar(64)(a, b)),
    Op.ROTL64: lambda a, b: u64(_rotl(64)(a, b)),
    Op.ROTR64: lambda a, b: u64(_rotr(64)(a, b)),
    Op.MUL64: lambda a, b: u64(a * b),
}

ORACLE_4_4: dict[Op, Callable[[int, int], int]] = {
    Op.ADD64C: lambda a, b: (int(u64(a + b) < b) << 64) | u64(a + b),
    Op.SUB64C: lambda a, b: (u64(-int(a < b)) << 64) | u64(a - b),
    Op.MUL64C: lambda a, b: _mulh_c_style(a, b, True, True),
    Op.MULSU64C: lambda a, b: _mulh_c_style(a, b, True, False),
    Op.MULU64C: lambda a, b: _mulh_c_style(a, b, False, False),
}

EDGE32 = [
    0,
    1,
    2,
    7,
    8,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    0x01FF7F80,
    0x80808080,
    0x7F7F7F7F,
    0xDEADBEEF,
]
EDGE64 = [
    0,
    1,
    63,
    64,
    0x7FFFFFFFFFFFFFFF,
    0x8000000000000000,
    0xFFFFFFFFFFFFFFFF,
    0xFFFFFFFF,
    0x100000000,
    0xDEADBEEFCAFEBABE,
    0x8000000000000001,
]


def _pairs(edges: list[int], bits: int, count: int) -> list[tuple[int, int]]:
    rng = random.Random(bits * 1000 + count)
    pairs = [(a, b) for a in edges for b in edges]
    pairs += [(rng.getrandbits(bits), rng.getrandbits(bits)) for _ in range(count)]
    return pairs


def test_every_arithmetic_opcode_has_semantics_and_an_oracle() -> None:
    implemented = {**ops.OPS_1_1, **ops.OPS_2_1, **ops.OPS_2_2, **ops.OPS_4_2, **ops.OPS_4_4}
    oracles = {**ORACLE_1_1, **ORACLE_2_1, **ORACLE_2_2, **ORACLE_4_2, **ORACLE_4_4}
    every = {op for t in OpType for op in OPS_BY_TYPE[t]}
    assert set(implemented) == every == set(oracles)
    assert len(every) == 63


@pytest.mark.parametrize("op", list(ORACLE_1_1), ids=lambda o: o.name)
def test_type_1_1(op: Op) -> None:
    for a in EDGE32 + [p[0] for p in _pairs([], 32, 300)]:
        assert ops.OPS_1_1[op](a) == ORACLE_1_1[op](a), hex(a)


@pytest.mark.parametrize("op", list(ORACLE_2_1), ids=lambda o: o.name)
def test_type_2_1(op: Op) -> None:
    for a, b in _pairs(EDGE32, 32, 300):
        assert ops.OPS_2_1[op](a, b) == ORACLE_2_1[op](a, b), (hex(a), hex(b))


@pytest.mark.parametrize("op", list(ORACLE_2_2), ids=lambda o: o.name)
def test_type_2_2(op: Op) -> None:
    for a, b in _pairs(EDGE32, 32, 300):
        assert ops.OPS_2_2[op](a, b) == ORACLE_2_2[op](a, b), (hex(a), hex(b))


@pytest.mark.parametrize("op", list(ORACLE_4_2), ids=lambda o: o.name)
def test_type_4_2(op: Op) -> None:
    for a, b in _pairs(EDGE64, 64, 300):
        assert ops.OPS_4_2[op](a, b) == ORACLE_4_2[op](a, b), (hex(a), hex(b))


@pytest.mark.parametrize("op", list(ORACLE_4_4), ids=lambda o: o.name)
def test_type_4_4(op: Op) -> None:
    for a, b in _pairs(EDGE64, 64, 300):
        assert ops.OPS_4_4[op](a, b) == ORACLE_4_4[op](a, b), (hex(a), hex(b))


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        (Op.ADD8, 0x01FF7F80, 0x01010101, 0x02008081),
        (Op.SUB8, 0x00000100, 0x01010101, 0xFFFF00FF),
        (Op.SHRA8, 0x80408000, 0x07010107, 0xFF20C000),
        (Op.ROTL8, 0x81000081, 0x00000001, 0x81000003),
        (Op.ROTL32, 0x80000001, 0, 0x80000001),
        (Op.MUL16, 0xFFFF0003, 0xFFFF0005, 0x0001000F),
        (Op.SHLL32, 1, 33, 2),
        (Op.SHRA32, 0x80000000, 31, 0xFFFFFFFF),
    ],
)
def test_hand_computed_2_1(op: Op, a: int, b: int, expected: int) -> None:
    assert ops.OPS_2_1[op](a, b) == expected


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        # four 8-bit lanes -> four 16-bit results, low to high
        (Op.ADD8C, 0xFF0102FF, 0x01010101, 0x0100_0002_0003_0100),
        (Op.SUB8C, 0x00000000, 0x00000001, 0x0000_0000_0000_FFFF),
        (Op.MUL8C, 0x000000FF, 0x000000FF, 0x0001),  # -1 * -1
        (Op.MULSU8C, 0x000000FF, 0x000000FF, 0xFF01),  # -1 * 255 = -255
        (Op.MULU8C, 0x000000FF, 0x000000FF, 0xFE01),
        (Op.MUL32C, 0xFFFFFFFF, 0x00000002, 0xFFFFFFFFFFFFFFFE),
        (Op.MULSU32C, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF00000001),
        (Op.ADD32C, 0xFFFFFFFF, 1, 0x100000000),
    ],
)
def test_hand_computed_2_2(op: Op, a: int, b: int, expected: int) -> None:
    assert ops.OPS_2_2[op](a, b) == expected


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        (Op.ADD64C, (1 << 64) - 1, 1, 1 << 64),
        (Op.SUB64C, 0, 1, (1 << 128) - 1),
        (Op.MUL64C, (1 << 64) - 1, (1 << 64) - 1, 1),
        (Op.MUL64C, (1 << 64) - 1, 2, (1 << 128) - 2),
        (Op.MULSU64C, (1 << 64) - 1, (1 << 64) - 1, ((1 << 128) - (1 << 64)) + 1),
        (Op.MULU64C, (1 << 64) - 1, (1 << 64) - 1, ((1 << 64) - 1) ** 2),
        (Op.MUL64C, 1 << 63, 1 << 63, 1 << 126),
    ],
)
def test_hand_computed_4_4(op: Op, a: int, b: int, expected: int) -> None:
    assert ops.OPS_4_4[op](a, b) == expected & U128


def test_unary_edge_cases() -> None:
    assert ops.OPS_1_1[Op.CLZ8](0) == 0x08080808
    assert ops.OPS_1_1[Op.CTZ16](0x00000001) == 0x00100000
    assert ops.OPS_1_1[Op.CLZ32](0) == 32
    assert ops.OPS_1_1[Op.BSWAP16](0x11223344) == 0x22114433
    assert ops.OPS_1_1[Op.BSWAP32](0x11223344) == 0x44332211
    assert ops.OPS_1_1[Op.POPCNT8](0xFF0F0100) == 0x08040100
