"""Electorium votes for the Network Steward (2024 onward), cast with the wallet's own keys.

The voter of a vote transaction is the one script that every input spends, and its weight is
that script's balance at the epoch cutoff (electorium.md §2). A wallet therefore votes from
each of its addresses separately: one transaction per voting address that spends only coins of
exactly that script — as pld does, just enough of them to pay the fee, largest first, so an
address holding 500,000 mining payouts moves one of them — returns the change to the same
address and carries one zero-value vote output (`spv.electorium_vote`). Inputs of two
addresses would void the vote; every preview built here is checked not to have them.

Coins on a script carrying a 2019-2023 ``OP_VOTE`` suffix are a voter of their own (a different
script); they are not used and not counted in an address's weight here.

The wallet's past votes are read from the ``votes`` table (:mod:`app.wallet.vote_records`);
what they mean for the next election (expiry, epochs) is :mod:`app.steward.my_vote`'s job.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from spv.address import address_from_script
from spv.electorium_vote import vote_output_script
from spv.params import NetworkParams

from .coin_queries import CoinQueries
from .errors import WalletError
from .keychain import KeyChain
from .ledger import Ledger
from .model import Coin, TxPreview
from .spending import Spending
from .txbuild import (
    Candidate,
    InsufficientFundsError,
    Selection,
    TooManyInputsError,
    TxBuildError,
    finish_selection,
    max_inputs_for,
)
from .vote_records import VoteRecord, vote_records

VOTE = "vote"
CANDIDATE = "candidate"
WITHDRAW = "withdraw"

COUNTS_ONLY_IF = (
    "a vote counts only if the address voted for itself holds coins at the election and has "
    "voted or declared itself a candidate; otherwise the vote goes nowhere"
)
ONE_ADDRESS_PER_VOTE = (
    "each address votes in its own transaction: a transaction spending coins of several "
    "addresses would void its vote"
)


@dataclass(frozen=True)
class VotingAddress:
    """An address of the wallet holding coins: a voter of its own."""

    address: str
    script: bytes
    script_id: int
    balance: int  # units on exactly this script: its weight once confirmed
    coins: int

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "balance": self.balance, "coins": self.coins}


@dataclass(frozen=True)
class CastVote:
    """One vote transaction of the wallet, as the user reads it."""

    voter: str  # the voting address
    vote_for: str | None  # the target's address (None: nobody)
    candidate: bool
    txid: str
    height: int | None  # None: not confirmed yet
    block_time: int | None

    @property
    def is_withdraw(self) -> bool:
        return self.vote_for is None and not self.candidate


@dataclass(frozen=True)
class WalletVotes:
    """What the wallet knows of its votes: its addresses holding coins, every vote it cast
    (each voter's newest first) and the height of the chain it has seen."""

    voters: tuple[VotingAddress, ...]
    casts: tuple[CastVote, ...]
    tip_height: int


@dataclass(frozen=True)
class VoteBatch:
    """The vote transactions to sign: one per voting address, in the order of `voters`."""

    kind: str  # VOTE, CANDIDATE or WITHDRAW
    vote_for: str | None  # the target's address (None: nobody)
    candidate: bool
    vote_script: bytes  # the vote output's script
    previews: tuple[TxPreview, ...]
    voters: tuple[VotingAddress, ...]
    skipped: tuple[tuple[str, str], ...]  # (address, why it does not vote)
    warnings: tuple[str, ...]

    @property
    def total_fee(self) -> int:
        return sum(p.fee for p in self.previews)

    def describe(self) -> str:
        """What the batch does, as a sentence start: "votes for X and stands as a candidate"."""
        if self.kind == WITHDRAW:
            return "withdraws the vote (no vote, no candidacy)"
        if self.vote_for is None:
            return "stands as a candidate, voting for no one"
        return f"votes for {self.vote_for}" + (
            " and stands as a candidate" if self.candidate else ""
        )

    def to_json(self, params: NetworkParams) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "vote_for": self.vote_for,
            "candidate": self.candidate,
            "vote_output": self.vote_script.hex(),
            "transactions": [
                {"from": v.address, "weight": v.balance, **p.to_json(params)}
                for v, p in zip(self.voters, self.previews, strict=True)
            ],
            "skipped": [{"address": a, "reason": why} for a, why in self.skipped],
            "total_fee": self.total_fee,
            "warnings": list(self.warnings),
        }


def script_text(script: bytes, params: NetworkParams) -> str:
    """The address of a script, or ``script:<base64>`` (as a full node writes other scripts)."""
    return address_from_script(script, params) or "script:" + base64.b64encode(script).decode()


class Voting:
    """Electorium vote transactions and vote records of one wallet."""

    def __init__(
        self,
        params: NetworkParams,
        keys: KeyChain,
        ledger: Ledger,
        coins: CoinQueries,
        spending: Spending,
    ) -> None:
        self.params = params
        self.keys = keys
        self.ledger = ledger
        self.db = ledger.db
        self.coins = coins
        self.spending = spending

    # --- voters ---

    def voting_addresses(self, only: set[int] | None = None) -> list[VotingAddress]:
        """Every address holding coins (or those of the script ids `only`), with its weight,
        heaviest first (from the balances the triggers keep: one row per address, whatever
        the number of coins)."""
        folded: dict[int, tuple[int, int]] = {}  # base id -> coins on its vote forms
        for (sid,) in self.db.execute("SELECT id FROM scripts WHERE base != id"):
            base = self.keys.base_of(int(sid))
            if only is not None and base not in only:
                continue
            value, count = self.coins.unspent_on_script(int(sid))
            if count:
                old = folded.get(base, (0, 0))
                folded[base] = (old[0] + value, old[1] + count)
        rows = (
            self.db.execute("SELECT script, unspent, coins FROM script_balance WHERE coins > 0")
            if only is None
            else [
                row
                for sid in sorted(only)
                for row in self.db.execute(
                    "SELECT script, unspent, coins FROM script_balance "
                    "WHERE script = ? AND coins > 0",
                    (sid,),
                )
            ]
        )
        out: list[VotingAddress] = []
        for sid, unspent, count in rows:
            minus_value, minus_count = folded.get(int(sid), (0, 0))
            if count - minus_count <= 0:
                continue
            script, _ = self.keys.script_of(int(sid))
            out.append(
                VotingAddress(
                    script_text(script, self.params),
                    script,
                    int(sid),
                    int(unspent) - minus_value,
                    int(count) - minus_count,
                )
            )
        out.sort(key=lambda v: (-v.balance, v.address))
        return out

    def own_address(self, address: str) -> VotingAddress:
        """One of the wallet's addresses as a voter (its balance may be zero)."""
        script = self.spending.destination(address)
        sid = self.keys.script_id(script) if self.keys.owner(script) is not None else None
        if sid is None:
            raise WalletError(f"{address.strip()} is not an address of this wallet")
        if self.keys.base_of(sid) != sid:
            raise WalletError(f"{address.strip()} carries a 2019-2023 vote: it cannot vote")
        for voter in self.voting_addresses(only={sid}):
            return voter
        return VotingAddress(script_text(script, self.params), script, sid, 0, 0)

    def records(self) -> list[VoteRecord]:
        """Every vote transaction of the wallet, each voter's newest first."""
        return vote_records(self.db)

    def snapshot(self, every_address: bool = True) -> WalletVotes:
        """The wallet's voters and votes (for `app.steward.my_vote`); without `every_address`
        only the addresses that ever voted (enough for the reminder, and cheap for a wallet
        with thousands of addresses holding coins)."""
        records = self.records()
        casts = tuple(
            CastVote(
                script_text(self.keys.script_of(r.voter)[0], self.params),
                script_text(r.vote_for, self.params) if r.vote_for else None,
                r.candidate,
                r.txid.hex(),
                r.height,
                r.block_time,
            )
            for r in records
        )
        only = None if every_address else {r.voter for r in records}
        voters = self.voting_addresses(only) if only is None or only else []
        return WalletVotes(tuple(voters), casts, self.ledger.tip_height)

    def latest_votes(self) -> dict[int, VoteRecord]:
        """Each voter's latest vote (a pending one included), by script id."""
        latest: dict[int, VoteRecord] = {}
        for record in self.records():
            latest.setdefault(record.voter, record)
        return latest

    # --- building votes ---

    def create_vote(
        self,
        vote_for: str | None,
        *,
        candidate: bool = False,
        withdraw: bool = False,
        from_addresses: Sequence[str] | None = None,
        fee_rate: str | float | Fraction | None = None,
    ) -> VoteBatch:
        """Vote for `vote_for` (an address), stand as a candidate (`candidate`, with or
        without a target), or withdraw (`withdraw`: no target, no candidacy).

        From `from_addresses`, or by default: every address holding coins (a vote), the
        addresses whose latest vote is not a withdrawal (a withdraw), the one address
        holding coins (a candidacy without a target: each address would stand apart)."""
        if withdraw and (vote_for or candidate):
            raise WalletError("a withdrawal has no target and no candidacy")
        if not withdraw and not vote_for and not candidate:
            raise WalletError("give an address to vote for, or stand as a candidate, or withdraw")
        rate = self.spending.fee_rate(fee_rate)
        target = self.spending.destination(vote_for) if vote_for else b""
        try:
            vote_script = vote_output_script(target, candidate)
        except ValueError as exc:
            raise WalletError(f"cannot vote for {vote_for}: {exc}") from None
        kind = WITHDRAW if withdraw else CANDIDATE if candidate and not target else VOTE
        target_text = script_text(target, self.params) if target else None
        skipped: list[tuple[str, str]] = []
        voters = self._voters(kind, from_addresses, target, skipped)
        previews: list[TxPreview] = []
        voting: list[VotingAddress] = []
        for voter in voters:
            try:
                preview = self._vote_from(voter, vote_script, rate)
            except (WalletError, TxBuildError) as exc:
                skipped.append((voter.address, str(exc)))
                continue
            previews.append(preview)
            voting.append(voter)
        if not previews:
            reasons = "; ".join(f"{a}: {why}" for a, why in skipped)
            raise InsufficientFundsError(
                "no address of this wallet can cast this vote"
                + (f" ({reasons})" if reasons else "")
            )
        return VoteBatch(
            kind,
            target_text,
            candidate,
            vote_script,
            tuple(previews),
            tuple(voting),
            tuple(skipped),
            tuple(self._warnings(kind, target, candidate, len(previews))),
        )

    def _voters(
        self,
        kind: str,
        from_addresses: Sequence[str] | None,
        target: bytes,
        skipped: list[tuple[str, str]],
    ) -> list[VotingAddress]:
        if from_addresses:
            chosen: dict[int, VotingAddress] = {}
            for text in from_addresses:
                voter = self.own_address(text)
                chosen.setdefault(voter.script_id, voter)
            voters = list(chosen.values())
        elif kind == WITHDRAW:
            latest = self.latest_votes()
            voters = [
                v
                for v in self.voting_addresses()
                if v.script_id in latest and not latest[v.script_id].is_withdraw
            ]
            if not voters:
                raise WalletError("no address of this wallet holding coins has a vote to withdraw")
        else:
            voters = self.voting_addresses()
            if not voters:
                raise InsufficientFundsError("this wallet holds no coins to vote with")
            if kind == CANDIDATE and len(voters) > 1:
                raise WalletError(
                    f"{len(voters)} addresses of this wallet hold coins and each would stand as "
                    "a separate candidate: choose the one that stands (from one address), then "
                    "vote for it from the others"
                )
        out: list[VotingAddress] = []
        for voter in voters:
            if target and voter.script == target:
                skipped.append(
                    (voter.address, "an address's vote for itself is ignored by the count")
                )
            elif voter.balance <= 0:
                skipped.append((voter.address, "holds no coins: its vote would have no weight"))
            else:
                out.append(voter)
        return out

    def _vote_from(self, voter: VotingAddress, vote_script: bytes, rate: Fraction) -> TxPreview:
        """One vote transaction spending only `voter`'s coins, largest first, just enough to
        pay the fee; the change back to `voter`."""
        chosen: list[Coin] = []
        selection: Selection | None = None
        min_relay = self.params.min_relay_fee_per_kb
        for coin in self.coins.spendable_on_script(voter.script_id):
            chosen.append(coin)
            if len(chosen) > max_inputs_for(c.owner.kind for c in chosen):
                raise TooManyInputsError(
                    "its coins are too small: more than one transaction may spend would be "
                    "needed to pay the fee; consolidate them first"
                )
            candidates = [Candidate(c.outpoint, c.value, c.owner.kind, c.confirmed) for c in chosen]
            selection = finish_selection(
                candidates, [vote_script], 0, rate, voter.script, min_relay
            )
            if selection is not None:
                break
        if selection is None:
            spendable = sum(c.value for c in chosen)
            why = (
                "none of its coins can be spent now (immature, frozen or unconfirmed)"
                if not chosen
                else f"its spendable coins ({self.spending.money(spendable)}) do not cover the fee"
            )
            raise InsufficientFundsError(why)
        spent = sum(c.value for c in chosen)
        if voter.balance - spent + selection.change <= 0:
            raise InsufficientFundsError(
                "it would hold nothing after the fee, so its vote would have no weight"
            )
        outputs: list[tuple[bytes, int, bool]] = []
        if selection.change:
            outputs.append((voter.script, selection.change, True))
        outputs.append((vote_script, 0, False))
        preview = self.spending.preview("vote", chosen, outputs, rate)
        check_single_voter(preview, voter.script)
        return preview

    def _warnings(self, kind: str, target: bytes, candidate: bool, voters: int) -> list[str]:
        if kind == WITHDRAW:
            return []
        warnings: list[str] = []
        if target:
            warnings.append(COUNTS_ONLY_IF)
            sid = self.keys.script_id(target) if self.keys.owner(target) is not None else None
            if sid is not None:
                text = script_text(target, self.params)
                latest = self.latest_votes().get(sid)
                if latest is None or latest.is_withdraw:
                    warnings.append(
                        f"{text} is this wallet's own address and has not voted or declared "
                        "itself a candidate: make it a candidate (from that address) or these "
                        "votes go nowhere"
                    )
                if self.keys.base_of(sid) == sid and not self.voting_addresses(only={sid}):
                    warnings.append(f"{text} holds no coins: it is not counted")
        if candidate and voters > 1:
            warnings.append(f"each of the {voters} addresses stands as a separate candidate")
        return warnings

    # --- gathering the coins on one address ---

    def create_gather(
        self, address: str, *, fee_rate: str | float | Fraction | None = None
    ) -> list[TxPreview]:
        """Move every confirmed spendable coin on the wallet's other addresses to `address`
        (one of its own), in standard-size batches, so it votes with the whole balance."""
        rate = self.spending.fee_rate(fee_rate)
        dest = self.own_address(address)
        pool = (c for c in self.spending.consolidation_coins(rate, None) if c.script != dest.script)
        previews = self.spending.batched_previews("gather", pool, dest.script, rate)
        if not previews:
            raise WalletError(
                f"nothing to gather: no spendable coins on other addresses cover their fee "
                f"(the coins on {dest.address} stay where they are)"
            )
        return previews


def check_single_voter(preview: TxPreview, voter: bytes) -> None:
    """Every input of a vote must spend the voter's script: raise otherwise (never expected)."""
    strays = [c for c in preview.inputs if c.script != voter]
    if strays:
        raise WalletError("internal error: a vote transaction would spend coins of two addresses")
