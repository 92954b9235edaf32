"""The committed announcement tree and its compressed proof (spec section 18.5)."""

from __future__ import annotations

from typing import Any

import pytest

from miner.reference import anntree, blockwire
from miner.reference.primitives import b256

from .conftest import ann_set, load_json

VECTORS = {v["id"]: v for v in load_json("block_proof_vectors.json")["vectors"]}
ANN_SETS = {
    "A_v2_basic": ("synthetic_mined_anns_v1.bin", False),
    "B_v2_signed_aged": ("block_proof_B_annset.bin", False),
    "C_v0_legacy_rules": ("block_proof_C_annset.bin", False),
    "U_unsorted_tree_divergence": ("synthetic_mined_anns_v1.bin", True),
}


def _tree(vector_id: str) -> anntree.AnnTree:
    name, descending = ANN_SETS[vector_id]
    hashes = anntree.sorted_ann_hashes(ann_set(name))
    if descending:
        hashes.reverse()
    return anntree.build_ann_tree(anntree.leaves_for(hashes))


@pytest.mark.parametrize("vector_id", list(ANN_SETS))
def test_rebuild_commitment_tree_and_proof(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    tree = _tree(vector_id)
    assert tree.leaf_count == vector["commitment"]["ann_count"] + 1
    assert tree.root.hex() == vector["commitment"]["merkle_root"]
    assert tree.root.hex() == vector["merkle_root_recomputed"]
    proof = anntree.make_proof(tree, vector["tree_indexes"])
    assert proof.hex() == vector["merkle_proof_hex"]


@pytest.mark.parametrize("vector_id", list(ANN_SETS))
def test_reconstruction_matches_the_skeleton(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    block = blockwire.parse_block(bytes.fromhex(vector["block_hex"]))
    hashes = [b256(ann) for ann in block.anns]
    assert [h.hex() for h in hashes] == vector["ann_hashes_b256"]
    count = vector["commitment"]["ann_count"]
    items = [int(n) for n in vector["work_hash_trace"]["item_numbers_u64"]]
    targets = [anntree.tree_index(n, count) for n in items]
    assert targets == vector["tree_indexes"]
    result = anntree.reconstruct_root(block.merkle_proof, hashes, targets, count)
    assert result.root.hex() == vector["commitment"]["merkle_root"]
    got = [
        {
            "order": i,
            "level": n.node.level,
            "index_in_level": n.node.index,
            "side": n.node.side,
            "role": n.node.role.value,
            "reads": list(n.reads),
            "hash": n.entry.hash.hex() if n.entry else None,
            "start": f"{n.entry.start:016x}" if n.entry else None,
            "end": f"{n.entry.end:016x}" if n.entry else None,
        }
        for i, n in enumerate(result.nodes)
    ]
    assert got == vector["merkle_skeleton"]


def _inputs(vector: dict[str, Any]) -> tuple[bytes, list[bytes], list[int], int]:
    block = blockwire.parse_block(bytes.fromhex(vector["block_hex"]))
    return (
        block.merkle_proof,
        [b256(ann) for ann in block.anns],
        vector["tree_indexes"],
        vector["commitment"]["ann_count"],
    )


def test_strict_order_rejects_the_descending_tree() -> None:
    proof, hashes, targets, count = _inputs(VECTORS["U_unsorted_tree_divergence"])
    anntree.reconstruct_root(proof, hashes, targets, count)  # pktd: accepted
    with pytest.raises(anntree.ProofError, match="non-increasing"):
        anntree.reconstruct_root(proof, hashes, targets, count, strict_order=True)
    proof_a, hashes_a, targets_a, count_a = _inputs(VECTORS["A_v2_basic"])
    anntree.reconstruct_root(proof_a, hashes_a, targets_a, count_a, strict_order=True)


def test_malformed_proofs() -> None:
    proof, hashes, targets, count = _inputs(VECTORS["A_v2_basic"])
    with pytest.raises(anntree.ProofError, match="runt"):
        anntree.reconstruct_root(proof[:-1], hashes, targets, count)
    with pytest.raises(anntree.ProofError, match="extra data"):
        anntree.reconstruct_root(proof + b"\x00", hashes, targets, count)
    other = list(hashes)
    other[1] = hashes[0]
    with pytest.raises(anntree.ProofError, match="duplicate"):
        anntree.reconstruct_root(proof, other, [targets[0]] * 4, count)


def test_a_flipped_hash_byte_changes_the_root() -> None:
    proof, hashes, targets, count = _inputs(VECTORS["A_v2_basic"])
    good = anntree.reconstruct_root(proof, hashes, targets, count).root
    bad = bytearray(proof)
    bad[-1] ^= 1  # inside the last provided hash
    assert anntree.reconstruct_root(bytes(bad), hashes, targets, count).root != good


def test_skeleton_roles_for_a_pad() -> None:
    # N = 3 leaves (height 2): proving leaf 2 makes node (1, 1)'s right child a pad
    nodes = anntree.skeleton(3, [2])
    roles = [(n.level, n.index, n.role.value, n.needs_range, n.reads_hash) for n in nodes]
    assert roles == [
        (2, 0, "computable", False, False),
        (1, 0, "provided", True, True),  # a provided inner node: range + hash
        (1, 1, "computable", False, False),
        (0, 2, "target_leaf", False, False),
        (0, 3, "pad", False, False),
    ]
