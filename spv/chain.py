"""The header chain: validates headers as pktd's light client does (and a little more), keeps
the chain with the most work, and stores it in a HeaderStore.

Checks per header: linkage; checkpoints (a header at a checkpoint height with another hash is
rejected); timestamp above the median of the previous `median_time_blocks` and at most
`max_future_block_time` ahead of now; 0 < target(bits) <= pow limit; bits equal to the retarget
rule's value where the ancestors it needs are known. Bitcoin-flavoured networks (regtest) also
check sha256d(header) <= target; PKT networks never do (their work is PacketCrypt).
"""

import bisect
import hashlib
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .difficulty import retarget_bits, target_from_bits, work_from_bits
from .errors import ChainError
from .hashes import hash_to_display, sha256d
from .headerstore import HEADER_SIZE, HeaderStore, StoreAnchor, read_store_anchor, remove_store
from .params import NetworkParams

_TS_BITS = struct.Struct("<II")  # timestamp, bits at offset 68

try:  # the optional native validator (spv/native/headers.c); the Python loop is the reference
    from . import _headers  # type: ignore[attr-defined]
except ImportError:
    _headers = None

NATIVE_VALIDATION = _headers is not None

# reason codes of _headers.validate
_HDR_OK = 0
_HDR_LINK = 1
_HDR_CHECKPOINT = 2
_HDR_FUTURE = 3
_HDR_MEDIAN = 4
_HDR_BITS = 5
_HDR_POW = 6
_HDR_RETARGET = 7
_HDR_UNSUPPORTED = 8


class HeaderRejected(ChainError):
    """A header breaks a rule; `misbehaving` says whether the sending peer should be banned."""

    def __init__(self, message: str, misbehaving: bool = True) -> None:
        super().__init__(message)
        self.misbehaving = misbehaving


@dataclass(frozen=True)
class ConnectResult:
    added: int  # headers now in the active chain that were not before
    reorged_from: int | None  # lowest height whose header changed, when the tip switched branch
    connected: bool  # False when the first header's parent is unknown (send a locator)
    better: bool  # False when a valid fork had no more work than the active chain


def anchor_for(params: NetworkParams, history_from: int | None = None) -> StoreAnchor:
    """Where the store starts: right after the newest checkpoint at or below `history_from`
    (the newest of all when None: a new wallet needs no history), else at the genesis."""
    eligible = [
        cp for cp in params.checkpoints if history_from is None or cp.height <= history_from
    ]
    if eligible:
        cp = eligible[-1]
        return StoreAnchor(first_height=cp.height + 1, anchor_hash=cp.block_hash)
    return StoreAnchor(first_height=0, anchor_hash=b"\x00" * 32)


def estimate_height_below(params: NetworkParams, unix_time: int) -> int:
    """A height the chain had certainly not passed yet at `unix_time` (for choosing where
    header sync must start to cover a wallet's birthday). Conservative: assumes blocks came
    no faster than every 75 s on PKT networks (they average about 58-60 s)."""
    if not params.has_packetcrypt or unix_time <= params.launch_time:
        return 0
    return max(0, (unix_time - params.launch_time) // 75)


class _Tail:
    """(timestamp, bits, hash) of the most recent headers, for validating the next ones.

    `walk` holds, per height, the bits the min-difficulty rule falls back to: the bits of the
    nearest block at or below it that is a retarget boundary or not a min-difficulty block
    (None when that block is below the tail).
    """

    def __init__(self, first_height: int, interval: int, pow_limit_bits: int) -> None:
        self.first_height = first_height
        self.interval = interval
        self.pow_limit_bits = pow_limit_bits
        self.times: list[int] = []
        self.bits: list[int] = []
        self.hashes: list[bytes] = []
        self.walk: list[int | None] = []

    @property
    def end(self) -> int:  # height after the last entry
        return self.first_height + len(self.times)

    def has(self, height: int) -> bool:
        return self.first_height <= height < self.end

    def append(self, ts: int, bits: int, h: bytes) -> None:
        height = self.end
        if bits != self.pow_limit_bits or height % self.interval == 0:
            walk: int | None = bits
        else:
            walk = self.walk[-1] if self.walk else None
        self.times.append(ts)
        self.bits.append(bits)
        self.hashes.append(h)
        self.walk.append(walk)

    def trim(self, keep: int) -> None:
        extra = len(self.times) - keep
        if extra > 0:
            del self.times[:extra], self.bits[:extra], self.hashes[:extra], self.walk[:extra]
            self.first_height += extra

    def cut(self, end_height: int) -> None:
        n = max(0, end_height - self.first_height)
        del self.times[n:], self.bits[n:], self.hashes[n:], self.walk[n:]


class HeaderChain:
    def __init__(
        self,
        params: NetworkParams,
        directory: Path,
        clock: Callable[[], float] = time.time,
        history_from: int | None = None,
    ) -> None:
        """`history_from`: the lowest height whose header must be known (a restored
        wallet's birthday); the store starts at the newest checkpoint at or below it."""
        self.params = params
        self.clock = clock
        anchor = anchor_for(params, history_from)
        existing = read_store_anchor(Path(directory))
        self.rebased = False
        if existing is not None and existing.first_height <= anchor.first_height:
            anchor = existing  # it already reaches back far enough
        elif existing is not None:
            # More history is needed than this store holds: start again further back (the
            # headers are downloaded again, quickly).
            remove_store(Path(directory))
            self.rebased = True
        self.store = HeaderStore(Path(directory), params.name, anchor)
        self._tail_len = params.blocks_per_retarget + params.median_time_blocks + 8
        if self.store.count == 0 and anchor.first_height == 0:
            genesis = params.genesis_block[:HEADER_SIZE]
            self.store.append(genesis, [sha256d(genesis)])
        self._tail = self._load_tail(self.store.tip_height + 1)
        self._locator_heights: dict[bytes, int] = {}
        # Header validation runs in C when the extension is built (set False for the Python
        # reference loop, which gives the same results and messages).
        self.native_validation = NATIVE_VALIDATION
        self._native_rules = _native_rules(params)

    # --- queries ---

    @property
    def height(self) -> int:
        return self.store.tip_height

    @property
    def tip_hash(self) -> bytes:
        return self.store.tip_hash

    @property
    def first_height(self) -> int:
        return self.store.first_height

    def hash_at(self, height: int) -> bytes:
        if self._tail.has(height):
            return self._tail.hashes[height - self._tail.first_height]
        return self.store.hash_at(height)

    def hashes_between(self, first: int, last: int) -> list[bytes]:
        """Hashes of the blocks first..last of the active chain, with one read of the store
        (`hash_at` in a loop opens the file for each)."""
        if first > last:
            return []
        low = max(first, self.store.first_height)
        hashes = [self.hash_at(h) for h in range(first, low)]  # the anchor, if asked
        stored_last = min(last, self._tail.first_height - 1)
        if low <= stored_last:
            raw = self.store.headers_bytes(low, stored_last - low + 1)
            hashes += [sha256d(raw[i : i + HEADER_SIZE]) for i in range(0, len(raw), HEADER_SIZE)]
        hashes += [self.hash_at(h) for h in range(max(low, stored_last + 1), last + 1)]
        return hashes

    def header_bytes(self, height: int) -> bytes:
        return self.store.header_bytes(height)

    def timestamp_at(self, height: int) -> int:
        if self._tail.has(height):
            return self._tail.times[height - self._tail.first_height]
        return int(_TS_BITS.unpack_from(self.store.header_bytes(height), 68)[0])

    def height_of(self, block_hash: bytes, search_depth: int = 2_000) -> int | None:
        """Height of a block in the active chain: the recent tail, the hashes of the last
        locator sent (so any fork point a peer answers from is found), then a short search."""
        tail = self._tail
        try:
            i = len(tail.hashes) - 1 - tail.hashes[::-1].index(block_hash)
            return tail.first_height + i
        except ValueError:
            pass
        if block_hash == self.store.anchor_hash:
            return self.store.first_height - 1
        h = self._locator_heights.get(block_hash)
        if h is not None and self.store.has_height(h) and self.store.hash_at(h) == block_hash:
            return h
        low = max(self.store.first_height, tail.first_height - search_depth)
        for h in range(tail.first_height - 1, low - 1, -1):
            if self.store.hash_at(h) == block_hash:
                return h
        return None

    def locator(self) -> list[bytes]:
        """Block locator: the last 10 hashes, then exponentially sparser, then the anchor."""
        entries: list[tuple[int, bytes]] = []
        low = self.store.first_height
        h, step = self.height, 1
        while h >= low:
            entries.append((h, self.hash_at(h)))
            if len(entries) >= 10:
                step *= 2
            h -= step
        if entries and entries[-1][0] != low:
            entries.append((low, self.hash_at(low)))
        if low > 0:
            entries.append((low - 1, self.store.anchor_hash))
        self._locator_heights = {block_hash: height for height, block_hash in entries}
        return [block_hash for _, block_hash in entries]

    def next_checkpoint_hash(self) -> bytes | None:
        for cp in self.params.checkpoints:
            if cp.height > self.height:
                return cp.block_hash
        return None

    # --- connecting headers ---

    def connect(self, raw: bytes) -> ConnectResult:
        """Validate and connect consecutive 80-byte headers (concatenated in `raw`)."""
        n = len(raw) // HEADER_SIZE
        if n == 0 or len(raw) % HEADER_SIZE:
            return ConnectResult(0, None, True, True)
        prev_hash = raw[4:36]
        if prev_hash == self.tip_hash:
            fork = self.height
        else:
            found = self.height_of(prev_hash)
            if found is None:
                return ConnectResult(0, None, False, False)
            fork = found
        # Headers we already have on the active chain are skipped (peers resend them).
        skip = 0
        while skip < n and fork + 1 <= self.height:
            rec = raw[skip * HEADER_SIZE : (skip + 1) * HEADER_SIZE]
            if sha256d(rec) != self.hash_at(fork + 1):
                break
            fork += 1
            skip += 1
        if skip == n:
            return ConnectResult(0, None, True, True)
        raw = raw[skip * HEADER_SIZE :]
        self._check_fork_allowed(fork)
        tail = self._tail if fork == self.height else self._load_tail(fork + 1)
        tail_end = tail.end
        try:
            hashes = self._validate(raw, fork + 1, tail)
        except HeaderRejected:
            tail.cut(tail_end)
            raise
        if fork < self.height:
            ours = self.work_between(fork + 1, self.height)
            theirs = sum(
                work_from_bits(_TS_BITS.unpack_from(raw, i * HEADER_SIZE + 68)[1])
                for i in range(len(hashes))
            )
            if theirs <= ours:
                return ConnectResult(0, None, True, False)
            reorg_from = fork + 1
        else:
            reorg_from = None
        self.store.replace_from(fork + 1, raw, hashes, commit=reorg_from is not None)
        tail.trim(self._tail_len)
        self._tail = tail
        return ConnectResult(len(hashes), reorg_from, True, True)

    def rewind(self, height: int) -> None:
        """Drop every header above `height` (e.g. a block whose PacketCrypt proof failed)."""
        if height >= self.height:
            return
        if height < self.store.first_height - 1:
            raise ValueError("cannot rewind below the start of the header store")
        self.store.replace_from(height + 1, b"", [], commit=True)
        self._tail = self._load_tail(height + 1)

    def flush(self) -> None:
        """Commit appended headers now (they are committed at least every second anyway)."""
        self.store.commit()

    def work_between(self, first: int, last: int) -> int:
        total = 0
        for h in range(first, last + 1):
            if self._tail.has(h):
                bits = self._tail.bits[h - self._tail.first_height]
            else:
                bits = _TS_BITS.unpack_from(self.store.header_bytes(h), 68)[1]
            total += work_from_bits(bits)
        return total

    def _check_fork_allowed(self, fork: int) -> None:
        if fork >= self.height:
            return
        for cp in self.params.checkpoints:
            if fork < cp.height <= self.height:
                raise HeaderRejected(
                    f"fork at height {fork} is below checkpoint {cp.height}", misbehaving=True
                )
        if fork < self.store.first_height - 1:
            raise HeaderRejected("fork below the start of the header store", misbehaving=True)

    def _validate(self, raw: bytes, start_height: int, tail: _Tail) -> list[bytes]:
        """Check each header against the rules; extends `tail`; returns the hashes. Native
        when the extension is built, else (or when the native code defers) the Python loop."""
        if self.native_validation and self._native_rules is not None:
            hashes = self._validate_native(raw, start_height, tail)
            if hashes is not None:
                return hashes
        return self._validate_python(raw, start_height, tail)

    def _validate_native(self, raw: bytes, start_height: int, tail: _Tail) -> list[bytes] | None:
        """`_validate_python` in C (spv/native/headers.c): same checks in the same order, same
        tail updates, same errors. None when the C code defers to the Python loop."""
        assert _headers is not None and self._native_rules is not None
        params = self.params
        n = len(raw) // HEADER_SIZE
        end = start_height + n
        checkpoints = [
            (cp.height, cp.block_hash)
            for cp in params.checkpoints
            if start_height <= cp.height < end
        ]
        max_time = int(self.clock()) + params.max_future_block_time
        if tail.has(start_height - 1):
            prev_hash, prev_ts, prev_bits = tail.hashes[-1], tail.times[-1], tail.bits[-1]
            prev_walk, prev_known = tail.walk[-1], True
        else:
            prev_hash, prev_ts, prev_bits = self._prev_hash_for(start_height), 0, 0
            prev_walk, prev_known = None, False
        tail_end = tail.end
        pow_limit, rules = self._native_rules
        n_ok, hashes, code, detail = _headers.validate(
            raw,
            start_height,
            tail.first_height,
            tail.times,
            tail.bits,
            tail.hashes,
            tail.walk,
            prev_hash,
            prev_ts,
            prev_bits,
            prev_walk,
            prev_known,
            checkpoints,
            max_time,
            pow_limit,
            rules,
        )
        if code == _HDR_OK:
            result: list[bytes] = hashes
            return result
        if code == _HDR_UNSUPPORTED:
            tail.cut(tail_end)
            return None
        height = start_height + n_ok
        rec = raw[n_ok * HEADER_SIZE : (n_ok + 1) * HEADER_SIZE]
        bits = _TS_BITS.unpack_from(rec, 68)[1]
        if code == _HDR_LINK:
            raise HeaderRejected(f"header at height {height} does not link to its parent")
        if code == _HDR_CHECKPOINT:
            cp = {c.height: c.block_hash for c in params.checkpoints}[height]
            raise HeaderRejected(
                f"header at checkpoint {height} is {hash_to_display(sha256d(rec))}, expected "
                f"{hash_to_display(cp)}"
            )
        if code == _HDR_FUTURE:
            raise HeaderRejected(
                f"header at height {height} is more than "
                f"{params.max_future_block_time // 60} minutes in the future",
                misbehaving=False,
            )
        if code == _HDR_MEDIAN:
            raise HeaderRejected(f"header at height {height} is older than the median time")
        if code == _HDR_BITS:
            raise HeaderRejected(f"header at height {height} has invalid bits {bits:#x}")
        if code == _HDR_POW:
            raise HeaderRejected(f"header at height {height} lacks proof of work")
        if code == _HDR_RETARGET:
            raise HeaderRejected(
                f"header at height {height} has bits {bits:#010x}, the retarget rule "
                f"requires {detail:#010x}"
            )
        raise AssertionError(f"unknown native validation result {code}")  # pragma: no cover

    def _validate_python(self, raw: bytes, start_height: int, tail: _Tail) -> list[bytes]:
        """Check each header against the rules; extends `tail`; returns the hashes.

        This is the hot loop of header sync, so the retarget rule (spv.difficulty) is applied
        here in its incremental form: bits equal the parent's, except at retarget boundaries
        (`retarget_bits` over the window in the tail) and where the min-difficulty rule
        applies (pow limit after a long gap, else the bits the walk-back finds, kept in
        `tail.walk`). When an ancestor the rule needs is not known, bits are not compared.
        """
        params = self.params
        checkpoints = {cp.height: cp.block_hash for cp in params.checkpoints}
        max_time = int(self.clock()) + params.max_future_block_time
        pow_limit = params.pow_limit
        pow_limit_bits = params.pow_limit_bits
        check_sha256d_pow = not params.has_packetcrypt
        interval = params.blocks_per_retarget
        reduction = params.min_diff_reduction_time
        min_diff_always = params.reduce_min_difficulty
        min_diff_below = params.pkt_min_difficulty_below_height
        mtp_n = params.median_time_blocks
        times, bits_list, hashes_list, walks = tail.times, tail.bits, tail.hashes, tail.walk
        base = tail.first_height
        window = sorted(times[-mtp_n:])
        prev_known = tail.has(start_height - 1)
        if prev_known:
            prev_hash, prev_ts, prev_bits = hashes_list[-1], times[-1], bits_list[-1]
            prev_walk = walks[-1]
        else:
            prev_hash, prev_ts, prev_bits, prev_walk = self._prev_hash_for(start_height), 0, 0, None
        n = len(raw) // HEADER_SIZE
        hashes: list[bytes] = []
        targets: dict[int, int] = {}
        unpack = _TS_BITS.unpack_from
        sha = hashlib.sha256
        insort, bisect_left = bisect.insort, bisect.bisect_left
        for i in range(n):
            off = i * HEADER_SIZE
            rec = raw[off : off + HEADER_SIZE]
            height = start_height + i
            if rec[4:36] != prev_hash:
                raise HeaderRejected(f"header at height {height} does not link to its parent")
            h = sha(sha(rec).digest()).digest()
            if checkpoints:
                cp = checkpoints.get(height)
                if cp is not None and cp != h:
                    raise HeaderRejected(
                        f"header at checkpoint {height} is {hash_to_display(h)}, expected "
                        f"{hash_to_display(cp)}"
                    )
            ts, bits = unpack(rec, 68)
            if ts > max_time:
                raise HeaderRejected(
                    f"header at height {height} is more than "
                    f"{params.max_future_block_time // 60} minutes in the future",
                    misbehaving=False,
                )
            full_window = len(window) >= mtp_n
            if full_window and ts <= window[mtp_n // 2]:
                raise HeaderRejected(f"header at height {height} is older than the median time")
            target = targets.get(bits)
            if target is None:
                target = target_from_bits(bits)
                if not 0 < target <= pow_limit:
                    raise HeaderRejected(f"header at height {height} has invalid bits {bits:#x}")
                targets[bits] = target
            if check_sha256d_pow and int.from_bytes(h, "little") > target:
                raise HeaderRejected(f"header at height {height} lacks proof of work")
            boundary = height % interval == 0
            expected: int | None = None
            if prev_known:
                if boundary:
                    j = height - interval - base
                    if j >= 0:
                        expected = retarget_bits(params, prev_bits, prev_ts - times[j])
                elif min_diff_always or height - 1 < min_diff_below:
                    expected = pow_limit_bits if ts > prev_ts + reduction else prev_walk
                else:
                    expected = prev_bits
            if expected is not None and expected != bits:
                raise HeaderRejected(
                    f"header at height {height} has bits {bits:#010x}, the retarget rule "
                    f"requires {expected:#010x}"
                )
            if full_window:
                del window[bisect_left(window, times[-mtp_n])]
            insort(window, ts)
            walk = bits if (bits != pow_limit_bits or boundary) else prev_walk
            times.append(ts)
            bits_list.append(bits)
            hashes_list.append(h)
            walks.append(walk)
            hashes.append(h)
            prev_hash, prev_ts, prev_bits, prev_walk, prev_known = h, ts, bits, walk, True
        return hashes

    def _prev_hash_for(self, height: int) -> bytes:
        if height == self.store.first_height:
            return self.store.anchor_hash
        return self.store.hash_at(height - 1)

    def _load_tail(self, end_height: int) -> _Tail:
        """Tail ending just below `end_height`, read from the store."""
        first = max(self.store.first_height, end_height - self._tail_len)
        tail = _Tail(first, self.params.blocks_per_retarget, self.params.pow_limit_bits)
        n = end_height - first
        if n > 0:
            data = self.store.headers_bytes(first, n)
            for i in range(n):
                rec = data[i * HEADER_SIZE : (i + 1) * HEADER_SIZE]
                ts, bits = _TS_BITS.unpack_from(rec, 68)
                tail.append(ts, bits, sha256d(rec))
        return tail


def _native_rules(params: NetworkParams) -> tuple[bytes, tuple[int, ...]] | None:
    """The network's rules as the native validator takes them; None when it cannot model
    them (it then defers to the Python loop)."""
    if _headers is None or not 0 <= params.pow_limit < 1 << 256:
        return None
    rules = (
        params.pow_limit_bits,
        int(not params.has_packetcrypt),
        params.blocks_per_retarget,
        params.min_diff_reduction_time,
        int(params.reduce_min_difficulty),
        params.pkt_min_difficulty_below_height,
        params.median_time_blocks,
        params.target_timespan,
        params.retarget_adjustment_factor,
    )
    if not all(-(1 << 62) < v < 1 << 62 for v in rules):
        return None
    return params.pow_limit.to_bytes(32, "little"), rules
