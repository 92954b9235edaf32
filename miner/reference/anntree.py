"""The committed announcement tree and its compressed proof (spec section 18.5).

The block miner commits to its M announcements with a BLAKE2b-256 tree of *entries*
``(hash[32], start u64, end u64)``, serialized as 48 bytes ``hash || u64le(start) ||
u64le(end)``:

* leaf 0 is the zero entry (hash 0^32, start 0); leaf i (1..M) is the i-th ann sorted by its
  key ``k = u64le(B256(ann)[0:8])``, with ``hash = B256(ann)``, ``start = k``; ``end`` is the
  next leaf's start (2^64 - 1 for the last);
* each level with an odd count gets the constant pad ``(ff*32, 2^64-1, 2^64-1)``; a parent is
  ``(B256(left48 || right48), left.start, right.end)``;
* ``R = B256(top.hash || u64le(0) || u64le(2^64 - 1))``.

A block proves 4 leaves ``t_j = (itemNo_j mod M) + 1``. The compressed proof lists, for each
node of the *skeleton* (pre-order over the computable nodes and their siblings), an 8-byte
range when the node needs one and a 32-byte hash when the node is neither computable nor a pad.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .primitives import b256

U64_MAX = (1 << 64) - 1
_U64_MOD = 1 << 64
PAD_HASH = b"\xff" * 32
ZERO_HASH = bytes(32)


class ProofError(ValueError):
    """The compressed proof is malformed (pktd / C ``PCP_INVAL``)."""


@dataclass(frozen=True)
class Entry:
    """A tree node: hash, first key covered, end of the key range."""

    hash: bytes
    start: int
    end: int

    def serialize(self) -> bytes:
        return self.hash + struct.pack("<QQ", self.start, self.end)


PAD = Entry(PAD_HASH, U64_MAX, U64_MAX)


def parent_of(left: Entry, right: Entry) -> Entry:
    """``(B256(left48 || right48), left.start, right.end)``."""
    return Entry(b256(left.serialize() + right.serialize()), left.start, right.end)


def root_commitment(top: Entry) -> bytes:
    """``R = B256(top.hash || u64le(0) || u64le(2^64 - 1))``."""
    return b256(top.hash + struct.pack("<QQ", 0, U64_MAX))


def ann_key(ann_hash: bytes) -> int:
    """The sort key of an announcement: ``u64le(B256(ann)[0:8])``."""
    return int(struct.unpack_from("<Q", ann_hash)[0])


def leaves_for(ann_hashes_in_order: Sequence[bytes]) -> list[Entry]:
    """Leaves for announcements already in leaf order (leaf 0, the zero entry, is prepended)."""
    starts = [0] + [ann_key(h) for h in ann_hashes_in_order]
    hashes = [ZERO_HASH, *ann_hashes_in_order]
    ends = [*starts[1:], U64_MAX]
    return [Entry(h, s, e) for h, s, e in zip(hashes, starts, ends, strict=True)]


def sorted_ann_hashes(anns: Sequence[bytes]) -> list[bytes]:
    """``B256`` of each ann, sorted by key as the reference block miner orders them."""
    return sorted((b256(ann) for ann in anns), key=ann_key)


@dataclass(frozen=True)
class AnnTree:
    """Every level of the committed tree, leaves first (pads included)."""

    levels: tuple[tuple[Entry, ...], ...]

    @property
    def leaf_count(self) -> int:
        """N = M + 1 (pads excluded)."""
        return sum(1 for entry in self.levels[0] if entry != PAD) if len(self.levels) > 1 else 1

    @property
    def top(self) -> Entry:
        return self.levels[-1][0]

    @property
    def root(self) -> bytes:
        return root_commitment(self.top)

    def entry(self, level: int, index: int) -> Entry:
        row = self.levels[level]
        return row[index] if index < len(row) else PAD


def build_ann_tree(leaves: Sequence[Entry]) -> AnnTree:
    """Build the levels above ``leaves`` (normally :func:`leaves_for` of the sorted hashes)."""
    level = list(leaves)
    levels = []
    while len(level) > 1:
        if len(level) % 2:
            level.append(PAD)
        levels.append(tuple(level))
        level = [parent_of(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    levels.append(tuple(level))
    return AnnTree(tuple(levels))


def tree_index(item_no_u64: int, ann_count: int) -> int:
    """The leaf of the j-th proven ann: ``(itemNo_j mod M) + 1``."""
    return item_no_u64 % ann_count + 1


# -- the skeleton ------------------------------------------------------------------------------


class Role(Enum):
    COMPUTABLE = "computable"
    TARGET_LEAF = "target_leaf"
    PROVIDED = "provided"
    PAD = "pad"


@dataclass(frozen=True)
class SkeletonNode:
    """One node of the compressed proof, in serialization (pre-order) order."""

    level: int
    index: int
    side: str
    """"root", "left" or "right"."""
    role: Role
    needs_range: bool
    reads_hash: bool


def tree_height(leaf_count: int) -> int:
    """``ceil(log2 N)``."""
    return max(1, (leaf_count - 1).bit_length())


def skeleton(leaf_count: int, targets: Sequence[int]) -> list[SkeletonNode]:
    """The proof's nodes in pre-order (section 18.5, "Which nodes the proof covers").

    Computable: ancestors of a target leaf (targets and root included). Siblings of
    computable nodes are pads when their first leaf index is >= N, else provided.
    A node needs a range when it is a non-pad right leaf (target or provided) or a provided
    inner node; it reads a hash when it is neither computable nor a pad.
    """
    height = tree_height(leaf_count)
    target_set = set(targets)

    def computable(level: int, index: int) -> bool:
        return any(t >> level == index for t in target_set)

    out: list[SkeletonNode] = []

    def visit(level: int, index: int, side: str) -> None:
        if computable(level, index):
            role = Role.TARGET_LEAF if level == 0 else Role.COMPUTABLE
        elif index << level >= leaf_count:
            role = Role.PAD
        else:
            role = Role.PROVIDED
        is_leaf = level == 0
        needs_range = (is_leaf and side == "right" and role is not Role.PAD) or (
            not is_leaf and role is Role.PROVIDED
        )
        reads_hash = role is Role.PROVIDED
        out.append(SkeletonNode(level, index, side, role, needs_range, reads_hash))
        if role is Role.COMPUTABLE:
            visit(level - 1, 2 * index, "left")
            visit(level - 1, 2 * index + 1, "right")

    visit(height, 0, "root")
    return out


def make_proof(tree: AnnTree, targets: Sequence[int]) -> bytes:
    """Serialize the compressed proof of ``targets`` (what a block miner writes)."""
    out = bytearray()
    for node in skeleton(tree.leaf_count, targets):
        entry = tree.entry(node.level, node.index)
        if node.needs_range:
            out += struct.pack("<Q", (entry.end - entry.start) % _U64_MOD)
        if node.reads_hash:
            out += entry.hash
    return bytes(out)


# -- reconstruction (the validator side) -------------------------------------------------------


@dataclass
class _Node:
    """A node during reconstruction: fields fill in as they become known."""

    hash: bytes | None = None
    start: int | None = None
    end: int | None = None
    range: int = 0

    def known(self) -> bool:
        return self.hash is not None and self.start is not None and self.end is not None

    def entry(self) -> Entry:
        assert self.hash is not None and self.start is not None and self.end is not None
        return Entry(self.hash, self.start, self.end)


@dataclass(frozen=True)
class ReconstructedNode:
    """A skeleton node after reconstruction, with the offsets it read from the proof."""

    node: SkeletonNode
    reads: tuple[str, ...]
    entry: Entry | None


@dataclass(frozen=True)
class Reconstruction:
    root: bytes
    """``B256(top.hash || u64le(0) || u64le(2^64-1))``, to compare with the commitment's R."""
    nodes: tuple[ReconstructedNode, ...]


def reconstruct_root(
    proof: bytes,
    ann_hashes: Sequence[bytes],
    targets: Sequence[int],
    ann_count: int,
    strict_order: bool = False,
) -> Reconstruction:
    """Rebuild the committed root from a compressed proof (C ``PacketCryptProof_hashProof``).

    ``ann_hashes[j]`` is ``B256(ann_j)``, proven at leaf ``targets[j]``. Arithmetic on
    start/end/range is mod 2^64. With ``strict_order`` the C validator's two ``end > start``
    checks are applied (rejecting non-increasing trees, vector U); pktd omits them.
    Raises :class:`ProofError` (PCP_INVAL).
    """
    leaf_count = ann_count + 1
    height = tree_height(leaf_count)
    nodes: dict[tuple[int, int], _Node] = {}
    for j, target in enumerate(targets):
        node = nodes.setdefault((0, target), _Node())
        if node.hash is not None and node.hash != ann_hashes[j]:
            raise ProofError("duplicate data: two different anns at one leaf")
        node.hash = ann_hashes[j]

    # 1. read the proof in skeleton order
    shape = skeleton(leaf_count, targets)
    offset = 0
    reads_of: list[tuple[str, ...]] = []

    def take(n: int) -> bytes:
        nonlocal offset
        if offset + n > len(proof):
            raise ProofError("runt proof: ran out of bytes")
        chunk = proof[offset : offset + n]
        offset += n
        return chunk

    for sk in shape:
        node = nodes.setdefault((sk.level, sk.index), _Node())
        node_reads: list[str] = []
        if sk.role is Role.PAD:
            node.hash, node.start, node.end = PAD.hash, PAD.start, PAD.end
        if sk.needs_range:
            node_reads.append(f"range u64 @{offset}")
            node.range = int(struct.unpack("<Q", take(8))[0])
        if sk.reads_hash:
            node_reads.append(f"hash32 @{offset}")
            node.hash = take(32)
        reads_of.append(tuple(node_reads))
    if offset != len(proof):
        raise ProofError("extra data at the end of the proof")

    def check_order(start: int, end: int) -> None:
        if strict_order and not end > start:
            raise ProofError("non-increasing range")

    # 2. leaves: start from the hash, ends from the ranges
    for target in targets:
        e = nodes[(0, target)]
        if e.start is not None:
            continue
        s = nodes[(0, target ^ 1)]
        assert e.hash is not None and s.hash is not None
        e.start = ann_key(e.hash)
        s.start = ann_key(s.hash)
        if target & 1:
            e.end = (e.start + e.range) % _U64_MOD
            s.end = e.start
        else:
            e.end = s.start
            s.end = (s.start + s.range) % _U64_MOD
        check_order(e.start, e.end)

    # 3. walk up from each target
    for target in targets:
        level, index = 0, target
        while level < height:
            parent_key = (level + 1, index >> 1)
            parent = nodes.get(parent_key)
            if parent is not None and parent.hash is not None:
                break
            e = nodes[(level, index)]
            s = nodes[(level, index ^ 1)]
            if s.hash is None:
                break  # a later target computes the sibling and continues from there
            assert e.start is not None and e.end is not None
            if s.start is None:  # a provided inner node
                if index & 1:
                    s.start = (e.start - s.range) % _U64_MOD
                    s.end = e.start
                else:
                    s.start = e.end
                    s.end = (s.start + s.range) % _U64_MOD
                check_order(s.start, s.end)
            left, right = (s, e) if index & 1 else (e, s)
            if right.start != left.end:
                raise ProofError("inconsistent ranges: right.start != left.end")
            combined = parent_of(left.entry(), right.entry())
            nodes[parent_key] = _Node(combined.hash, combined.start, combined.end)
            level, index = parent_key

    top = nodes.get((height, 0))
    if top is None or top.hash is None:
        raise ProofError("the root was not reached")
    if top.start != 0 or top.end != U64_MAX:
        raise ProofError("wrong root range")

    out = []
    for sk, reads in zip(shape, reads_of, strict=True):
        n = nodes[(sk.level, sk.index)]
        out.append(ReconstructedNode(sk, reads, n.entry() if n.known() else None))
    return Reconstruction(root_commitment(Entry(top.hash, 0, U64_MAX)), tuple(out))
