"""The native header validator (spv/native/headers.c) against the Python reference loop in
HeaderChain._validate_python: valid chains and every kind of bad header, on regtest (sha256d
proof of work), testnet-style (permanent min-difficulty rule) and mainnet-style (min-difficulty
below a height) parameters. Skipped if the extension is not built.

Both chains get the same headers in the same batches; results, errors (type, message,
misbehaving), stored tips and the validation tails must be identical.
"""

import dataclasses
import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from spv import chain as chain_module
from spv import peer as peer_module
from spv.chain import ConnectResult, HeaderChain
from spv.difficulty import required_bits, target_from_bits
from spv.errors import ParseError
from spv.hashes import sha256d
from spv.params import MAINNET, REGTEST, TESTNET, Checkpoint, NetworkParams
from spv.peer import parse_headers_payload

native = pytest.importorskip("spv._headers")

NOW = 1_800_000_000

# Small retarget windows so tests cross several boundaries.
REGTEST_SMALL = dataclasses.replace(REGTEST, target_timespan=20 * 600)  # 20 blocks
TESTNET_SMALL = dataclasses.replace(TESTNET, target_timespan=30 * 60)  # 30 blocks, mtp 111
MAINNET_SMALL = dataclasses.replace(
    MAINNET, target_timespan=25 * 60, checkpoints=(), pkt_min_difficulty_below_height=60
)


def _header(prev: bytes, height: int, ts: int, bits: int, nonce: int = 0) -> bytes:
    merkle = hashlib.sha256(height.to_bytes(8, "little")).digest()
    return (
        (0x20000000).to_bytes(4, "little")
        + prev
        + merkle
        + ts.to_bytes(4, "little")
        + bits.to_bytes(4, "little")
        + nonce.to_bytes(4, "little")
    )


def _mine(rec: bytes, params: NetworkParams) -> bytes:
    """Set the nonce so the header meets its own bits (regtest only)."""
    if params.has_packetcrypt:
        return rec
    bits = int.from_bytes(rec[72:76], "little")
    target = target_from_bits(bits)
    nonce = 0
    while True:
        raw = rec[:76] + nonce.to_bytes(4, "little")
        if int.from_bytes(sha256d(raw), "little") <= target:
            return raw
        nonce += 1


class Builder:
    """Headers that follow every rule, with bits from spv.difficulty.required_bits (the
    non-incremental reference) wherever the ancestors it needs are known."""

    def __init__(self, params: NetworkParams, first_height: int, prev_hash: bytes) -> None:
        self.params = params
        self.first_height = first_height  # height of the first header we know
        self.prev_hash = prev_hash
        self.known: dict[int, tuple[int, int]] = {}  # height -> (ts, bits)
        self.records: list[bytes] = []

    @classmethod
    def from_genesis(cls, params: NetworkParams) -> "Builder":
        b = cls(params, 0, params.genesis_hash)
        genesis = params.genesis_block[:80]
        b.known[0] = (
            int.from_bytes(genesis[68:72], "little"),
            int.from_bytes(genesis[72:76], "little"),
        )
        b.records.append(genesis)
        return b

    @property
    def height(self) -> int:
        return self.first_height + len(self.records) - 1

    def _header_at(self, h: int) -> tuple[int, int]:
        return self.known[h]

    def required(self, height: int, ts: int, fallback: int) -> int:
        try:
            return required_bits(self.params, height, ts, self._header_at)
        except KeyError:
            return fallback

    def add(self, ts: int, bits: int | None = None) -> bytes:
        height = self.height + 1
        prev_bits = self.known[height - 1][1] if height - 1 in self.known else 0x1D2991AD
        if bits is None:
            bits = self.required(height, ts, prev_bits)
        prev = self.records[-1] if self.records else None
        prev_hash = sha256d(prev) if prev is not None else self.prev_hash
        rec = _mine(_header(prev_hash, height, ts, bits), self.params)
        self.records.append(rec)
        self.known[height] = (ts, bits)
        return rec

    def grow(
        self,
        n: int,
        rng: random.Random,
        gap_every: int = 0,
        lo: float = 0.3,
        hi: float = 1.1,
    ) -> None:
        """n more headers, spaced lo..hi times the target spacing, with one in `gap_every`
        coming after a gap long enough for a min-difficulty block."""
        spacing = self.params.target_spacing
        ts = self.known[self.height][0] if self.height in self.known else NOW - 10**7
        for _ in range(n):
            if gap_every and rng.randrange(gap_every) == 0:
                ts += self.params.min_diff_reduction_time + rng.randint(1, spacing)
            else:
                ts += max(1, int(spacing * rng.uniform(lo, hi)))
            self.add(ts)

    def raw(self, first: int, last: int) -> bytes:
        return b"".join(self.records[first - self.first_height : last - self.first_height + 1])


def _outcome(hc: HeaderChain, raw: bytes) -> tuple[object, ...]:
    try:
        return ("ok", hc.connect(raw))
    except Exception as exc:  # compared below: type, message, misbehaving
        return ("error", type(exc), str(exc), getattr(exc, "misbehaving", None))


def _tail_state(hc: HeaderChain) -> tuple[object, ...]:
    t = hc._tail
    return (t.first_height, t.times, t.bits, t.hashes, t.walk)


def _pair(
    params: NetworkParams, tmp_path: Path, native_only: bool = True
) -> tuple[HeaderChain, HeaderChain]:
    def clock() -> float:
        return float(NOW)

    fast = HeaderChain(params, tmp_path / "native", clock=clock)
    slow = HeaderChain(params, tmp_path / "python", clock=clock)
    slow.native_validation = False
    assert fast.native_validation and fast._native_rules is not None
    if native_only:

        def no_fallback(*args: object) -> list[bytes]:
            raise AssertionError("the native validator deferred to Python")

        fast._validate_python = no_fallback  # type: ignore[method-assign,assignment]
    return fast, slow


def _connect_both(fast: HeaderChain, slow: HeaderChain, raw: bytes) -> tuple[object, ...]:
    a, b = _outcome(fast, raw), _outcome(slow, raw)
    assert a == b
    assert (fast.height, fast.tip_hash) == (slow.height, slow.tip_hash)
    assert _tail_state(fast) == _tail_state(slow)
    return a


def _sync_both(
    fast: HeaderChain, slow: HeaderChain, b: Builder, first: int, last: int, rng: random.Random
) -> None:
    h = first
    while h <= last:
        size = rng.choice((1, 2, 7, 50, 300, 2000))
        end = min(last, h + size - 1)
        outcome = _connect_both(fast, slow, b.raw(h, end))
        assert outcome[0] == "ok", outcome
        h = end + 1


CHAINS: dict[str, tuple[NetworkParams, int]] = {
    "regtest": (REGTEST_SMALL, 8),  # (params, min-difficulty gap one block in n)
    "testnet": (TESTNET_SMALL, 5),
    "mainnet": (MAINNET_SMALL, 4),
}


@pytest.fixture(scope="module")
def built() -> dict[str, Builder]:
    out = {}
    for name, (params, gap) in CHAINS.items():
        rng = random.Random(name)
        b = Builder.from_genesis(params)
        b.grow(400, rng, gap_every=gap)
        out[name] = b
    return out


@pytest.mark.parametrize("name", CHAINS)
def test_valid_chains_agree(name: str, built: dict[str, Builder], tmp_path: Path) -> None:
    b = built[name]
    fast, slow = _pair(b.params, tmp_path)
    _sync_both(fast, slow, b, 1, b.height, random.Random(1))
    assert fast.height == b.height
    # min-difficulty blocks and real retargets happened
    bits = [b.known[h][1] for h in range(1, b.height + 1)]
    assert b.params.pow_limit_bits in bits and len(set(bits)) > 3


def test_anchored_mainnet_chain_across_retargets(tmp_path: Path) -> None:
    """MAINNET itself: the store starts after the last checkpoint (the first header's parent
    is not in the tail), mtp over 111 blocks, and a checked retarget 2016 blocks in."""
    cp = MAINNET.checkpoints[-1]
    b = Builder(MAINNET, cp.height + 1, cp.block_hash)
    rng = random.Random(5)
    ts = NOW - 5_000_000
    first_boundary = (cp.height // 2016 + 2) * 2016  # the first one whose window is stored
    while b.height < first_boundary + 5:
        ts += rng.randint(20, 100)
        bits = 0x1D2991AD if b.height < cp.height + 1 else None
        b.add(ts, bits)
    fast, slow = _pair(MAINNET, tmp_path)
    _sync_both(fast, slow, b, cp.height + 1, b.height, rng)
    assert fast.height == b.height
    assert b.known[first_boundary][1] != 0x1D2991AD  # a real retarget, checked and accepted


def _bad_cases(b: Builder) -> dict[str, Callable[[int], tuple[bytes, str]]]:
    """Per kind of bad header: f(height) -> (replacement header, expected message part)."""
    params = b.params

    def fields(h: int) -> tuple[bytes, int, int]:
        rec = b.records[h - b.first_height]
        return rec, int.from_bytes(rec[68:72], "little"), int.from_bytes(rec[72:76], "little")

    def with_fields(h: int, ts: int | None = None, bits: int | None = None) -> bytes:
        rec, ts0, bits0 = fields(h)
        new = _header(rec[4:36], h, ts0 if ts is None else ts, bits0 if bits is None else bits)
        return _mine(new, params) if bits is None or target_from_bits(bits) > 0 else new

    def bad_link(h: int) -> tuple[bytes, str]:
        rec = bytearray(fields(h)[0])
        rec[4] ^= 1
        return bytes(rec), "does not link"

    def future(h: int) -> tuple[bytes, str]:
        return with_fields(h, ts=NOW + params.max_future_block_time + 1), "in the future"

    def just_in_time(h: int) -> tuple[bytes, str]:  # exactly at the limit: accepted
        return with_fields(h, ts=NOW + params.max_future_block_time), ""

    def below_median(h: int) -> tuple[bytes, str]:
        first = max(b.first_height, h - params.median_time_blocks)
        window = sorted(b.known[x][0] for x in range(first, h))
        if len(window) < params.median_time_blocks:  # no median yet: other rules decide
            return with_fields(h, ts=window[0]), ""
        return with_fields(h, ts=window[len(window) // 2]), "older than the median"

    def bits_cases(value: int) -> Callable[[int], tuple[bytes, str]]:
        return lambda h: (with_fields(h, bits=value), "invalid bits")

    def wrong_bits(h: int) -> tuple[bytes, str]:
        rec, ts, bits = fields(h)
        other = bits - 1 if bits & 0xFFFF else bits + 1
        if target_from_bits(other) > params.pow_limit:
            other = bits - 1
        return with_fields(h, bits=other), "retarget rule requires"

    cases: dict[str, Callable[[int], tuple[bytes, str]]] = {
        "bad link": bad_link,
        "future": future,
        "just in time": just_in_time,
        "below median": below_median,
        "negative bits": bits_cases(params.pow_limit_bits | 0x00800000),
        "zero mantissa": bits_cases(0x1D000000),
        "tiny exponent": bits_cases(0x02000080),
        "huge exponent": bits_cases(0xFF7FFFFF),
        "easier than the limit": bits_cases(params.pow_limit_bits + 0x01000000),
        "2^263": bits_cases(0x22008000),  # past 256 bits, but zero in the low 256
        "2^256": bits_cases(0x23000001),
        "2^255": bits_cases(0x22000080),
        "wrong bits": wrong_bits,
    }
    if not params.has_packetcrypt:

        def no_pow(h: int) -> tuple[bytes, str]:
            rec, ts, bits = fields(h)
            target = target_from_bits(bits)
            nonce = 0
            while True:
                raw = _header(rec[4:36], h, ts, bits, nonce)
                if int.from_bytes(sha256d(raw), "little") > target:
                    return raw, "lacks proof of work"
                nonce += 1

        cases["no proof of work"] = no_pow
    return cases


def _heights_of_interest(b: Builder) -> list[int]:
    """Retarget boundaries, blocks either side, min-difficulty blocks and their successors."""
    p = b.params
    interval = p.blocks_per_retarget
    out = set()
    for h in range(2, b.height + 1):
        ts, bits = b.known[h]
        prev_ts = b.known[h - 1][0]
        if h % interval in (0, 1, interval - 1):
            out.add(h)
        if bits == p.pow_limit_bits or ts > prev_ts + p.min_diff_reduction_time:
            out.add(h)
            out.add(min(h + 1, b.height))
    rng = random.Random(len(out))
    picked = sorted(out)
    return sorted(set(rng.sample(picked, min(len(picked), 12))) | {2, b.height})


@pytest.mark.parametrize("name", CHAINS)
def test_bad_headers_agree(name: str, built: dict[str, Builder], tmp_path: Path) -> None:
    b = built[name]
    cases = _bad_cases(b)
    matched = dict.fromkeys(cases, 0)
    for n, height in enumerate(_heights_of_interest(b)):
        base = max(0, height - 6)
        fast, slow = _pair(b.params, tmp_path / str(n))
        if base:
            _sync_both(fast, slow, b, 1, base, random.Random(height))
        before = b.raw(base + 1, height - 1)
        for kind, make in cases.items():
            bad, expected = make(height)
            # the bad header at the end of a batch, then alone after its parents
            for batches in ([before + bad], [before, bad] if before else [bad]):
                outcome: tuple[object, ...] = ("ok",)
                for raw in batches:
                    outcome = _connect_both(fast, slow, raw)
                if outcome[0] == "error":
                    message = str(outcome[2])
                    assert f"height {height} " in message, (kind, message)
                    matched[kind] += bool(expected) and expected in message
                    if expected:
                        assert expected in message, (kind, message)
                elif kind == "bad link":  # alone, it is a header from elsewhere
                    assert outcome[1] == ConnectResult(0, None, False, False)
                else:
                    assert not expected, (kind, outcome)
                fast.rewind(base)
                slow.rewind(base)
                assert _tail_state(fast) == _tail_state(slow)
    for kind in cases:
        if kind != "just in time":
            assert matched[kind], kind


@pytest.mark.parametrize("name", ["regtest", "testnet"])
def test_min_difficulty_walk(name: str, built: dict[str, Builder], tmp_path: Path) -> None:
    """After a gap the pow limit is required; right after, the bits before the run of
    min-difficulty blocks; and the other way round both are refused."""
    b = built[name]
    p = b.params
    interval = p.blocks_per_retarget
    h0 = next(
        h
        for h in range(interval + 2, b.height)
        if h % interval < interval - 3 and b.known[h][1] != p.pow_limit_bits
    )
    fast, slow = _pair(p, tmp_path)
    _sync_both(fast, slow, b, 1, h0, random.Random(2))
    prev_ts, prev_bits = b.known[h0]
    tip = sha256d(b.records[h0])
    late_ts = prev_ts + p.min_diff_reduction_time + 1
    # a long gap with the parent's bits: the pow limit is required
    late = _mine(_header(tip, h0 + 1, late_ts, prev_bits), p)
    out = _connect_both(fast, slow, late)
    assert out[0] == "error" and f"requires {p.pow_limit_bits:#010x}" in str(out[2])
    # exactly at the reduction time: the parent's bits are required
    on_time = _mine(_header(tip, h0 + 1, late_ts - 1, p.pow_limit_bits), p)
    out = _connect_both(fast, slow, on_time)
    assert out[0] == "error" and f"requires {prev_bits:#010x}" in str(out[2])
    # a min-difficulty block after the gap is fine ...
    ok = _mine(_header(tip, h0 + 1, late_ts, p.pow_limit_bits), p)
    assert _connect_both(fast, slow, ok)[0] == "ok"
    # ... and the next one, on time, must go back to the bits before the gap
    again = _mine(_header(sha256d(ok), h0 + 2, late_ts + 1, p.pow_limit_bits), p)
    out = _connect_both(fast, slow, again)
    assert out[0] == "error" and f"requires {prev_bits:#010x}" in str(out[2])
    back = _mine(_header(sha256d(ok), h0 + 2, late_ts + 1, prev_bits), p)
    assert _connect_both(fast, slow, back)[0] == "ok"


def test_mainnet_min_difficulty_ends_at_its_height(tmp_path: Path) -> None:
    """MAINNET_SMALL allows min-difficulty blocks while the parent's height is below 60."""
    p = MAINNET_SMALL
    assert p.pkt_min_difficulty_below_height == 60 and p.blocks_per_retarget == 25
    b = Builder.from_genesis(p)
    rng = random.Random(60)
    b.grow(50, rng, lo=0.1, hi=0.3)  # fast blocks: the retargets at 25 and 50 make it harder
    b.grow(9, rng, gap_every=2)  # 51..59: some min-difficulty blocks
    ts = b.known[59][0]
    b.add(ts + 30)  # 60, on time: back to the bits of 50
    hard = b.known[50][1]
    assert hard != p.pow_limit_bits and b.known[60][1] == hard
    assert p.pow_limit_bits in {b.known[h][1] for h in range(51, 60)}
    b.add(ts + 30 + p.min_diff_reduction_time + 5)  # 61 after a gap: the rule no longer applies
    assert b.known[61][1] == hard
    fast, slow = _pair(p, tmp_path)
    _sync_both(fast, slow, b, 1, 61, rng)
    assert fast.height == 61
    # and the pow limit after a gap is refused there
    gap = _header(sha256d(b.records[61]), 62, b.known[61][0] + 10_000, p.pow_limit_bits)
    out = _connect_both(fast, slow, gap)
    assert out[0] == "error" and f"requires {hard:#010x}" in str(out[2])


def test_retarget_clamps(tmp_path: Path) -> None:
    """Windows four times too fast and far too slow: the timespan is clamped both ways."""
    p = MAINNET_SMALL
    interval = p.blocks_per_retarget
    b = Builder.from_genesis(p)
    rng = random.Random(4)
    b.grow(75, rng, lo=0.01, hi=0.02)  # 1 s blocks: clamped at a quarter of the timespan
    quarter = [b.known[h][1] for h in (25, 50, 75)]
    b.grow(2 * interval, rng, lo=30, hi=40)  # very slow: clamped at four times
    b.grow(interval, rng, lo=0.9, hi=1.1)
    tt = p.target_timespan

    def timespan(boundary: int) -> int:
        return b.known[boundary - 1][0] - b.known[boundary - interval][0]

    assert all(timespan(h) < tt // 4 for h in (25, 50, 75))
    assert all(timespan(h) > tt * 4 for h in (100, 125))
    assert len(set(quarter)) == 3
    targets = {h: target_from_bits(b.known[h][1]) for h in (75, 100, 125)}
    assert targets[100] > 3 * targets[75] and targets[125] > 3 * targets[100]
    assert targets[125] < p.pow_limit
    fast, slow = _pair(p, tmp_path)
    _sync_both(fast, slow, b, 1, b.height, rng)
    assert fast.height == b.height


@pytest.mark.parametrize("name", CHAINS)
def test_median_time_deep_in_a_batch(name: str, tmp_path: Path) -> None:
    """Timestamps that go back and forth just above the median: the window must be kept
    exactly across a long batch. A header at the median is refused, one second later is
    accepted."""
    params, _ = CHAINS[name]
    b = Builder.from_genesis(params)
    rng = random.Random(name + "mtp")
    n_mtp = params.median_time_blocks
    spacing = params.target_spacing

    def median_before(h: int) -> int | None:
        first = max(0, h - n_mtp)
        window = sorted(b.known[x][0] for x in range(first, h))
        return window[n_mtp // 2] if len(window) >= n_mtp else None

    for _ in range(3 * n_mtp + 40):
        h = b.height + 1
        med = median_before(h)
        prev_ts = b.known[h - 1][0]
        ts = prev_ts + spacing if med is None else med + 1 + rng.randint(0, spacing // 4)
        b.add(ts)
    fast, slow = _pair(params, tmp_path)
    for k in (n_mtp + 5, 2 * n_mtp + 3, b.height - 1):
        med = median_before(k)
        assert med is not None
        for ts, ok in ((med, False), (med + 1, True)):
            saved = b.records[k - b.first_height]
            rec = _mine(_header(saved[4:36], k, ts, b.known[k][1]), params)
            raw = b.raw(1, k - 1) + rec
            out = _connect_both(fast, slow, raw)
            if ok:
                assert out[0] == "ok" or "median" not in str(out[2])
            else:
                assert out[0] == "error" and "older than the median" in str(out[2])
            fast.rewind(0)
            slow.rewind(0)
    # the rule starts once the window is full: at height n_mtp - 1 the window holds one less
    oldest = b.known[0][0]
    for k, ok in ((n_mtp - 1, True), (n_mtp, False)):
        saved = b.records[k - b.first_height]
        rec = _mine(_header(saved[4:36], k, oldest, b.known[k][1]), params)
        out = _connect_both(fast, slow, b.raw(1, k - 1) + rec)
        assert (out[0] == "ok") == ok, out
        fast.rewind(0)
        slow.rewind(0)


def test_checkpoints_agree(built: dict[str, Builder], tmp_path: Path) -> None:
    b = built["regtest"]
    for n, (cp_height, good) in enumerate([(50, True), (50, False), (1, False), (400, False)]):
        params = dataclasses.replace(REGTEST_SMALL)
        fast, slow = _pair(params, tmp_path / str(n))
        block_hash = sha256d(b.records[cp_height]) if good else b"\x11" * 32
        object.__setattr__(params, "checkpoints", (Checkpoint(cp_height, block_hash),))
        out = _connect_both(fast, slow, b.raw(1, b.height))
        if good:
            assert out[0] == "ok"
        else:
            assert out[0] == "error" and f"checkpoint {cp_height}" in str(out[2])


def test_fork_with_its_own_tail(built: dict[str, Builder], tmp_path: Path) -> None:
    """A competing branch below the tip is validated against a tail loaded from the store."""
    b = built["regtest"]
    fast, slow = _pair(b.params, tmp_path)
    _sync_both(fast, slow, b, 1, 300, random.Random(3))
    fork = Builder(b.params, 1, b.params.genesis_hash)
    fork.records = list(b.records[1:251])
    fork.known = {h: b.known[h] for h in range(0, 251)}
    fork.grow(80, random.Random(9))
    out = _connect_both(fast, slow, fork.raw(251, fork.height))
    assert out[0] == "ok"
    assert fast.tip_hash == sha256d(fork.records[-1])


def test_unsupported_parent_defers_to_python(tmp_path: Path) -> None:
    """A stored genesis whose bits are negative, at a retarget the next header needs: the C
    code leaves it to the Python loop, which then behaves as it always did."""
    genesis = bytearray(REGTEST.genesis_block)
    genesis[72:76] = (0x20800001).to_bytes(4, "little")
    params = dataclasses.replace(
        REGTEST, genesis_block=bytes(genesis), target_timespan=600, checkpoints=()
    )
    assert params.blocks_per_retarget == 1
    fast, slow = _pair(params, tmp_path, native_only=False)
    rec = _mine(_header(params.genesis_hash, 1, NOW - 1000, params.pow_limit_bits), params)
    a, b2 = _outcome(fast, rec), _outcome(slow, rec)
    assert a == b2 and a[1] is ValueError


def test_sha256d_backends_match_hashlib() -> None:
    rng = random.Random(256)
    assert native.sha_backends()[0] == "portable"
    for backend in native.sha_backends():
        for n in [*range(0, 130), 80, 1000, 4096]:
            data = rng.randbytes(n)
            expected = hashlib.sha256(hashlib.sha256(data).digest()).digest()
            assert native.sha256d(data, backend=backend) == expected
    with pytest.raises(ValueError):
        native.sha256d(b"", backend="md5")


@pytest.mark.parametrize("backend", native.sha_backends())
def test_validation_with_each_sha_backend(
    backend: str, built: dict[str, Builder], tmp_path: Path
) -> None:
    saved = native.sha_backend()
    native.set_sha_backend(backend)
    try:
        b = built["regtest"]
        fast, slow = _pair(b.params, tmp_path)
        _sync_both(fast, slow, b, 1, b.height, random.Random(4))
    finally:
        native.set_sha_backend(saved)


def test_sha_backend_environment_variable() -> None:
    code = "from spv import _headers; print(_headers.sha_backend())"
    for name in [*native.sha_backends(), "auto", "bogus"]:
        env = dict(os.environ, PKT_SHA256_BACKEND=name)
        done = subprocess.run(
            [sys.executable, "-W", "always", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        want = name if name in native.sha_backends() else native.sha_backends()[-1]
        assert done.stdout.strip() == want
        assert ("PKT_SHA256_BACKEND=bogus" in done.stderr) == (name == "bogus")


@pytest.mark.parametrize("use_native", [True, False])
def test_headers_payload_parsing(use_native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not use_native:
        monkeypatch.setattr(peer_module, "_join_headers", None)
    rng = random.Random(81)
    records = [rng.randbytes(80) for _ in range(300)]
    payload = b"\xfd" + (300).to_bytes(2, "little") + b"".join(r + b"\x00" for r in records)
    assert parse_headers_payload(payload) == b"".join(records)
    assert parse_headers_payload(b"\x00") == b""
    bad = bytearray(payload)
    bad[3 + 81 * 7 + 80] = 1
    with pytest.raises(ParseError, match="non-zero transaction count"):
        parse_headers_payload(bytes(bad))
    with pytest.raises(ParseError, match="does not match"):
        parse_headers_payload(payload[:-1])


def test_python_reference_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extension the chain validates with the Python loop."""
    monkeypatch.setattr(chain_module, "_headers", None)
    monkeypatch.setattr(chain_module, "NATIVE_VALIDATION", False)
    hc = HeaderChain(REGTEST_SMALL, tmp_path)
    assert not hc.native_validation and hc._native_rules is None
    b = Builder.from_genesis(REGTEST_SMALL)
    b.grow(30, random.Random(1))
    assert hc.connect(b.raw(1, 30)).added == 30
