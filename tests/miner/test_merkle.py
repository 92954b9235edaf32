"""The announcement merkle tree (spec section 7)."""

from __future__ import annotations

from typing import Any

import pytest

from miner.reference import merkle
from miner.reference.announce import merkle_root_of, siblings_of
from miner.reference.primitives import b512


@pytest.fixture(scope="module")
def tree() -> merkle.MerkleTree:
    return merkle.build_tree([i.to_bytes(4, "little") * 256 for i in range(merkle.LEAVES)])


def test_tree_shape(tree: merkle.MerkleTree) -> None:
    assert [len(level) for level in tree.levels] == [1 << (13 - d) for d in range(14)]
    assert tree.levels[0][5] == b512((5).to_bytes(4, "little") * 256)
    assert tree.levels[1][2] == b512(tree.levels[0][4] + tree.levels[0][5])
    assert tree.root == b512(tree.levels[12][0] + tree.levels[12][1])


@pytest.mark.parametrize("index", [0, 1, 2, 4095, 4096, 8190, 8191])
def test_branches_verify(tree: merkle.MerkleTree, index: int) -> None:
    leaf = tree.levels[0][index]
    branch = tree.branch(index)
    assert len(branch) == 13
    assert merkle.verify_branch(leaf, index, branch, tree.root)
    assert not merkle.verify_branch(leaf, index ^ 1, branch, tree.root)
    tampered = list(branch)
    tampered[7] = bytes([tampered[7][0] ^ 1]) + tampered[7][1:]
    assert not merkle.verify_branch(leaf, index, tampered, tree.root)


def test_real_ann_branch(real_ann_json: Any) -> None:
    """The decrypted real announcement's branch of item 695 leads to its root."""
    trace = real_ann_json["trace_generated_by_reference_C"]
    plain = bytes.fromhex(trace["ann_decrypted"])
    item4_hash = bytes.fromhex(trace["item4_original_blake2b512"])
    index = trace["item4_no"]
    assert merkle.verify_branch(item4_hash, index, siblings_of(plain), merkle_root_of(plain))
    for pos in (0, 1, 30, 63):
        bad = bytearray(item4_hash)
        bad[pos] ^= 0x80
        assert not merkle.verify_branch(
            bytes(bad), index, siblings_of(plain), merkle_root_of(plain)
        )


def test_build_tree_needs_8192_items() -> None:
    with pytest.raises(ValueError):
        merkle.build_tree([bytes(1024)] * 8191)
