"""Electorium election timing: epochs, the next election, vote expiry (electorium.md §3).

An epoch is 10080 blocks (a week at 60 s a block). The election for the deadline D = k*10080
counts balances and votes as of the effective block E = D - 1, starts counting at D + 60 and
takes office at D + 360. A vote cast in block v counts for E when E - 524160 <= v <= E, so it
lasts 52 epochs; wallets show `v + 524160` as its expiry block.
"""

from __future__ import annotations

EPOCH_BLOCKS = 60 * 24 * 7
VOTE_EXPIRATION_EPOCHS = 52
VOTE_EXPIRATION_BLOCKS = VOTE_EXPIRATION_EPOCHS * EPOCH_BLOCKS  # 524160
COUNT_START_OFFSET = 60  # blocks after the deadline before the node counts
INAUGURATION_OFFSET = 360  # blocks after the deadline when the winner takes office
BLOCK_SECONDS = 60


def _height(h: int) -> int:
    if isinstance(h, bool) or not isinstance(h, int) or h < 0:
        raise ValueError(f"a block height is a whole number >= 0, got {h!r}")
    return h


def epoch_num(height: int) -> int:
    return _height(height) // EPOCH_BLOCKS


def last_epoch_end(height: int) -> int:
    """The last block of the epoch before the one `height` is in (0 during the first epoch)."""
    epoch = epoch_num(height)
    return 0 if epoch == 0 else epoch * EPOCH_BLOCKS - 1


def next_election_block(tip: int) -> int:
    """The node's `next_election_block`: LastEpochEnd(tip) + 10081.

    This is the next deadline D (the first block of the next epoch), except during the first
    epoch where the node's formula gives 10081.
    """
    return last_epoch_end(tip) + EPOCH_BLOCKS + 1


def next_inauguration_block(tip: int) -> int:
    return next_election_block(tip) + INAUGURATION_OFFSET


def effective_block(deadline: int) -> int:
    """The block whose balances and votes an election counts: the deadline's LastEpochEnd."""
    return last_epoch_end(deadline)


def vote_expiry_block(vote_block: int) -> int:
    """The block wallets show as a vote's expiry: the vote is shown until the chain reaches it."""
    return _height(vote_block) + VOTE_EXPIRATION_BLOCKS


def vote_counts_at(vote_block: int, effective: int) -> bool:
    """Whether a vote cast in `vote_block` counts in the election with effective block E."""
    return effective - VOTE_EXPIRATION_BLOCKS <= _height(vote_block) <= _height(effective)


def first_election_counting(vote_block: int) -> int:
    """The first deadline whose count includes a vote cast in `vote_block`."""
    return (_height(vote_block) // EPOCH_BLOCKS + 1) * EPOCH_BLOCKS


def last_election_counting(vote_block: int) -> int:
    """The last deadline whose count still includes a vote cast in `vote_block`."""
    return (vote_expiry_block(vote_block) + 1) // EPOCH_BLOCKS * EPOCH_BLOCKS


def estimated_time(height: int, tip_height: int, tip_time: float) -> float:
    """When block `height` is expected (Unix time), at 60 s a block from the tip."""
    return tip_time + (_height(height) - _height(tip_height)) * BLOCK_SECONDS
