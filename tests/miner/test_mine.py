"""The mining loop (spec sections 8 and 9): the synthetic job and an easy-target job.

Building table1 (8192 items) is unavoidable for a real announcement because its merkle tree
covers every item; table2 is only read, so it is computed lazily and these tests touch a few
dozen of its items. Scans that need all of table2 are marked slow.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from miner.reference import difficulty, items, mine, validate
from miner.reference.announce import AnnHeader, crypt_ann

from .conftest import WORKERS


def _b512(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()


def test_synthetic_job_tables(synthetic_prepared: mine.PreparedJob, generated: Any) -> None:
    sj = generated["synthetic_job"]
    parent = bytes.fromhex(sj["parent_block_hash_internal_order"])
    assert (synthetic_prepared.header + parent + bytes(32)).hex() == sj["hah_152"]
    assert synthetic_prepared.ann_hash0.hex() == sj["annHash0"]
    assert sj["table1_result"] == 0 and sj["table2_result"] == 0
    table1 = synthetic_prepared.table1
    assert [_b512(item) for item in table1[:8]] == sj["table1_item_blake2b512_first8"]
    assert _b512(b"".join(table1)) == sj["table1_concat_blake2b512"]
    assert synthetic_prepared.merkle_root.hex() == sj["merkle_root"]
    assert synthetic_prepared.ann_hash1.hex() == sj["annHash1"]
    assert synthetic_prepared.seed2.hex() == sj["seed2"]
    assert synthetic_prepared.soft_nonce_max == sj["soft_nonce_max"]
    assert len(synthetic_prepared.table2.context.program) == sj["table2_progLen"]
    table1_program = items.make_context(synthetic_prepared.ann_hash0[:32]).program
    assert len(table1_program) == sj["table1_progLen"]


@pytest.mark.parametrize("trace_index", range(5))
def test_synthetic_nonce_traces(
    synthetic_prepared: mine.PreparedJob, generated: Any, trace_index: int
) -> None:
    trace = generated["synthetic_job"]["nonce_traces"][trace_index]
    result = mine.hash_nonce(
        synthetic_prepared.ann_hash1[:32], synthetic_prepared.table2, trace["soft_nonce"]
    )
    assert list(result.item_nos) == trace["item_nos"]
    assert result.work_hash.hex() == trace["final_hash"]
    assert (
        difficulty.meets_target(result.work_hash, synthetic_prepared.job.work_bits)
        == (trace["meets_target"])
    )
    if trace["meets_target"]:
        mined = mine.assemble_ann(synthetic_prepared, result)
        assert mined.plain.hex() == trace["ann_plain"]
        assert mined.ann.hex() == trace["ann"]


def test_mining_reproduces_the_first_synthetic_anns(
    synthetic_prepared: mine.PreparedJob, synthetic_anns: list[bytes]
) -> None:
    """Scanning from 7300 (not 0: that would need most of table2) finds 7323 first, then 9216."""
    found = list(mine.mine_anns(synthetic_prepared, start_nonce=7300, stop_nonce=7340))
    assert [a.soft_nonce for a in found] == [7323]
    assert found[0].ann == synthetic_anns[0]
    found = list(mine.mine_anns(synthetic_prepared, start_nonce=9200, stop_nonce=9220))
    assert [a.soft_nonce for a in found] == [9216]
    assert found[0].ann == synthetic_anns[1]
    parent = synthetic_prepared.job.parent_hash
    result = validate.validate_ann(found[0].ann, parent)
    assert result.ok and result.work_hash == found[0].work_hash


EASY_JOB = mine.AnnJob(
    parent_hash=bytes(range(0x21, 0x41)),
    parent_height=1_000_000,
    work_bits=0x207FFFFF,
    hard_nonce=7,
    signing_key=bytes(range(0x80, 0xA0)),
)


@pytest.fixture(scope="module")
def easy_prepared() -> mine.PreparedJob:
    return mine.prepare_job(EASY_JOB, workers=WORKERS)


def test_mine_and_validate_at_an_easy_target(easy_prepared: mine.PreparedJob) -> None:
    assert easy_prepared.soft_nonce_max == 1023
    anns = []
    for mined in mine.mine_anns(easy_prepared):
        anns.append(mined)
        if len(anns) == 3:
            break
    assert [a.soft_nonce for a in anns] == sorted(a.soft_nonce for a in anns)
    for mined in anns:
        header = AnnHeader.from_bytes(mined.ann)
        assert header == EASY_JOB.header(mined.soft_nonce)
        assert mined.plain[984:] == bytes(40)
        assert mined.ann[920:984] == easy_prepared.merkle_root
        assert difficulty.meets_target(mined.work_hash, EASY_JOB.work_bits)
        trace = validate.ValidationTrace()
        result = validate.validate_ann(mined.ann, EASY_JOB.parent_hash, trace=trace)
        assert result.ok and result.work_hash == mined.work_hash
        assert tuple(trace.item_nos) == mined.item_nos
        assert trace.decrypted_ann == mined.plain == crypt_ann(mined.ann, trace.final_state)
    wrong_parent = bytes(32)
    assert validate.validate_ann(anns[0].ann, wrong_parent).code is validate.AnnCheck.INVAL_ITEM4


def test_mining_stops_at_the_soft_nonce_cap(easy_prepared: mine.PreparedJob) -> None:
    assert list(mine.mine_anns(easy_prepared, start_nonce=1024)) == []


def test_table_failure_moves_to_the_next_hard_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    attempted: list[int] = []

    def fake_prepare(job: mine.AnnJob, workers: int = 1) -> mine.PreparedJob:
        attempted.append(job.hard_nonce)
        raise mine.TableBuildError("injected")

    monkeypatch.setattr(mine, "prepare_job", fake_prepare)
    assert list(mine.mine_hard_nonces(EASY_JOB, [5, 7, 9])) == []
    assert attempted == [5, 7, 9]


@pytest.mark.slow
def test_synthetic_table2_hash(synthetic_prepared: mine.PreparedJob, generated: Any) -> None:
    table2 = synthetic_prepared.table2.fill()
    assert _b512(b"".join(table2)) == generated["synthetic_job"]["table2_concat_blake2b512"]


@pytest.mark.slow
def test_synthetic_scan_from_zero_finds_exactly_the_64_anns(
    synthetic_prepared: mine.PreparedJob, synthetic_anns: list[bytes], synthetic_json: Any
) -> None:
    last = synthetic_json["anns"][-1]["soft_nonce"]
    found = [a.ann for a in mine.mine_anns(synthetic_prepared, 0, last + 1)]
    assert found == synthetic_anns
