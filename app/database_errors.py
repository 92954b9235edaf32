"""What an SQLite error from a wallet database means for the user.

A damaged database can raise ``sqlite3.DatabaseError`` from any query, long after it opened
("database disk image is malformed", "file is not a database"). The CLI and the window turn
such errors into one sentence with the remedy (``pkt-wallet repair``, which rebuilds the
database from the key file) instead of SQLite's own words.
"""

from __future__ import annotations

import sqlite3

BUSY = "busy"
DAMAGED = "damaged"
UNUSABLE = "unusable"


def database_problem(exc: sqlite3.Error) -> str:
    """`busy` (another program holds it), `damaged` (its contents cannot be read back) or
    `unusable` (the file cannot be opened or written: a permission, a full disk...)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return BUSY
    if isinstance(exc, sqlite3.OperationalError) and (
        "unable to open" in text
        or "readonly" in text
        or "read-only" in text
        or "disk i/o" in text
        or "full" in text
    ):
        return UNUSABLE
    return DAMAGED


def database_error_text(exc: sqlite3.Error, wallet: str | None = None) -> str:
    """One sentence for the user; `wallet` names the wallet in the repair command."""
    kind = database_problem(exc)
    if kind == BUSY:
        return "the wallet database is in use by another program; close it and try again"
    if kind == UNUSABLE:
        return f"the wallet database cannot be used ({exc}); check the data folder and the disk"
    name = wallet or "NAME"
    return (
        f"the wallet database is damaged: pkt-wallet repair --wallet {name} rebuilds it from "
        "the key file (your password is needed)"
    )
