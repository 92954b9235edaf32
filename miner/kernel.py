"""The one job API for PacketCrypt announcement mining and validation.

Everything else (CLI, desktop app, pool client, benchmarks) mines and validates through this
module. It uses the native kernel ``miner._kernel`` (C, ``miner/native/``) when it is built and
falls back to the pure-Python reference ``miner.reference`` otherwise, saying so in
:data:`BACKEND_REASON`.

* :func:`prepare_job` builds one hard nonce's tables and merkle tree (section 9 steps 1-7);
* :func:`mine` scans a range of soft nonces and returns the announcements found; it checks
  ``cancel`` between short chunks, so a miner restarts quickly when the pool's job changes;
* :func:`validate` checks one announcement (section 10), with the reference's typed result;
* :func:`mine_threads` runs several workers on one pool job, each on its own hard nonces
  (section 8: worker w uses ``base + w``, then adds the number of workers).

The native calls release the GIL, so threads scale with cores. Set the environment variable
``PKT_MINER_BACKEND=reference`` to force the pure-Python reference.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Literal, Protocol

from .reference import difficulty
from .reference import mine as ref_mine
from .reference import validate as ref_validate
from .reference.announce import ANN_SIZE, AnnHeader
from .reference.validate import AnnCheck, AnnValidation
from .threadguard import forbid_gui_thread

if TYPE_CHECKING:
    from . import _kernel as _kernel_types

__all__ = [
    "BACKEND",
    "BACKEND_REASON",
    "AnnCheck",
    "AnnValidation",
    "Cancelled",
    "Job",
    "JobError",
    "MineBatch",
    "MiningStats",
    "available_backends",
    "mine",
    "mine_threads",
    "prepare_job",
    "validate",
]

Backend = Literal["native", "reference"]

_native: ModuleType | None
try:
    from . import _kernel as _native_module

    _native = _native_module
    _NATIVE_REASON = f"C kernel miner._kernel ({_native_module.simd()} code paths)"
except ImportError as exc:  # not built: no compiler at install time, or an unsupported host
    _native = None
    _NATIVE_REASON = f"miner._kernel is not built ({exc}); using the pure-Python reference"

BACKEND: Backend
BACKEND_REASON: str
if os.environ.get("PKT_MINER_BACKEND") == "reference":
    BACKEND = "reference"
    BACKEND_REASON = "pure-Python reference (forced by PKT_MINER_BACKEND=reference)"
elif _native is not None:
    BACKEND = "native"
    BACKEND_REASON = _NATIVE_REASON
else:
    BACKEND = "reference"
    BACKEND_REASON = _NATIVE_REASON

ANN_VERSION = 1
TABLE_ITEMS = 8192
NONCE_CHUNK = 4096
"""Nonces per native call between two cancel checks (about 20-40 ms of work)."""
ITEM_CHUNK = 1024
"""Table items per native call between two cancel checks while building tables."""

CancelLike = threading.Event | Callable[[], bool] | None
"""``cancel``: an Event that is set, or a callable returning True, to stop early."""


def available_backends() -> list[Backend]:
    """The backends usable in this process ("reference" always)."""
    return ["native", "reference"] if _native is not None else ["reference"]


def _cancelled(cancel: CancelLike) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _pick(backend: Backend | None) -> Backend:
    chosen = backend or BACKEND
    if chosen == "native" and _native is None:
        raise RuntimeError(_NATIVE_REASON)
    return chosen


class JobError(Exception):
    """This hard nonce's tables cannot be built (a RandGen program too big or an item over the
    RandHash operation limit); take the next hard nonce."""


class Cancelled(Exception):
    """``cancel`` fired while a job was being prepared."""


class Job(Protocol):
    """One hard nonce of a pool job, ready to mine (tables and tree built)."""

    @property
    def backend(self) -> Backend: ...
    @property
    def params(self) -> ref_mine.AnnJob: ...
    @property
    def header(self) -> bytes: ...
    @property
    def ann_hash0(self) -> bytes: ...
    @property
    def ann_hash1(self) -> bytes: ...
    @property
    def seed2(self) -> bytes: ...
    @property
    def merkle_root(self) -> bytes: ...
    @property
    def soft_nonce_max(self) -> int: ...

    def _scan(self, start: int, count: int, max_results: int) -> tuple[int, list[bytes]]: ...

    def hash_nonce(self, nonce: int) -> tuple[tuple[int, ...], bytes]:
        """Item numbers and the 2048-byte final state of one soft nonce (for tests)."""
        ...


def _header(params: ref_mine.AnnJob, content: tuple[int, int, bytes]) -> bytes:
    content_type, content_length, content_hash = content
    return AnnHeader(
        version=ANN_VERSION,
        soft_nonce=0,
        hard_nonce=params.hard_nonce,
        work_bits=params.work_bits,
        parent_block_height=params.parent_height,
        content_type=content_type,
        content_length=content_length,
        content_hash=content_hash,
        signing_key=params.signing_key,
    ).to_bytes()


@dataclass
class _NativeJob:
    params: ref_mine.AnnJob
    _k: _kernel_types.Job
    backend: Backend = "native"

    @property
    def header(self) -> bytes:
        return self._k.header

    @property
    def ann_hash0(self) -> bytes:
        return self._k.ann_hash0

    @property
    def ann_hash1(self) -> bytes:
        return _required(self._k.ann_hash1)

    @property
    def seed2(self) -> bytes:
        return _required(self._k.seed2)

    @property
    def merkle_root(self) -> bytes:
        return _required(self._k.merkle_root)

    @property
    def soft_nonce_max(self) -> int:
        return self._k.soft_nonce_max

    def _scan(self, start: int, count: int, max_results: int) -> tuple[int, list[bytes]]:
        nxt, blob = self._k.mine(start, count, max_results)
        return nxt, [blob[i : i + ANN_SIZE] for i in range(0, len(blob), ANN_SIZE)]

    def hash_nonce(self, nonce: int) -> tuple[tuple[int, ...], bytes]:
        return self._k.hash_nonce(nonce)

    def table2_bytes(self) -> bytes:
        return self._k.table2_bytes()


def _required(value: bytes | None) -> bytes:
    if value is None:
        raise RuntimeError("the job is not built")
    return value


@dataclass
class _ReferenceJob:
    params: ref_mine.AnnJob
    prepared: ref_mine.PreparedJob
    backend: Backend = "reference"

    @property
    def header(self) -> bytes:
        return self.prepared.header

    @property
    def ann_hash0(self) -> bytes:
        return self.prepared.ann_hash0

    @property
    def ann_hash1(self) -> bytes:
        return self.prepared.ann_hash1

    @property
    def seed2(self) -> bytes:
        return self.prepared.seed2

    @property
    def merkle_root(self) -> bytes:
        return self.prepared.merkle_root

    @property
    def soft_nonce_max(self) -> int:
        return self.prepared.soft_nonce_max

    def _scan(self, start: int, count: int, max_results: int) -> tuple[int, list[bytes]]:
        prepared = self.prepared
        end = min(start + count, prepared.soft_nonce_max + 1)
        target = difficulty.compact_to_target(prepared.job.work_bits)
        seed = prepared.ann_hash1[:32]
        found: list[bytes] = []
        nonce = start
        while nonce < end and len(found) < max_results:
            result = ref_mine.hash_nonce(seed, prepared.table2, nonce)
            if difficulty.le256(result.work_hash) < target:
                found.append(ref_mine.assemble_ann(prepared, result).ann)
            nonce += 1
        return nonce, found

    def hash_nonce(self, nonce: int) -> tuple[tuple[int, ...], bytes]:
        r = ref_mine.hash_nonce(self.prepared.ann_hash1[:32], self.prepared.table2, nonce)
        return r.item_nos, r.final_state


_JOB_FAILURES = {
    1: "table1's program is too big",
    2: "a table1 item exceeded the RandHash operation limit",
    3: "table2's program is too big",
    4: "a table2 item exceeded the RandHash operation limit",
}


def _check_status(status: int) -> None:
    if status:
        raise JobError(_JOB_FAILURES.get(status, f"table build failed ({status})"))


def _build_native(
    header: bytes, params: ref_mine.AnnJob, cancel: CancelLike, threads: int
) -> _NativeJob:
    assert _native is not None
    job = _native.Job(header, params.parent_hash)
    _check_status(job.status)
    chunks = [(s, min(s + ITEM_CHUNK, TABLE_ITEMS)) for s in range(0, TABLE_ITEMS, ITEM_CHUNK)]

    def build(step: Callable[[int, int], int]) -> None:
        if threads <= 1:
            for start, stop in chunks:
                if _cancelled(cancel):
                    raise Cancelled()
                _check_status(step(start, stop))
            return
        failed: list[int] = []

        def run(bounds: tuple[int, int]) -> None:
            if not failed and not _cancelled(cancel):
                status = step(*bounds)
                if status:
                    failed.append(status)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, chunks))
        if failed:
            _check_status(failed[0])
        if _cancelled(cancel):
            raise Cancelled()

    build(job.table1)
    _check_status(job.middle())
    build(job.table2)
    _check_status(job.end())
    return _NativeJob(params, job)


def prepare_job(
    parent_hash: bytes,
    parent_height: int,
    target_bits: int,
    signing_key: bytes = bytes(32),
    hard_nonce: int = 0,
    content_type: int = 0,
    content_length: int = 0,
    content_hash: bytes = bytes(32),
    *,
    cancel: CancelLike = None,
    threads: int = 1,
    backend: Backend | None = None,
) -> Job:
    """Build one hard nonce's two tables and table1's merkle tree (section 9 steps 1-7).

    ``parent_hash`` is in internal byte order (the reverse of the display hex). Pool mining
    uses zero content fields (section 13.5). ``threads`` > 1 builds the tables on several
    threads. Raises :class:`JobError` when a table cannot be built (take the next hard nonce)
    and :class:`Cancelled` when ``cancel`` fires.
    """
    forbid_gui_thread("kernel.prepare_job")
    if len(parent_hash) != 32 or len(signing_key) != 32 or len(content_hash) != 32:
        raise ValueError("parent hash, signing key and content hash are 32 bytes each")
    for name, value in (
        ("parent height", parent_height),
        ("target bits", target_bits),
        ("hard nonce", hard_nonce),
        ("content type", content_type),
        ("content length", content_length),
    ):
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"{name} must be a 32-bit unsigned integer")
    params = ref_mine.AnnJob(
        parent_hash=bytes(parent_hash),
        parent_height=parent_height,
        work_bits=target_bits,
        hard_nonce=hard_nonce,
        signing_key=bytes(signing_key),
    )
    header = _header(params, (content_type, content_length, bytes(content_hash)))
    if _pick(backend) == "native":
        return _build_native(header, params, cancel, max(1, threads))
    if content_type or content_length or any(content_hash):
        raise ValueError("the reference backend mines only zero content fields")
    if _cancelled(cancel):
        raise Cancelled()
    try:
        prepared = ref_mine.prepare_job(params, workers=max(1, threads))
    except ref_mine.TableBuildError as exc:
        raise JobError(str(exc)) from exc
    return _ReferenceJob(params, prepared)


@dataclass(frozen=True)
class MineBatch:
    """What one :func:`mine` call found."""

    anns: list[bytes]
    """1024-byte announcements, encrypted, in increasing soft-nonce order."""
    next_nonce: int
    """The first soft nonce not scanned."""
    scanned: int
    """Soft nonces hashed by this call."""
    exhausted: bool
    """No soft nonce of this hard nonce is left (take the next hard nonce)."""
    cancelled: bool


def mine(
    job: Job,
    start_nonce: int = 0,
    count: int | None = None,
    max_results: int | None = None,
    cancel: CancelLike = None,
) -> MineBatch:
    """Scan soft nonces ``start_nonce`` .. ``start_nonce + count - 1`` (capped at the job's
    soft-nonce maximum) in increasing order and return the announcements found.

    Stops early after ``max_results`` announcements, or when ``cancel`` fires (checked every
    few milliseconds). Safe to call from several threads on the same job.
    """
    forbid_gui_thread("kernel.mine")
    end = job.soft_nonce_max + 1
    if count is not None:
        end = min(end, start_nonce + max(0, count))
    limit = max_results if max_results is not None else 1 << 30
    chunk = NONCE_CHUNK if job.backend == "native" else 64
    anns: list[bytes] = []
    nonce = max(0, start_nonce)
    cancelled = False
    while nonce < end and len(anns) < limit:
        if _cancelled(cancel):
            cancelled = True
            break
        step = min(chunk, end - nonce)
        nonce, found = job._scan(nonce, step, min(step, limit - len(anns)))
        anns.extend(found)
    return MineBatch(
        anns=anns,
        next_nonce=nonce,
        scanned=nonce - max(0, start_nonce),
        exhausted=nonce > job.soft_nonce_max,
        cancelled=cancelled,
    )


_CODES = [
    AnnCheck.OK,
    AnnCheck.INVAL,
    AnnCheck.ANN_VERSION_NOT_ALLOWED,
    AnnCheck.ANN_VERSION_MISMATCH,
    AnnCheck.UNSUPPORTED_VERSION,
    AnnCheck.SOFT_NONCE_HIGH,
    AnnCheck.BAD_PROGRAM,
    AnnCheck.BAD_PROGRAM_EXEC,
    AnnCheck.INVAL_ITEM4,
    AnnCheck.BAD_PROGRAM0,
    AnnCheck.BAD_PROGRAM0_EXEC,
    AnnCheck.INVAL_MERKLE,
    AnnCheck.INSUF_POW,
]
"""The native validator's result codes, in order (miner/native/ann.h)."""


def validate(
    ann: bytes,
    parent_hash: bytes,
    packetcrypt_version: int = 2,
    *,
    backend: Backend | None = None,
) -> AnnValidation:
    """Validate one announcement against its parent block hash (internal order).

    The result is the reference's :class:`AnnValidation`: ``ok`` with the work hash, or the
    failure code (pktd's ``Validate_checkAnn_*`` names).
    """
    if _pick(backend) == "reference":
        return ref_validate.validate_ann(ann, parent_hash, packetcrypt_version)
    assert _native is not None
    code, work_hash, _ = _native.validate(ann, parent_hash, packetcrypt_version)
    return AnnValidation(_CODES[code], work_hash)


# -- several workers on one pool job ----------------------------------------------------------


@dataclass
class MiningStats:
    """Counters of :func:`mine_threads` (all workers together)."""

    threads: int
    backend: Backend
    anns: int = 0
    hashes: int = 0
    """Soft nonces hashed."""
    jobs: int = 0
    """Hard nonces prepared (two tables and a merkle tree each)."""
    job_seconds: float = 0.0
    """Time spent preparing jobs, summed over the workers."""
    failed_jobs: int = 0
    elapsed: float = 0.0
    per_worker_hashes: list[int] = field(default_factory=list)


def mine_threads(
    parent_hash: bytes,
    parent_height: int,
    target_bits: int,
    signing_key: bytes = bytes(32),
    *,
    threads: int = 1,
    hard_nonce_base: int = 0,
    max_anns: int | None = None,
    on_ann: Callable[[bytes], None] | None = None,
    cancel: CancelLike = None,
    backend: Backend | None = None,
) -> MiningStats:
    """Mine with ``threads`` workers sharing one pool job until ``max_anns`` announcements
    were found or ``cancel`` fires.

    Worker w mines hard nonces ``hard_nonce_base + w``, then ``+ threads`` each time its
    soft nonces run out or its tables fail (section 8). Announcements are passed to
    ``on_ann`` (called under a lock, in the order found) as soon as each batch returns; at
    most ``max_anns`` are delivered.
    """
    forbid_gui_thread("kernel.mine_threads")
    chosen = _pick(backend)
    threads = max(1, threads)
    stats = MiningStats(threads=threads, backend=chosen, per_worker_hashes=[0] * threads)
    lock = threading.Lock()
    stop = threading.Event()

    def should_stop() -> bool:
        return stop.is_set() or _cancelled(cancel)

    def deliver(anns: list[bytes]) -> None:
        with lock:
            for ann in anns:
                if max_anns is not None and stats.anns >= max_anns:
                    stop.set()
                    return
                stats.anns += 1
                if on_ann is not None:
                    on_ann(ann)
            if max_anns is not None and stats.anns >= max_anns:
                stop.set()

    errors: list[BaseException] = []

    def worker(w: int) -> None:
        hard_nonce = (hard_nonce_base + w) & 0xFFFFFFFF
        try:
            while not should_stop():
                t0 = time.perf_counter()
                try:
                    job = prepare_job(
                        parent_hash,
                        parent_height,
                        target_bits,
                        signing_key,
                        hard_nonce,
                        cancel=should_stop,
                        backend=chosen,
                    )
                except JobError:
                    with lock:
                        stats.failed_jobs += 1
                    hard_nonce = (hard_nonce + threads) & 0xFFFFFFFF
                    continue
                except Cancelled:
                    return
                finally:
                    with lock:
                        stats.jobs += 1
                        stats.job_seconds += time.perf_counter() - t0
                nonce = 0
                while not should_stop():
                    remaining = None if max_anns is None else max(1, max_anns - stats.anns)
                    batch = mine(job, nonce, NONCE_CHUNK * 4, remaining, cancel=should_stop)
                    with lock:
                        stats.hashes += batch.scanned
                        stats.per_worker_hashes[w] += batch.scanned
                    deliver(batch.anns)
                    nonce = batch.next_nonce
                    if batch.exhausted:
                        break
                hard_nonce = (hard_nonce + threads) & 0xFFFFFFFF
        except BaseException as exc:  # report in the calling thread
            errors.append(exc)
            stop.set()

    start = time.perf_counter()
    if threads == 1:
        worker(0)
    else:
        pool = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(threads)]
        for t in pool:
            t.start()
        try:
            for t in pool:
                while t.is_alive():
                    t.join(0.2)
        except BaseException:
            stop.set()
            raise
    stats.elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return stats
