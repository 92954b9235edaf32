"""The announcement merkle tree over table1 (spec section 7).

* 8192 leaves; leaf i = ``B512(table1[i])`` over the full 1024-byte item.
* Inner node = ``B512(left64 || right64)``; depth 13; the root is 64 bytes.
* The branch of item k is the 13 sibling hashes from the leaf level upward (the announcement
  stores them in bytes 88..920, followed by the root in 920..984).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .primitives import b512

DEPTH = 13
LEAVES = 1 << DEPTH
HASH_SIZE = 64


@dataclass(frozen=True)
class MerkleTree:
    """All levels of the tree: ``levels[0]`` are the 8192 leaf hashes, ``levels[13]`` the root."""

    levels: tuple[tuple[bytes, ...], ...]

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def branch(self, index: int) -> list[bytes]:
        """The 13 sibling hashes of leaf ``index``, leaf level first."""
        siblings = []
        for level in self.levels[:-1]:
            siblings.append(level[index ^ 1])
            index >>= 1
        return siblings


def leaf_hash(item: bytes) -> bytes:
    """Leaf = ``B512(item)``."""
    return b512(item)


def parent_hash(left: bytes, right: bytes) -> bytes:
    """Inner node = ``B512(left || right)``."""
    return b512(left + right)


def build_tree(items: Sequence[bytes]) -> MerkleTree:
    """Build the tree over exactly 8192 items."""
    if len(items) != LEAVES:
        raise ValueError(f"the announcement tree has {LEAVES} leaves, got {len(items)}")
    level = tuple(leaf_hash(item) for item in items)
    levels = [level]
    while len(level) > 1:
        level = tuple(parent_hash(level[i], level[i + 1]) for i in range(0, len(level), 2))
        levels.append(level)
    return MerkleTree(tuple(levels))


def root_from_branch(leaf: bytes, index: int, siblings: Sequence[bytes]) -> bytes:
    """Fold a branch: at each level ``B512(sibling || cur)`` if idx is odd, else ``B512(cur || sibling)``."""
    if len(siblings) != DEPTH:
        raise ValueError(f"a branch has {DEPTH} siblings")
    cur = leaf
    for sibling in siblings:
        cur = parent_hash(sibling, cur) if index & 1 else parent_hash(cur, sibling)
        index >>= 1
    return cur


def verify_branch(leaf: bytes, index: int, siblings: Sequence[bytes], root: bytes) -> bool:
    """True when the branch of leaf ``index`` leads to ``root``."""
    return root_from_branch(leaf, index, siblings) == root
