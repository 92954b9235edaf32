"""The native filter matcher agrees with the Python reference (skipped if not built)."""

import random

import pytest

from spv import bip158
from spv.bip158 import build_filter, match_many, siphash24

native = pytest.importorskip("spv._gcs")


def test_native_siphash_matches_reference() -> None:
    rng = random.Random(24)
    for n in range(0, 70):
        data = rng.randbytes(n)
        k0, k1 = rng.getrandbits(64), rng.getrandbits(64)
        assert native.siphash24(k0, k1, data) == siphash24(k0, k1, data)


def test_native_and_python_matching_agree_on_random_filters() -> None:
    rng = random.Random(158)
    filters = []
    members = []
    for _ in range(300):
        block_hash = rng.randbytes(32)
        elements = [rng.randbytes(rng.choice((22, 25, 34))) for _ in range(rng.randint(0, 60))]
        filters.append((block_hash, build_filter(block_hash, elements)))
        members.append(elements)
    wallet = [rng.randbytes(22) for _ in range(200)]
    for i in range(0, 300, 7):
        if members[i]:
            wallet.append(members[i][0])
    expected = match_many(filters, wallet, native=False)
    assert expected == match_many(filters, wallet, native=True)
    assert set(range(0, 300, 7)) - {i for i in range(300) if not members[i]} <= set(expected)
    assert match_many(filters, [], native=True) == []


def test_native_rejects_malformed_filters() -> None:
    with pytest.raises(ValueError, match="index 1"):
        match_many([(b"\x00" * 32, b"\x00"), (b"\x00" * 32, b"\x03\xff")], [b"x"], native=True)
    with pytest.raises(TypeError):
        match_many([(b"short", b"\x00")], [b"x"], native=True)
    assert bip158.MATCH_BACKEND == "native (C)"
