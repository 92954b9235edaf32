"""Validating the PacketCrypt proof of a block (spec section 18; pktd ``ValidatePcBlock``).

:func:`validate_block_proof` takes a parsed block (:mod:`.blockwire`), its height and the
hashes of the 4 announcements' parent blocks, and runs pktd's checks in pktd's order
(section 18.6), so that a bad block produces the same error:

1. non-standard (non-canonical) proof encoding;
2. announcement signatures;
3. content proofs (or their absence for proof version >= 2);
4. coinbase commitment present; 5. commitment sanity;
6. block work hash against the effective target;
7. for each ann: :func:`validate.validate_ann` then the aging rule;
8. the compressed merkle proof against the committed root.

The block work hash (section 18.3) is :func:`block_work_hash`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import cryptocycle, difficulty
from .announce import AnnHeader
from .anntree import ProofError, reconstruct_root, tree_index
from .blockwire import PcBlock
from .commitment import COMMITMENT_MAGIC, Commitment, find_commitment
from .primitives import b256
from .validate import AnnCheck, validate_ann

MIN_HEIGHT_V2 = 113949
"""Proof version >= 2 is allowed from this height."""
MAX_HEIGHT_V1 = 122621
"""Proof version <= 1 is allowed up to this height."""
CONTENT_BLOCK = 32


class BlockCheck(Enum):
    """Outcome of a block-proof validation (pktd's error, abbreviated)."""

    OK = "OK"
    VERSION_NOT_ALLOWED = "PacketCrypt proof version not allowed at this height"
    NON_STANDARD = "Block contains non-standard / mutated PacketCryptProof"
    MISSING_SIGNATURE = "missing announcement signature"
    INVALID_SIGNATURE = "invalid announcement signature"
    MISSING_CONTENT_PROOF = "missing announcement content proof"
    CONTENT_PROOF_MISMATCH = "announcement content proof hash mismatch"
    CONTENT_PROOF_FORBIDDEN = "For PcP type [V] content proof must be nil"
    MISSING_COMMITMENT = "missing packetcrypt commitment"
    BAD_COINBASE = "Validate_checkBlock_BAD_COINBASE"
    INSUF_POW = "Validate_checkBlock_INSUF_POW"
    ANN_INVALID = "Validate_checkAnn_*"
    ANN_INSUF_POW = "Validate_checkBlock_ANN_INSUF_POW"
    PCP_INVAL = "Validate_checkBlock_PCP_INVAL"
    PCP_MISMATCH = "Validate_checkBlock_PCP_MISMATCH"


@dataclass(frozen=True)
class BlockValidation:
    """``code``; for per-ann failures the ann index and its :class:`AnnCheck`; a detail."""

    code: BlockCheck
    ann_index: int | None = None
    ann_check: AnnCheck | None = None
    detail: str = ""
    work_hash: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.code is BlockCheck.OK


@dataclass
class WorkHashTrace:
    """Intermediate values of :func:`block_work_hash` (the vectors' ``work_hash_trace``)."""

    header_b256: bytes = b""
    state_after_init: bytes = b""
    item_numbers: list[int] = field(default_factory=list)
    states_after_update: list[bytes] = field(default_factory=list)
    smul_output: bytes = b""
    work_hash: bytes = b""


def x25519_step(state: bytearray) -> None:
    """Section 18.3 step 4: ``P = X25519(S[32:64], 9)``; ``S[64:96] = X25519(S[0:32], P)``.

    RFC 7748 with clamping. ``cryptography`` refuses an all-zero shared secret (ValueError);
    the C aborts on it too, so such a block is invalid.
    """
    public = X25519PrivateKey.from_private_bytes(bytes(state[32:64])).public_key()
    shared = X25519PrivateKey.from_private_bytes(bytes(state[0:32])).exchange(
        X25519PublicKey.from_public_bytes(public.public_bytes_raw())
    )
    state[64:96] = shared


def block_work_hash(
    header: bytes,
    nonce2: int,
    anns: Sequence[bytes],
    content_proof_heads: Sequence[bytes | None] = (None, None, None, None),
    trace: WorkHashTrace | None = None,
) -> tuple[bytes, list[int]]:
    """The block work hash and the 4 full 64-bit item numbers (section 18.3).

    ``content_proof_heads[j]`` (legacy V <= 1 only) is the first 32 bytes of ann j's content
    proof, copied to ``S[1056:1088]`` with the ann.
    """
    tr = trace if trace is not None else WorkHashTrace()
    tr.header_b256 = seed = b256(header)
    state = cryptocycle.init(seed, nonce2)
    tr.state_after_init = bytes(state)
    item_numbers = []
    for ann, head in zip(anns, content_proof_heads, strict=True):
        item_numbers.append(cryptocycle.item_no_u64(state))
        state[32:1056] = ann
        if head is not None:
            state[1056:1088] = head
        cryptocycle.make_fuzzable(state)
        cryptocycle.crypt(state)
        tr.states_after_update.append(bytes(state))
    x25519_step(state)
    tr.smul_output = bytes(state[64:96])
    tr.work_hash = work_hash = cryptocycle.final(state)
    tr.item_numbers = item_numbers
    return work_hash, item_numbers


def version_allowed(proof_version: int, height: int) -> bool:
    """``globalcfg.IsPacketCryptAllowedVersion``."""
    if proof_version >= 2:
        return height >= MIN_HEIGHT_V2
    return height <= MAX_HEIGHT_V1


def content_proof_index(header: bytes, nonce2: int) -> int:
    """``u32le(B256(header)[0:4]) XOR nonce2``."""
    return int(struct.unpack_from("<I", b256(header))[0]) ^ nonce2


def _content_tree_shape(content_length: int, proof_idx: int) -> tuple[int, int]:
    """(index of the proven 32-byte block, tree depth ``ceil(log2 nb)``)."""
    blocks = -(-content_length // CONTENT_BLOCK)
    return proof_idx % blocks, (blocks - 1).bit_length()


def _content_proof_length(content_length: int, proof_idx: int) -> int:
    """Bytes of one ann's content proof: the block plus one sibling per level that has one."""
    b, depth = _content_tree_shape(content_length, proof_idx)
    length = CONTENT_BLOCK
    block_size = CONTENT_BLOCK
    for _ in range(depth):
        if block_size * (b ^ 1) < content_length:
            length += CONTENT_BLOCK
        b >>= 1
        block_size <<= 1
    return length


def check_content_proof(content_length: int, content_hash: bytes, proof: bytes, idx: int) -> bool:
    """Section 18.6 "Content proofs": fold the proven block up to ``content_hash``.

    The proof starts with content block ``b = idx mod nb`` itself; at each level a 32-byte
    sibling follows unless the sibling lies beyond the content. Not covered by any vector.
    """
    b, depth = _content_tree_shape(content_length, idx)
    current = proof[:CONTENT_BLOCK]
    offset = CONTENT_BLOCK
    block_size = CONTENT_BLOCK
    for _ in range(depth):
        if block_size * (b ^ 1) < content_length:
            sibling = proof[offset : offset + CONTENT_BLOCK]
            offset += CONTENT_BLOCK
            current = b256(current + sibling if b % 2 == 0 else sibling + current)
        b >>= 1
        block_size <<= 1
    return current == content_hash


def split_content_proofs(block: PcBlock, proof_idx: int) -> list[bytes | None] | None:
    """Cut the type-3 value into one proof per ann with content_length > 32, in ann order.

    Returns None when the bytes do not match (too few or left over).
    """
    data = block.content_proof or b""
    out: list[bytes | None] = []
    offset = 0
    for ann in block.anns:
        length = AnnHeader.from_bytes(ann).content_length
        if length <= CONTENT_BLOCK:
            out.append(None)
            continue
        size = _content_proof_length(length, proof_idx)
        if offset + size > len(data):
            return None
        out.append(data[offset : offset + size])
        offset += size
    return out if offset == len(data) else None


def _signatures_ok(block: PcBlock) -> BlockValidation | None:
    for i, ann in enumerate(block.anns):
        if not block.has_signing_key(i):
            continue
        signature = block.signatures[i]
        if signature is None:
            return BlockValidation(BlockCheck.MISSING_SIGNATURE, ann_index=i)
        try:
            Ed25519PublicKey.from_public_bytes(ann[56:88]).verify(signature, ann)
        except (InvalidSignature, ValueError):
            return BlockValidation(BlockCheck.INVALID_SIGNATURE, ann_index=i)
    return None


def _commitment_sane(commitment: Commitment, version: int) -> bool:
    """pktd ``IsAnnMinDiffOk`` and the magic (section 18.4, "Commitment sanity")."""
    target_bits = commitment.ann_least_work_target
    if commitment.magic != COMMITMENT_MAGIC or target_bits == 0 or target_bits & 0x800000:
        return False
    limit = difficulty.MAX_COMPACT if version >= 2 else 0x20FFFFFF
    return target_bits <= limit and difficulty.compact_to_target(target_bits) > 0


def validate_block_proof(
    block: PcBlock,
    height: int,
    parent_hashes: Sequence[bytes],
    strict_tree_order: bool = False,
    work_trace: WorkHashTrace | None = None,
) -> BlockValidation:
    """Validate a block's PacketCrypt proof as pktd does (section 18.6).

    ``parent_hashes[i]`` is the hash (internal order) of the block at ann i's
    parent_block_height on the chain being validated. ``strict_tree_order`` adds the C
    validator's ``end > start`` checks on the commitment tree (pktd has none).
    """
    if len(parent_hashes) != 4:
        raise ValueError("one parent hash per announcement")
    version = block.version
    if not version_allowed(version, height):
        return BlockValidation(BlockCheck.VERSION_NOT_ALLOWED)
    if block.records_size() != block.canonical_records_size():
        return BlockValidation(BlockCheck.NON_STANDARD)

    failure = _signatures_ok(block)
    if failure is not None:
        return failure

    heads: list[bytes | None] = [None] * 4
    if version <= 1:
        idx = content_proof_index(block.header, block.nonce2)
        proofs = split_content_proofs(block, idx)
        if proofs is None:
            return BlockValidation(BlockCheck.MISSING_CONTENT_PROOF)
        for i, (ann, proof) in enumerate(zip(block.anns, proofs, strict=True)):
            if proof is None:
                continue
            header = AnnHeader.from_bytes(ann)
            if not check_content_proof(header.content_length, header.content_hash, proof, idx):
                return BlockValidation(BlockCheck.CONTENT_PROOF_MISMATCH, ann_index=i)
            heads[i] = proof[:CONTENT_BLOCK]
    elif block.content_proof is not None:
        return BlockValidation(BlockCheck.CONTENT_PROOF_FORBIDDEN)

    if not block.transactions:
        return BlockValidation(BlockCheck.MISSING_COMMITMENT, detail="missing coinbase")
    commitment = find_commitment(out.script for out in block.transactions[0].outputs)
    if commitment is None:
        return BlockValidation(BlockCheck.MISSING_COMMITMENT)
    if not _commitment_sane(commitment, version):
        return BlockValidation(BlockCheck.BAD_COINBASE)

    try:
        work_hash, item_numbers = block_work_hash(
            block.header, block.nonce2, block.anns, heads, work_trace
        )
    except ValueError:  # an all-zero X25519 result
        return BlockValidation(BlockCheck.INSUF_POW, detail="degenerate X25519 output")
    effective = difficulty.effective_block_target(
        block.bits, commitment.ann_least_work_target, commitment.ann_count, version
    )
    if not difficulty.is_ok_pktd(work_hash, effective):
        return BlockValidation(BlockCheck.INSUF_POW, work_hash=work_hash)

    ann_hashes = []
    for i, ann in enumerate(block.anns):
        ann_result = validate_ann(ann, parent_hashes[i], packetcrypt_version=version)
        if not ann_result.ok:
            return BlockValidation(
                BlockCheck.ANN_INVALID, ann_index=i, ann_check=ann_result.code, work_hash=work_hash
            )
        header = AnnHeader.from_bytes(ann)
        aged = difficulty.aged_ann_target(
            header.work_bits, height, header.parent_block_height, version
        )
        if aged > commitment.ann_least_work_target:
            return BlockValidation(BlockCheck.ANN_INSUF_POW, ann_index=i, work_hash=work_hash)
        ann_hashes.append(b256(ann))

    if commitment.ann_count == 0:
        return BlockValidation(BlockCheck.PCP_INVAL, detail="zero announcements committed")
    targets = [tree_index(n, commitment.ann_count) for n in item_numbers]
    try:
        rebuilt = reconstruct_root(
            block.merkle_proof, ann_hashes, targets, commitment.ann_count, strict_tree_order
        )
    except ProofError as exc:
        return BlockValidation(BlockCheck.PCP_INVAL, detail=str(exc), work_hash=work_hash)
    if rebuilt.root != commitment.merkle_root:
        return BlockValidation(BlockCheck.PCP_MISMATCH, work_hash=work_hash)
    return BlockValidation(BlockCheck.OK, work_hash=work_hash)
