"""Importing a wallet's state file of the JSON era (``<name>.state.json``, format version 1)
into its SQLite database, the first time such a wallet is opened.

The database is built under a temporary name and renamed into place only once complete, then
the JSON file is renamed ``<name>.state.json.imported`` and kept as a backup: a kill at any
moment leaves either the old JSON wallet (imported again at the next open) or the complete
database. A damaged state file falls back to its ``.bak`` as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spv.atomic import fsync_directory
from spv.params import NetworkParams
from spv.tx import Transaction

from .accounts import EXTERNAL, INTERNAL
from .errors import StateFileError
from .keychain import ImportedKey, KeyChain, scope_from_json
from .ledger import Ledger
from .model import KeyRef, outpoint_from_text
from .store import WalletStore

log = logging.getLogger(__name__)

LEGACY_FORMAT = "pkt-wallet-state"
LEGACY_VERSION = 1
MAX_STATE_SIZE = 256 * 1024 * 1024
IMPORTED_SUFFIX = ".imported"


def legacy_candidates(path: Path) -> Iterable[tuple[dict[str, Any] | None, bool, str]]:
    """(JSON, is_backup, error) for the state file, then its backup."""
    for candidate, is_backup in ((path, False), (path.with_name(path.name + ".bak"), True)):
        try:
            with candidate.open("rb") as fh:
                raw = fh.read(MAX_STATE_SIZE + 1)
        except FileNotFoundError:
            yield None, is_backup, f"{candidate.name} is missing"
            continue
        if len(raw) > MAX_STATE_SIZE:
            yield None, is_backup, f"{candidate.name} is too large"
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            yield None, is_backup, f"{candidate.name} is not valid JSON (truncated or damaged)"
            continue
        if not isinstance(data, dict) or data.get("format") != LEGACY_FORMAT:
            yield None, is_backup, f"{candidate.name} is not a wallet state file"
            continue
        yield data, is_backup, ""


def import_legacy_state(json_path: Path, db_path: Path, params: NetworkParams, name: str) -> bool:
    """Build `db_path` from the JSON state file (or its backup). Returns True when the backup
    had to be used. Raises StateFileError when neither can be imported."""
    errors: list[str] = []
    for data, is_backup, error in legacy_candidates(json_path):
        if data is None:
            errors.append(error)
            continue
        tmp = db_path.with_name(f".{db_path.name}.importing")
        _remove_database(tmp)
        try:
            _build(tmp, data, params, name)
        except StateFileError as exc:
            _remove_database(tmp)
            if "wallet, not" in str(exc):
                raise  # another network's wallet: no point trying the backup
            errors.append(f"{'the backup' if is_backup else 'the state file'}: {exc}")
            continue
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            _remove_database(tmp)
            errors.append(
                f"{'the backup' if is_backup else 'the state file'}: "
                f"{exc.__class__.__name__}: {exc}"
            )
            continue
        os.replace(tmp, db_path)
        fsync_directory(db_path.parent)
        with contextlib.suppress(OSError):
            json_path.replace(json_path.with_name(json_path.name + IMPORTED_SUFFIX))
        log.info("wallet %s: state file imported into %s", name, db_path.name)
        return is_backup
    raise StateFileError(
        f"the state file of wallet {name!r} is damaged ({'; '.join(errors)}); rebuild "
        f"it with the password: pkt-wallet repair --wallet {name}"
    )


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def _build(path: Path, data: Mapping[str, Any], params: NetworkParams, name: str) -> None:
    if data.get("version") != LEGACY_VERSION:
        raise StateFileError(
            f"wallet state version {data.get('version')!r} is not supported "
            f"(this program imports {LEGACY_VERSION})"
        )
    if data.get("network") != params.name:
        raise StateFileError(
            f"wallet {name!r} is a {data.get('network')} wallet, not {params.name}"
        )
    store = WalletStore(path, create=True)
    try:
        settings = data.get("settings", {})
        sync = data.get("sync", {})
        store.begin()
        for key, value in {
            "network": params.name,
            "seed_type": str(data["seed_type"]),
            "word_count": int(data.get("word_count", 0)),
            "birthday": data.get("birthday"),
            "backed_up": bool(data["backed_up"]),
            "created": int(data.get("created", 0)),
            "gap_limit": int(settings.get("gap_limit", 20)),
            "fee_rate": str(settings.get("fee_rate", "1")),
            "default_account": int(data.get("default_account", 0)),
            "legacy_account": data.get("legacy_account"),
            "synced_height": int(sync.get("height", -1)),
            "tip_height": int(sync.get("tip_height", sync.get("height", -1))),
            "locator": [[int(h), str(x)] for h, x in sync.get("locator", [])],
            "restoring": bool(sync.get("restoring", False)),
            "birthday_height": sync.get("birthday_height"),
            "pending_rescan": sync.get("pending_rescan"),
            "imported_from": "state.json v1",
        }.items():
            store.put(key, value)
        keys = KeyChain(store, params, int(settings.get("gap_limit", 20)))
        for ai, acc in enumerate(data["accounts"]):
            keys.add_account(scope_from_json(acc), str(acc["xpub"]))
            keys.reserve_quietly(ai, int(acc.get("reserved", -1)))
            for branch in (EXTERNAL, INTERNAL):
                for index, pub in enumerate(acc["keys"][str(branch)]):
                    keys.import_key_row(ai, branch, index, bytes.fromhex(pub) if pub else None)
        for k in data.get("imported", []):
            keys.add_imported(
                ImportedKey(
                    bytes.fromhex(k["public_key"]), bool(k["compressed"]), k.get("label", "")
                )
            )
        keys.mark_used_quietly(KeyRef(*ref) for ref in data.get("used", []))
        for v in data.get("vote_scripts", []):
            keys.script_id(bytes.fromhex(v["script"]))  # a vote form of a wallet script
        db = store.db
        db.executemany(
            "INSERT INTO labels (target, text) VALUES (?, ?)",
            [(str(t), str(x)) for t, x in data.get("labels", {}).items() if x],
        )
        frozen = [outpoint_from_text(t) for t in data.get("frozen", [])]
        db.executemany(
            "INSERT OR IGNORE INTO frozen (txid, vout) VALUES (?, ?)",
            [(op.txid[::-1], op.index) for op in frozen],
        )
        ledger = Ledger(store, keys, params)
        for item in _ordered(data.get("transactions", [])):
            tx = Transaction.parse(bytes.fromhex(item["raw"]))
            if tx.txid_hex != item["txid"]:
                raise StateFileError(f"transaction {item['txid']} does not match its raw bytes")
            height = item.get("height")
            ledger.add(
                tx,
                height=int(height) if height is not None else None,
                timestamp=int(item["timestamp"]) if item.get("timestamp") is not None else None,
                position=int(item.get("position", 0)),
                now=int(item.get("first_seen", 0)),
            )
        ledger.tip_height = int(sync.get("tip_height", sync.get("height", -1)))
        store.commit()
        store.checkpoint()
    finally:
        store.db.close()


def _ordered(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Confirmed transactions by block and position, then unconfirmed ones as first seen."""

    def key(item: Mapping[str, Any]) -> tuple[int, int, int, int]:
        if item.get("height") is not None:
            return (0, int(item["height"]), int(item.get("position", 0)), 0)
        return (1, 0, 0, int(item.get("first_seen", 0)))

    return sorted(items, key=key)
