"""Compact targets, work, SNM and work checks (spec sections 11 and 18.4 / 18.6)."""

from __future__ import annotations

from typing import Any

import pytest

from miner.reference import difficulty as d

from .conftest import load_json

SNM_VECTORS = load_json("generated_reference_vectors.json")["soft_nonce_max"]

SPEC_SNM_TABLE = [
    (0x207FFFFF, 1023),
    (0x2001FFFF, 65535),
    (0x2000FFFF, 131071),
    (0x20020000, 32767),
    (0x1F200000, 524287),
    (0x1F100000, 1048575),
    (0x1F080000, 2097151),
    (0x20000FFF, 2097151),
    (0x200007FF, 4194303),
    (0x1F00FFFF, 16777215),
    (0x1E0FFFFF, 16777215),
    (0x1D00FFFF, 16777215),
]


@pytest.mark.parametrize("vector", SNM_VECTORS, ids=lambda v: v["target"])
def test_soft_nonce_max_vectors(vector: dict[str, Any]) -> None:
    assert d.soft_nonce_max(int(vector["target"], 16)) == vector["soft_nonce_max"]


@pytest.mark.parametrize(("compact", "snm"), SPEC_SNM_TABLE, ids=lambda x: hex(x))
def test_soft_nonce_max_spec_table(compact: int, snm: int) -> None:
    assert d.soft_nonce_max(compact) == snm


def test_compact_round_trip() -> None:
    assert d.compact_to_target(0x1F100000) == 0x100000 << (8 * 28)
    assert d.compact_to_target(0x20000FFF) == 0xFFF << (8 * 29)
    assert d.compact_to_target(0x20000FFF) == d.compact_to_target(0x1F0FFF00)
    assert d.compact_to_target(0x03123456) == 0x123456
    assert d.compact_to_target(0x02123456) == 0x1234
    assert d.compact_to_target(0x04923456) == -(0x123456 << 8)
    for compact in (0x1F100000, 0x1F0FFF00, 0x207FFFFF, 0x1D00FFFF, 0x03123456):
        assert d.target_to_compact(d.compact_to_target(compact)) == compact
    assert d.target_to_compact(0x80) == 0x02008000  # sign bit avoided by a longer exponent
    assert d.target_to_compact(0) == 0


def test_work() -> None:
    # "work 4096" targets: 0x1f100000 is exactly 2^244, so 2^256 // (2^244 + 1) = 4095
    assert d.work_for_target(d.compact_to_target(0x1F100000)) == 4095
    assert d.work_for_target(d.compact_to_target(0x1F0FFFFF)) == 4096
    assert d.work_for_target(d.compact_to_target(0x20020000)) == 127
    assert d.work_for_target(d.compact_to_target(0x20000FFF)) == 4097
    assert d.target_for_work(0) == 1 << 256
    assert d.target_to_compact(d.target_for_work(4096)) == 0x1F0FFFFF


def test_work_checks_on_the_real_ann(real_ann_json: Any) -> None:
    work_hash = bytes.fromhex(real_ann_json["expected_work_hash_internal_order"])
    assert d.meets_target(work_hash, 0x20020000)
    assert d.is_ok_pktd(work_hash, 0x20020000)
    assert d.work_check_c(work_hash, 0x20020000)
    assert not d.meets_target(work_hash, 0x1F100000)
    assert not d.work_check_c(work_hash, 0x1F100000)


def test_nonce_traces_meets_target(generated: Any) -> None:
    bits = int(generated["synthetic_job"]["work_bits"], 16)
    for trace in generated["synthetic_job"]["nonce_traces"]:
        work_hash = bytes.fromhex(trace["final_hash"])
        assert d.meets_target(work_hash, bits) == trace["meets_target"]
        assert d.work_check_c(work_hash, bits) == trace["meets_target"]


def test_equality_differs_between_go_and_c() -> None:
    compact = 0x1F100000
    equal = d.compact_to_target(compact).to_bytes(32, "little")
    assert d.is_ok_pktd(equal, compact)
    assert not d.meets_target(equal, compact)
    assert not d.work_check_c(equal, compact)


def test_work_check_c_rejects_invalid_compacts() -> None:
    assert not d.work_check_c(bytes(32), 0x20800000)
    assert not d.work_check_c(bytes(32), 0x1F800001)
    assert d.work_check_c(bytes(32), 0x207FFFFF)


def test_aged_targets() -> None:
    # V >= 2
    assert d.aged_ann_target(0x20000FFF, 100, 98, 2) == 0xFFFFFFFF
    assert d.aged_ann_target(0x20000FFF, 100, 97, 2) == 0x20000FFF  # raw, not normalised
    assert d.aged_ann_target(0x20000FFF, 100, 96, 2) == 0x1F1FFE00  # vector A at age 4
    assert d.aged_ann_target(0x20000FFF, 100, 101, 2) == 0xFFFFFFFF  # parent above the block
    # a target just below 2^244 stays usable up to age 14 (shift 11 gives 255 bits)
    assert d.aged_ann_target(0x1F0FFFFF, 2000, 2000 - 14, 2) == 0x207FFFF8
    assert d.aged_ann_target(0x1F0FFFFF, 2000, 2000 - 15, 2) == 0xFFFFFFFF
    # V <= 1
    assert d.aged_ann_target(0x20000FFF, 100, 97, 1) == 0x1F0FFF00  # normalised
    assert d.aged_ann_target(0x1F100000, 100, 95, 0) == d.target_to_compact(
        d.target_for_work(4095 // 2)  # age 5: work / 2
    )
    # genesis era
    assert d.aged_ann_target(0x1F100000, 2, 0xFFFFFFFC, 2) == 0x1F100000


def test_effective_block_target() -> None:
    assert d.effective_block_target(0x1F03FFFF, 0x20000FFF, 64, 2) == 0x20010101
    assert d.effective_block_target(0x1F7FFFFF, 0x1F0FFF00, 50, 0) == 0x1F640E11
    assert d.effective_block_target(0x1F03FFFF, 0x20000FFF, 0, 2) == 0  # tfw(2^256 - 1) = 0
    assert d.effective_block_target(0x207FFFFF, 0x207FFFFF, 1, 2) == 0x207FFFFF
