"""miner.kernel, the job API, in both backends: the synthetic job's vectors, re-mining the 64
reference anns byte for byte, the real mainnet ann, mutations, cancellation, threads, fallback.

The reference backend's synthetic job reuses the session fixture ``synthetic_prepared`` (its
tables take seconds in pure Python); its scans stay short. The native backend scans the whole
range from nonce 0.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from miner import kernel
from miner.reference import difficulty, items, mine
from miner.reference.announce import AnnHeader
from miner.reference.validate import AnnCheck

ROOT = Path(__file__).resolve().parents[2]
NATIVE = "native" in kernel.available_backends()
needs_native = pytest.mark.skipif(
    not NATIVE, reason="the C kernel miner._kernel is not built (pip install -e .)"
)
BACKENDS = [
    pytest.param("native", marks=needs_native),
    "reference",
]


def _b512(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()


@pytest.fixture(scope="module")
def native_synthetic(synthetic_job: mine.AnnJob) -> kernel.Job:
    if not NATIVE:
        pytest.skip("the C kernel miner._kernel is not built")
    return kernel.prepare_job(
        synthetic_job.parent_hash,
        synthetic_job.parent_height,
        synthetic_job.work_bits,
        hard_nonce=synthetic_job.hard_nonce,
        backend="native",
    )


@pytest.fixture
def synthetic(
    request: pytest.FixtureRequest, synthetic_job: mine.AnnJob
) -> kernel.Job:  # parametrized indirectly by backend name
    if request.param == "native":
        job: kernel.Job = request.getfixturevalue("native_synthetic")
        return job
    prepared: mine.PreparedJob = request.getfixturevalue("synthetic_prepared")
    return kernel._ReferenceJob(synthetic_job, prepared)


@pytest.mark.parametrize("synthetic", BACKENDS, indirect=True)
def test_synthetic_job_values(synthetic: kernel.Job, generated: Any) -> None:
    sj = generated["synthetic_job"]
    parent = bytes.fromhex(sj["parent_block_hash_internal_order"])
    assert (synthetic.header + parent + bytes(32)).hex() == sj["hah_152"]
    assert synthetic.ann_hash0.hex() == sj["annHash0"]
    assert synthetic.merkle_root.hex() == sj["merkle_root"]
    assert synthetic.ann_hash1.hex() == sj["annHash1"]
    assert synthetic.seed2.hex() == sj["seed2"]
    assert synthetic.soft_nonce_max == sj["soft_nonce_max"]


@pytest.mark.parametrize("synthetic", BACKENDS, indirect=True)
@pytest.mark.parametrize("trace_index", range(5))
def test_synthetic_nonce_traces(synthetic: kernel.Job, generated: Any, trace_index: int) -> None:
    trace = generated["synthetic_job"]["nonce_traces"][trace_index]
    item_nos, state = synthetic.hash_nonce(trace["soft_nonce"])
    assert list(item_nos) == trace["item_nos"]
    assert state[:32].hex() == trace["final_hash"]


@needs_native
def test_native_tables_and_solutions(native_synthetic: kernel.Job, generated: Any) -> None:
    """Table1 (built separately), table2, program lengths and the two complete solutions."""
    from miner import _kernel

    sj = generated["synthetic_job"]
    hash0 = native_synthetic.ann_hash0
    ctx1 = _kernel.table_context(hash0[:32], hash0[32:])
    assert ctx1 is not None and len(ctx1.program) == sj["table1_progLen"]
    table1 = ctx1.build()
    assert table1 is not None
    assert [_b512(table1[i * 1024 : (i + 1) * 1024]) for i in range(8)] == sj[
        "table1_item_blake2b512_first8"
    ]
    assert _b512(table1) == sj["table1_concat_blake2b512"]
    assert _kernel.merkle_root(table1).hex() == sj["merkle_root"]
    assert isinstance(native_synthetic, kernel._NativeJob)
    assert _b512(native_synthetic.table2_bytes()) == sj["table2_concat_blake2b512"]
    assert native_synthetic._k.prog2_len == sj["table2_progLen"]
    for trace in sj["nonce_traces"]:
        if trace["meets_target"]:
            plain, ann = native_synthetic._k.assemble(trace["soft_nonce"])
            assert plain.hex() == trace["ann_plain"] and ann.hex() == trace["ann"]


@needs_native
def test_native_full_scan_reproduces_the_64_anns(
    native_synthetic: kernel.Job, synthetic_anns: list[bytes], synthetic_json: Any
) -> None:
    """From nonce 0 to the 64th solution: exactly the reference miner's anns, byte for byte."""
    last = synthetic_json["anns"][-1]["soft_nonce"]
    batch = kernel.mine(native_synthetic, 0, last + 1)
    assert batch.anns == synthetic_anns
    assert batch.next_nonce == last + 1 and batch.scanned == last + 1
    assert not batch.exhausted and not batch.cancelled
    # max_results stops right after the n-th solution
    batch = kernel.mine(native_synthetic, 0, None, 2)
    assert batch.anns == synthetic_anns[:2]
    assert batch.next_nonce == synthetic_json["anns"][1]["soft_nonce"] + 1


def test_reference_backend_mines_the_first_anns(
    synthetic_job: mine.AnnJob, synthetic_prepared: mine.PreparedJob, synthetic_anns: list[bytes]
) -> None:
    job = kernel._ReferenceJob(synthetic_job, synthetic_prepared)
    batch = kernel.mine(job, 7300, 40)
    assert batch.anns == synthetic_anns[:1] and batch.next_nonce == 7340
    batch = kernel.mine(job, 9200, 100, max_results=1)
    assert batch.anns == synthetic_anns[1:2] and batch.next_nonce == 9217


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_vector_anns_validate(
    backend: kernel.Backend,
    synthetic_anns: list[bytes],
    synthetic_json: Any,
    real_ann: bytes,
    real_ann_json: Any,
    real_parent_hash: bytes,
) -> None:
    parent = bytes.fromhex(synthetic_json["job"]["parent_block_hash_internal_order"])
    anns = synthetic_anns if backend == "native" else synthetic_anns[::8]
    entries = synthetic_json["anns"] if backend == "native" else synthetic_json["anns"][::8]
    for entry, ann in zip(entries, anns, strict=True):
        result = kernel.validate(ann, parent, backend=backend)
        assert result.ok and result.work_hash is not None
        assert result.work_hash.hex() == entry["work_hash_internal_order"]
    result = kernel.validate(real_ann, real_parent_hash, backend=backend)
    assert result.code is AnnCheck.OK
    assert (
        result.work_hash_display
        == (real_ann_json["expected_work_hash_display_as_returned_by_pktd_checkpcann"])
    )


def _flip(ann: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(ann)
    out[offset] ^= mask
    return bytes(out)


def _expected_failure(ann: bytes, offset: int) -> AnnCheck:
    """What flipping bit 0 of byte ``offset`` of a valid v1 ann must give (section 10)."""
    mutated = AnnHeader.from_bytes(_flip(ann, offset))
    if offset == 0:
        return AnnCheck.ANN_VERSION_MISMATCH  # version 1 -> 0
    if 12 <= offset < 16 and mutated.parent_block_height < 103869:
        return AnnCheck.ANN_VERSION_NOT_ALLOWED
    if offset < 12 and mutated.soft_nonce > difficulty.soft_nonce_max(mutated.work_bits):
        return AnnCheck.SOFT_NONCE_HIGH
    if 88 <= offset < 920:
        return AnnCheck.INVAL_MERKLE  # an encrypted sibling
    return AnnCheck.INVAL_ITEM4  # header, root or item-4 prefix: the decryption key changes


@needs_native
def test_native_every_byte_mutation_fails_with_the_right_reason(
    real_ann: bytes, real_parent_hash: bytes, synthetic_anns: list[bytes], synthetic_job: Any
) -> None:
    for ann, parent in (
        (real_ann, real_parent_hash),
        (synthetic_anns[5], synthetic_job.parent_hash),
    ):
        seen = set()
        for offset in range(1024):
            result = kernel.validate(_flip(ann, offset), parent, backend="native")
            expected = _expected_failure(ann, offset)
            assert result.code is expected, offset
            seen.add(expected)
        assert len(seen) >= 4


@pytest.mark.parametrize(
    "offset", [0, 1, 3, 5, 8, 11, 14, 15, 20, 40, 60, 87, 88, 500, 919, 920, 983, 984, 1023]
)
def test_mutations_agree_between_backends(
    real_ann: bytes, real_parent_hash: bytes, offset: int
) -> None:
    mutated = _flip(real_ann, offset)
    reference = kernel.validate(mutated, real_parent_hash, backend="reference")
    assert reference.code is _expected_failure(real_ann, offset)
    if NATIVE:
        assert kernel.validate(mutated, real_parent_hash, backend="native") == reference


@pytest.mark.parametrize("backend", BACKENDS)
def test_validation_edge_cases(
    backend: kernel.Backend, real_ann: bytes, real_parent_hash: bytes
) -> None:
    assert kernel.validate(real_ann[:-1], real_parent_hash, backend=backend).code is AnnCheck.INVAL
    assert kernel.validate(real_ann, real_parent_hash[:31], backend=backend).code is AnnCheck.INVAL
    wrong = kernel.validate(real_ann, real_parent_hash[::-1], backend=backend)
    assert wrong.code is AnnCheck.INVAL_ITEM4 and wrong.work_hash is not None
    version0 = _flip(real_ann, 0)
    assert (
        kernel.validate(version0, real_parent_hash, 1, backend=backend).code
        is AnnCheck.UNSUPPORTED_VERSION
    )


# -- an easy job, mined and validated in both backends ------------------------------------------

EASY = {
    "parent_hash": bytes(range(0x21, 0x41)),
    "parent_height": 1_000_000,
    "target_bits": 0x207FFFFF,
    "signing_key": bytes(range(0x80, 0xA0)),
    "hard_nonce": 7,
}


@needs_native
@pytest.mark.parametrize("seed", range(3))
def test_random_jobs_agree_with_reference(seed: int) -> None:
    """Random pool jobs: the native nonce loop matches the reference's item by item, and the
    native anns (tree branch, encryption) validate in the reference.

    The reference computes table2 lazily from the native job's seed2 and annHash1, which
    are themselves checked by the reference validator through every mined ann.
    """
    import random

    rng = random.Random(seed)
    params = {
        "parent_hash": rng.randbytes(32),
        "parent_height": rng.randrange(103869, 1 << 32),
        "target_bits": rng.choice([0x207FFFFF, 0x2003FFFF]),
        "signing_key": rng.choice([bytes(32), rng.randbytes(32)]),
        "hard_nonce": rng.randrange(1 << 32),
    }
    job = kernel.prepare_job(**params, threads=2, backend="native")  # type: ignore[arg-type]
    table2 = items.ItemTable(job.seed2[:32], job.seed2[32:])
    for nonce in [0, 1, rng.randrange(job.soft_nonce_max + 1)]:
        expected = mine.hash_nonce(job.ann_hash1[:32], table2, nonce)
        item_nos, state = job.hash_nonce(nonce)
        assert item_nos == expected.item_nos and state == expected.final_state
    batch = kernel.mine(job, 0, None, 2)
    assert len(batch.anns) == 2
    for ann in batch.anns[:2]:
        header = AnnHeader.from_bytes(ann)
        assert header.hard_nonce == params["hard_nonce"]
        assert header.signing_key == params["signing_key"]
        result = kernel.validate(ann, params["parent_hash"], backend="reference")  # type: ignore[arg-type]
        assert result.ok
        assert result == kernel.validate(ann, params["parent_hash"], backend="native")  # type: ignore[arg-type]
    assert kernel.mine(job, job.soft_nonce_max - 10, 100).exhausted
    assert kernel.mine(job, job.soft_nonce_max + 1).anns == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancel_stops_mining_and_preparation(backend: kernel.Backend) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(kernel.Cancelled):
        kernel.prepare_job(**EASY, cancel=stop, backend=backend)  # type: ignore[arg-type]
    if backend == "native":
        job = kernel.prepare_job(**EASY, backend=backend)  # type: ignore[arg-type]
        batch = kernel.mine(job, 0, None, None, cancel=stop)
        assert batch.cancelled and batch.anns == [] and batch.scanned == 0
        calls = []

        def cancel_after_two() -> bool:
            calls.append(1)
            return len(calls) > 2

        big = kernel.prepare_job(
            EASY["parent_hash"],  # type: ignore[arg-type]
            1_000_000,
            0x1F100000,
            backend="native",
        )
        start = time.perf_counter()
        batch = kernel.mine(big, 0, None, None, cancel=cancel_after_two)
        assert batch.cancelled and batch.scanned == 2 * kernel.NONCE_CHUNK
        assert time.perf_counter() - start < 2


@needs_native
def test_mine_threads_shares_one_pool_job() -> None:
    found: list[bytes] = []
    stats = kernel.mine_threads(
        EASY["parent_hash"],  # type: ignore[arg-type]
        1_000_000,
        0x207FFFFF,
        threads=2,
        hard_nonce_base=100,
        max_anns=700,
        on_ann=found.append,
        backend="native",
    )
    assert stats.anns == len(found) == 700
    assert len(set(found)) == 700
    hard_nonces = {AnnHeader.from_bytes(a).hard_nonce for a in found}
    assert hard_nonces <= {100, 101, 102, 103, 104, 105}
    assert {100, 101} <= hard_nonces  # both workers delivered
    for ann in found[::50]:
        assert kernel.validate(ann, EASY["parent_hash"]).ok  # type: ignore[arg-type]
    assert stats.jobs >= 2 and stats.hashes >= 700


def test_failing_table_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hard nonce whose table fails is skipped (reference backend, failure injected)."""
    real = kernel.prepare_job
    attempts: list[int] = []

    def flaky(*args: Any, **kw: Any) -> kernel.Job:
        hard_nonce = args[4]
        attempts.append(hard_nonce)
        if hard_nonce == 3:
            raise kernel.JobError("injected")
        return real(*args, **kw)

    if not NATIVE:
        pytest.skip("mining several hard nonces in pure Python takes minutes")
    monkeypatch.setattr(kernel, "prepare_job", flaky)
    backend: kernel.Backend = "native"
    stats = kernel.mine_threads(
        EASY["parent_hash"],  # type: ignore[arg-type]
        1_000_000,
        0x207FFFFF,
        hard_nonce_base=3,
        max_anns=600,
        backend=backend,
    )
    assert attempts[:2] == [3, 4] and stats.failed_jobs == 1 and stats.anns == 600


def _python(code: str, env_extra: dict[str, str]) -> str:
    env = dict(os.environ, **env_extra)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def test_backend_is_named_and_falls_back() -> None:
    assert kernel.BACKEND in ("native", "reference")
    assert kernel.BACKEND_REASON
    forced = _python(
        "from miner import kernel; print(kernel.BACKEND, '|', kernel.BACKEND_REASON)",
        {"PKT_MINER_BACKEND": "reference"},
    )
    assert forced.startswith("reference |") and "PKT_MINER_BACKEND" in forced
    missing = _python(
        "import sys; sys.modules['miner._kernel'] = None\n"
        "from miner import kernel; print(kernel.BACKEND, '|', kernel.BACKEND_REASON)\n"
        "print(kernel.available_backends())",
        {},
    )
    assert missing.startswith("reference |") and "not built" in missing
    assert "['reference']" in missing


@needs_native
def test_random_garbage_validates_the_same_in_both_backends() -> None:
    """Random 1024-byte records with plausible headers: same result in both backends."""
    import random

    rng = random.Random(21)
    for i in range(300):
        ann = bytearray(rng.randbytes(1024))
        ann[0] = rng.choice([0, 1, 1, 1, 2, 255])
        if rng.random() < 0.8:
            ann[12:16] = rng.randrange(103869, 1 << 32).to_bytes(4, "little")
        if rng.random() < 0.5:
            bits = rng.choice([0x20000FFF, 0x1F100000, 0x207FFFFF, 0, 0xFFFFFFFF])
            ann[8:12] = bits.to_bytes(4, "little")
        if rng.random() < 0.5:
            ann[1:4] = bytes(3)
        parent = rng.randbytes(32)
        version = rng.choice([1, 2])
        native = kernel.validate(bytes(ann), parent, version, backend="native")
        assert native.code is not AnnCheck.OK
        if i % 15 == 0:
            assert native == kernel.validate(bytes(ann), parent, version, backend="reference")
