"""PacketCrypt proof spot checks for the light client, as pktd's neutrino does them.

Header sync cannot tell real PacketCrypt work from fake (headers carry no proof), so, for each
header received at height h, the block is fetched and its proof fully validated with
probability about 20 / depth, where depth is the distance from the likely tip: the last ~20
blocks always, deeper ones rarely. A failing proof means the peer that served the chain lied.

Validation itself is miner.reference.blockproof (pktd's checks in pktd's order).
"""

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from miner.reference.announce import AnnHeader
from miner.reference.blockproof import validate_block_proof
from miner.reference.blockwire import BlockParseError, parse_block

from .errors import ValidationError

SAMPLE_NUMERATOR = 20


@dataclass(frozen=True)
class ProofSampler:
    """Decides which heights to check; the seed is random per process, as in neutrino."""

    seed: int = random.getrandbits(32)

    def should_check(self, height: int, depth: int) -> bool:
        depth = max(1, depth)
        digest = hashlib.sha224(self.seed.to_bytes(4, "little") + height.to_bytes(4, "little"))
        x = int.from_bytes(digest.digest()[:4], "little") / 2**32
        return x <= SAMPLE_NUMERATOR / depth


class ProofInvalid(ValidationError):
    """A block whose PacketCrypt proof does not validate."""


def check_block_proof(raw_block: bytes, height: int, hash_at: Callable[[int], bytes]) -> None:
    """Validate the PacketCrypt proof of the block `raw_block` at `height`; `hash_at(h)` gives
    the hash of the active chain's block at h (the announcements' parent blocks).
    Raises ProofInvalid with pktd's reason, or KeyError if a parent block is not known."""
    try:
        block = parse_block(raw_block)
    except BlockParseError as exc:
        raise ProofInvalid(f"block {height}: unparsable PacketCrypt block: {exc}") from None
    parents = [hash_at(AnnHeader.from_bytes(ann).parent_block_height) for ann in block.anns]
    try:
        result = validate_block_proof(block, height, parents)
    except ValueError as exc:  # e.g. header bits no target can meet (negative, or work > 2^256)
        raise ProofInvalid(f"block {height}: PacketCrypt proof cannot be checked: {exc}") from None
    if not result.ok:
        detail = f" ({result.detail})" if result.detail else ""
        ann = f" in announcement {result.ann_index}" if result.ann_index is not None else ""
        if result.ann_check is not None:
            ann += f" ({result.ann_check.name})"
        raise ProofInvalid(f"block {height}: PacketCrypt proof {result.code.name}{ann}{detail}")
