import pytest

from spv.bytes_io import ByteReader, ByteWriter, encode_compact_size
from spv.errors import NonCanonicalError, OversizeError, TrailingDataError, TruncatedError


@pytest.mark.parametrize(
    "value,encoded",
    [
        (0, "00"),
        (0xFC, "fc"),
        (0xFD, "fdfd00"),
        (0xFFFF, "fdffff"),
        (0x10000, "fe00000100"),
        (0xFFFFFFFF, "feffffffff"),
        (0x100000000, "ff0000000001000000"),
    ],
)
def test_compact_size_round_trip(value: int, encoded: str) -> None:
    assert encode_compact_size(value).hex() == encoded
    assert ByteReader(bytes.fromhex(encoded)).compact_size(limit=2**64) == value


@pytest.mark.parametrize("encoded", ["fdfc00", "feffff0000", "ffffffffff00000000"])
def test_non_canonical_compact_size_is_rejected(encoded: str) -> None:
    with pytest.raises(NonCanonicalError):
        ByteReader(bytes.fromhex(encoded)).compact_size(limit=2**64)


def test_truncation_oversize_and_trailing_data() -> None:
    with pytest.raises(TruncatedError):
        ByteReader(b"\x01\x02\x03").u32()
    with pytest.raises(TruncatedError):
        ByteReader(b"\xfd\x01").compact_size()
    with pytest.raises(TruncatedError):
        ByteReader(b"\x05abc").var_bytes()
    with pytest.raises(OversizeError):
        ByteReader(b"\x05abcde").var_bytes(limit=4)
    with pytest.raises(OversizeError):
        ByteReader(b"\xfe\x00\x00\x00\x10").compact_size()  # 256 MiB > MAX_SIZE
    reader = ByteReader(b"\x01\x00\x00\x00\xff")
    assert reader.u32() == 1
    with pytest.raises(TrailingDataError):
        reader.expect_end()


def test_writer_and_reader_agree_on_every_field() -> None:
    w = ByteWriter()
    w.u8(7).u16(0xBEEF).u32(0xDEADBEEF).i32(-2).u64(2**64 - 1).i64(-(2**63))
    w.u16be(64764).var_bytes(b"abc").var_str("pkt").write(b"\x11" * 32)
    r = ByteReader(w.getvalue())
    assert r.u8() == 7
    assert r.u16() == 0xBEEF
    assert r.u32() == 0xDEADBEEF
    assert r.i32() == -2
    assert r.u64() == 2**64 - 1
    assert r.i64() == -(2**63)
    assert r.u16be() == 64764
    assert r.var_bytes() == b"abc"
    assert r.var_str() == "pkt"
    assert r.hash32() == b"\x11" * 32
    r.expect_end()
    assert len(w) == 1 + 2 + 4 + 4 + 8 + 8 + 2 + 4 + 4 + 32
