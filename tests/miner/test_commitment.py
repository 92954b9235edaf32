"""The coinbase commitment (spec section 11.4): coinbase_commit_vector.json."""

from __future__ import annotations

from miner.reference import commitment

from .conftest import load_json

VECTOR = load_json("coinbase_commit_vector.json")


def test_parse_commitment() -> None:
    raw = bytes.fromhex(VECTOR["commitment_hex"])
    parsed = commitment.Commitment.from_bytes(raw)
    assert parsed.magic == int(VECTOR["parsed"]["magic_u32le"], 16) == commitment.COMMITMENT_MAGIC
    assert parsed.ann_least_work_target == int(VECTOR["parsed"]["ann_least_work_target_u32le"], 16)
    assert parsed.merkle_root.hex() == VECTOR["parsed"]["merkle_root_hex"]
    assert parsed.ann_count == VECTOR["parsed"]["ann_count_u64le"]
    assert parsed.to_bytes() == raw
    assert parsed.output_script().hex() == VECTOR["output_script_hex"]


def test_find_commitment() -> None:
    script = bytes.fromhex(VECTOR["output_script_hex"])
    found = commitment.find_commitment([b"\x76\xa9", script, bytes(50)])
    assert found == commitment.Commitment.from_bytes(bytes.fromhex(VECTOR["commitment_hex"]))
    assert commitment.find_commitment([b"\x6a\x30\x09\xf9\x11\x03" + bytes(44)]) is None
    short = commitment.find_commitment([script[:10]])
    assert short is not None and short.ann_count == 0 and short.merkle_root == bytes(32)


def test_placeholder_pattern() -> None:
    assert commitment.PLACEHOLDER_SCRIPT.hex() == VECTOR["coinbase_commit_placeholder_pattern_hex"]
