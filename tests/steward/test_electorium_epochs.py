"""Electorium timing (electorium.md §3), with the real vote of CL170 (block 2336429)."""

from __future__ import annotations

import pytest

from app.steward.electorium.epochs import (
    EPOCH_BLOCKS,
    VOTE_EXPIRATION_BLOCKS,
    effective_block,
    epoch_num,
    estimated_time,
    first_election_counting,
    last_election_counting,
    last_epoch_end,
    next_election_block,
    next_inauguration_block,
    vote_counts_at,
    vote_expiry_block,
)

CL170_VOTE_BLOCK = 2336429
CL170_EXPIRATION_BLOCK = 2860589
CL170_ESTIMATED_EXPIRATION_SEC = 1737462218


def test_constants() -> None:
    assert EPOCH_BLOCKS == 10080
    assert VOTE_EXPIRATION_BLOCKS == 524160 == 52 * 10080


def test_the_mainnet_vote_of_the_changelog() -> None:
    v = CL170_VOTE_BLOCK
    assert vote_expiry_block(v) == CL170_EXPIRATION_BLOCK
    assert epoch_num(v) == 231
    assert last_epoch_end(v) == 231 * 10080 - 1 == 2328479
    assert next_election_block(v) == 2338560 == 232 * 10080
    assert next_inauguration_block(v) == 2338920
    # pld: estimated_expiration_sec = blockTime(v) + 60 s * 524160
    vote_time = CL170_ESTIMATED_EXPIRATION_SEC - 60 * VOTE_EXPIRATION_BLOCKS
    assert estimated_time(CL170_EXPIRATION_BLOCK, v, vote_time) == CL170_ESTIMATED_EXPIRATION_SEC


def test_first_and_last_elections_a_vote_counts_in() -> None:
    v = CL170_VOTE_BLOCK
    first, last = first_election_counting(v), last_election_counting(v)
    assert (first, last) == (2338560, 2852640)
    assert vote_counts_at(v, effective_block(first))
    assert not vote_counts_at(v, effective_block(first - EPOCH_BLOCKS))
    assert vote_counts_at(v, effective_block(last))
    assert not vote_counts_at(v, effective_block(last + EPOCH_BLOCKS))
    assert (last - first) // EPOCH_BLOCKS + 1 == 52  # one year of weekly elections


def test_vote_window_edges() -> None:
    e = 3_000_000
    assert vote_counts_at(e, e)
    assert not vote_counts_at(e + 1, e)
    assert vote_counts_at(e - VOTE_EXPIRATION_BLOCKS, e)
    assert not vote_counts_at(e - VOTE_EXPIRATION_BLOCKS - 1, e)
    # a vote in the last block of an epoch counts in the election at the next block
    assert first_election_counting(10079) == 10080
    assert first_election_counting(10080) == 20160


def test_first_epoch_and_boundaries() -> None:
    assert last_epoch_end(0) == last_epoch_end(10079) == 0
    assert next_election_block(5) == 10081  # the node's formula in the first epoch
    assert last_epoch_end(10080) == 10079
    assert next_election_block(10080) == 20160
    assert effective_block(20160) == 20159


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_heights_must_be_whole_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="block height"):
        epoch_num(bad)  # type: ignore[arg-type]
