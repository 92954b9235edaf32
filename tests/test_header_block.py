import pytest

from spv.block import Block, PacketCryptProof, merkle_root
from spv.bytes_io import ByteReader
from spv.difficulty import check_header_pow_sha256d
from spv.errors import ParseError, TrailingDataError, TruncatedError, ValidationError
from spv.hashes import hash_from_display, hash_to_display, sha256d
from spv.header import BlockHeader
from spv.params import MAINNET, REGTEST
from spv.tx import Transaction


def test_genesis_header_fields_and_hash(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    g = pkt_vectors("genesis.json")
    raw = bytes.fromhex(g["header_hex"])
    h = BlockHeader.parse(raw)
    f = g["header_fields"]
    assert h.version == f["version"]
    assert h.prev_hash == bytes.fromhex(f["prev_block"])
    assert hash_to_display(h.merkle_root) == f["merkle_root_display"]
    assert h.timestamp == f["timestamp"]
    assert h.bits == int(f["bits"], 16)
    assert h.nonce == f["nonce"]
    assert h.hash_hex == g["hash_display"]
    assert h.hash.hex() == g["hash_internal"]
    assert h.serialize() == raw
    assert MAINNET.genesis_hash == h.hash


def test_every_real_mainnet_header_round_trips_and_hashes(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    headers = pkt_vectors("mainnet_headers_explorer.json")["headers"]
    assert len(headers) == 8
    by_height = {}
    for v in headers:
        raw = bytes.fromhex(v["header_hex"])
        h = BlockHeader.parse(raw)
        assert h.serialize() == raw
        assert h.hash_hex == v["hash_display"]
        assert h.version == v["version"]
        assert hash_to_display(h.prev_hash) == v["prev_block_display"]
        assert hash_to_display(h.merkle_root) == v["merkle_root_display"]
        assert h.timestamp == v["timestamp"]
        assert h.bits == int(v["bits"], 16)
        assert h.nonce == v["nonce"]
        # PKT's proof of work is PacketCrypt: Bitcoin's sha256d rule must not be applied.
        assert not check_header_pow_sha256d(h.hash, h.bits)
        by_height[v["height"]] = h
    assert by_height[49999].prev_hash == by_height[49998].hash
    assert by_height[1].prev_hash == MAINNET.genesis_hash


def test_header_parse_errors() -> None:
    raw = MAINNET.genesis_block[:80]
    with pytest.raises(TruncatedError):
        BlockHeader.parse(raw[:79])
    with pytest.raises(TrailingDataError):
        BlockHeader.parse(raw + b"\x00")


def test_genesis_block_layout_proof_and_coinbase(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    g = pkt_vectors("genesis.json")
    raw = bytes.fromhex(g["block_hex"])
    assert len(raw) == g["block_size"] == 5877
    assert raw == MAINNET.genesis_block
    block = Block.parse(raw, has_packetcrypt=True)
    assert block.serialize() == raw
    assert block.hash == MAINNET.genesis_hash
    proof = block.proof
    assert proof is not None
    start, end = g["block_layout"]["packetcrypt_proof_tlv"]
    assert proof.encoded_size == end - start == 5642
    assert proof.serialize() == raw[start:end]
    expected = [r for r in g["packetcrypt_proof_tlv_records"] if r["type"] != 0]
    assert [(r.type, len(r.value)) for r in proof.records] == [
        (r["type"], r["length"]) for r in expected
    ]
    assert len(proof.ann_merkle_proof) == 1536
    assert proof.version == 0
    assert all(len(a) == 1024 for a in proof.announcements)
    (coinbase,) = block.transactions
    assert coinbase.serialize().hex() == g["coinbase_tx_hex"]
    assert coinbase.txid_hex == g["coinbase_txid_display"]
    assert coinbase.is_coinbase()
    assert [(o.value, o.script.hex()) for o in coinbase.outputs] == [
        (o["value_units"], o["script_hex"]) for o in g["coinbase_outputs"]
    ]
    block.check_merkle_root()
    assert merkle_root([coinbase.txid]) == block.header.merkle_root


def test_block_without_proof_flag_fails_on_pkt_bytes() -> None:
    with pytest.raises(ParseError):
        Block.parse(MAINNET.genesis_block, has_packetcrypt=False)


def test_regtest_genesis_block() -> None:
    block = Block.parse(REGTEST.genesis_block, has_packetcrypt=False)
    assert block.proof is None
    assert block.header.hash_hex == (
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    )
    block.check_merkle_root()
    assert check_header_pow_sha256d(block.hash, block.header.bits)


def _proof_bytes(*records: tuple[int, bytes]) -> bytes:
    out = b""
    for rtype, value in records:
        out += bytes([rtype]) + _cs(len(value)) + value
    return out + b"\x00\x00"


def _cs(n: int) -> bytes:
    from spv.bytes_io import encode_compact_size

    return encode_compact_size(n)


def _pcp(signed: bool = False) -> bytes:
    ann = bytearray(1024)
    if signed:
        ann[56:88] = b"\x01" * 32
    return b"\x07\x00\x00\x00" + bytes(ann) * 4 + b"\xaa" * 64


def test_proof_records_unknown_kept_and_structure_rules() -> None:
    pcp = _pcp()
    proof = PacketCryptProof.read(ByteReader(_proof_bytes((1, pcp), (9, b"xyz"), (4, b"\x02"))))
    assert [r.type for r in proof.records] == [1, 9, 4]
    assert proof.nonce2 == 7 and proof.version == 2
    with pytest.raises(ValidationError, match="mutated"):
        proof.check_structure()  # an unknown record makes the proof non-canonical
    canonical = PacketCryptProof.read(ByteReader(_proof_bytes((1, pcp), (4, b"\x02"))))
    canonical.check_structure()
    signed_no_sigs = PacketCryptProof.read(ByteReader(_proof_bytes((1, _pcp(signed=True)))))
    with pytest.raises(ValidationError):
        signed_no_sigs.check_structure()
    signed = PacketCryptProof.read(
        ByteReader(_proof_bytes((1, _pcp(signed=True)), (2, b"\x05" * 256)))
    )
    signed.check_structure()


@pytest.mark.parametrize(
    "records,message",
    [
        ((), "missing PacketCrypt proof"),
        (((1, b"\x00" * 4100),), "invalid length"),
        (((2, b"\x00" * 64),), "before the PcP"),
        (((1, b"\x00" * 4101), (4, b"\x02\x00")), "unexpected bytes"),
    ],
)
def test_proof_parse_errors(records: tuple[tuple[int, bytes], ...], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        PacketCryptProof.read(ByteReader(_proof_bytes(*records)))


def test_proof_end_record_must_be_empty() -> None:
    data = _proof_bytes((1, b"\x00" * 4101))[:-1] + b"\x01\x00"
    with pytest.raises(ParseError, match="end record"):
        PacketCryptProof.read(ByteReader(data))


def test_merkle_root_detects_a_changed_transaction(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    raw = bytearray(MAINNET.genesis_block)
    raw[-5] ^= 1  # inside the coinbase
    block = Block.parse(bytes(raw), has_packetcrypt=True)
    with pytest.raises(ValidationError, match="merkle root"):
        block.check_merkle_root()


def test_prelaunch_coinbase_transaction(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    v = pkt_vectors("prelaunch_coinbase_tx.json")
    raw = bytes.fromhex(v["tx_hex"])
    tx = Transaction.parse(raw)
    assert tx.serialize() == raw
    assert tx.txid_hex == v["txid"]
    assert tx.is_coinbase()
    assert [(o.value, o.script.hex()) for o in tx.outputs] == [
        (o["value"], o["script"]) for o in v["outputs"]
    ]
    assert tx.inputs[0].script_sig.endswith(b"/P2SH/pktd/")


def test_unverified_opentxs_checkpoints_are_self_consistent(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    # Third-party hints: we only check the two byte orders agree; they are not trusted.
    for cp in pkt_vectors("opentxs_checkpoints_unverified.json")["checkpoints"]:
        assert hash_from_display(cp["hash_display"]).hex() == cp["hash_internal"]
        assert hash_from_display(cp["prev_hash_display"]).hex() == cp["prev_hash_internal"]
        assert MAINNET.checkpoint_at(cp["height"]) is None


def test_sha256d_known_value() -> None:
    assert sha256d(b"").hex() == (
        "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
    )
