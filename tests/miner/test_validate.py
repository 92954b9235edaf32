"""The announcement validator (spec section 10): real and synthetic anns, and mutations."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from miner.reference import difficulty, items, mine, validate
from miner.reference.announce import AnnHeader
from miner.reference.randgen import ProgramTooBigError
from miner.reference.randhash import RandHashOpLimitError
from miner.reference.validate import AnnCheck


def _b512(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()


def test_real_ann_validates_with_the_expected_work_hash(
    real_ann: bytes, real_ann_json: Any, real_parent_hash: bytes
) -> None:
    assert (
        hashlib.blake2b(real_ann, digest_size=32).hexdigest()
        == real_ann_json["expected_blake2b256_of_ann_from_source_test"]
    )
    result = validate.validate_ann(real_ann, real_parent_hash)
    assert result.ok and result.code is AnnCheck.OK
    assert result.work_hash is not None
    assert result.work_hash.hex() == real_ann_json["expected_work_hash_internal_order"]
    assert (
        result.work_hash_display
        == real_ann_json["expected_work_hash_display_as_returned_by_pktd_checkpcann"]
    )


def test_real_ann_full_trace(real_ann: bytes, real_ann_json: Any, real_parent_hash: bytes) -> None:
    expected = real_ann_json["trace_generated_by_reference_C"]
    trace = validate.ValidationTrace()
    assert validate.validate_ann(real_ann, real_parent_hash, trace=trace).ok
    assert trace.ann_hash0.hex() == expected["annHash0"]
    assert trace.ann_hash1.hex() == expected["annHash1"]
    assert trace.seed2.hex() == expected["seed2"]
    assert trace.soft_nonce_max == expected["soft_nonce_max"]
    assert AnnHeader.from_bytes(real_ann).soft_nonce == expected["soft_nonce"]
    assert trace.prog2_len == expected["prog2_len"]
    assert trace.prog0_len == expected["prog0_len"]
    assert _b512(trace.state_after_init) == expected["state_after_init_blake2b512"]
    assert trace.item_nos == [lookup["item_no"] for lookup in expected["lookups"]]
    for i, lookup in enumerate(expected["lookups"]):
        assert _b512(trace.items[i]) == lookup["item_blake2b512"]
        assert _b512(trace.states_after_update[i]) == lookup["state_after_update_blake2b512"]
    assert trace.final_state[:32].hex() == expected["work_hash"]
    assert trace.final_state[:872].hex() == expected["final_state_first_872_bytes"]
    assert trace.decrypted_ann.hex() == expected["ann_decrypted"]
    assert trace.item_nos[-1] == expected["item4_no"]
    assert _b512(trace.item4) == expected["item4_original_blake2b512"]
    assert expected["meets_target"] is True


def test_all_64_synthetic_anns_validate(
    synthetic_anns: list[bytes], synthetic_json: Any, generated: Any
) -> None:
    parent = bytes.fromhex(synthetic_json["job"]["parent_block_hash_internal_order"])
    entries = synthetic_json["anns"]
    assert len(entries) == len(synthetic_anns) == 64
    previous = -1
    for entry, ann in zip(entries, synthetic_anns, strict=True):
        header = AnnHeader.from_bytes(ann)
        assert header.soft_nonce == entry["soft_nonce"] > previous
        assert (
            header.hard_nonce == entry["hard_nonce"] == synthetic_json["job"]["miner_id_hard_nonce"]
        )
        previous = header.soft_nonce
        assert hashlib.blake2b(ann, digest_size=32).hexdigest() == entry["blake2b256_of_ann"]
        assert entry["validate_result"] == 0
        result = validate.validate_ann(ann, parent)
        assert result.code is AnnCheck.OK, entry["index"]
        assert result.work_hash is not None
        assert result.work_hash.hex() == entry["work_hash_internal_order"]
    assert synthetic_anns[0].hex() == generated["synthetic_job"]["nonce_traces"][3]["ann"]
    assert synthetic_anns[1].hex() == generated["synthetic_job"]["nonce_traces"][4]["ann"]


def _flip(ann: bytes, offset: int, mask: int = 0x01) -> bytes:
    mutated = bytearray(ann)
    mutated[offset] ^= mask
    return bytes(mutated)


def _set_u32(ann: bytes, offset: int, value: int) -> bytes:
    mutated = bytearray(ann)
    mutated[offset : offset + 4] = value.to_bytes(4, "little")
    return bytes(mutated)


@pytest.mark.parametrize(
    ("region", "offset", "expected"),
    [
        ("version -> 3 (pktd treats every version > 0 as v1)", 0, AnnCheck.INVAL_ITEM4),
        ("soft nonce low byte", 1, AnnCheck.INVAL_ITEM4),
        ("hard nonce", 5, AnnCheck.INVAL_ITEM4),
        ("work bits mantissa", 9, AnnCheck.INVAL_ITEM4),
        ("parent height", 12, AnnCheck.INVAL_ITEM4),
        ("content type", 16, AnnCheck.INVAL_ITEM4),
        ("content length", 20, AnnCheck.INVAL_ITEM4),
        ("content hash", 40, AnnCheck.INVAL_ITEM4),
        ("signing key", 87, AnnCheck.INVAL_ITEM4),
        ("first sibling", 88, AnnCheck.INVAL_MERKLE),
        ("middle sibling", 500, AnnCheck.INVAL_MERKLE),
        ("last sibling byte", 919, AnnCheck.INVAL_MERKLE),
        ("merkle root", 920, AnnCheck.INVAL_ITEM4),
        ("merkle root last byte", 983, AnnCheck.INVAL_ITEM4),
        ("item 4 prefix", 984, AnnCheck.INVAL_ITEM4),
        ("item 4 prefix last byte", 1023, AnnCheck.INVAL_ITEM4),
    ],
)
def test_one_byte_mutations(
    real_ann: bytes, real_parent_hash: bytes, region: str, offset: int, expected: AnnCheck
) -> None:
    mask = 0x02 if offset == 0 else 0x01
    result = validate.validate_ann(_flip(real_ann, offset, mask), real_parent_hash)
    assert result.code is expected, region


def test_wrong_parent_hash(real_ann: bytes, real_parent_hash: bytes) -> None:
    result = validate.validate_ann(real_ann, _flip(real_parent_hash, 0))
    assert result.code is AnnCheck.INVAL_ITEM4
    display_order = real_parent_hash[::-1]
    assert validate.validate_ann(real_ann, display_order).code is AnnCheck.INVAL_ITEM4


def test_soft_nonce_high(real_ann: bytes, real_parent_hash: bytes) -> None:
    snm = difficulty.soft_nonce_max(0x20020000)
    mutated = bytearray(real_ann)
    mutated[1:4] = (snm + 1).to_bytes(3, "little")
    assert validate.validate_ann(bytes(mutated), real_parent_hash).code is AnnCheck.SOFT_NONCE_HIGH
    mutated[1:4] = snm.to_bytes(3, "little")
    assert validate.validate_ann(bytes(mutated), real_parent_hash).code is AnnCheck.INVAL_ITEM4


def test_version_rules(real_ann: bytes, real_parent_hash: bytes) -> None:
    low_parent = _set_u32(real_ann, 12, 103868)
    assert validate.validate_ann(low_parent, real_parent_hash).code is (
        AnnCheck.ANN_VERSION_NOT_ALLOWED
    )
    assert validate.validate_ann(_set_u32(real_ann, 12, 103869), real_parent_hash).code is (
        AnnCheck.INVAL_ITEM4
    )
    version0 = _flip(real_ann, 0)
    assert validate.validate_ann(version0, real_parent_hash).code is AnnCheck.ANN_VERSION_MISMATCH
    assert validate.validate_ann(version0, real_parent_hash, packetcrypt_version=1).code is (
        AnnCheck.UNSUPPORTED_VERSION
    )


def test_malformed_input(real_ann: bytes, real_parent_hash: bytes) -> None:
    assert validate.validate_ann(real_ann[:-1], real_parent_hash).code is AnnCheck.INVAL
    assert validate.validate_ann(real_ann, real_parent_hash[:31]).code is AnnCheck.INVAL


def test_program_failures_map_to_their_codes(
    real_ann: bytes, real_parent_hash: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real seed is known to fail, so the failing calls are injected."""
    real_make_context = items.make_context
    real_make_item = items.make_item
    seed2 = bytes.fromhex("b02ad6b18cf3f939d01ec570dfd13afdfddad9982815b76f738bbf2977ee0c32")

    def context_failing_for(bad_seed: bytes) -> Any:
        def fake(seed: bytes) -> Any:
            if seed == bad_seed:
                raise ProgramTooBigError("injected")
            return real_make_context(seed)

        return fake

    monkeypatch.setattr(validate, "make_context", context_failing_for(seed2))
    assert validate.validate_ann(real_ann, real_parent_hash).code is AnnCheck.BAD_PROGRAM

    hash0_seed = bytes.fromhex("cb072035bb6649cf76ab67b511119a4bcf072d36bc1f6a73f7207f00d727d1f5")
    monkeypatch.setattr(validate, "make_context", context_failing_for(hash0_seed))
    assert validate.validate_ann(real_ann, real_parent_hash).code is AnnCheck.BAD_PROGRAM0
    monkeypatch.setattr(validate, "make_context", real_make_context)

    calls: list[int] = []

    def item_failing_at(n: int) -> Any:
        def fake(ctx: Any, index: int, seed: bytes) -> bytes:
            calls.append(index)
            if len(calls) == n:
                raise RandHashOpLimitError("injected")
            return real_make_item(ctx, index, seed)

        return fake

    monkeypatch.setattr(validate, "make_item", item_failing_at(2))
    assert validate.validate_ann(real_ann, real_parent_hash).code is AnnCheck.BAD_PROGRAM_EXEC
    calls.clear()
    monkeypatch.setattr(validate, "make_item", item_failing_at(5))
    assert validate.validate_ann(real_ann, real_parent_hash).code is AnnCheck.BAD_PROGRAM0_EXEC


def test_insufficient_work(synthetic_prepared: mine.PreparedJob) -> None:
    """An ann assembled for a nonce that is not a solution fails only the work check."""
    result = mine.hash_nonce(synthetic_prepared.ann_hash1[:32], synthetic_prepared.table2, 0)
    assert not difficulty.meets_target(result.work_hash, synthetic_prepared.job.work_bits)
    ann = mine.assemble_ann(synthetic_prepared, result).ann
    check = validate.validate_ann(ann, synthetic_prepared.job.parent_hash)
    assert check.code is AnnCheck.INSUF_POW
    assert check.work_hash == result.work_hash
