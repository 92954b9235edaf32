"""The wallet's own Electorium votes, recorded as the ledger adds their transactions.

A transaction of the wallet casts a vote when every input spends the same one of the wallet's
scripts (the voter) and exactly one zero-value output parses as a vote
(`spv.electorium_vote`, electorium.md §1-§2). The ledger calls :func:`record_vote` for every
new transaction whose inputs are all the wallet's; the row goes with its transaction (a
trigger deletes it when the transaction leaves the ledger: a conflict, a reorg of a coinbase
parent). Height and time come from the transaction's row, so a vote confirmed, or taken back
to unconfirmed by a reorg, needs no update here.

Schema version 2 adds the table and backfills it from the raw transactions already stored
(:func:`create_votes_table`), reading only the transactions that can carry a vote.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from spv.electorium_vote import find_vote_outputs
from spv.tx import Transaction

from .store import FLAG_ALL_INPUTS_OURS, FLAG_COINBASE, execute_script

_SCHEMA_V2 = """
-- Electorium votes cast by the wallet's own transactions: every input spends one script of
-- the wallet (the voter), one zero-value output carries the vote.
CREATE TABLE votes (
    tx INTEGER PRIMARY KEY,            -- txs.id of the transaction that casts it
    voter INTEGER NOT NULL,            -- scripts.id of the script every input spends
    vote_for BLOB NOT NULL,            -- the target's output script (empty: nobody)
    candidate INTEGER NOT NULL         -- 1: the voter also stands as a candidate
);
CREATE INDEX votes_voter ON votes (voter);
CREATE TRIGGER votes_tx_removed AFTER DELETE ON txs BEGIN
    DELETE FROM votes WHERE tx = OLD.id;
END;

-- One address's unspent coins by value: a vote spends only coins of its voter, largest first.
CREATE INDEX coins_unspent_script ON coins (script, value) WHERE spent_by IS NULL;
"""

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


def backfill_votes(db: sqlite3.Connection) -> int:
    """Record the votes of the transactions already stored; how many were found."""
    candidates = [
        (int(tx_row), bytes(raw))
        for tx_row, raw in db.execute(
            "SELECT id, raw FROM txs WHERE raw IS NOT NULL AND flags & ? AND NOT flags & ?",
            (FLAG_ALL_INPUTS_OURS, FLAG_COINBASE),
        )
        if _MAYBE_VOTE.search(raw) is not None
    ]
    found = 0
    for tx_row, raw in candidates:
        found += record_vote(db, tx_row, Transaction.parse(raw))
    return found


def create_votes_table(db: sqlite3.Connection) -> None:
    """Schema version 2: the votes table, its index and trigger, filled from the stored
    transactions (inside the migration's transaction)."""
    execute_script(db, _SCHEMA_V2)
    backfill_votes(db)


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
