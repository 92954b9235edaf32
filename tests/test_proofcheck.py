"""PacketCrypt proof spot checks in the light client."""

import asyncio
import json
from pathlib import Path

import pytest

from spv.block import Block
from spv.node import SpvNode
from spv.params import MAINNET
from spv.proofcheck import ProofInvalid, ProofSampler, check_block_proof
from tests.support.pkt_chain import CHECKPOINT, PktChain
from tests.support.test_peer import TestPeer

VECTORS = Path(__file__).parent / "data" / "packetcrypt" / "block_proof_vectors.json"


def _vectors() -> dict:  # type: ignore[type-arg]
    return json.loads(VECTORS.read_text())


def _hash_at(vector: dict):  # type: ignore[no-untyped-def,type-arg]
    table = {
        h: bytes.fromhex(x)
        for h, x in zip(
            vector["ann_parent_heights"], vector["ann_parent_hashes_internal"], strict=True
        )
    }
    return lambda height: table[height]


@pytest.mark.parametrize("vector_id", ["A_v2_basic", "B_v2_signed_aged", "C_v0_legacy_rules"])
def test_valid_block_proofs_pass_and_spv_parses_the_blocks(vector_id: str) -> None:
    v = next(x for x in _vectors()["vectors"] if x["id"] == vector_id)
    raw = bytes.fromhex(v["block_hex"])
    block = Block.parse(raw, has_packetcrypt=True)
    assert block.header.hash_hex == v["block_hash_display"]
    assert block.proof is not None and block.proof.version == v["proof_version"]
    assert block.proof.nonce2 == v["nonce2"]
    check_block_proof(raw, v["block_height"], _hash_at(v))


def test_mutated_block_proofs_fail_with_pktds_reason() -> None:
    v = next(x for x in _vectors()["vectors"] if x["id"] == "A_v2_basic")
    raw = bytearray.fromhex(v["block_hex"])
    nonce2_at = 80 + 1 + 3  # header, type 1, 3-byte length varint
    assert int.from_bytes(raw[nonce2_at : nonce2_at + 4], "little") == v["nonce2"]
    raw[nonce2_at] ^= 1
    with pytest.raises(ProofInvalid, match="INSUF_POW"):
        check_block_proof(bytes(raw), v["block_height"], _hash_at(v))
    with pytest.raises(ProofInvalid, match="ANN_INSUF_POW"):
        check_block_proof(bytes.fromhex(v["block_hex"]), v["block_height"] - 1, _hash_at(v))
    with pytest.raises(KeyError):
        check_block_proof(bytes.fromhex(v["block_hex"]), v["block_height"], lambda h: {}[h])


def test_sampler_checks_recent_blocks_always_and_deep_ones_rarely() -> None:
    sampler = ProofSampler(seed=12345)
    assert all(
        sampler.should_check(h, depth)
        for h, depth in zip(range(1000, 1020), range(1, 21), strict=True)
    )
    deep = sum(sampler.should_check(h, 2000) for h in range(100_000))
    assert 600 < deep < 1400  # about 20/2000 of 100,000
    assert ProofSampler(seed=1).should_check(5, 10**6) == ProofSampler(seed=1).should_check(
        5, 10**6
    )


def test_node_bans_a_peer_whose_blocks_have_bad_proofs_and_rewinds(tmp_path: Path) -> None:
    chain = PktChain()
    for _ in range(60):
        chain.mine()  # placeholder proofs: every one of them is invalid
    with TestPeer(chain, params=MAINNET) as peer:

        async def go() -> None:
            node = SpvNode(
                MAINNET,
                tmp_path,
                peers=[("127.0.0.1", peer.port)],
                peer_timeout=3,
                verify_packetcrypt_proofs=True,
            )
            async with node:
                await node.wait_for_peers(1)
                await node._sync_headers()
                assert node.chain.height == CHECKPOINT.height + 60
                await node._check_packetcrypt_proofs()
                assert node.addrbook.is_banned("127.0.0.1", peer.port)
                assert "PacketCrypt proof" in node.addrbook.get("127.0.0.1", peer.port).ban_reason
                assert node.chain.height < CHECKPOINT.height + 60
                assert node.proofs_checked == []

        asyncio.run(asyncio.wait_for(go(), 60))


@pytest.mark.parametrize("bits", [0x00000000, 0x01800000, 0x04923456])
def test_out_of_range_header_bits_are_an_invalid_proof_not_a_value_error(bits: int) -> None:
    """Bits encoding a negative target, or one whose effective work exceeds 2^256, cannot be
    met: the block is invalid (our typed error), as any other failing proof."""
    v = next(x for x in _vectors()["vectors"] if x["id"] == "A_v2_basic")
    raw = bytearray.fromhex(v["block_hex"])
    raw[72:76] = bits.to_bytes(4, "little")
    with pytest.raises(ProofInvalid, match="cannot be checked"):
        check_block_proof(bytes(raw), v["block_height"], _hash_at(v))
