"""Bounded little-endian byte reader and writer for consensus and wire structures.

The reader never reads past its buffer: every short read raises :class:`TruncatedError`,
every length or count over its limit raises :class:`OversizeError`, and `expect_end`
raises :class:`TrailingDataError` when bytes are left over.
"""

import struct

from .errors import NonCanonicalError, OversizeError, TrailingDataError, TruncatedError

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")

MAX_COMPACT_SIZE = 0x02000000  # Bitcoin's MAX_SIZE: no count or length may exceed 32 MiB


def _cut_short(needed: int, left: int) -> TruncatedError:
    rest = "none is left" if left == 0 else f"only {left} {'is' if left == 1 else 'are'} left"
    noun = "byte" if needed == 1 else "bytes"
    return TruncatedError(f"the data is cut short: {needed} more {noun} expected, {rest}")


class ByteReader:
    """Reads structures from an immutable byte buffer, tracking a position."""

    __slots__ = ("_data", "_pos", "_end")

    def __init__(self, data: bytes | bytearray | memoryview, start: int = 0) -> None:
        self._data = bytes(data) if not isinstance(data, bytes) else data
        self._pos = start
        self._end = len(self._data)

    @property
    def pos(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def expect_end(self, what: str = "structure") -> None:
        if self._pos != self._end:
            raise TrailingDataError(f"{self._end - self._pos} unexpected bytes after {what}")

    def read(self, n: int) -> bytes:
        if n < 0:
            raise OversizeError(f"negative read length {n}")
        end = self._pos + n
        if end > self._end:
            raise _cut_short(n, self._end - self._pos)
        out = self._data[self._pos : end]
        self._pos = end
        return out

    def skip(self, n: int) -> None:
        self.read(n)

    def slice_from(self, start: int) -> bytes:
        """The bytes between an earlier position and the current one."""
        return self._data[start : self._pos]

    def u8(self) -> int:
        if self._pos >= self._end:
            raise _cut_short(1, 0)
        v = self._data[self._pos]
        self._pos += 1
        return v

    def _unpack(self, st: struct.Struct) -> int:
        end = self._pos + st.size
        if end > self._end:
            raise _cut_short(st.size, self._end - self._pos)
        (v,) = st.unpack_from(self._data, self._pos)
        self._pos = end
        return int(v)

    def u16(self) -> int:
        return self._unpack(_U16)

    def u32(self) -> int:
        return self._unpack(_U32)

    def i32(self) -> int:
        return self._unpack(_I32)

    def u64(self) -> int:
        return self._unpack(_U64)

    def i64(self) -> int:
        return self._unpack(_I64)

    def u16be(self) -> int:
        return int.from_bytes(self.read(2), "big")

    def hash32(self) -> bytes:
        """A 32-byte hash in internal (wire) order."""
        return self.read(32)

    def compact_size(self, limit: int = MAX_COMPACT_SIZE) -> int:
        """A Bitcoin CompactSize; must be canonical and at most `limit`."""
        first = self.u8()
        if first < 0xFD:
            value = first
        elif first == 0xFD:
            value = self.u16()
            if value < 0xFD:
                raise NonCanonicalError("non-canonical compact size")
        elif first == 0xFE:
            value = self.u32()
            if value <= 0xFFFF:
                raise NonCanonicalError("non-canonical compact size")
        else:
            value = self.u64()
            if value <= 0xFFFFFFFF:
                raise NonCanonicalError("non-canonical compact size")
        if value > limit:
            raise OversizeError(f"size {value} exceeds limit {limit}")
        return value

    def var_bytes(self, limit: int = MAX_COMPACT_SIZE) -> bytes:
        return self.read(self.compact_size(limit))

    def var_str(self, limit: int = 256) -> str:
        """A length-prefixed string; undecodable bytes are replaced, never raised on."""
        return self.var_bytes(limit).decode("utf-8", errors="replace")


class ByteWriter:
    """Accumulates little-endian structures into a bytearray."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def write(self, data: bytes | bytearray | memoryview) -> "ByteWriter":
        self._buf += data
        return self

    def u8(self, v: int) -> "ByteWriter":
        self._buf.append(v)
        return self

    def u16(self, v: int) -> "ByteWriter":
        self._buf += _U16.pack(v)
        return self

    def u32(self, v: int) -> "ByteWriter":
        self._buf += _U32.pack(v)
        return self

    def i32(self, v: int) -> "ByteWriter":
        self._buf += _I32.pack(v)
        return self

    def u64(self, v: int) -> "ByteWriter":
        self._buf += _U64.pack(v)
        return self

    def i64(self, v: int) -> "ByteWriter":
        self._buf += _I64.pack(v)
        return self

    def u16be(self, v: int) -> "ByteWriter":
        self._buf += v.to_bytes(2, "big")
        return self

    def compact_size(self, v: int) -> "ByteWriter":
        self._buf += encode_compact_size(v)
        return self

    def var_bytes(self, data: bytes) -> "ByteWriter":
        self._buf += encode_compact_size(len(data))
        self._buf += data
        return self

    def var_str(self, text: str) -> "ByteWriter":
        return self.var_bytes(text.encode("utf-8"))


def encode_compact_size(v: int) -> bytes:
    if v < 0:
        raise ValueError("compact size cannot be negative")
    if v < 0xFD:
        return bytes((v,))
    if v <= 0xFFFF:
        return b"\xfd" + _U16.pack(v)
    if v <= 0xFFFFFFFF:
        return b"\xfe" + _U32.pack(v)
    return b"\xff" + _U64.pack(v)
