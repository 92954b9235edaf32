"""BIP158 basic compact block filters: SipHash-2-4, Golomb-Rice coded sets, filter headers.

Filter type 0 (basic): P = 19, M = 784931; the SipHash key is the first 16 bytes of the block
hash in internal order. Elements are every non-empty output script that does not start with
OP_RETURN, plus every spent prevout script; duplicates removed.
"""

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from .block import Block
from .bytes_io import ByteReader, encode_compact_size
from .errors import ParseError
from .hashes import sha256d

BASIC_FILTER_TYPE = 0
BASIC_P = 19
BASIC_M = 784931
MAX_FILTER_SIZE = 262144
_MASK64 = 0xFFFFFFFFFFFFFFFF
_OP_RETURN = 0x6A


class FilterError(ParseError):
    """A compact filter whose encoding is inconsistent with its element count."""


# --- SipHash-2-4 -------------------------------------------------------------------------


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _MASK64


def siphash24(k0: int, k1: int, data: bytes) -> int:
    """SipHash-2-4 of `data` with the 128-bit key (k0, k1) given as two little-endian u64."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    n = len(data)
    end = n - (n % 8)
    for off in range(0, end, 8):
        m = int.from_bytes(data[off : off + 8], "little")
        v3 ^= m
        for _ in range(2):
            v0 = (v0 + v1) & _MASK64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _MASK64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        v0 ^= m
    m = ((n & 0xFF) << 56) | int.from_bytes(data[end:], "little")
    v3 ^= m
    for _ in range(2):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def _sipround(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & _MASK64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _MASK64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _MASK64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _MASK64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def filter_key(block_hash: bytes) -> tuple[int, int]:
    """SipHash key of a block's filter: first 16 bytes of the internal-order block hash."""
    return int.from_bytes(block_hash[0:8], "little"), int.from_bytes(block_hash[8:16], "little")


def hashed_values(
    block_hash: bytes, elements: Iterable[bytes], n: int, m: int = BASIC_M
) -> list[int]:
    """Sorted, de-duplicated values in [0, n*m) for the given elements."""
    k0, k1 = filter_key(block_hash)
    f = n * m
    return sorted({(siphash24(k0, k1, e) * f) >> 64 for e in elements})


# --- Golomb-Rice coding ------------------------------------------------------------------


def encode_gcs(sorted_values: Sequence[int], p: int = BASIC_P) -> bytes:
    """Golomb-Rice code the deltas of sorted values, MSB first, zero padded to a byte."""
    acc = 0
    nbits = 0
    last = 0
    for v in sorted_values:
        delta = v - last
        last = v
        q = delta >> p
        # q one-bits, a zero bit, then p remainder bits
        acc = (((acc << (q + 1)) | (((1 << q) - 1) << 1)) << p) | (delta & ((1 << p) - 1))
        nbits += q + 1 + p
    pad = (-nbits) % 8
    acc <<= pad
    nbits += pad
    return acc.to_bytes(nbits // 8, "big")


def decode_gcs(data: bytes, n: int, p: int = BASIC_P) -> list[int]:
    """Decode n Golomb-Rice coded deltas into the sorted values; FilterError if data is short."""
    if n == 0:
        return []
    bits = bin(int.from_bytes(data, "big") | (1 << (8 * len(data))))[3:]  # keep leading zeros
    total = len(bits)
    pos = 0
    value = 0
    out: list[int] = []
    append = out.append
    find = bits.find
    for _ in range(n):
        zero = find("0", pos)
        if zero < 0 or zero + 1 + p > total:
            raise FilterError("compact filter data ends before its last element")
        q = zero - pos
        pos = zero + 1
        value += (q << p) | int(bits[pos : pos + p], 2)
        pos += p
        append(value)
    return out


# --- filters -----------------------------------------------------------------------------


class CompactFilter:
    """A parsed basic filter: element count N and its Golomb-Rice coded bitstream."""

    __slots__ = ("n", "data", "raw", "_values")

    def __init__(self, n: int, data: bytes, raw: bytes) -> None:
        self.n = n
        self.data = data
        self.raw = raw
        self._values: list[int] | None = None

    @classmethod
    def parse(cls, raw: bytes) -> "CompactFilter":
        if len(raw) > MAX_FILTER_SIZE:
            raise FilterError(f"filter of {len(raw)} bytes exceeds {MAX_FILTER_SIZE}")
        if not raw:
            raise FilterError("empty filter (no element count)")
        reader = ByteReader(raw)
        n = reader.compact_size(0xFFFFFFFF)
        data = raw[reader.pos :]
        # each element takes at least P+1 bits
        if n * (BASIC_P + 1) > 8 * len(data):
            raise FilterError(f"filter claims {n} elements but has only {len(data)} bytes")
        return cls(n, data, raw)

    def values(self) -> list[int]:
        if self._values is None:
            self._values = decode_gcs(self.data, self.n)
        return self._values

    def match_any(self, block_hash: bytes, scripts: Iterable[bytes]) -> bool:
        """True when any of `scripts` is (probably) in the filter."""
        if self.n == 0:
            return False
        query = hashed_values(block_hash, scripts, self.n)
        return match_sorted(self.values(), query)

    def hash(self) -> bytes:
        return sha256d(self.raw)


def match_sorted(values: Sequence[int], query: Sequence[int]) -> bool:
    """Merge-walk two sorted lists; True when they share a value."""
    i = j = 0
    nv, nq = len(values), len(query)
    while i < nv and j < nq:
        a, b = values[i], query[j]
        if a == b:
            return True
        if a < b:
            i += 1
        else:
            j += 1
    return False


def build_filter(block_hash: bytes, elements: Iterable[bytes]) -> bytes:
    """Serialized basic filter (compact size N ‖ GCS bits) for a set of elements.

    N counts distinct elements; two elements hashing to the same value are both coded
    (a zero delta), as BIP158 and Bitcoin Core do.
    """
    unique = set(elements)
    n = len(unique)
    k0, k1 = filter_key(block_hash)
    f = n * BASIC_M
    values = sorted((siphash24(k0, k1, e) * f) >> 64 for e in unique)
    return encode_compact_size(n) + encode_gcs(values)


def basic_filter_elements(block: Block, prev_scripts: Iterable[bytes]) -> set[bytes]:
    """The basic filter's element set: output scripts (minus OP_RETURN/empty) and spent scripts."""
    elements: set[bytes] = set()
    for tx in block.transactions:
        for out in tx.outputs:
            if out.script and out.script[0] != _OP_RETURN:
                elements.add(out.script)
    for script in prev_scripts:
        if script:
            elements.add(script)
    return elements


def build_basic_filter(block: Block, prev_scripts: Iterable[bytes]) -> bytes:
    return build_filter(block.hash, basic_filter_elements(block, prev_scripts))


def filter_header(filter_bytes: bytes, prev_header: bytes) -> bytes:
    """Filter header (internal order) = sha256d(sha256d(filter) ‖ previous filter header)."""
    return sha256d(sha256d(filter_bytes) + prev_header)


def filter_header_from_hash(filter_hash: bytes, prev_header: bytes) -> bytes:
    return sha256d(filter_hash + prev_header)


# --- batch matching, native when available -------------------------------------------------


def _match_many_python(
    filters: Sequence[tuple[bytes, bytes]], scripts: Sequence[bytes]
) -> list[int]:
    out = []
    for i, (block_hash, raw) in enumerate(filters):
        try:
            matched = CompactFilter.parse(raw).match_any(block_hash, scripts)
        except FilterError as exc:
            raise ValueError(f"malformed compact filter at index {i}: {exc}") from None
        if matched:
            out.append(i)
    return out


try:
    from . import _gcs  # type: ignore[attr-defined]

    _native_match_many: Callable[..., list[int]] | None = _gcs.match_many
    MATCH_BACKEND = "native (C)"
except ImportError:  # the optional extension was not built
    _gcs = None
    _native_match_many = None
    MATCH_BACKEND = "pure Python"

# Batches are split across threads (the C matcher releases the GIL) when they hold at least
# this many filter x script pairs per thread; below that a thread hand-off costs more than it
# saves.
MATCH_THREADS = max(1, min(4, os.cpu_count() or 1))
_MIN_PAIRS_PER_THREAD = 100_000
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def native_kernel() -> str | None:
    """The SipHash kernel the native matcher uses ("avx512", "avx2", "portable"), or None
    when the extension is not built. PKT_GCS_BACKEND (read at import) or
    `set_native_kernel` chooses it; the default is the best one the CPU supports."""
    if _gcs is None:
        return None
    name: str = _gcs.backend()
    return name


def native_kernels() -> list[str]:
    """Kernels the native matcher can run on this CPU (empty when it is not built)."""
    if _gcs is None:
        return []
    names: list[str] = _gcs.backends()
    return names


def set_native_kernel(name: str | None) -> None:
    """Make the native matcher use kernel `name` by default (None: the best available)."""
    if _gcs is None:
        raise RuntimeError("the native filter matcher is not built")
    _gcs.set_backend(name)


def _thread_pool() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child has no pool threads
            _pool = ThreadPoolExecutor(
                max_workers=max(1, MATCH_THREADS - 1), thread_name_prefix="gcs-match"
            )
            _pool_pid = os.getpid()
        return _pool


def match_many(
    filters: Sequence[tuple[bytes, bytes]],
    scripts: Sequence[bytes],
    native: bool = True,
    threads: int | None = None,
) -> list[int]:
    """Indexes of the (block hash, serialized filter) pairs that match any of `scripts`.

    Raises ValueError for a malformed filter (the first one, by index). Uses the C matcher if
    built; a large batch is then split across up to `threads` threads (default
    MATCH_THREADS: the CPUs, at most 4), the calling thread doing one part, so one call uses
    every core. The result does not depend on the split."""
    script_list = list(scripts)
    if not (native and _native_match_many is not None):
        return _match_many_python(filters, script_list)
    matcher = _native_match_many
    if not isinstance(filters, list | tuple):
        filters = list(filters)
    n = len(filters)
    wanted = MATCH_THREADS if threads is None else max(1, threads)
    parts = max(1, min(wanted, n, n * len(script_list) // _MIN_PAIRS_PER_THREAD))
    if parts == 1:
        return matcher(filters, script_list)
    bounds = [n * i // parts for i in range(parts + 1)]
    pool = _thread_pool()
    futures = [
        pool.submit(matcher, filters, script_list, bounds[i], bounds[i + 1])
        for i in range(1, parts)
    ]
    results: list[list[int]] = []
    error: BaseException | None = None
    try:
        results.append(matcher(filters, script_list, 0, bounds[1]))
    except BaseException as exc:  # re-raised below, after the other parts finished
        error = exc
    for future in futures:
        try:
            part = future.result()
        except BaseException as exc:
            error = error or exc
            continue
        results.append(part)
    if error is not None:
        raise error  # the lowest part's error: the first malformed filter by index
    return [i for part in results for i in part]
