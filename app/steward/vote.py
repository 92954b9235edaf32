"""Network Steward votes: the vote an output carries, and how long a vote lasts.

System 1 (pkt-chain.md §5.4): a vote is `<voteFor script or OP_0> <voteAgainst script or OP_0>
OP_VOTE` appended to a non-segwit output script; it counts with the output's value while that
output stays unspent. A wallet casts it by moving its coins to one of its own legacy (P2PKH)
addresses with the vote appended (`Wallet.create_legacy_vote`); today's
Electorium vote is `app.wallet.voting`.

Lifetime (steward.md §3.2): votes expire after 52 epochs of 10080 blocks (about one year); the
wallet reminds the user to vote again before then.
"""

from __future__ import annotations

from dataclasses import dataclass

from spv.address import decode_address
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.script import add_vote

from .errors import StewardError

EPOCH_BLOCKS = 10080
VOTE_LIFETIME_EPOCHS = 52
VOTE_LIFETIME_BLOCKS = EPOCH_BLOCKS * VOTE_LIFETIME_EPOCHS


@dataclass(frozen=True)
class VoteTarget:
    address: str
    script: bytes


@dataclass(frozen=True)
class VotePlan:
    vote_for: VoteTarget | None
    vote_against: VoteTarget | None
    suffix: bytes  # `<for> <against> OP_VOTE`, appended to the wallet's own P2PKH script
    lifetime_blocks: int
    lifetime_seconds: int  # at the network's target block spacing
    expires_at: float  # estimated Unix time at which the vote should be cast again

    def output_script(self, base_script: bytes) -> bytes:
        """The vote-carrying output script for one of the wallet's own addresses."""
        return base_script + self.suffix


def vote_target(text: str | None, params: NetworkParams, role: str) -> VoteTarget | None:
    """A candidate address checked for the network; None for an empty/"none" choice."""
    if text is None or text.strip().lower() in ("", "none", "-"):
        return None
    try:
        addr = decode_address(text, params)
    except ParseError as exc:
        raise StewardError(f"invalid {role} address {text.strip()!r}: {exc}") from None
    return VoteTarget(addr.encode(params), addr.to_script())


def vote_expiry(now: float, params: NetworkParams) -> float:
    """When a vote cast now should be renewed (52 epochs of blocks at the target spacing)."""
    return now + VOTE_LIFETIME_BLOCKS * params.target_spacing


def plan_vote(
    vote_for: str | None, vote_against: str | None, params: NetworkParams, now: float
) -> VotePlan:
    """Check the candidates and build the vote suffix (no wallet needed)."""
    target_for = vote_target(vote_for, params, "candidate")
    target_against = vote_target(vote_against, params, "vote-against")
    if target_for is None and target_against is None:
        raise StewardError("give a candidate to vote for (and optionally one to vote against)")
    try:
        suffix = add_vote(
            b"",
            target_for.script if target_for else None,
            target_against.script if target_against else None,
        )
    except ValueError as exc:
        raise StewardError(f"cannot build the vote: {exc}") from None
    return VotePlan(
        vote_for=target_for,
        vote_against=target_against,
        suffix=suffix,
        lifetime_blocks=VOTE_LIFETIME_BLOCKS,
        lifetime_seconds=VOTE_LIFETIME_BLOCKS * params.target_spacing,
        expires_at=vote_expiry(now, params),
    )
