"""Block message parsing for block proofs (spec section 18.2): block_proof_vectors.json."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from miner.reference import blockwire
from miner.reference.commitment import find_commitment

from .conftest import load_json

VECTORS = load_json("block_proof_vectors.json")["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_parse_vector_block(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["block_hex"])
    assert len(raw) == vector["block_len"]
    block = blockwire.parse_block(raw)
    assert block.header.hex() == vector["header_hex"]
    digest = hashlib.sha256(hashlib.sha256(block.header).digest()).digest()
    assert digest[::-1].hex() == vector["block_hash_display"]
    assert block.bits == int(vector["header_bits"], 16)
    assert int.from_bytes(block.header[76:80], "little") == vector["header_nonce"]
    assert [(r.type, len(r.value)) for r in block.records] == [
        (r["type"], r["length"]) for r in vector["tlv_records"]
    ]
    offset = 80
    for record, expected in zip(block.records, vector["tlv_records"], strict=True):
        offset += blockwire.varint_size(record.type) + blockwire.varint_size(len(record.value))
        assert offset == expected["value_offset_in_block"]
        offset += len(record.value)
    assert block.nonce2 == vector["nonce2"]
    assert block.version == vector["proof_version"]
    assert block.merkle_proof.hex() == vector["merkle_proof_hex"]
    assert [s is not None for s in block.signatures] == vector["ann_signed"]
    assert block.content_proof is None
    assert block.records_size() == block.canonical_records_size()
    assert len(block.transactions) == 1
    coinbase = block.transactions[0]
    assert coinbase.txid.hex() == vector["coinbase_txid_internal"]
    assert blockwire.merkle_root_of([coinbase.txid]) == block.merkle_root
    commitment = find_commitment(out.script for out in coinbase.outputs)
    assert commitment is not None and commitment.to_bytes().hex() == vector["commitment_hex"]


def _block_a() -> bytes:
    return bytes.fromhex(VECTORS[0]["block_hex"])


def test_varints() -> None:
    for value in (0, 0xFC, 0xFD, 0xFFFF, 0x10000, 0xFFFFFFFF, 1 << 32):
        encoded = blockwire.encode_varint(value)
        assert len(encoded) == blockwire.varint_size(value)
        assert blockwire.Reader(encoded).varint() == value
    with pytest.raises(blockwire.BlockParseError):
        blockwire.Reader(b"\xfd\x10\x00").varint()  # 16 must be one byte


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("truncated", lambda raw: raw[:-1]),
        ("trailing byte", lambda raw: raw + b"\x00"),
        ("no PcP record", lambda raw: raw[:80] + b"\x00\x00" + raw[4789 + 2 :]),
        ("end record not empty", lambda raw: raw[:4788] + b"\x01\x00" + raw[4789:]),
        ("non-minimal record length", lambda raw: raw[:81] + b"\xfe\x5c\x12\x00\x00" + raw[84:]),
    ],
)
def test_parse_errors(name: str, mutate: Any) -> None:
    with pytest.raises(blockwire.BlockParseError):
        blockwire.parse_block(mutate(_block_a()))


def test_signature_record_rules(block_vectors: Any) -> None:
    raw = bytes.fromhex(block_vectors["vectors"][1]["block_hex"])  # B: type 2 at 4706, 128 bytes
    sig_start = 4706 - 2
    # one signature short
    short = raw[:sig_start] + b"\x02\x40" + raw[4706 : 4706 + 64] + raw[4706 + 128 :]
    with pytest.raises(blockwire.BlockParseError, match="Not enough"):
        blockwire.parse_block(short)
    # dangling bytes
    extra = raw[:sig_start] + b"\x02\x81\x00" + raw[4706 : 4706 + 128] + b"\x00" + raw[4706 + 128 :]
    with pytest.raises(blockwire.BlockParseError):
        blockwire.parse_block(extra)
    # signatures before the PcP record
    a = _block_a()
    moved = a[:80] + b"\x02\x00" + a[80:]
    with pytest.raises(blockwire.BlockParseError, match="before pcp"):
        blockwire.parse_block(moved)


def test_canonical_size_detects_extra_records() -> None:
    a = _block_a()
    unknown = blockwire.parse_block(a[:4784] + b"\x05\x01\x00" + a[4784:])
    assert unknown.records_size() == unknown.canonical_records_size() + 3
    explicit_v0 = blockwire.parse_block(a[:4784] + b"\x04\x01\x00" + a[4787:])
    assert explicit_v0.version == 0
    assert explicit_v0.records_size() != explicit_v0.canonical_records_size()
