"""Semantics of every RandHash arithmetic opcode (spec section 5.4, traps in section 16).

Each opcode is a pure function on unsigned Python integers:

* type 1-1: ``f(a32) -> u32``
* type 2-1: ``f(a32, b32) -> u32``
* type 2-2: ``f(a32, b32) -> u64`` (pushed as two words, low first)
* type 4-2: ``f(a64, b64) -> u64`` (two words)
* type 4-4: ``f(a64, b64) -> u128`` (four words, lowest first)

"Lane-wise n" splits a 32-bit word into n-bit lanes, applies the operation per lane and packs
the results back in place. Carry ops ("nC") produce a 2n-bit result per n-bit lane and pack
them low-to-high into 64 bits.

Signedness (a consensus trap): SHRA uses signed lanes; MULnC is signed x signed; MULSUnC is
signed a x unsigned b; MULUnC is unsigned; ADDnC / SUBnC use unsigned (zero-extended) lanes.
"""

from __future__ import annotations

from collections.abc import Callable

from .opcodes import Op

M8 = 0xFF
M16 = 0xFFFF
M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
M128 = (1 << 128) - 1

UnaryOp = Callable[[int], int]
BinaryOp = Callable[[int, int], int]


def to_signed(value: int, bits: int) -> int:
    """Interpret the low ``bits`` of ``value`` as a two's-complement integer."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


# -- lane helpers ---------------------------------------------------------------------------


def lanewise1(a: int, width: int, fn: UnaryOp) -> int:
    """Apply ``fn`` to each ``width``-bit lane of the 32-bit ``a``; results are masked to width."""
    mask = (1 << width) - 1
    out = 0
    for shift in range(0, 32, width):
        out |= (fn((a >> shift) & mask) & mask) << shift
    return out


def lanewise2(a: int, b: int, width: int, fn: BinaryOp) -> int:
    """Apply ``fn`` to each pair of ``width``-bit lanes; results are masked to the lane width."""
    mask = (1 << width) - 1
    out = 0
    for shift in range(0, 32, width):
        out |= (fn((a >> shift) & mask, (b >> shift) & mask) & mask) << shift
    return out


def carry_lanes(a: int, b: int, width: int, fn: BinaryOp) -> int:
    """Carry ops: lane i of width n gives a 2n-bit result stored at bit ``2n * i`` of a u64."""
    mask = (1 << width) - 1
    out_mask = (1 << (2 * width)) - 1
    out = 0
    for lane, shift in enumerate(range(0, 32, width)):
        out |= (fn((a >> shift) & mask, (b >> shift) & mask) & out_mask) << (2 * width * lane)
    return out


# -- type 1-1 -------------------------------------------------------------------------------


def _clz(width: int) -> UnaryOp:
    return lambda x: width - x.bit_length()


def _ctz(width: int) -> UnaryOp:
    return lambda x: (x & -x).bit_length() - 1 if x else width


def _byte_table(fn: UnaryOp) -> bytes:
    """A 256-entry table of an 8-bit lane function, for ``bytes.translate``."""
    return bytes(fn(x) & M8 for x in range(256))


_CLZ16 = _clz(16)
_CTZ16 = _ctz(16)
_POPCNT8_TABLE = _byte_table(int.bit_count)
_CLZ8_TABLE = _byte_table(_clz(8))
_CTZ8_TABLE = _byte_table(_ctz(8))


def bytewise(a: int, table: bytes) -> int:
    """Lane-wise 8-bit unary op through a 256-entry table (same as ``lanewise1(a, 8, fn)``)."""
    return int.from_bytes(a.to_bytes(4, "little").translate(table), "little")


def bswap16(a: int) -> int:
    """Swap the two bytes of each 16-bit lane."""
    return ((a & 0x00FF00FF) << 8) | ((a >> 8) & 0x00FF00FF)


def bswap32(a: int) -> int:
    """Full byte swap of a 32-bit word."""
    return int.from_bytes(a.to_bytes(4, "little"), "big")


OPS_1_1: dict[Op, UnaryOp] = {
    Op.POPCNT8: lambda a: bytewise(a, _POPCNT8_TABLE),
    Op.POPCNT16: lambda a: lanewise1(a, 16, int.bit_count),
    Op.POPCNT32: lambda a: a.bit_count(),
    Op.CLZ8: lambda a: bytewise(a, _CLZ8_TABLE),
    Op.CLZ16: lambda a: lanewise1(a, 16, _CLZ16),
    Op.CLZ32: _clz(32),
    Op.CTZ8: lambda a: bytewise(a, _CTZ8_TABLE),
    Op.CTZ16: lambda a: lanewise1(a, 16, _CTZ16),
    Op.CTZ32: _ctz(32),
    Op.BSWAP16: bswap16,
    Op.BSWAP32: bswap32,
}


# -- type 2-1 -------------------------------------------------------------------------------


def _add(x: int, y: int) -> int:
    return x + y


def _sub(x: int, y: int) -> int:
    return x - y


def _mul(x: int, y: int) -> int:
    return x * y


def _shll(width: int) -> BinaryOp:
    return lambda x, y: x << (y & (width - 1))


def _shrl(width: int) -> BinaryOp:
    return lambda x, y: x >> (y & (width - 1))


def _shra(width: int) -> BinaryOp:
    return lambda x, y: to_signed(x, width) >> (y & (width - 1))


def _rotl(width: int) -> BinaryOp:
    mask = (1 << width) - 1

    def rotl(x: int, y: int) -> int:
        r = y & (width - 1)
        return ((x << r) | (x >> (width - r))) & mask

    return rotl


_SHLL8, _SHLL16 = _shll(8), _shll(16)
_SHRL8, _SHRL16 = _shrl(8), _shrl(16)
_SHRA8, _SHRA16 = _shra(8), _shra(16)
_ROTL8, _ROTL16 = _rotl(8), _rotl(16)


def add32(a: int, b: int) -> int:
    return (a + b) & M32


def sub32(a: int, b: int) -> int:
    return (a - b) & M32


def mul32(a: int, b: int) -> int:
    return (a * b) & M32


OPS_2_1: dict[Op, BinaryOp] = {
    Op.ADD8: lambda a, b: lanewise2(a, b, 8, _add),
    Op.ADD16: lambda a, b: lanewise2(a, b, 16, _add),
    Op.ADD32: add32,
    Op.SUB8: lambda a, b: lanewise2(a, b, 8, _sub),
    Op.SUB16: lambda a, b: lanewise2(a, b, 16, _sub),
    Op.SUB32: sub32,
    Op.SHLL8: lambda a, b: lanewise2(a, b, 8, _SHLL8),
    Op.SHLL16: lambda a, b: lanewise2(a, b, 16, _SHLL16),
    Op.SHLL32: lambda a, b: (a << (b & 31)) & M32,
    Op.SHRL8: lambda a, b: lanewise2(a, b, 8, _SHRL8),
    Op.SHRL16: lambda a, b: lanewise2(a, b, 16, _SHRL16),
    Op.SHRL32: lambda a, b: a >> (b & 31),
    Op.SHRA8: lambda a, b: lanewise2(a, b, 8, _SHRA8),
    Op.SHRA16: lambda a, b: lanewise2(a, b, 16, _SHRA16),
    Op.SHRA32: lambda a, b: (to_signed(a, 32) >> (b & 31)) & M32,
    Op.ROTL8: lambda a, b: lanewise2(a, b, 8, _ROTL8),
    Op.ROTL16: lambda a, b: lanewise2(a, b, 16, _ROTL16),
    Op.ROTL32: _rotl(32),
    Op.MUL8: lambda a, b: lanewise2(a, b, 8, _mul),
    Op.MUL16: lambda a, b: lanewise2(a, b, 16, _mul),
    Op.MUL32: mul32,
    Op.AND: lambda a, b: a & b,
    Op.OR: lambda a, b: a | b,
    Op.XOR: lambda a, b: a ^ b,
}


# -- type 2-2 (carry ops on 32-bit inputs) ---------------------------------------------------


def _mul_signed(width: int) -> BinaryOp:
    return lambda x, y: to_signed(x, width) * to_signed(y, width)


def _mul_signed_unsigned(width: int) -> BinaryOp:
    return lambda x, y: to_signed(x, width) * y


_MUL_SIGNED8, _MUL_SIGNED16 = _mul_signed(8), _mul_signed(16)
_MUL_SIGNED_UNSIGNED8 = _mul_signed_unsigned(8)
_MUL_SIGNED_UNSIGNED16 = _mul_signed_unsigned(16)

OPS_2_2: dict[Op, BinaryOp] = {
    Op.ADD8C: lambda a, b: carry_lanes(a, b, 8, _add),
    Op.ADD16C: lambda a, b: carry_lanes(a, b, 16, _add),
    Op.ADD32C: lambda a, b: a + b,
    Op.SUB8C: lambda a, b: carry_lanes(a, b, 8, _sub),
    Op.SUB16C: lambda a, b: carry_lanes(a, b, 16, _sub),
    Op.SUB32C: lambda a, b: (a - b) & M64,
    Op.MUL8C: lambda a, b: carry_lanes(a, b, 8, _MUL_SIGNED8),
    Op.MUL16C: lambda a, b: carry_lanes(a, b, 16, _MUL_SIGNED16),
    Op.MUL32C: lambda a, b: (to_signed(a, 32) * to_signed(b, 32)) & M64,
    Op.MULSU8C: lambda a, b: carry_lanes(a, b, 8, _MUL_SIGNED_UNSIGNED8),
    Op.MULSU16C: lambda a, b: carry_lanes(a, b, 16, _MUL_SIGNED_UNSIGNED16),
    Op.MULSU32C: lambda a, b: (to_signed(a, 32) * b) & M64,
    Op.MULU8C: lambda a, b: carry_lanes(a, b, 8, _mul),
    Op.MULU16C: lambda a, b: carry_lanes(a, b, 16, _mul),
    Op.MULU32C: lambda a, b: a * b,
}


# -- type 4-2 (64-bit) -----------------------------------------------------------------------


def rotl64(a: int, b: int) -> int:
    r = b & 63
    return ((a << r) | (a >> (64 - r))) & M64


def rotr64(a: int, b: int) -> int:
    r = b & 63
    return ((a >> r) | (a << (64 - r))) & M64


OPS_4_2: dict[Op, BinaryOp] = {
    Op.ADD64: lambda a, b: (a + b) & M64,
    Op.SUB64: lambda a, b: (a - b) & M64,
    Op.SHLL64: lambda a, b: (a << (b & 63)) & M64,
    Op.SHRL64: lambda a, b: a >> (b & 63),
    Op.SHRA64: lambda a, b: (to_signed(a, 64) >> (b & 63)) & M64,
    Op.ROTL64: rotl64,
    Op.ROTR64: rotr64,
    Op.MUL64: lambda a, b: (a * b) & M64,
}


# -- type 4-4 (64-bit inputs, 128-bit results) -----------------------------------------------


def add64c(a: int, b: int) -> int:
    """low = (a + b) mod 2^64; high = 1 if low < b (the carry) -- i.e. the 65-bit sum."""
    return a + b


def sub64c(a: int, b: int) -> int:
    """low = (a - b) mod 2^64; high = all ones if a < b -- i.e. (a - b) mod 2^128."""
    return (a - b) & M128


OPS_4_4: dict[Op, BinaryOp] = {
    Op.ADD64C: add64c,
    Op.SUB64C: sub64c,
    Op.MUL64C: lambda a, b: (to_signed(a, 64) * to_signed(b, 64)) & M128,
    Op.MULSU64C: lambda a, b: (to_signed(a, 64) * b) & M128,
    Op.MULU64C: lambda a, b: a * b,
}
