"""An open wallet: its settings and sync position, addresses, labels and frozen coins, the
light client's watcher methods, views (balance, history, coins), spending and signing.
Opening, creating and repairing the files is :class:`app.wallet.wallet.Wallet`'s job."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets as _secrets
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from miner.threadguard import forbid_gui_thread
from spv.address import address_from_script, script_for_address
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.tx import OutPoint
from spv.uri import PaymentURI, format_payment_uri

from . import keystore
from .accounts import AddressKind
from .chain_watch import ChainWatching
from .coin_queries import CoinQueries
from .errors import BackupCheckError, PasswordError, StateFileError, WalletError
from .files import db_path, key_path
from .history import History
from .keychain import AccountState, ImportedKey, KeyChain
from .ledger import Ledger, display_txid
from .model import (
    AddressInfo,
    KeyRef,
    Owned,
)
from .seeds import open_secrets
from .spending import Spending
from .store import WalletStore
from .txbuild import parse_fee_rate
from .voting import Voting
from .wallet_parts import HeightIndex
from .wallet_signing import Signing
from .wallet_views import Views

log = logging.getLogger(__name__)

BIRTHDAY_MARGIN_SECONDS = 2 * 86400  # scan from two days before the birthday
COMMIT_INTERVAL_SECONDS = 1.0  # during a sync, blocks are committed at least this often
_TXID_RE = re.compile(r"[0-9a-fA-F]{64}")


def today_of(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def _norm_words(text: str) -> list[str]:
    return [unicodedata.normalize("NFKD", w).lower() for w in text.split()]


# The settings and sync position kept in the database's meta table, with their defaults.
_META_DEFAULTS: dict[str, Any] = {
    "word_count": 0,
    "birthday": None,
    "created": 0,
    "gap_limit": 20,
    "fee_rate": "1",
    "default_account": 0,
    "legacy_account": None,
    "synced_height": -1,
    "locator": [],
    "restoring": False,
    "birthday_height": None,
    "pending_rescan": None,
}


class OpenWallet(ChainWatching, Views, Signing):
    """An open wallet database with its keys. Driven from one thread at a time."""

    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        name: str,
        store: WalletStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.params = params
        self.datadir = Path(datadir)
        self.name = name
        self.key_path = key_path(self.datadir, name)
        self.state_path = db_path(self.datadir, name)
        self.store = store
        self.clock = clock
        self._lock: Any = None
        self._fresh_mnemonic: str | None = None
        self.recovered_from_backup = False
        self._rescan_request: int | None = None
        self._chain: HeightIndex | None = None
        self._last_commit = time.monotonic()
        try:
            self._load()
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, WalletError):
                raise
            raise StateFileError(
                f"the database of wallet {name!r} is invalid ({exc.__class__.__name__}: "
                f"{exc}); repair it with: pkt-wallet repair --wallet {name}"
            ) from None

    def _load(self) -> None:
        self.store.before_commit.clear()  # a reload replaces the views that write themselves
        meta = self.store.meta()
        if meta.get("network") != self.params.name:
            raise StateFileError(
                f"wallet {self.name!r} is a {meta.get('network')} wallet, not {self.params.name}"
            )
        values = {**_META_DEFAULTS, **meta}
        self.seed_type: str = str(values["seed_type"])
        self.word_count: int = int(values["word_count"])
        self.birthday: date | None = (
            date.fromisoformat(values["birthday"]) if values["birthday"] else None
        )
        self.backed_up: bool = bool(values["backed_up"])
        self.created: int = int(values["created"])
        self.gap_limit: int = int(values["gap_limit"])
        if not 1 <= self.gap_limit <= 10_000:
            raise ValueError("gap limit out of range")
        self.default_fee_rate: Fraction = parse_fee_rate(values["fee_rate"])
        self.default_account: int = int(values["default_account"])
        self.legacy_account: int | None = values["legacy_account"]
        self.synced_height: int = int(values["synced_height"])
        self.locator: list[tuple[int, bytes]] = [
            (int(h), bytes.fromhex(x)) for h, x in values["locator"]
        ]
        self.restoring: bool = bool(values["restoring"])
        bh = values["birthday_height"]
        self.birthday_height: int | None = int(bh) if bh is not None else None
        rescan = values["pending_rescan"]
        self.pending_rescan: int | None = int(rescan) if rescan is not None else None
        self._saved_meta = self._meta_values()
        self.store.before_commit.insert(0, self._write_meta)
        self.keys = KeyChain(self.store, self.params, self.gap_limit)
        self.keys.load()
        self.labels: dict[str, str] = dict(self.store.db.execute("SELECT target, text FROM labels"))
        self.frozen: set[OutPoint] = {
            OutPoint(display_txid(bytes(t)), int(v))
            for t, v in self.store.db.execute("SELECT txid, vout FROM frozen")
        }
        self.ledger = Ledger(self.store, self.keys, self.params)
        self.coin_queries = CoinQueries(self.ledger, self.frozen)
        self.history_view = History(self.ledger, self.labels)
        self.spending = Spending(
            self.params,
            self.keys,
            self.ledger,
            self.coin_queries,
            lambda: self.default_account,
            lambda: self.default_fee_rate,
            lambda: self.legacy_account,
        )
        self.voting = Voting(self.params, self.keys, self.ledger, self.coin_queries, self.spending)
        if self.keys.extend_gaps():
            self.save()

    def _meta_values(self) -> dict[str, Any]:
        return {
            "backed_up": self.backed_up,
            "synced_height": self.synced_height,
            "locator": [[h, x.hex()] for h, x in self.locator],
            "restoring": self.restoring,
            "birthday_height": self.birthday_height,
            "pending_rescan": self.pending_rescan,
            "fee_rate": str(self.default_fee_rate),
        }

    def _write_meta(self) -> None:
        values = self._meta_values()
        for key, value in values.items():
            if self._saved_meta.get(key) != value:
                self.store.put(key, value)
        self._saved_meta = values

    # --- committing ---

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Around every change of the ledger: if it fails half-way (a full disk, a bug), the
        whole uncommitted batch is rolled back and the wallet reloads what is committed, so
        nothing half-written is ever committed (the light client saves its own scan position
        only after the wallet committed: the blocks are asked again)."""
        try:
            yield
        except BaseException:
            self.store.rollback()
            self._load()
            raise

    def save(self, durable: bool = True) -> None:
        """Commit what changed (a no-op when nothing did); `durable` waits for the disk (see
        app.wallet.store: a sync's batches do not, a user's actions do)."""
        forbid_gui_thread("Wallet.save")
        self.store.begin()  # the settings written by the commit hook need a transaction
        self.store.commit(durable)
        self._last_commit = time.monotonic()

    def _maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= COMMIT_INTERVAL_SECONDS:
            self.save(durable=False)

    def close(self) -> None:
        try:
            self.save()
        finally:
            self.store.close()
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> OpenWallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- compatibility views of the key chain ---

    @property
    def accounts(self) -> list[AccountState]:
        return self.keys.accounts

    @property
    def used(self) -> set[KeyRef]:
        return self.keys.used

    @property
    def imported(self) -> list[ImportedKey]:
        return self.keys.imported

    # --- scripts and addresses ---

    def owner(self, script: bytes) -> Owned | None:
        """The wallet key an output script pays to (a vote suffix allowed), or None."""
        return self.keys.owner(script)

    def is_mine(self, script: bytes) -> bool:
        return self.keys.owner(script) is not None

    def receive_address(self, new: bool = False, *, legacy: bool = False) -> str:
        """The first unused receive address (BIP84 P2WPKH by default; `legacy`: P2PKH). With
        `new`, the next address after every used or already handed-out one."""
        ai = self.default_account
        if legacy:
            found = self.keys.account_for_kind(AddressKind.P2PKH)
            if found is None:
                raise WalletError("this wallet has no legacy (P2PKH) account")
            ai = found
        key = self.keys.receive_key(ai, new, self._mining_scripts())
        self.save()
        return key.address(self.params)

    def _mining_scripts(self) -> frozenset[bytes]:
        """The mining address's script: never handed out as the receive address (payers and
        the pool would share it)."""
        stored = self.store.get("mining_address")
        if not stored:
            return frozenset()
        try:
            return frozenset({script_for_address(str(stored), self.params)})
        except ParseError:
            return frozenset()

    def change_script(self) -> bytes:
        return self.spending.change_script()

    def mining_address(self) -> str:
        """The address mining pays to: chosen once — a fresh receive address, labelled
        "Mining" — and kept, so mining income has one place and one voter (pools and miners
        expect a steady address; the receive address moves on once paid)."""
        stored = self.store.get("mining_address")
        if stored:
            return str(stored)
        address = self.receive_address(new=True)
        with self.store.transaction():
            self.store.put("mining_address", address)
        if not self.labels.get(address):
            self.set_label(address, "Mining")
        return address

    def set_mining_address(self, address: str | None) -> str:
        """Make `address` (one of this wallet's) the mining address; None or "" picks a fresh
        one. Returns the mining address."""
        if not address or not address.strip():
            with self.store.transaction() as db:
                db.execute("DELETE FROM meta WHERE key = 'mining_address'")
            return self.mining_address()
        text = address.strip()
        try:
            script = script_for_address(text, self.params)
        except ParseError as exc:
            raise WalletError(f"invalid {self.params.name} address {text!r}: {exc}") from None
        if self.keys.owner(script) is None:
            raise WalletError(
                f"{text} is not an address of wallet {self.name!r}: mining pays to one of "
                "your own addresses"
            )
        canonical = address_from_script(script, self.params) or text
        with self.store.transaction():
            self.store.put("mining_address", canonical)
        return canonical

    def addresses(self) -> list[AddressInfo]:
        """Every derived address (both script forms of m/49' change keys) and imported key."""
        return self.keys.addresses(
            self.ledger.script_balances(), self.labels, self.ledger.used_script_ids()
        )

    def address_count(self, which: str = "all") -> tuple[int, int]:
        """(addresses listed under `which` — receiving, change or all —, how many used)."""
        return self.keys.address_count(which)

    def addresses_page(
        self, which: str = "all", offset: int = 0, limit: int = 200
    ) -> list[AddressInfo]:
        """One page of the address list: the main script form of each key, receiving first
        (imported keys with them), then change."""
        return self.keys.addresses_page(
            which,
            offset,
            limit,
            self.ledger.script_balances(),
            self.labels,
            self.ledger.used_script_ids(),
        )

    def address_used(self, address: str) -> bool:
        """Whether one of the wallet's addresses has ever received a coin."""
        try:
            script = script_for_address(address, self.params)
        except ParseError:
            return False
        owned = self.keys.owner(script)
        if owned is None:
            return False
        if owned.ref.imported:
            return self.keys.script_id(script) in self.ledger.used_script_ids()
        return owned.ref in self.keys.used

    def set_label(self, target: str, text: str) -> None:
        """Label an address or a transaction id ("" removes the label)."""
        target = target.strip()
        if not _TXID_RE.fullmatch(target):
            try:
                target = (
                    address_from_script(script_for_address(target, self.params), self.params)
                    or target
                )
            except ParseError as exc:
                raise WalletError(
                    f"cannot label {target!r}: not a txid or address ({exc})"
                ) from None
        else:
            target = target.lower()
        with self.store.transaction() as db:
            if text:
                db.execute(
                    "INSERT INTO labels (target, text) VALUES (?, ?) "
                    "ON CONFLICT (target) DO UPDATE SET text = excluded.text",
                    (target, text),
                )
                self.labels[target] = text
            else:
                db.execute("DELETE FROM labels WHERE target = ?", (target,))
                self.labels.pop(target, None)

    def payment_uri(
        self,
        address: str | None = None,
        amount: int | None = None,
        label: str | None = None,
        message: str | None = None,
    ) -> str:
        return format_payment_uri(
            PaymentURI(address or self.receive_address(), amount, label, message), self.params
        )

    # --- backup confirmation ---

    def backup_challenge(self, count: int = 3) -> list[int]:
        """Random 1-based word positions to ask the user for."""
        n = self.word_count or 12
        positions = list(range(1, n + 1))
        return sorted(
            positions.pop(_secrets.randbelow(len(positions))) for _ in range(min(count, n))
        )

    def confirm_backup(
        self,
        words_at_positions: Mapping[int, str],
        password: str | None = None,
        *,
        secrets: keystore.WalletSecrets | None = None,
    ) -> None:
        """Check words typed back (1-based positions) against the seed and mark the wallet
        backed up. Right after :meth:`create` no password is needed; later it is (or the
        `secrets` :meth:`open_secrets` returned)."""
        if len(words_at_positions) < 2:
            raise BackupCheckError("type back at least two words")
        mnemonic = self._fresh_mnemonic
        if mnemonic is None:
            if secrets is None:
                if password is None:
                    raise BackupCheckError("the password is needed to check the words")
                secrets = open_secrets(self.key_path, password)
            self._check_secrets_match(secrets)
            mnemonic = secrets.mnemonic
        if not mnemonic:
            raise BackupCheckError("this wallet has no seed words")
        words = _norm_words(mnemonic)
        for position, word in sorted(words_at_positions.items()):
            if not 1 <= position <= len(words):
                raise BackupCheckError(f"there is no word {position}")
            if _norm_words(word) != [words[position - 1]]:
                raise BackupCheckError(f"word {position} is not right; check your backup")
        self.backed_up = True
        self._fresh_mnemonic = None
        self.save()


__all__ = ["HeightIndex", "ImportedKey", "OpenWallet", "PasswordError", "today_of"]
