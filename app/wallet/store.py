"""The wallet's public state in one SQLite database (``<name>.db``).

Everything the wallet knows that is not secret lives here: account xpubs and derived public
keys, the scripts it watches, its transactions (only what it needs of them), its coins with
their spender, labels, frozen coins and the scan position. The encrypted key file
(``<name>.wallet``) is separate and unchanged.

* WAL journal, ``synchronous=NORMAL``: a commit survives a kill of the process at any moment
  (the journal is in the operating system's hands), and the file is never left damaged. A
  user action's commit is also made durable against a power cut (`commit(durable=True)`
  fsyncs the journal); a batch of blocks recorded by a sync is not waited on — after a power
  cut the sync asks for those blocks again (the wallet's own scan position decides). Writes
  are small transactions, never a rewrite of the whole file.
* The schema has a version (``PRAGMA user_version``) and forward migrations, each one applied in
  its own transaction. A database written by a newer program is refused, not damaged.
* Balances per address and mining earnings per day are kept up to date by triggers, so they
  stay right whatever code path changes the coins.
* Version 2 added the wallet's own Electorium votes (:mod:`app.wallet.vote_records`).

This module knows tables and transactions, not wallet rules (see :mod:`app.wallet.ledger`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import StateFileError
from .vote_records import backfill_votes

SCHEMA_VERSION = 2
APPLICATION_ID = 0x504B5457  # "PKTW": marks the file as a PKT wallet database
CACHE_KIB = 16 * 1024

# Transaction flags (txs.flags)
FLAG_COINBASE = 1
FLAG_SPENDS = 2  # spends at least one coin of the wallet
FLAG_ALL_INPUTS_OURS = 4  # every input spends a coin of the wallet (the fee is known)
FLAG_ALL_OUTPUTS_OURS = 8
FLAG_RBF = 16  # an input signals BIP125 replaceability

# Sort key of a transaction (txs.ord): confirmed ones by block height and position, then the
# unconfirmed ones by the time they were first seen.
POSITION_BITS = 20
UNCONFIRMED_ORD = 1 << 60


def confirmed_ord(height: int, position: int) -> int:
    return (height << POSITION_BITS) | min(position, (1 << POSITION_BITS) - 1)


def unconfirmed_ord(first_seen: int) -> int:
    return UNCONFIRMED_ORD + max(first_seen, 0)


_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,            -- account index
    scope TEXT NOT NULL,               -- AccountScope as JSON
    xpub TEXT NOT NULL,
    reserved INTEGER NOT NULL DEFAULT -1  -- highest receive index handed out
);

CREATE TABLE keys (
    account INTEGER NOT NULL,
    branch INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    pubkey BLOB,                       -- NULL: an invalid child index, skipped
    used INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, branch, idx)
) WITHOUT ROWID;

CREATE TABLE imported (
    id INTEGER PRIMARY KEY,
    pubkey BLOB NOT NULL UNIQUE,
    compressed INTEGER NOT NULL,
    label TEXT NOT NULL DEFAULT ''
);

-- Every script the wallet watches, with the key that spends it. Account -1: imported keys.
CREATE TABLE scripts (
    id INTEGER PRIMARY KEY,
    script BLOB NOT NULL UNIQUE,
    account INTEGER NOT NULL,
    branch INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,                -- how it is spent: p2wpkh, p2sh-p2wpkh, p2pkh, ...
    base INTEGER NOT NULL,             -- the same script without a vote suffix (itself if none)
    form INTEGER NOT NULL              -- position among the key's script forms (0: primary)
);

-- The wallet's transactions. For one that only pays the wallet and is bulky (a coinbase of a
-- pool's 150 outputs), only the wallet's outputs are kept (as coins) and raw is NULL.
CREATE TABLE txs (
    id INTEGER PRIMARY KEY,
    txid BLOB NOT NULL UNIQUE,         -- internal byte order
    height INTEGER,                    -- NULL: unconfirmed
    time INTEGER,                      -- block time
    pos INTEGER NOT NULL DEFAULT 0,    -- position in its block
    first_seen INTEGER NOT NULL,
    ord INTEGER NOT NULL,              -- history order (see store.confirmed_ord)
    flags INTEGER NOT NULL,
    amount INTEGER NOT NULL,           -- net change of the wallet's balance
    fee INTEGER,                       -- known when every input is the wallet's
    running INTEGER NOT NULL DEFAULT 0,  -- balance after it, in history order
    n_out INTEGER NOT NULL,
    raw BLOB
);
CREATE INDEX txs_order ON txs (ord, id);

-- Outputs paying the wallet, spent (spent_by) or not.
CREATE TABLE coins (
    tx INTEGER NOT NULL,
    vout INTEGER NOT NULL,
    value INTEGER NOT NULL,
    script INTEGER NOT NULL,           -- scripts.id
    height INTEGER,                    -- its transaction's (NULL: unconfirmed)
    cb INTEGER NOT NULL,               -- a coinbase output
    ns INTEGER NOT NULL,               -- a Network Steward payment (expires)
    spent_by INTEGER,                  -- txs.id of the spending transaction
    PRIMARY KEY (tx, vout)
) WITHOUT ROWID;
CREATE INDEX coins_unspent_value ON coins (value) WHERE spent_by IS NULL;
CREATE INDEX coins_unspent_height ON coins (height, cb) WHERE spent_by IS NULL;
CREATE INDEX coins_unspent_ns ON coins (height) WHERE ns = 1 AND spent_by IS NULL;
CREATE INDEX coins_spent_by ON coins (spent_by) WHERE spent_by IS NOT NULL;

-- Inputs of the stored transactions that are not coinbases: who spends what (conflicts,
-- a child seen before its parent).
CREATE TABLE inputs (
    prev_txid BLOB NOT NULL,
    prev_vout INTEGER NOT NULL,
    spender INTEGER NOT NULL,          -- txs.id
    PRIMARY KEY (prev_txid, prev_vout, spender)
) WITHOUT ROWID;
CREATE INDEX inputs_spender ON inputs (spender);

CREATE TABLE labels (target TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE frozen (
    txid BLOB NOT NULL, vout INTEGER NOT NULL, PRIMARY KEY (txid, vout)
) WITHOUT ROWID;

-- Kept by triggers: unspent value and coin count per script (vote suffixes folded into the
-- base script), and coinbase earnings per UTC day.
CREATE TABLE script_balance (
    script INTEGER PRIMARY KEY, unspent INTEGER NOT NULL, coins INTEGER NOT NULL
);
CREATE TABLE coinbase_days (
    day INTEGER PRIMARY KEY, amount INTEGER NOT NULL, blocks INTEGER NOT NULL
);

CREATE TRIGGER coins_added AFTER INSERT ON coins WHEN NEW.spent_by IS NULL BEGIN
    INSERT INTO script_balance (script, unspent, coins)
        SELECT base, NEW.value, 1 FROM scripts WHERE id = NEW.script
        ON CONFLICT (script) DO UPDATE
        SET unspent = unspent + excluded.unspent, coins = coins + 1;
END;
CREATE TRIGGER coins_removed AFTER DELETE ON coins WHEN OLD.spent_by IS NULL BEGIN
    UPDATE script_balance SET unspent = unspent - OLD.value, coins = coins - 1
        WHERE script = (SELECT base FROM scripts WHERE id = OLD.script);
END;
CREATE TRIGGER coins_spent AFTER UPDATE OF spent_by ON coins
    WHEN OLD.spent_by IS NULL AND NEW.spent_by IS NOT NULL BEGIN
    UPDATE script_balance SET unspent = unspent - OLD.value, coins = coins - 1
        WHERE script = (SELECT base FROM scripts WHERE id = OLD.script);
END;
CREATE TRIGGER coins_unspent AFTER UPDATE OF spent_by ON coins
    WHEN OLD.spent_by IS NOT NULL AND NEW.spent_by IS NULL BEGIN
    INSERT INTO script_balance (script, unspent, coins)
        SELECT base, NEW.value, 1 FROM scripts WHERE id = NEW.script
        ON CONFLICT (script) DO UPDATE
        SET unspent = unspent + excluded.unspent, coins = coins + 1;
END;

CREATE TRIGGER coinbase_added AFTER INSERT ON txs
    WHEN NEW.flags & 1 AND NEW.height IS NOT NULL AND NEW.amount > 0 BEGIN
    INSERT INTO coinbase_days (day, amount, blocks) VALUES (NEW.time / 86400, NEW.amount, 1)
        ON CONFLICT (day) DO UPDATE
        SET amount = amount + excluded.amount, blocks = blocks + 1;
END;
CREATE TRIGGER coinbase_removed AFTER DELETE ON txs
    WHEN OLD.flags & 1 AND OLD.height IS NOT NULL AND OLD.amount > 0 BEGIN
    UPDATE coinbase_days SET amount = amount - OLD.amount, blocks = blocks - 1
        WHERE day = OLD.time / 86400;
END;
CREATE TRIGGER coinbase_changed AFTER UPDATE OF amount, height, time ON txs
    WHEN OLD.flags & 1 BEGIN
    UPDATE coinbase_days SET amount = amount - OLD.amount, blocks = blocks - 1
        WHERE OLD.height IS NOT NULL AND OLD.amount > 0 AND day = OLD.time / 86400;
    INSERT INTO coinbase_days (day, amount, blocks)
        SELECT NEW.time / 86400, NEW.amount, 1 WHERE NEW.height IS NOT NULL AND NEW.amount > 0
        ON CONFLICT (day) DO UPDATE
        SET amount = amount + excluded.amount, blocks = blocks + 1;
END;
"""

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


# Forward migrations: MIGRATIONS[v] brings a database from version v - 1 to v.
def _execute_script(db: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one inside the caller's transaction (executescript would
    commit it first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError("incomplete SQL statement in a migration")


def _create_v1(db: sqlite3.Connection) -> None:
    _execute_script(db, _SCHEMA_V1)


def _add_votes_v2(db: sqlite3.Connection) -> None:
    """The wallet's own Electorium votes (table ``votes``, filled from the transactions
    already stored whose inputs are all the wallet's) and an index of the unspent coins per
    script."""
    _execute_script(db, _SCHEMA_V2)
    stored = db.execute(
        "SELECT id, raw FROM txs WHERE raw IS NOT NULL AND flags & ? AND NOT flags & ?",
        (FLAG_ALL_INPUTS_OURS, FLAG_COINBASE),
    )
    backfill_votes(db, stored)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _create_v1, 2: _add_votes_v2}


class WalletStore:
    """One open wallet database. Not thread-safe: one thread at a time uses it (the wallet is
    driven from the core's network thread)."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StateFileError(f"the wallet database {self.path.name} is missing")
        if create:
            # Private from the start: the journal files take the database file's mode.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        try:
            self.db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=5.0
            )
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open {self.path.name}: {exc}") from None
        self._in_tx = False
        # Called (in order) right before every commit, inside the transaction: views kept in
        # memory write themselves out here, so what is committed is always consistent.
        self.before_commit: list[Callable[[], None]] = []
        try:
            self._configure()
            self._migrate(create)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StateFileError(
                f"{self.path.name} is not a usable wallet database ({exc})"
            ) from None
        except BaseException:
            self.db.close()
            raise

    def _configure(self) -> None:
        db = self.db
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute("PRAGMA temp_store = MEMORY")

    def _migrate(self, create: bool) -> None:
        db = self.db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if not create and app_id != APPLICATION_ID:
            raise StateFileError(f"{self.path.name} is not a PKT wallet database")
        if version > SCHEMA_VERSION:
            raise StateFileError(
                f"{self.path.name} was written by a newer version of this program (wallet "
                f"database version {version}; this one reads up to {SCHEMA_VERSION}): "
                "update the program"
            )
        while version < SCHEMA_VERSION:
            version += 1
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {version}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # --- transactions ---

    def begin(self) -> None:
        """Start a write transaction unless one is open (writes then batch until commit)."""
        if not self._in_tx:
            self.db.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def commit(self, durable: bool = True) -> None:
        """Commit the open transaction; `durable`: also wait until it is on the disk (a user
        action), not only in the operating system's hands (a batch of blocks)."""
        if self._in_tx:
            for hook in self.before_commit:
                hook()
            self.db.execute("COMMIT")
            self._in_tx = False
            if durable:
                self._sync_journal()

    def _sync_journal(self) -> None:
        """fsync the write-ahead journal, where a commit's pages are until a checkpoint."""
        try:
            fd = os.open(self.path.with_name(self.path.name + "-wal"), os.O_RDONLY)
        except FileNotFoundError:  # checkpointed and removed: the pages are in the database
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def rollback(self) -> None:
        if self._in_tx:
            self.db.execute("ROLLBACK")
            self._in_tx = False

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One user action: everything inside is committed together (with any batch of
        blocks still open), or rolled back on an error."""
        self.begin()
        try:
            yield self.db
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.db.close()

    # --- key/value settings ---

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        self.begin()
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, sort_keys=True)),
        )

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def size_on_disk(self) -> int:
        """Bytes of the database and its journal files."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                total += self.path.with_name(self.path.name + suffix).stat().st_size
        return total

    def checkpoint(self) -> None:
        """Fold the journal into the database file (done by SQLite on its own as it grows)."""
        self.commit()
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
