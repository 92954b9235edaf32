"""The Network Steward cache: one SQLite file, `<datadir>/steward.sqlite`.

It holds the GitHub API responses with their ETags (for `If-None-Match` revalidation), proposal
file contents by git blob SHA (immutable, so each is downloaded once), the assembled proposal
list, the last election state, settings and bookkeeping (when data was last refreshed, the rate
limit's reset time). Every write is a transaction; the proposal list is replaced in one, so a
reader sees the old list or the new one, never half of each. WAL mode lets the desktop app read
while the CLI refreshes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spv.atomic import make_private_dir

from .errors import StewardError
from .proposal import Proposal

DB_NAME = "steward.sqlite"

SETTING_GITHUB_API = "github_api_url"
SETTING_RAW_BASE = "github_raw_url"
SETTING_EXPLORER = "explorer_api_url"
SETTING_TOKEN = "github_token"
SETTING_REPO = "repository"
SETTING_BRANCH = "branch"
SETTING_NODE_URL = "node_rpc_url"
SETTING_NODE_USER = "node_rpc_user"
SETTING_NODE_PASSWORD = "node_rpc_password"  # only where no OS keyring exists
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    content_type TEXT,
    body BLOB NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    sha TEXT PRIMARY KEY,
    path TEXT,
    content BLOB NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    date TEXT,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class CachedResponse:
    url: str
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes
    fetched_at: float


class Store:
    """Access to steward.sqlite. One instance per thread (sqlite3 connections are not shared)."""

    def __init__(self, datadir: Path) -> None:
        self.path = Path(datadir) / DB_NAME
        try:
            make_private_dir(self.path.parent)
            self._db = sqlite3.connect(self.path, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise StewardError(f"cannot open the steward cache {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            with self._db:
                self._db.executescript(_SCHEMA)
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version > SCHEMA_VERSION:
                    raise StewardError(
                        f"{self.path} was written by a newer version (schema {version})"
                    )
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StewardError(f"the steward cache {self.path} is unreadable: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP responses ---------------------------------------------------------------------

    def cached_response(self, url: str) -> CachedResponse | None:
        row = self._db.execute(
            "SELECT url, etag, last_modified, content_type, body, fetched_at "
            "FROM http_cache WHERE url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return CachedResponse(row[0], row[1], row[2], row[3], bytes(row[4]), float(row[5]))

    def put_response(
        self,
        url: str,
        body: bytes,
        etag: str | None,
        last_modified: str | None,
        content_type: str | None,
        fetched_at: float | None = None,
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO http_cache "
                "(url, etag, last_modified, content_type, body, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (url, etag, last_modified, content_type, body, fetched_at or time.time()),
            )

    def touch_response(self, url: str, fetched_at: float | None = None) -> None:
        with self._db:
            self._db.execute(
                "UPDATE http_cache SET fetched_at = ? WHERE url = ?",
                (fetched_at or time.time(), url),
            )

    # --- file contents by git blob SHA ------------------------------------------------------

    def blob(self, sha: str) -> bytes | None:
        row = self._db.execute("SELECT content FROM blobs WHERE sha = ?", (sha,)).fetchone()
        return bytes(row[0]) if row else None

    def put_blob(self, sha: str, path: str, content: bytes) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO blobs (sha, path, content, fetched_at) VALUES (?, ?, ?, ?)",
                (sha, path, content, time.time()),
            )

    # --- proposals --------------------------------------------------------------------------

    def replace_proposals(self, proposals: list[Proposal], meta: dict[str, Any]) -> None:
        """Swap in a new proposal list and its bookkeeping in one transaction."""
        with self._db:
            self._db.execute("DELETE FROM proposals")
            self._db.executemany(
                "INSERT INTO proposals (id, status, date, data) VALUES (?, ?, ?, ?)",
                [(p.id, p.status, p.date, json.dumps(p.to_dict())) for p in proposals],
            )
            for key, value in meta.items():
                self._put_meta(key, value)

    def proposals(self) -> list[Proposal]:
        rows = self._db.execute("SELECT data FROM proposals ORDER BY id").fetchall()
        out: list[Proposal] = []
        for (data,) in rows:
            try:
                out.append(Proposal.from_dict(json.loads(data)))
            except (ValueError, TypeError, KeyError) as exc:
                raise StewardError(
                    f"the steward cache {self.path} holds an unreadable proposal ({exc}); "
                    "run `steward refresh`"
                ) from None
        return out

    # --- bookkeeping and settings -------------------------------------------------------------

    def _put_meta(self, key: str, value: Any) -> None:
        if value is None:
            self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
            )

    def set_meta(self, **values: Any) -> None:
        with self._db:
            for key, value in values.items():
                self._put_meta(key, value)

    def meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            return None

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self._db:
            if value is None:
                self._db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )

    def settings(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._db.execute("SELECT key, value FROM settings")}
