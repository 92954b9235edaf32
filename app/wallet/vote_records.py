"""The wallet's own Electorium votes, recorded as the ledger adds their transactions.

A transaction of the wallet casts a vote when every input spends the same one of the wallet's
scripts (the voter) and exactly one zero-value output parses as a vote
(`spv.electorium_vote`, electorium.md §1-§2). The ledger calls :func:`record_vote` for every
new transaction whose inputs are all the wallet's; the row goes with its transaction (a
trigger deletes it when the transaction leaves the ledger: a conflict, a reorg of a coinbase
parent). Height and time come from the transaction's row, so a vote confirmed, or taken back
to unconfirmed by a reorg, needs no update here.

Schema version 2 (:mod:`app.wallet.store`) adds the table and backfills it from the raw
transactions already stored (:func:`backfill_votes`), parsing only those that can carry a vote.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from spv.electorium_vote import find_vote_outputs
from spv.tx import Transaction

# A zero value (8 bytes) followed by a script length and OP_RETURN: a raw transaction without
# this cannot hold a vote output, so the backfill parses only the ones that match.
_MAYBE_VOTE = re.compile(rb"\x00{8}[\x01-\xfc]\x6a", re.DOTALL)


@dataclass(frozen=True)
class VoteRecord:
    """One vote transaction of the wallet."""

    voter: int  # scripts.id
    vote_for: bytes  # the target's output script (b"": nobody)
    candidate: bool
    txid: bytes  # display byte order
    height: int | None  # None: not confirmed
    block_time: int | None
    first_seen: int

    @property
    def is_withdraw(self) -> bool:
        return not self.vote_for and not self.candidate


def record_vote(db: sqlite3.Connection, tx_row: int, tx: Transaction) -> bool:
    """Record the vote `tx` (row `tx_row`, whose spent coins are marked) casts, if it casts
    one from a single script of the wallet. Returns whether a vote was recorded."""
    found = find_vote_outputs(tx.outputs)
    if len(found) != 1:
        return False
    voters = db.execute(
        "SELECT DISTINCT script FROM coins WHERE spent_by = ? LIMIT 2", (tx_row,)
    ).fetchall()
    if len(voters) != 1:
        return False
    vote = found[0][1]
    db.execute(
        "INSERT OR REPLACE INTO votes (tx, voter, vote_for, candidate) VALUES (?, ?, ?, ?)",
        (tx_row, int(voters[0][0]), vote.vote_for, int(vote.is_candidate)),
    )
    return True


def backfill_votes(db: sqlite3.Connection, stored: Iterable[tuple[int, bytes]]) -> int:
    """Record the votes among `stored` (transaction row, raw bytes): the transactions already
    in the database whose inputs are all the wallet's. Only those whose bytes can hold a vote
    output are parsed. Returns how many votes were found."""
    candidates = [(row, bytes(raw)) for row, raw in stored if _MAYBE_VOTE.search(raw)]
    return sum(record_vote(db, row, Transaction.parse(raw)) for row, raw in candidates)


def vote_records(db: sqlite3.Connection) -> list[VoteRecord]:
    """Every vote of the wallet, each voter's newest first (confirmed ones by block and
    position, then the unconfirmed ones)."""
    return [
        VoteRecord(
            voter=int(voter),
            vote_for=bytes(vote_for),
            candidate=bool(candidate),
            txid=bytes(txid),
            height=height,
            block_time=block_time,
            first_seen=int(first_seen),
        )
        for voter, vote_for, candidate, txid, height, block_time, first_seen in db.execute(
            "SELECT v.voter, v.vote_for, v.candidate, t.txid, t.height, t.time, t.first_seen "
            "FROM votes v JOIN txs t ON t.id = v.tx ORDER BY v.voter, t.ord DESC, t.id DESC"
        )
    ]
