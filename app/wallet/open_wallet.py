"""An open wallet: its settings and sync position, addresses, labels and frozen coins, the
light client's watcher methods, views (balance, history, coins), spending and signing.
Opening, creating and repairing the files is :class:`app.wallet.wallet.Wallet`'s job."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
import secrets as _secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from miner.threadguard import forbid_gui_thread
from spv.address import address_from_script, script_for_address
from spv.atomic import atomic_write
from spv.chain import estimate_height_below
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.tx import OutPoint, Transaction
from spv.units import format_amount
from spv.uri import PaymentURI, format_payment_uri

from . import keystore
from .accounts import Account, AddressKind
from .coin_queries import CoinQueries
from .errors import BackupCheckError, KeyFileError, PasswordError, StateFileError, WalletError
from .files import db_path, key_path
from .history import DailyEarnings, History
from .keychain import AccountState, ImportedKey, KeyChain
from .ledger import Ledger, display_txid
from .model import (
    AddressInfo,
    Balance,
    Coin,
    ConsolidationPlan,
    HistoryEntry,
    KeyRef,
    Owned,
    TxDetails,
    TxPreview,
    outpoint_from_text,
    outpoint_text,
)
from .seeds import imported_private_keys, open_secrets
from .signing import SigningInput, sign_transaction
from .spending import Spending
from .store import WalletStore
from .txbuild import parse_fee_rate
from .voting import Voting

log = logging.getLogger(__name__)

BIRTHDAY_MARGIN_SECONDS = 2 * 86400  # scan from two days before the birthday
COMMIT_INTERVAL_SECONDS = 1.0  # during a sync, blocks are committed at least this often
_TXID_RE = re.compile(r"[0-9a-fA-F]{64}")


class HeightIndex(Protocol):
    """What the wallet needs from the header chain."""

    @property
    def height(self) -> int: ...

    @property
    def first_height(self) -> int: ...

    def hash_at(self, height: int) -> bytes: ...

    def timestamp_at(self, height: int) -> int: ...


def today_of(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def _utc_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


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


class OpenWallet:
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
        key = self.keys.receive_key(ai, new)
        self.save()
        return key.address(self.params)

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

    # --- chain watcher (spv.node.ChainWatcher) ---

    def attach_chain(self, chain: HeightIndex | None) -> None:
        self._chain = chain

    def watched_scripts(self) -> set[bytes]:
        return self.keys.watched_scripts()

    def scan_start_height(self) -> int:
        """The first block that can concern the wallet: the first one less than two days
        before the birthday (0 without a birthday, and on regtest, whose chains carry
        arbitrary timestamps)."""
        if self.birthday_height is not None:
            return self.birthday_height
        chain = self._chain
        if self.birthday is None or self.params.name == "regtest" or chain is None:
            return 0
        target = _utc_midnight(self.birthday) - BIRTHDAY_MARGIN_SECONDS
        low, high = chain.first_height, chain.height
        if high < low or chain.timestamp_at(high) < target:
            return max(high + 1, 0)  # every known block is older than the birthday
        while low < high:
            mid = (low + high) // 2
            if chain.timestamp_at(mid) < target:
                low = mid + 1
            else:
                high = mid
        self.birthday_height = low
        return low

    def history_from_height(self) -> int | None:
        """The lowest block the light client must keep headers for, so this wallet's scan can
        start at its birthday (0 when the birthday is unknown)."""
        if self.birthday_height is not None:
            return self.birthday_height
        if self.birthday is None:
            return 0
        return estimate_height_below(
            self.params, _utc_midnight(self.birthday) - BIRTHDAY_MARGIN_SECONDS
        )

    def _request_rescan(self, height: int) -> None:
        """Ask for the filters from `height` to be scanned again (saved; cleared when a scan
        passed it); `take_rescan_request` hands new requests to the sync loop."""
        if self.pending_rescan is None or height < self.pending_rescan:
            self.pending_rescan = height
        if self._rescan_request is None or height < self._rescan_request:
            self._rescan_request = height

    def take_rescan_request(self) -> int | None:
        found, self._rescan_request = self._rescan_request, None
        return found

    def _keys_added(self, height: int | None) -> None:
        """New keys may already have been used in blocks the filters were matched without
        them: while restoring rescan from the birthday, else from the next block. Keys added
        for an unconfirmed transaction can only be used in blocks still to come."""
        if self.restoring:
            self._request_rescan(self.scan_start_height())
        elif height is not None:
            self._request_rescan(height + 1)

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        now = int(self.clock())
        with self._changing():
            for position, tx in enumerate(txs):
                result = self.ledger.add(
                    tx, height=height, timestamp=timestamp, position=position, now=now
                )
                if result.keys_added:
                    self._keys_added(height)
        self._maybe_commit()

    def on_scan_progress(self, height: int) -> None:
        """Filters up to `height` were matched and their blocks delivered: commit, and keep
        the position so a sync killed now resumes from here."""
        if self.pending_rescan is not None and height >= self.pending_rescan:
            self.pending_rescan = height + 1 if height + 1 <= self.synced_height else None
        if height > self.synced_height:
            self.synced_height = height
            self._update_locator(height)
        self.save(durable=False)

    def _update_locator(self, height: int) -> None:
        chain = self._chain
        if chain is None:
            return
        heights = sorted({height - (1 << i) + 1 for i in range(16)} | {height})
        self.locator = [
            (h, chain.hash_at(h)) for h in heights if chain.first_height <= h <= chain.height
        ]

    def on_chain_rewound(self, height: int) -> None:
        with self._changing():
            self.ledger.rewind(height)
        self.synced_height = min(self.synced_height, height)
        self.locator = [(h, x) for h, x in self.locator if h <= height]
        self.save()

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        with self._changing():
            result = self.ledger.add(tx, now=int(self.clock()))
        if not result.recorded:
            return False
        if result.keys_added:
            self._keys_added(None)
        self.save()
        return True

    def prepare_sync(self, chain: HeightIndex) -> int | None:
        """Before a sync: compare what the wallet saw with the local header chain (a reorg may
        have happened while it was closed) and return the height the filter scan must restart
        from."""
        self.attach_chain(chain)
        fork: int | None = None
        for h, block_hash in reversed(self.locator):
            if h > chain.height or h < chain.first_height:
                continue
            if chain.hash_at(h) == block_hash:
                break
            fork = h - 1 if fork is None else min(fork, h - 1)
        if fork is not None:
            matching = [
                h
                for h, x in self.locator
                if chain.first_height <= h <= min(fork, chain.height) and chain.hash_at(h) == x
            ]
            lowest = min((h for h, _ in self.locator), default=fork + 1) - 1
            self.on_chain_rewound(max(matching, default=min(fork, lowest)))
        self._rescan_request = None  # covered by the start height returned
        if self.pending_rescan is not None:
            return min(self.pending_rescan, self.synced_height + 1)
        return self.synced_height + 1

    def finish_sync(self, chain: HeightIndex, scan_height: int) -> None:
        """After a completed sync up to `scan_height` (the chain tip)."""
        self.synced_height = scan_height
        self.pending_rescan = None
        self.ledger.tip_height = chain.height
        self.attach_chain(chain)
        self._update_locator(scan_height)
        self.restoring = False
        self.save()

    @property
    def tip_height(self) -> int:
        return self.ledger.tip_height

    # --- views ---

    def balance(self) -> Balance:
        return self.ledger.balance()

    def coins(self) -> list[Coin]:
        """Every unspent coin, oldest first (all of them: see `coins_page` for long lists)."""
        return self.coin_queries.all_coins()

    def coins_page(
        self, *, offset: int = 0, limit: int = 200, order: str = "age", descending: bool = False
    ) -> list[Coin]:
        return self.coin_queries.page(
            offset=offset, limit=limit, order=order, descending=descending
        )

    def coin_count(self) -> int:
        return self.coin_queries.count()

    def spendable_coins(self) -> list[Coin]:
        return list(self.coin_queries.spendable_largest())

    def history(self) -> list[HistoryEntry]:
        """Every transaction, oldest first (all of them: see `history_page`)."""
        return list(self.history_view.iterate())

    def history_page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        newest_first: bool = True,
        sort: str = "date",
        search: str = "",
    ) -> list[HistoryEntry]:
        return self.history_view.page(
            offset=offset, limit=limit, newest_first=newest_first, sort=sort, search=search
        )

    def history_count(self, search: str = "") -> int:
        return self.history_view.count(search)

    def history_entry(self, txid: str) -> HistoryEntry:
        try:
            return self.history_view.entry(txid)
        except KeyError:
            raise WalletError(f"unknown transaction {txid}") from None

    def transaction_details(self, txid: str) -> TxDetails:
        try:
            return self.history_view.details(txid)
        except KeyError:
            raise WalletError(f"unknown transaction {txid}") from None

    def coinbase_earnings(
        self, *, days: int | None = None, today: date | None = None, payout: str | None = None
    ) -> list[DailyEarnings]:
        """Coins received in coinbase outputs per UTC day (to `payout` only, when given)."""
        if payout is None:
            return self.history_view.coinbase_earnings(days=days, today=today)
        script = script_for_address(payout, self.params)
        ids = self.keys.ids_for_address_script(script)
        return self.history_view.script_earnings(ids, days=days, today=today)

    def freeze(self, outpoints: Iterable[OutPoint | str], frozen: bool = True) -> None:
        ops = [outpoint_from_text(i) if isinstance(i, str) else i for i in outpoints]
        for op in ops:
            if self.coin_queries.get(op) is None:
                raise WalletError(f"{outpoint_text(op)} is not an unspent coin of this wallet")
        with self.store.transaction() as db:
            for op in ops:
                key = (display_txid(op.txid), op.index)
                if frozen:
                    db.execute("INSERT OR IGNORE INTO frozen (txid, vout) VALUES (?, ?)", key)
                    self.frozen.add(op)
                else:
                    db.execute("DELETE FROM frozen WHERE txid = ? AND vout = ?", key)
                    self.frozen.discard(op)

    def export_csv(self, target: Path | io.TextIOBase | None = None) -> str:
        """History as CSV (date, txid, amount, fee, balance, label, confirmations), amounts in
        coins; written to `target` when given (atomically for a path). Returns the text."""
        upc = self.params.units_per_coin
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["date", "txid", "amount", "fee", "balance", "label", "confirmations"])
        for e in self.history_view.iterate():
            when = (
                datetime.fromtimestamp(e.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if e.timestamp
                else ""
            )
            writer.writerow(
                [
                    when,
                    e.txid,
                    format_amount(e.amount, upc),
                    format_amount(e.fee, upc) if e.fee is not None else "",
                    format_amount(e.balance, upc),
                    e.label,
                    e.confirmations,
                ]
            )
        text = buf.getvalue()
        if isinstance(target, Path):
            atomic_write(target, text.encode("utf-8"), mode=0o644)
        elif target is not None:
            target.write(text)
        return text

    # --- building transactions (see app.wallet.spending) ---

    def create_send(
        self,
        payments: Sequence[tuple[str, int | str]],
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        rbf: bool = False,
        fit_one_transaction: bool = False,
    ) -> TxPreview:
        return self.spending.create_send(
            payments,
            fee_rate=fee_rate,
            coins=coins,
            rbf=rbf,
            fit_one_transaction=fit_one_transaction,
        )

    def consolidation_plan(
        self, *, fee_rate: str | float | Fraction | None = None, max_coin_value: int | None = None
    ) -> ConsolidationPlan:
        return self.spending.consolidation_plan(fee_rate=fee_rate, max_coin_value=max_coin_value)

    def create_consolidation(
        self,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        max_coin_value: int | None = None,
        max_transactions: int | None = None,
    ) -> list[TxPreview]:
        return self.spending.create_consolidation(
            fee_rate=fee_rate,
            coins=coins,
            max_coin_value=max_coin_value,
            max_transactions=max_transactions,
        )

    def create_legacy_vote(
        self,
        vote_for: str | None,
        vote_against: str | None = None,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
    ) -> list[TxPreview]:
        """The 2019-2023 OP_VOTE vote; today's Electorium vote is `voting.create_vote`."""
        return self.spending.create_legacy_vote(
            vote_for, vote_against, fee_rate=fee_rate, coins=coins
        )

    def create_sweep_imported(
        self, *, fee_rate: str | float | Fraction | None = None
    ) -> list[TxPreview]:
        return self.spending.create_sweep_imported(fee_rate=fee_rate)

    def create_fee_bump(
        self, txid: str, fee_rate: str | float | Fraction | None = None
    ) -> TxPreview:
        tx_row = self.ledger.tx_id(_txid(txid))
        if tx_row is None:
            raise WalletError(f"unknown transaction {txid}")
        height, raw = self.store.db.execute(
            "SELECT height, raw FROM txs WHERE id = ?", (tx_row,)
        ).fetchone()
        return self.spending.create_fee_bump(txid, raw, height is not None, fee_rate)

    # --- signing ---

    def check_password(self, password: str) -> None:
        """Raise PasswordError unless `password` opens this wallet's key file."""
        forbid_gui_thread("Wallet.check_password")
        self._check_secrets_match(open_secrets(self.key_path, password))

    def open_secrets(self, password: str) -> keystore.WalletSecrets:
        """Decrypt the key file (the slow part of signing); it reads only the key file, so it
        may run on a worker thread while the wallet is used elsewhere."""
        forbid_gui_thread("Wallet.open_secrets")
        return open_secrets(self.key_path, password)

    def sign(
        self,
        preview: TxPreview,
        password: str | None = None,
        *,
        secrets: keystore.WalletSecrets | None = None,
    ) -> Transaction:
        """Sign a preview with the keys from the key file: give the password, or the
        `secrets` :meth:`open_secrets` returned."""
        forbid_gui_thread("Wallet.sign")
        for coin in preview.inputs:
            if self.coin_queries.get(coin.outpoint) is not None:
                continue
            if preview.purpose == "bump" and self._spent_by_unconfirmed(coin.outpoint):
                continue
            raise WalletError("this preview spends coins that are gone; prepare it again")
        if secrets is None:
            if password is None:
                raise PasswordError("the password is needed to sign")
            secrets = open_secrets(self.key_path, password)
        self._check_secrets_match(secrets)
        private_accounts: dict[int, Account] = {}
        imported_keys = imported_private_keys(secrets, self.params)
        inputs = []
        for coin in preview.inputs:
            ref = coin.owner.ref
            if ref.imported:
                priv = imported_keys.get(self.keys.imported[ref.index].public_key)
                if priv is None:
                    raise KeyFileError("the key file lacks an imported key of this wallet")
            else:
                account = private_accounts.get(ref.account)
                if account is None:
                    account = self._private_account(secrets, ref.account)
                    private_accounts[ref.account] = account
                priv = account.private_key(ref.branch, ref.index)
            inputs.append(SigningInput(coin.script, coin.value, coin.owner.kind, priv))
        signed = sign_transaction(preview.unsigned, inputs)
        if signed.vsize > preview.vsize:  # the estimate is an upper bound
            raise WalletError("internal error: the signed transaction is larger than estimated")
        return signed

    def _spent_by_unconfirmed(self, outpoint: OutPoint) -> bool:
        row = self.store.db.execute(
            "SELECT s.height FROM txs t JOIN coins c ON c.tx = t.id JOIN txs s ON s.id = c.spent_by "
            "WHERE t.txid = ? AND c.vout = ?",
            (display_txid(outpoint.txid), outpoint.index),
        ).fetchone()
        return row is not None and row[0] is None

    def _private_account(self, secrets: keystore.WalletSecrets, ai: int) -> Account:
        from .bip32 import parse_extended_key

        acc = self.keys.accounts[ai]
        for secret in secrets.accounts:
            if secret.path == acc.scope.path_str and secret.nonstandard == acc.scope.nonstandard:
                key = parse_extended_key(secret.xprv, self.params)
                if key.neutered() != acc.account.key:
                    raise StateFileError("the key file and the database are of different wallets")
                return Account(acc.scope, key)
        raise KeyFileError(f"the key file has no key for account {acc.scope.path_str}")

    def _check_secrets_match(self, secrets: keystore.WalletSecrets) -> None:
        if self.keys.accounts:
            self._private_account(secrets, 0)

    def record_pending(self, tx: Transaction) -> None:
        """Record a broadcast transaction (unconfirmed) and commit."""
        with self._changing():
            result = self.ledger.add(tx, now=int(self.clock()))
        if result.keys_added:
            self._keys_added(None)
        self.save()

    def abandon(self, txid: str) -> None:
        """Forget an unconfirmed transaction (and those spending it)."""
        tx_row = self.ledger.tx_id(_txid(txid))
        if tx_row is None:
            raise WalletError(f"unknown transaction {txid}")
        (height,) = self.store.db.execute(
            "SELECT height FROM txs WHERE id = ?", (tx_row,)
        ).fetchone()
        if height is not None:
            raise WalletError("a confirmed transaction cannot be abandoned")
        with self._changing():
            self.ledger.remove_id(tx_row)
        self.save()

    def raw_transaction(self, txid: str) -> bytes | None:
        """The raw bytes the wallet kept of one of its transactions (None: only its outputs
        to the wallet were kept)."""
        row = self.store.db.execute(
            "SELECT raw FROM txs WHERE txid = ?", (display_txid(_txid(txid)),)
        ).fetchone()
        if row is None:
            raise WalletError(f"unknown transaction {txid}")
        return None if row[0] is None else bytes(row[0])


def _txid(text: str) -> bytes:
    from spv.hashes import hash_from_display

    try:
        return hash_from_display(text.strip())
    except ValueError:
        raise WalletError(f"bad transaction id {text!r}") from None


__all__ = ["HeightIndex", "ImportedKey", "OpenWallet", "PasswordError", "today_of"]
