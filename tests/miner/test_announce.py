"""Announcement layout, hashes and encryption (spec sections 1, 9 and 10)."""

from __future__ import annotations

from typing import Any

from miner.reference import announce


def test_real_ann_header_fields(real_ann: bytes, real_ann_json: Any) -> None:
    fields = real_ann_json["header_fields"]
    header = announce.AnnHeader.from_bytes(real_ann)
    assert header == announce.AnnHeader(
        version=fields["version"],
        soft_nonce=fields["soft_nonce"],
        hard_nonce=fields["hard_nonce"],
        work_bits=int(fields["work_bits"], 16),
        parent_block_height=fields["parent_block_height"],
        content_type=fields["content_type"],
        content_length=fields["content_length"],
        content_hash=bytes.fromhex(fields["content_hash"]),
        signing_key=bytes.fromhex(fields["signing_key"]),
    )
    assert header.to_bytes() == real_ann[:88]


def test_real_ann_hex_matches_bin(real_ann: bytes) -> None:
    from .conftest import DATA

    assert bytes.fromhex((DATA / "real_ann_v1.hex").read_text().strip()) == real_ann


def test_hash_preimages(real_ann: bytes, real_ann_json: Any, real_parent_hash: bytes) -> None:
    trace = real_ann_json["trace_generated_by_reference_C"]
    hdr = announce.AnnHeader.from_bytes(real_ann).without_soft_nonce().to_bytes()
    assert (hdr + real_parent_hash + bytes(32)).hex() == trace["annHash0_preimage_152"]
    hash0 = announce.ann_hash0(hdr, real_parent_hash)
    assert hash0.hex() == trace["annHash0"]
    root = announce.merkle_root_of(real_ann)
    assert announce.ann_hash1(hdr, root).hex() == trace["annHash1"]
    assert announce.table2_seed(root, hash0).hex() == trace["seed2"]


def test_synthetic_header_preimage(generated: Any) -> None:
    sj = generated["synthetic_job"]
    header = announce.AnnHeader(
        version=sj["version"],
        soft_nonce=0,
        hard_nonce=sj["hard_nonce"],
        work_bits=int(sj["work_bits"], 16),
        parent_block_height=sj["parent_block_height"],
    )
    parent = bytes.fromhex(sj["parent_block_hash_internal_order"])
    assert (header.to_bytes() + parent + bytes(32)).hex() == sj["hah_152"]
    assert announce.ann_hash0(header.to_bytes(), parent).hex() == sj["annHash0"]


def test_decrypt_with_the_final_state(real_ann: bytes, real_ann_json: Any) -> None:
    trace = real_ann_json["trace_generated_by_reference_C"]
    final_state = bytes.fromhex(trace["final_state_first_872_bytes"])
    plain = announce.crypt_ann(real_ann, final_state)
    assert plain.hex() == trace["ann_decrypted"]
    assert plain[announce.ITEM4_PREFIX_START :] == bytes(40)
    assert announce.crypt_ann(plain, final_state) == real_ann
    # header and root are never encrypted
    assert plain[:88] == real_ann[:88] and plain[920:984] == real_ann[920:984]


def test_layout_constants() -> None:
    assert (announce.SIBLINGS_START, announce.ROOT_START, announce.ITEM4_PREFIX_START) == (
        88,
        920,
        984,
    )
    assert announce.ITEM4_PREFIX_SIZE == 40


def test_assemble_plain(generated: Any) -> None:
    trace = generated["synthetic_job"]["nonce_traces"][3]
    plain = bytes.fromhex(trace["ann_plain"])
    header = announce.AnnHeader.from_bytes(plain)
    assert header.soft_nonce == trace["soft_nonce"] == 7323
    rebuilt = announce.assemble_plain(
        header, announce.siblings_of(plain), announce.merkle_root_of(plain)
    )
    assert rebuilt == plain
