""" "My vote": what the wallet's own Electorium votes mean for the elections ahead.

Pure, from what the wallet knows (`app.wallet.voting.WalletVotes`: its addresses holding
coins, every vote it cast, the tip it has seen). Per voting address: the vote in force — its
target, candidacy, transaction, block, expiry block (vote block + 524160) and estimated expiry
date (the vote block's time + 60 s a block, as pld shows it) — or "no vote" after a withdrawal,
"expired", or none; a vote not confirmed yet is shown as pending. Then the epoch, the next
election block (``LastEpochEnd(tip) + 10081``, as the node says it) and its estimated time,
and a reminder when a vote expires within four weeks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.wallet.voting import CastVote, WalletVotes

from .electorium.epochs import (
    BLOCK_SECONDS,
    EPOCH_BLOCKS,
    VOTE_EXPIRATION_BLOCKS,
    epoch_num,
    estimated_time,
    next_election_block,
    vote_expiry_block,
)

REMIND_BLOCKS = 4 * EPOCH_BLOCKS  # four weeks of blocks

VOTING = "voting"  # a vote for an address in force
CANDIDATE = "candidate"  # stands as a candidate (with or without a target)
WITHDRAWN = "withdrawn"  # its latest vote is a withdrawal: no vote
EXPIRED = "expired"  # its latest vote is older than 52 epochs
NONE = "none"  # never voted (as far as this wallet knows)


@dataclass(frozen=True)
class AddressVote:
    address: str
    balance: int  # units: the address's weight once confirmed
    state: str  # VOTING, CANDIDATE, WITHDRAWN, EXPIRED or NONE
    vote: CastVote | None  # the latest confirmed vote
    expiry_block: int | None
    expiry_time: float | None  # estimated Unix time
    pending: CastVote | None  # a newer vote not confirmed yet
    expires_soon: bool

    def to_json(self) -> dict[str, Any]:
        vote = self.vote
        return {
            "address": self.address,
            "balance": self.balance,
            "state": self.state,
            "vote_for": vote.vote_for if vote else None,
            "is_candidate": vote.candidate if vote else False,
            "vote_txid": vote.txid if vote else None,
            "vote_block": vote.height if vote else None,
            "expiration_block": self.expiry_block,
            "estimated_expiration_time": self.expiry_time,
            "expires_soon": self.expires_soon,
            "pending": (
                {
                    "vote_for": self.pending.vote_for,
                    "is_candidate": self.pending.candidate,
                    "vote_txid": self.pending.txid,
                }
                if self.pending
                else None
            ),
        }


@dataclass(frozen=True)
class MyVote:
    tip_height: int
    epoch: int
    next_election_block: int
    next_election_time: float  # estimated Unix time
    addresses: tuple[AddressVote, ...]  # addresses that ever voted, then the others with coins
    reminder: str | None

    @property
    def voting(self) -> tuple[AddressVote, ...]:
        """Addresses whose vote is in force (or pending)."""
        return tuple(a for a in self.addresses if a.state in (VOTING, CANDIDATE) or a.pending)

    def to_json(self) -> dict[str, Any]:
        return {
            "tip_height": self.tip_height,
            "epoch": self.epoch,
            "next_election_block": self.next_election_block,
            "next_election_estimated_time": self.next_election_time,
            "addresses": [a.to_json() for a in self.addresses],
            "reminder": self.reminder,
        }


def day_text(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d")


def describe_vote(vote: CastVote) -> str:
    """ "votes for X", "stands as a candidate", "no vote (withdrawn)" …"""
    if vote.is_withdraw:
        return "no vote (withdrawn)"
    if vote.candidate and vote.vote_for:
        return f"stands as a candidate and votes for {vote.vote_for}"
    if vote.candidate:
        return "stands as a candidate"
    return f"votes for {vote.vote_for}"


def _address_vote(address: str, balance: int, casts: list[CastVote], tip: int) -> AddressVote:
    pending = casts[0] if casts and casts[0].height is None else None
    vote = next((c for c in casts if c.height is not None), None)
    if vote is None or vote.height is None:
        return AddressVote(address, balance, NONE, None, None, None, pending, False)
    expiry = vote_expiry_block(vote.height)
    expiry_time = (
        vote.block_time + VOTE_EXPIRATION_BLOCKS * BLOCK_SECONDS
        if vote.block_time is not None
        else None
    )
    if vote.is_withdraw:
        state = WITHDRAWN
    elif tip >= expiry:
        state = EXPIRED
    else:
        state = CANDIDATE if vote.candidate else VOTING
    soon = state in (VOTING, CANDIDATE) and pending is None and expiry - tip <= REMIND_BLOCKS
    return AddressVote(address, balance, state, vote, expiry, expiry_time, pending, soon)


def my_vote(votes: WalletVotes, now: float) -> MyVote:
    """The status of the wallet's votes; estimated times count 60 s a block from `now`."""
    tip = max(votes.tip_height, 0)
    by_voter: dict[str, list[CastVote]] = {}
    for cast in votes.casts:
        by_voter.setdefault(cast.voter, []).append(cast)
    balances = {v.address: v.balance for v in votes.voters}
    entries = [_address_vote(a, balances.get(a, 0), c, tip) for a, c in by_voter.items()]
    entries.sort(key=lambda e: (-e.balance, e.address))
    entries += [
        AddressVote(v.address, v.balance, NONE, None, None, None, None, False)
        for v in votes.voters
        if v.address not in by_voter
    ]
    soon = [e for e in entries if e.expires_soon and e.balance > 0]
    reminder = None
    if soon:
        first = min(soon, key=lambda e: e.expiry_block or 0)
        when = f"block {first.expiry_block:,}"
        if first.expiry_time is not None:
            when += f", about {day_text(first.expiry_time)}"
        if len(soon) == 1:
            reminder = (
                f"Your Network Steward vote from {first.address} expires at {when}: "
                "vote again to renew it."
            )
        else:
            reminder = (
                f"{len(soon)} of your Network Steward votes expire within four weeks (the "
                f"first at {when}): vote again to renew them."
            )
    election = next_election_block(tip)
    return MyVote(
        tip_height=tip,
        epoch=epoch_num(tip),
        next_election_block=election,
        next_election_time=estimated_time(election, tip, now),
        addresses=tuple(entries),
        reminder=reminder,
    )


def time_text(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M UTC")


def election_line(status: MyVote) -> str:
    return (
        f"block {status.tip_height:,}, epoch {status.epoch:,}; next election at block "
        f"{status.next_election_block:,} (about {time_text(status.next_election_time)})"
    )


def address_lines(entry: AddressVote, money: Callable[[int], str]) -> list[str]:
    """What one address's vote is, in a line or two (amounts through `money`)."""
    head = f"{entry.address} ({money(entry.balance)})"
    vote = entry.vote
    if vote is None:
        lines = [f"{head}: no vote"]
    else:
        what = describe_vote(vote)
        if entry.state == EXPIRED:
            what = f"expired ({what} in block {vote.height:,})"
        lines = [f"{head}: {what}"]
        detail = f"  tx {vote.txid}, block {vote.height:,}"
        if entry.state in (VOTING, CANDIDATE) and entry.expiry_block is not None:
            detail += f", expires at block {entry.expiry_block:,}"
            if entry.expiry_time is not None:
                detail += f" (about {day_text(entry.expiry_time)})"
            if entry.expires_soon:
                detail += ": vote again soon"
        lines.append(detail)
    if entry.pending is not None:
        lines.append(
            f"  pending: {describe_vote(entry.pending)}, tx {entry.pending.txid} (not confirmed yet)"
        )
    if vote is not None and entry.balance == 0 and entry.state in (VOTING, CANDIDATE):
        lines.append("  this address holds no coins now: its vote has no weight")
    return lines
