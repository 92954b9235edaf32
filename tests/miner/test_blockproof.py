"""Block-proof validation (spec section 18): the four blocks of block_proof_vectors.json, their
work-hash traces, pktd's answers to the negative mutations, and the C divergences."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from miner.reference import blockproof, blockwire, difficulty
from miner.reference.announce import AnnHeader
from miner.reference.blockproof import BlockCheck
from miner.reference.primitives import b256
from miner.reference.validate import AnnCheck

from .conftest import ann_set, load_json

DATA = load_json("block_proof_vectors.json")
VECTORS = {v["id"]: v for v in DATA["vectors"]}


def _b256(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _validate(
    vector: dict[str, Any],
    raw: bytes | None = None,
    height: int | None = None,
    parents: list[bytes] | None = None,
    strict: bool = False,
) -> blockproof.BlockValidation:
    block = blockwire.parse_block(raw if raw is not None else bytes.fromhex(vector["block_hex"]))
    return blockproof.validate_block_proof(
        block,
        vector["block_height"] if height is None else height,
        parents or [bytes.fromhex(h) for h in vector["ann_parent_hashes_internal"]],
        strict_tree_order=strict,
    )


@pytest.mark.parametrize("vector_id", list(VECTORS))
def test_work_hash_trace(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    expected = vector["work_hash_trace"]
    block = blockwire.parse_block(bytes.fromhex(vector["block_hex"]))
    trace = blockproof.WorkHashTrace()
    work_hash, items = blockproof.block_work_hash(
        block.header, block.nonce2, block.anns, trace=trace
    )
    assert trace.header_b256.hex() == expected["header_b256"]
    assert _b256(trace.state_after_init) == expected["state_b256_after_init"]
    assert trace.state_after_init[16:24].hex() == expected["state_16_24_after_init"]
    assert [str(n) for n in items] == expected["item_numbers_u64"]
    assert [_b256(s) for s in trace.states_after_update] == expected["state_b256_after_update"]
    assert trace.smul_output.hex() == expected["smul_output_S64_96"]
    assert work_hash.hex() == expected["work_hash_internal"]
    assert work_hash[::-1].hex() == expected["work_hash_display"]


@pytest.mark.parametrize("vector_id", list(VECTORS))
def test_effective_target_and_ann_metadata(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    commitment = vector["commitment"]
    effective = difficulty.effective_block_target(
        int(vector["header_bits"], 16),
        int(commitment["ann_least_work_target"], 16),
        commitment["ann_count"],
        vector["proof_version"],
    )
    assert effective == int(vector["effective_target"], 16)
    block = blockwire.parse_block(bytes.fromhex(vector["block_hex"]))
    headers = [AnnHeader.from_bytes(ann) for ann in block.anns]
    assert [h.parent_block_height for h in headers] == vector["ann_parent_heights"]
    assert [f"{h.work_bits:#010x}" for h in headers] == vector["ann_work_bits"]


@pytest.mark.parametrize("vector_id", list(VECTORS))
def test_pktd_accepts_every_vector(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    assert vector["expected_pktd_go_ValidatePcBlock"] == "accept"
    result = _validate(vector)
    assert result.code is BlockCheck.OK, result
    assert result.work_hash is not None
    assert result.work_hash.hex() == vector["work_hash_trace"]["work_hash_internal"]


def test_c_rules_reject_the_descending_tree() -> None:
    vector = VECTORS["U_unsorted_tree_divergence"]
    assert vector["expected_c_Validate_checkBlock_1b76e1a"] == "Validate_checkBlock_PCP_INVAL"
    assert _validate(vector, strict=True).code is BlockCheck.PCP_INVAL
    for other in ("A_v2_basic", "B_v2_signed_aged", "C_v0_legacy_rules"):
        assert _validate(VECTORS[other], strict=True).ok


def test_c_rules_reject_the_legacy_block_by_aging() -> None:
    """C knows only V >= 2 aging: at age 3 the raw 0x20000fff sorts above 0x1f0fff00."""
    vector = VECTORS["C_v0_legacy_rules"]
    assert vector["expected_c_Validate_checkBlock_1b76e1a"].startswith(
        "Validate_checkBlock_ANN_INSUF_POW"
    )
    least = int(vector["commitment"]["ann_least_work_target"], 16)
    height = vector["block_height"]
    assert difficulty.aged_ann_target(0x20000FFF, height, 110000, 2) > least
    assert difficulty.aged_ann_target(0x20000FFF, height, 110000, 0) <= least


def _flip(raw: bytes, offset: int) -> bytes:
    out = bytearray(raw)
    out[offset] ^= 0x01
    return bytes(out)


def test_negative_mutations_match_pktd() -> None:
    mutations = DATA["negative_mutations"]
    a, b = VECTORS["A_v2_basic"], VECTORS["B_v2_signed_aged"]
    raw_a, raw_b = bytes.fromhex(a["block_hex"]), bytes.fromhex(b["block_hex"])
    pcp = a["tlv_records"][0]
    sig = b["tlv_records"][1]
    parents = [bytes.fromhex(h) for h in a["ann_parent_hashes_internal"]]
    parents[2] = b"\x00" + parents[2][1:]

    results = [
        _validate(b, raw=_flip(raw_b, sig["value_offset_in_block"] + 5)),
        _validate(a, raw=_flip(raw_a, pcp["value_offset_in_block"] + pcp["length"] - 1)),
        _validate(
            a,
            raw=raw_a[: pcp["value_offset_in_block"] + pcp["length"]]
            + b"\x05\x01\x00"
            + raw_a[pcp["value_offset_in_block"] + pcp["length"] :],
        ),
        _validate(a, raw=_flip(raw_a, pcp["value_offset_in_block"])),
        _validate(a, parents=parents),
        _validate(a, height=1000002),
        _validate(a, height=1000004),
        _validate(b, height=2000006),
    ]
    expected = [
        ("invalid announcement signature", BlockCheck.INVALID_SIGNATURE),
        ("Validate_checkBlock_PCP_MISMATCH", BlockCheck.PCP_MISMATCH),
        ("Block contains non-standard", BlockCheck.NON_STANDARD),
        ("Validate_checkBlock_INSUF_POW", BlockCheck.INSUF_POW),
        ("Validate_checkAnn_INVAL_ITEM4", BlockCheck.ANN_INVALID),
        ("Validate_checkBlock_ANN_INSUF_POW", BlockCheck.ANN_INSUF_POW),
        ("accept", BlockCheck.OK),
        ("Validate_checkBlock_ANN_INSUF_POW", BlockCheck.ANN_INSUF_POW),
    ]
    assert len(mutations) == len(expected)
    for mutation, result, (pktd_text, code) in zip(mutations, results, expected, strict=True):
        assert mutation["expected_pktd_go"].startswith(pktd_text), mutation
        assert result.code is code, (mutation["mutation"], result)
    assert results[0].ann_index == 0
    assert (results[4].ann_index, results[4].ann_check) == (2, AnnCheck.INVAL_ITEM4)


def test_ed25519_key_of_vector_b() -> None:
    key_info = DATA["ed25519_test_key_for_B"]
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_info["seed_hex"]))
    public = private.public_key().public_bytes_raw()
    assert public.hex() == key_info["public_key_hex"]
    block = blockwire.parse_block(bytes.fromhex(VECTORS["B_v2_signed_aged"]["block_hex"]))
    for ann, signature in zip(block.anns, block.signatures, strict=True):
        if signature is not None:
            assert ann[56:88] == public
            assert private.sign(ann) == signature  # Ed25519 signing is deterministic
    signed = [a for a in ann_set("block_proof_B_annset.bin") if any(a[56:88])]
    assert len(signed) == 40 and all(a[56:88] == public for a in signed)


def test_missing_signature_and_forbidden_content_proofs() -> None:
    b = VECTORS["B_v2_signed_aged"]
    raw_b = bytes.fromhex(b["block_hex"])
    sig = b["tlv_records"][1]
    start = sig["value_offset_in_block"] - 2  # type 02, length 0x80
    without_signatures = raw_b[:start] + raw_b[sig["value_offset_in_block"] + sig["length"] :]
    result = _validate(b, raw=without_signatures)
    assert (result.code, result.ann_index) == (BlockCheck.MISSING_SIGNATURE, 0)

    a = VECTORS["A_v2_basic"]
    raw_a = bytes.fromhex(a["block_hex"])
    end = a["tlv_records"][0]["value_offset_in_block"] + a["tlv_records"][0]["length"]
    # a one-byte type-3 record is canonical (it has content), but V = 2 forbids it
    with_content = raw_a[:end] + b"\x03\x01\x00" + raw_a[end:]
    assert _validate(a, raw=with_content).code is BlockCheck.CONTENT_PROOF_FORBIDDEN
    # an empty type-3 record is non-canonical
    assert _validate(a, raw=raw_a[:end] + b"\x03\x00" + raw_a[end:]).code is (
        BlockCheck.NON_STANDARD
    )


def test_version_allowed_by_height() -> None:
    assert blockproof.version_allowed(2, 113949) and not blockproof.version_allowed(2, 113948)
    assert blockproof.version_allowed(1, 122621) and not blockproof.version_allowed(0, 122622)
    a = VECTORS["A_v2_basic"]
    assert _validate(a, height=100000).code is BlockCheck.VERSION_NOT_ALLOWED


def _content_root(content: bytes) -> bytes:
    """The content merkle root as section 18.6's proof procedure implies it."""
    level = [content[i : i + 32].ljust(32, b"\x00") for i in range(0, len(content), 32)]
    while len(level) > 1:
        paired = [b256(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def _content_proof(content: bytes, index: int) -> bytes:
    blocks = [content[i : i + 32].ljust(32, b"\x00") for i in range(0, len(content), 32)]
    b = index % len(blocks)
    proof = blocks[b]
    level = blocks
    while len(level) > 1:
        sibling = b ^ 1
        if sibling < len(level):
            proof += level[sibling]
        paired = [b256(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
        b >>= 1
    return proof


@pytest.mark.parametrize("length", [33, 64, 65, 100, 200, 1000])
def test_content_proof_reader_self_consistency(length: int) -> None:
    """No vector carries content proofs: this only checks the reader against the builder."""
    content = bytes((i * 7) % 251 for i in range(length))
    root = _content_root(content)
    for index in (0, 1, 2, 5, 0xDEADBEEF):
        proof = _content_proof(content, index)
        assert blockproof.check_content_proof(length, root, proof, index)
        assert not blockproof.check_content_proof(length, root, _flip(proof, 0), index)
