"""Network Steward Electorium votes (2024 onward): the vote output and who cast it.

A vote is a zero-value output `OP_RETURN <flag || target pkScript>` (flag 0x00 = vote, 0x01 =
vote and stand as a candidate; an empty target withdraws). The voter is the one script that
every input of the transaction spends; its weight is that script's balance at the epoch cutoff.

The parser follows what the full node's vote indexer accepts (electorium.md §1.1, §2.1), not
the relay policy: exactly two opcodes, OP_RETURN then any push opcode (direct, PUSHDATA1/2/4,
minimal or not), non-empty data, first data byte 0 or 1, output value exactly 0. A transaction
with more than one such output, or whose inputs spend different scripts, casts no vote.

The builder writes the canonical form `6a <len> <flag> <target>`: the one-byte data of a
withdraw (`6a0100`) or of a candidacy without a target (`6a0101`) is a direct push, never the
OP_0/OP_1 a minimal-push builder would write (the indexer would not see those as votes).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .script import OP_16, OP_PUSHDATA1, OP_RETURN, ScriptError, iter_ops
from .tx import Transaction, TxOut

FLAG_VOTE = 0x00
FLAG_CANDIDATE = 0x01
MAX_VOTE_DATA = 80  # the relay policy's null-data limit (MaxDataCarrierSize)
MAX_VOTE_TARGET_SCRIPT = MAX_VOTE_DATA - 1
_MAX_DIRECT_PUSH = 0x4B


@dataclass(frozen=True)
class ElectoriumVote:
    """What one vote output says: the target's pkScript (b"" = nobody) and the candidate flag."""

    vote_for: bytes
    is_candidate: bool

    @property
    def is_withdraw(self) -> bool:
        """No target and no candidacy: the address leaves the count."""
        return not self.vote_for and not self.is_candidate


def vote_output_script(vote_for: bytes, is_candidate: bool) -> bytes:
    """The vote output script: `6a <len> <flag> <vote_for>` (a direct push up to 75 bytes).

    `vote_for` is the target's output script (b"" for none). Targets of 75..79 bytes need
    OP_PUSHDATA1, which is still the minimal push for that length; longer ones would make the
    transaction non-standard and raise ValueError.
    """
    if len(vote_for) > MAX_VOTE_TARGET_SCRIPT:
        raise ValueError(
            f"a vote target script is at most {MAX_VOTE_TARGET_SCRIPT} bytes, got {len(vote_for)}"
        )
    data = bytes((FLAG_CANDIDATE if is_candidate else FLAG_VOTE,)) + vote_for
    if len(data) <= _MAX_DIRECT_PUSH:
        return bytes((OP_RETURN, len(data))) + data
    return bytes((OP_RETURN, OP_PUSHDATA1, len(data))) + data


def withdraw_vote_script() -> bytes:
    """`6a0100`: the latest vote of the address says nobody and no candidacy."""
    return vote_output_script(b"", False)


def parse_vote_script(script: bytes) -> ElectoriumVote | None:
    """The vote a script carries as the indexer reads it, or None (the value is not checked)."""
    try:
        ops = list(iter_ops(script))
    except ScriptError:
        return None
    if len(ops) != 2 or ops[0].opcode != OP_RETURN or ops[1].opcode > OP_16:
        return None
    data = ops[1].data
    if not data or data[0] not in (FLAG_VOTE, FLAG_CANDIDATE):
        return None
    return ElectoriumVote(vote_for=data[1:], is_candidate=data[0] == FLAG_CANDIDATE)


def parse_vote_output(output: TxOut) -> ElectoriumVote | None:
    """The vote of one output: only zero-value outputs are examined."""
    if output.value != 0:
        return None
    return parse_vote_script(output.script)


class VoteStatus(Enum):
    NONE = "none"  # no vote output (or a coinbase)
    COUNTED = "counted"  # one vote, every input spends the same script
    SEVERAL_VOTES = "several_votes"  # more than one vote output: the whole transaction is ignored
    SEVERAL_VOTERS = "several_voters"  # inputs spend different scripts: the vote is ignored


@dataclass(frozen=True)
class TransactionVote:
    status: VoteStatus
    vote: ElectoriumVote | None = None  # the vote output's content (also when it is ignored)
    output_index: int | None = None
    voter_script: bytes | None = None  # set only when the status is COUNTED

    @property
    def counts(self) -> bool:
        return self.status is VoteStatus.COUNTED


def find_vote_outputs(outputs: Sequence[TxOut]) -> list[tuple[int, ElectoriumVote]]:
    """Every zero-value output that parses as a vote, with its index."""
    found = []
    for index, out in enumerate(outputs):
        vote = parse_vote_output(out)
        if vote is not None:
            found.append((index, vote))
    return found


def single_voter(spent_scripts: Sequence[bytes]) -> bytes | None:
    """The voter: the script every input spends, or None when they differ (or no inputs)."""
    if not spent_scripts:
        return None
    first = spent_scripts[0]
    if any(s != first for s in spent_scripts[1:]):
        return None
    return first


def read_transaction_vote(tx: Transaction, spent_scripts: Sequence[bytes]) -> TransactionVote:
    """The vote a transaction casts, given the output script each input spends (in order)."""
    if tx.is_coinbase():
        return TransactionVote(VoteStatus.NONE)
    if len(spent_scripts) != len(tx.inputs):
        raise ValueError(
            f"need the spent script of each of the {len(tx.inputs)} inputs, "
            f"got {len(spent_scripts)}"
        )
    found = find_vote_outputs(tx.outputs)
    if not found:
        return TransactionVote(VoteStatus.NONE)
    if len(found) > 1:
        return TransactionVote(VoteStatus.SEVERAL_VOTES)
    index, vote = found[0]
    voter = single_voter(spent_scripts)
    if voter is None:
        return TransactionVote(VoteStatus.SEVERAL_VOTERS, vote, index)
    return TransactionVote(VoteStatus.COUNTED, vote, index, voter)
