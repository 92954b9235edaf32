"""The native filter matcher agrees with the Python reference (skipped if not built).

Every SipHash kernel the CPU can run is tested ("portable" always; "avx2" and "avx512" on
x86-64 CPUs that have them), as is the threaded split in spv.bip158.match_many. CI can also run
the whole suite with PKT_GCS_BACKEND=portable to make the portable kernel the default.
"""

import os
import random
import subprocess
import sys
from collections.abc import Iterator

import pytest

from spv import bip158
from spv.bip158 import (
    BASIC_M,
    MAX_FILTER_SIZE,
    build_filter,
    encode_gcs,
    filter_key,
    match_many,
    siphash24,
)
from spv.bytes_io import encode_compact_size

native = pytest.importorskip("spv._gcs")

KERNELS = native.backends()


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each available kernel in turn, as the default of match_many."""
    saved = native.backend()
    native.set_backend(request.param)
    try:
        yield request.param
    finally:
        native.set_backend(saved)


def _random_filters(
    rng: random.Random, count: int, max_elements: int = 60
) -> tuple[list[tuple[bytes, bytes]], list[list[bytes]]]:
    filters = []
    members = []
    for _ in range(count):
        block_hash = rng.randbytes(32)
        elements = [
            rng.randbytes(rng.choice((22, 23, 25, 34))) for _ in range(rng.randint(0, max_elements))
        ]
        filters.append((block_hash, build_filter(block_hash, elements)))
        members.append(elements)
    return filters, members


def test_portable_kernel_is_always_there() -> None:
    assert KERNELS[0] == "portable"
    assert native.backend() in KERNELS
    assert bip158.native_kernels() == KERNELS
    assert bip158.native_kernel() == native.backend()


def test_native_siphash_matches_reference() -> None:
    rng = random.Random(24)
    for n in range(0, 70):
        data = rng.randbytes(n)
        k0, k1 = rng.getrandbits(64), rng.getrandbits(64)
        assert native.siphash24(k0, k1, data) == siphash24(k0, k1, data)


@pytest.mark.parametrize("backend", KERNELS)
def test_batch_kernels_match_reference(backend: str) -> None:
    rng = random.Random(4)
    # every length class 0..80 bytes, groups smaller and larger than a SIMD step (16 lanes),
    # duplicates, and the order of the input kept in the output
    for count in (1, 2, 3, 5, 8, 15, 16, 17, 31, 33, 100):
        scripts = [rng.randbytes(rng.randint(0, 80)) for _ in range(count)]
        if count > 2:
            scripts[1] = scripts[0]
        k0, k1 = rng.getrandbits(64), rng.getrandbits(64)
        expected = [siphash24(k0, k1, s) for s in scripts]
        assert native.siphash24_many(k0, k1, scripts, backend=backend) == expected
    scripts = [bytes(range(n)) for n in range(81)]
    k0 = int.from_bytes(bytes(range(8)), "little")
    k1 = int.from_bytes(bytes(range(8, 16)), "little")
    hashes = native.siphash24_many(k0, k1, scripts, backend=backend)
    assert hashes[0] == 0x726FDB47DD0E0E31  # SipHash paper vectors
    assert hashes[15] == 0xA129CA6149BE45E5
    assert native.siphash24_many(k0, k1, [], backend=backend) == []


def test_native_and_python_matching_agree_on_random_filters(kernel: str) -> None:
    rng = random.Random(158)
    filters, members = _random_filters(rng, 300)
    wallet = [rng.randbytes(22) for _ in range(200)]
    for i in range(0, 300, 7):
        if members[i]:
            wallet.append(members[i][-1])
    expected = match_many(filters, wallet, native=False)
    assert expected == match_many(filters, wallet, native=True, threads=1)
    assert set(range(0, 300, 7)) - {i for i in range(300) if not members[i]} <= set(expected)
    assert match_many(filters, [], native=True) == []


def test_every_member_matches_with_mixed_script_lengths(kernel: str) -> None:
    """Wallet scripts of many lengths (several SipHash word counts per call), filters from a
    handful of elements to thousands (the bucket bitmap at every size)."""
    rng = random.Random(19)
    for size in (1, 2, 5, 40, 300, 2500, 9000):
        block_hash = rng.randbytes(32)
        elements = [rng.randbytes(rng.randint(1, 75)) for _ in range(size)]
        raw = build_filter(block_hash, elements)
        outsiders = [rng.randbytes(rng.randint(0, 75)) for _ in range(400)]
        for member in rng.sample(elements, min(size, 25)):
            wallet = [*outsiders[:200], member, *outsiders[200:]]
            assert match_many([(block_hash, raw)], wallet, threads=1) == [0]
        expected = match_many([(block_hash, raw)], outsiders, native=False)
        assert match_many([(block_hash, raw)], outsiders, threads=1) == expected


def _value(block_hash: bytes, script: bytes, n: int) -> int:
    k0, k1 = filter_key(block_hash)
    return (siphash24(k0, k1, script) * n * BASIC_M) >> 64


def test_long_unary_runs_and_values_past_the_range(kernel: str) -> None:
    """Hand-made filters: deltas whose quotient is over 64 one bits (the decoder's multi-word
    path) and values at or past N*M, which a built filter never holds but a peer can send."""
    rng = random.Random(7)
    block_hash = rng.randbytes(32)
    script = rng.randbytes(22)
    n = 4
    x = _value(block_hash, script, n)
    for values in (
        [3, x, x + (200 << 19), x + (200 << 19) + 5],
        [x, n * BASIC_M, n * BASIC_M + (70 << 19), (1 << 30)],
        [0, 1, 2, x],
    ):
        raw = encode_compact_size(n) + encode_gcs(values)
        for wallet in ([script], [rng.randbytes(22) for _ in range(50)], []):
            expected = match_many([(block_hash, raw)], wallet, native=False)
            assert match_many([(block_hash, raw)], wallet, threads=1) == expected
        assert match_many([(block_hash, raw)], [script], threads=1) == [0]


def _malformed() -> list[bytes]:
    block_hash = b"\x11" * 32
    good = build_filter(block_hash, [bytes([i]) * 22 for i in range(9)])
    n = 9
    body = good[1:]
    long_run = encode_compact_size(2) + b"\xff" * 12  # unary bits until the data ends
    return [
        b"",  # no element count
        b"\xfd\x05",  # truncated compact size
        b"\xfd\x05\x00" + bytes(40),  # non-canonical compact size
        b"\xfe\x05\x00\x00\x00" + bytes(40),  # non-canonical compact size
        b"\xff" + (5).to_bytes(8, "little") + bytes(40),  # non-canonical compact size
        b"\xff" + (1 << 33).to_bytes(8, "little"),  # more than 2^32 elements
        bytes([n]) + body[:-3],  # too short for its count
        bytes([n + 3]) + body + b"\xff\xff\xff\xff\xff\xff\xff\xff",  # ends inside a unary run
        bytes([n + 1]) + body + b"\x00",  # last remainder cut short
        long_run,
        encode_compact_size(1) + bytes(MAX_FILTER_SIZE),  # over the size limit
    ]


@pytest.mark.parametrize("case", range(len(_malformed())))
def test_malformed_filters_fail_like_the_reference(kernel: str, case: int) -> None:
    raw = _malformed()[case]
    good = (b"\x22" * 32, build_filter(b"\x22" * 32, [b"a" * 22]))
    filters = [good, (b"\x11" * 32, raw), good]
    for wallet in ([b"x" * 22], [b"a" * 22], []):
        with pytest.raises(ValueError):
            match_many(filters, wallet, native=False)
        with pytest.raises(ValueError, match="index 1"):
            match_many(filters, wallet, threads=1)


def test_native_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="index 1"):
        match_many([(b"\x00" * 32, b"\x00"), (b"\x00" * 32, b"\x03\xff")], [b"x"], native=True)
    with pytest.raises(TypeError):
        match_many([(b"short", b"\x00")], [b"x"], native=True)
    with pytest.raises(TypeError):
        match_many([(b"\x00" * 32, b"\x00")], ["text"], native=True)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="unknown backend"):
        native.match_many([], [], backend="sse9")
    with pytest.raises(ValueError, match="start"):
        native.match_many([], [], 1, 0)
    with pytest.raises(ValueError):
        native.set_backend("sse9")
    assert bip158.MATCH_BACKEND == "native (C)"


def test_start_and_stop_report_indexes_into_the_whole_sequence() -> None:
    rng = random.Random(3)
    filters, members = _random_filters(rng, 40, max_elements=8)
    wallet = [members[i][0] for i in (5, 25, 35) if members[i]]
    full = native.match_many(filters, wallet)
    assert native.match_many(filters, wallet, 20, 40) == [i for i in full if i >= 20]
    assert native.match_many(filters, wallet, 0, 20) == [i for i in full if i < 20]
    assert native.match_many(filters, wallet, 7, 7) == []


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_threaded_split_gives_the_same_answer(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bip158, "_MIN_PAIRS_PER_THREAD", 1000)
    rng = random.Random(99)
    filters, members = _random_filters(rng, 400, max_elements=12)
    wallet = [rng.randbytes(22) for _ in range(60)]
    wallet += [members[i][0] for i in range(3, 400, 11) if members[i]]
    expected = match_many(filters, wallet, threads=1)
    assert expected == match_many(filters, wallet, native=False)
    assert match_many(filters, wallet, threads=threads) == expected
    assert match_many(tuple(filters), tuple(wallet), threads=threads) == expected
    # the first malformed filter by index is reported, whichever thread meets it
    bad = list(filters)
    bad[390] = (bad[390][0], b"\x05")
    bad[150] = (bad[150][0], b"\x05")
    with pytest.raises(ValueError, match="index 150"):
        match_many(bad, wallet, threads=threads)


def _kernel_in_subprocess(value: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PKT_GCS_BACKEND=value)
    code = "from spv import bip158; print(bip158.native_kernel())"
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def test_environment_variable_chooses_the_kernel() -> None:
    for name in KERNELS:
        assert _kernel_in_subprocess(name).stdout.strip() == name
    best = KERNELS[-1]
    assert _kernel_in_subprocess("auto").stdout.strip() == best
    unknown = _kernel_in_subprocess("sse9")
    assert unknown.stdout.strip() == best
    assert "PKT_GCS_BACKEND=sse9" in unknown.stderr


def test_hash_at_the_start_of_a_bucket_still_matches(kernel: str) -> None:
    """The matcher first looks a hash up in a bitmap indexed by its top bits (7 for a
    one-element filter). A value's hashes can begin in the bucket after the one its value
    maps to; find a script where that happens and check it still matches."""
    rng = random.Random(128)
    block_hash = rng.randbytes(32)
    k0, k1 = filter_key(block_hash)
    f = BASIC_M  # one element
    for _ in range(400_000):
        script = rng.randbytes(22)
        h = native.siphash24(k0, k1, script)
        x = (h * f) >> 64
        if (x * 128) // f != h >> 57:
            break
    else:
        pytest.fail("no script found")
    raw = encode_compact_size(1) + encode_gcs([x])
    assert match_many([(block_hash, raw)], [script], native=False) == [0]
    assert match_many([(block_hash, raw)], [rng.randbytes(22), script], threads=1) == [0]


def test_match_after_a_long_unary_run(kernel: str) -> None:
    """A wallet script whose value comes right after a delta of more than 64 unary bits, then
    a run of zero deltas: the decoder has to count the long run exactly."""
    rng = random.Random(64)
    block_hash = rng.randbytes(32)
    n = 300
    while True:
        script = rng.randbytes(22)
        x = _value(block_hash, script, n)
        if x > 100_000_000:
            break
    values = [x - (130 << 19) - 3, x, *([x] * (n - 3)), x + 9]
    raw = encode_compact_size(n) + encode_gcs(values)
    outsider = rng.randbytes(22)
    for wallet, expected in (([script], [0]), ([outsider], [])):
        assert match_many([(block_hash, raw)], wallet, native=False) == expected
        assert match_many([(block_hash, raw)], wallet, threads=1) == expected
