"""The HD wallet: files, addresses, gap-limit discovery, the ledger as a ChainWatcher, spending.

Files (``<datadir>/wallets/``):

* ``<name>.wallet`` — the encrypted keystore (:mod:`app.wallet.keystore`): seed words, account
  private keys, imported private keys. Needed only to sign (and to repair the state file).
* ``<name>.state.json`` — everything public: account xpubs, derived public keys, labels, the
  ledger, scan progress, settings. Written with ``spv.atomic.atomic_write`` (previous version
  kept as ``.bak``), so the wallet syncs and shows balances without the password; a damaged
  state file falls back to the backup, and :meth:`Wallet.repair` rebuilds it from the keystore.
* ``<name>.lock`` — an advisory lock held while a process has the wallet open.

New wallets are BIP39 (12 or 24 words) with the BIP84, BIP49 and BIP44 accounts of
``m/purpose'/C'/0'`` (C = ``params.wallet_coin_type``); receive addresses are BIP84 P2WPKH and
the BIP44 account provides the legacy P2PKH address Network Steward votes are paid to. A
restore takes BIP39 words or pktwallet's 15 seed words (detected by the count; the seed's
birthday is decoded and the scan starts there); pktwallet seeds get pktwallet's three scopes
with its non-standard hardened derivation.

Every receive and change branch keeps ``gap_limit`` unused keys past the last used one. When a
transaction uses a key near the end, more keys are derived and the wallet asks for a rescan
(:attr:`Wallet.pending_rescan`): from the birthday while restoring, else from the next block.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import secrets as _secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from miner.threadguard import forbid_gui_thread
from spv.address import address_from_script, decode_wif, script_for_address
from spv.atomic import atomic_write
from spv.chain import estimate_height_below
from spv.errors import ParseError
from spv.hashes import hash160, hash_from_display, hash_to_display
from spv.params import NetworkParams
from spv.script import add_vote, p2pkh_script, p2sh_script, p2wpkh_script, split_vote
from spv.tx import OutPoint, Transaction, TxIn, TxOut
from spv.units import format_amount
from spv.uri import PaymentURI, format_payment_uri

from . import bip39, keystore, pktseed
from .accounts import (
    DEFAULT_GAP_LIMIT,
    EXTERNAL,
    INTERNAL,
    Account,
    AccountScope,
    AddressKind,
    DerivedKey,
    bip39_scopes,
    output_script,
    pktwallet_scopes,
)
from .bip32 import (
    ExtendedKey,
    InvalidChildError,
    master_key_from_seed,
    parse_extended_key,
)
from .ledger import (
    Balance,
    Coin,
    HistoryEntry,
    KeyRef,
    Ledger,
    Owned,
    outpoint_from_text,
    outpoint_text,
)
from .signing import SigningInput, public_key_of, sign_transaction
from .txbuild import (
    INPUT_WEIGHT,
    MAX_STANDARD_WEIGHT,
    Candidate,
    InsufficientFundsError,
    TxBuildError,
    dust_threshold,
    fee_for,
    finish_selection,
    is_dust,
    max_inputs_for,
    parse_fee_rate,
    select_coins,
    tx_weight,
    vsize_of_weight,
)

log = logging.getLogger(__name__)

WALLETS_DIR = "wallets"
STATE_FORMAT = "pkt-wallet-state"
STATE_VERSION = 1
MAX_STATE_SIZE = 256 * 1024 * 1024
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
BIRTHDAY_MARGIN_SECONDS = 2 * 86400  # scan from two days before the birthday
SAVE_INTERVAL_SECONDS = 10.0
TX_VERSION = 1  # as pktwallet writes
SEQUENCE_FINAL = 0xFFFFFFFF  # no RBF signal
SEQUENCE_RBF = 0xFFFFFFFD  # BIP125: the transaction may be replaced by one paying more fee
IMPORTED = -1


class WalletError(ValueError):
    """A wallet operation failed; the message is one line for the user."""


class WalletExistsError(WalletError):
    pass


class WalletNotFoundError(WalletError):
    pass


class StateFileError(WalletError):
    """The state file is missing, damaged or belongs to another wallet."""


class PasswordError(WalletError):
    """Wrong wallet password."""


class KeyFileError(WalletError):
    """The encrypted key file is missing or damaged."""


class BackupCheckError(WalletError):
    """The words typed back do not match the seed."""


class WalletLockedError(WalletError):
    """Another process has the wallet open."""


class HeightIndex(Protocol):
    """What the wallet needs from the header chain."""

    @property
    def height(self) -> int: ...

    @property
    def first_height(self) -> int: ...

    def hash_at(self, height: int) -> bytes: ...

    def timestamp_at(self, height: int) -> int: ...


# --- paths and locking ---------------------------------------------------------------------------


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise WalletError(
            f"bad wallet name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit)"
        )
    return name


def wallets_dir(datadir: Path) -> Path:
    return Path(datadir) / WALLETS_DIR


def key_path(datadir: Path, name: str) -> Path:
    return wallets_dir(datadir) / f"{check_name(name)}.wallet"


def state_path(datadir: Path, name: str) -> Path:
    return wallets_dir(datadir) / f"{check_name(name)}.state.json"


def list_wallets(datadir: Path) -> list[str]:
    """Names of the wallets in `datadir` (those with a key file or a state file)."""
    folder = wallets_dir(datadir)
    if not folder.is_dir():
        return []
    names = set()
    for p in folder.iterdir():
        if p.name.endswith(".state.json"):
            names.add(p.name[: -len(".state.json")])
        elif p.suffix == ".wallet":
            names.add(p.stem)
    return sorted(n for n in names if NAME_PATTERN.match(n))


class _Lock:
    """An advisory lock on ``<name>.lock`` (POSIX flock; a no-op where unavailable)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise WalletLockedError(
                f"wallet {self.path.stem!r} is open in another program; close it first"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --- accounts in the state file ------------------------------------------------------------------


def _scope_to_json(scope: AccountScope) -> dict[str, Any]:
    return {
        "name": scope.name,
        "purpose": scope.purpose,
        "coin_type": scope.coin_type,
        "account": scope.account,
        "receive_kind": scope.receive_kind.value,
        "change_kind": scope.change_kind.value,
        "nonstandard": scope.nonstandard,
        "also_watch_change": [k.value for k in scope.also_watch_change],
    }


def _scope_from_json(data: Mapping[str, Any]) -> AccountScope:
    return AccountScope(
        purpose=int(data["purpose"]),
        coin_type=int(data["coin_type"]),
        account=int(data["account"]),
        receive_kind=AddressKind(data["receive_kind"]),
        change_kind=AddressKind(data["change_kind"]),
        nonstandard=bool(data["nonstandard"]),
        also_watch_change=tuple(AddressKind(k) for k in data.get("also_watch_change", [])),
        name=str(data.get("name", "")),
    )


@dataclass
class AccountState:
    scope: AccountScope
    account: Account  # public (from the xpub)
    keys: dict[int, list[DerivedKey | None]] = field(
        default_factory=lambda: {EXTERNAL: [], INTERNAL: []}
    )
    reserved: int = -1  # highest receive index handed out with `new`

    def derived_key(self, branch: int, index: int, public_key: bytes) -> DerivedKey:
        kinds = self.scope.watch_kinds(branch)
        scripts = tuple(output_script(kind, public_key) for kind in kinds)
        return DerivedKey(self.scope, branch, index, public_key, kinds[0], scripts[0], scripts)


@dataclass(frozen=True)
class ImportedKey:
    public_key: bytes
    compressed: bool
    label: str = ""

    def scripts(self) -> list[tuple[bytes, str]]:
        pkh = hash160(self.public_key)
        if not self.compressed:
            return [(p2pkh_script(pkh), "p2pkh-uncompressed")]
        return [
            (p2wpkh_script(pkh), "p2wpkh"),
            (p2pkh_script(pkh), "p2pkh"),
            (p2sh_script(hash160(p2wpkh_script(pkh))), "p2sh-p2wpkh"),
        ]


@dataclass(frozen=True)
class AddressInfo:
    address: str
    path: str
    account: str
    branch: int
    index: int
    kind: str
    used: bool
    balance: int
    label: str
    primary: bool  # False for the extra script form watched for m/49' change keys

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "path": self.path,
            "account": self.account,
            "branch": self.branch,
            "change": self.branch == INTERNAL,
            "index": self.index,
            "kind": self.kind,
            "used": self.used,
            "balance": self.balance,
            "label": self.label,
            "primary": self.primary,
        }


@dataclass(frozen=True)
class PreviewOutput:
    address: str | None
    script: bytes
    value: int
    is_change: bool
    is_mine: bool


@dataclass(frozen=True)
class TxPreview:
    """An unsigned transaction for the user to check before signing."""

    purpose: str  # send, consolidate, vote, sweep
    inputs: tuple[Coin, ...]
    outputs: tuple[PreviewOutput, ...]
    fee: int
    vsize: int  # upper bound (signatures counted at their largest)
    fee_rate: Fraction
    unsigned: Transaction

    @property
    def input_total(self) -> int:
        return sum(c.value for c in self.inputs)

    @property
    def sent(self) -> int:
        """Value leaving the wallet (outputs that are not ours)."""
        return sum(o.value for o in self.outputs if not o.is_mine)

    def to_json(self, params: NetworkParams) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "inputs": [
                {"coin": outpoint_text(c.outpoint), "value": c.value, "kind": c.owner.kind}
                for c in self.inputs
            ],
            "outputs": [
                {
                    "address": o.address,
                    "value": o.value,
                    "change": o.is_change,
                    "mine": o.is_mine,
                    "script": o.script.hex(),
                }
                for o in self.outputs
            ],
            "fee": self.fee,
            "vsize": self.vsize,
            "fee_rate": str(self.fee_rate),
        }


def _utc_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _norm_words(text: str) -> list[str]:
    return [unicodedata.normalize("NFKD", w).lower() for w in text.split()]


# --- the wallet ----------------------------------------------------------------------------------


class Wallet:
    """One HD wallet. Open with :meth:`open`, :meth:`create` or :meth:`restore`; close with
    :meth:`close` (or use it as a context manager). It is a ``spv.node.ChainWatcher``."""

    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        name: str,
        data: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.params = params
        self.datadir = Path(datadir)
        self.name = check_name(name)
        self.key_path = key_path(self.datadir, name)
        self.state_path = state_path(self.datadir, name)
        self.clock = clock
        self._lock = _Lock(wallets_dir(self.datadir) / f"{name}.lock")
        self._fresh_mnemonic: str | None = None
        self.recovered_from_backup = False
        self.pending_rescan: int | None = None
        self._rescan_request: int | None = None
        self._chain: HeightIndex | None = None
        self._last_save = 0.0
        self._dirty = False
        self._load(data)

    # --- construction ---

    @classmethod
    def open(
        cls,
        datadir: Path,
        name: str,
        params: NetworkParams,
        *,
        lock: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> Wallet:
        """Open an existing wallet from its state file (no password needed)."""
        forbid_gui_thread("Wallet.open")
        kpath, spath = key_path(datadir, name), state_path(datadir, name)
        if not spath.exists() and not spath.with_name(spath.name + ".bak").exists():
            if kpath.exists():
                raise StateFileError(
                    f"the state file of wallet {name!r} is missing; rebuild it with the "
                    f"password: pkt-wallet repair --wallet {name}"
                )
            raise WalletNotFoundError(
                f"no wallet named {name!r} in {wallets_dir(datadir)} (create or restore one)"
            )
        wallet: Wallet | None = None
        errors: list[str] = []
        recovered = False
        for data, is_backup, error in _state_candidates(spath):
            if data is None:
                errors.append(error)
                continue
            try:
                wallet = cls(params, datadir, name, data, clock=clock)
            except StateFileError as exc:
                if "is a " in str(exc) and "wallet, not" in str(exc):
                    raise  # another network's wallet: no point trying the backup
                errors.append(f"{'the backup' if is_backup else 'the state file'}: {exc}")
                continue
            recovered = is_backup
            break
        if wallet is None:
            raise StateFileError(
                f"the state file of wallet {name!r} is damaged ({'; '.join(errors)}); rebuild "
                f"it with the password: pkt-wallet repair --wallet {name}"
            )
        wallet.recovered_from_backup = recovered
        if lock:
            wallet._lock.acquire()
            wallet._remove_stale_temporaries()
        if recovered:
            log.warning("wallet %s: the state file was damaged; its backup was used", name)
        return wallet

    @classmethod
    def create(
        cls,
        datadir: Path,
        name: str,
        params: NetworkParams,
        password: str,
        *,
        words: int = 12,
        passphrase: str = "",
        kdf_params: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> tuple[Wallet, str]:
        """A new BIP39 wallet. Returns the wallet and its mnemonic (shown once; then ask the
        user to type some words back: :meth:`confirm_backup`)."""
        forbid_gui_thread("Wallet.create")
        if words not in (12, 24):
            raise WalletError("a new wallet has 12 or 24 words")
        mnemonic = bip39.generate_mnemonic(words)
        today = datetime.fromtimestamp(clock(), UTC).date()
        secrets = _bip39_secrets(params, mnemonic, passphrase, today)
        wallet = cls._new(
            datadir,
            name,
            params,
            password,
            secrets,
            restoring=False,
            kdf_params=kdf_params,
            clock=clock,
        )
        wallet._fresh_mnemonic = mnemonic
        return wallet, mnemonic

    @classmethod
    def restore(
        cls,
        datadir: Path,
        name: str,
        params: NetworkParams,
        password: str,
        seed_words: str,
        seed_passphrase: str = "",
        *,
        birthday: date | None = None,
        seed_kdf: pktseed.SeedKdf | None = None,
        kdf_params: Mapping[str, int] | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Wallet:
        """Restore from BIP39 words or pktwallet's 15 seed words (detected by the count).

        pktwallet words are decoded with Argon2id (seconds: run it off the GUI thread); their
        birthday becomes the wallet's birthday unless `birthday` is earlier. The first sync
        scans from the birthday (or from the first block when it is unknown) and rescans as
        the gap limit uncovers more addresses.
        """
        forbid_gui_thread("Wallet.restore")
        secrets = seed_secrets(
            params,
            seed_words,
            seed_passphrase,
            birthday=birthday,
            seed_kdf=seed_kdf,
            cancel=cancel,
            progress=progress,
            now=clock(),
        )
        return cls._new(
            datadir,
            name,
            params,
            password,
            secrets,
            restoring=True,
            kdf_params=kdf_params,
            clock=clock,
        )

    @classmethod
    def _new(
        cls,
        datadir: Path,
        name: str,
        params: NetworkParams,
        password: str,
        secrets: keystore.WalletSecrets,
        *,
        restoring: bool,
        kdf_params: Mapping[str, int] | None,
        clock: Callable[[], float],
    ) -> Wallet:
        kpath, spath = key_path(datadir, name), state_path(datadir, name)
        if kpath.exists() or spath.exists():
            raise WalletExistsError(f"a wallet named {name!r} already exists")
        if not password:
            raise WalletError("the wallet password cannot be empty")
        data = _initial_state(params, secrets, restoring=restoring, now=clock())
        wallet = cls(params, datadir, name, data, clock=clock)
        wallet._lock.acquire()
        try:
            keystore.create(kpath, secrets, password, kdf_params=kdf_params)
            wallet.save()
        except BaseException:
            wallet.close()
            raise
        return wallet

    @classmethod
    def repair(
        cls,
        datadir: Path,
        name: str,
        params: NetworkParams,
        password: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> Wallet:
        """Rebuild the state file from the key file (labels and history are rebuilt by the
        rescan from the birthday that follows)."""
        kpath, spath = key_path(datadir, name), state_path(datadir, name)
        secrets = _open_secrets(kpath, password)
        data = _initial_state(params, secrets, restoring=True, now=clock())
        data["backed_up"] = True
        wallet = cls(params, datadir, name, data, clock=clock)
        wallet._lock.acquire()
        if spath.exists():
            with contextlib.suppress(OSError):
                spath.replace(spath.with_name(spath.name + ".damaged"))
        wallet.save()
        return wallet

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a crash during a write (atomic_write names them
        ``.<name>.*.tmp``); only called with the lock held."""
        for p in self.state_path.parent.glob(f".{self.state_path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()

    def close(self) -> None:
        if self._dirty:
            self.save()
        self._lock.release()

    def __enter__(self) -> Wallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state (de)serialization ---

    def _load(self, data: Mapping[str, Any]) -> None:
        try:
            self._load_unchecked(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, WalletError):
                raise
            raise StateFileError(
                f"the state file of wallet {self.name!r} is invalid ({exc.__class__.__name__}: "
                f"{exc}); repair it with: pkt-wallet repair --wallet {self.name}"
            ) from None

    def _load_unchecked(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != STATE_FORMAT:
            raise StateFileError(f"{self.state_path} is not a wallet state file")
        if data.get("version") != STATE_VERSION:
            raise StateFileError(
                f"wallet state version {data.get('version')!r} is not supported "
                f"(this program reads {STATE_VERSION})"
            )
        if data.get("network") != self.params.name:
            raise StateFileError(
                f"wallet {self.name!r} is a {data.get('network')} wallet, not {self.params.name}"
            )
        self.seed_type: str = str(data["seed_type"])
        self.word_count: int = int(data.get("word_count", 0))
        birthday = data.get("birthday")
        self.birthday: date | None = date.fromisoformat(birthday) if birthday else None
        self.backed_up: bool = bool(data["backed_up"])
        self.created: int = int(data.get("created", 0))
        settings = data.get("settings", {})
        self.gap_limit: int = int(settings.get("gap_limit", DEFAULT_GAP_LIMIT))
        if not 1 <= self.gap_limit <= 10_000:
            raise ValueError("gap limit out of range")
        self.default_fee_rate: Fraction = parse_fee_rate(settings.get("fee_rate", "1"))
        self.accounts: list[AccountState] = []
        for acc in data["accounts"]:
            scope = _scope_from_json(acc)
            key = parse_extended_key(acc["xpub"], self.params)
            state = AccountState(scope, Account(scope, key), reserved=int(acc.get("reserved", -1)))
            for branch in (EXTERNAL, INTERNAL):
                for index, pub in enumerate(acc["keys"][str(branch)]):
                    state.keys[branch].append(
                        None
                        if pub is None
                        else state.derived_key(branch, index, bytes.fromhex(pub))
                    )
            self.accounts.append(state)
        self.default_account: int = int(data.get("default_account", 0))
        self.legacy_account: int | None = data.get("legacy_account")
        self.imported: list[ImportedKey] = [
            ImportedKey(bytes.fromhex(k["public_key"]), bool(k["compressed"]), k.get("label", ""))
            for k in data.get("imported", [])
        ]
        self.vote_scripts: dict[bytes, KeyRef] = {}
        for v in data.get("vote_scripts", []):
            self.vote_scripts[bytes.fromhex(v["script"])] = KeyRef(*v["key"])
        self.used: set[KeyRef] = {KeyRef(*k) for k in data.get("used", [])}
        self.labels: dict[str, str] = dict(data.get("labels", {}))
        self.frozen: set[OutPoint] = {outpoint_from_text(t) for t in data.get("frozen", [])}
        sync = data.get("sync", {})
        self.synced_height: int = int(sync.get("height", -1))
        self.locator: list[tuple[int, bytes]] = [
            (int(h), bytes.fromhex(x)) for h, x in sync.get("locator", [])
        ]
        self.restoring: bool = bool(sync.get("restoring", False))
        bh = sync.get("birthday_height")
        self.birthday_height: int | None = int(bh) if bh is not None else None
        rescan = sync.get("pending_rescan")
        self.pending_rescan = int(rescan) if rescan is not None else None
        self._rebuild_script_index()
        self.ledger = Ledger(self.params, self.owner)
        self.ledger.load_json(data.get("transactions", []))
        self.ledger.tip_height = int(sync.get("tip_height", self.synced_height))
        for ltx in self.ledger.txs.values():
            self._note_outputs(ltx.tx)
        if self._extend_gaps():
            self._dirty = True

    def to_json(self) -> dict[str, Any]:
        accounts = []
        for acc in self.accounts:
            entry = _scope_to_json(acc.scope)
            entry["path"] = acc.scope.path_str
            entry["xpub"] = acc.account.xpub()
            entry["reserved"] = acc.reserved
            entry["keys"] = {
                str(b): [k.public_key.hex() if k is not None else None for k in acc.keys[b]]
                for b in (EXTERNAL, INTERNAL)
            }
            accounts.append(entry)
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "network": self.params.name,
            "seed_type": self.seed_type,
            "word_count": self.word_count,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "backed_up": self.backed_up,
            "created": self.created,
            "settings": {"gap_limit": self.gap_limit, "fee_rate": str(self.default_fee_rate)},
            "accounts": accounts,
            "default_account": self.default_account,
            "legacy_account": self.legacy_account,
            "imported": [
                {"public_key": k.public_key.hex(), "compressed": k.compressed, "label": k.label}
                for k in self.imported
            ],
            "vote_scripts": [
                {"script": s.hex(), "key": [r.account, r.branch, r.index]}
                for s, r in self.vote_scripts.items()
            ],
            "used": sorted([r.account, r.branch, r.index] for r in self.used),
            "labels": dict(sorted(self.labels.items())),
            "frozen": sorted(outpoint_text(o) for o in self.frozen),
            "sync": {
                "height": self.synced_height,
                "tip_height": self.ledger.tip_height,
                "locator": [[h, x.hex()] for h, x in self.locator],
                "restoring": self.restoring,
                "birthday_height": self.birthday_height,
                "pending_rescan": self.pending_rescan,
            },
            "transactions": self.ledger.to_json(),
        }

    def save(self) -> None:
        forbid_gui_thread("Wallet.save")
        data = (json.dumps(self.to_json(), indent=1) + "\n").encode("utf-8")
        atomic_write(self.state_path, data, keep_backup=True)
        self._dirty = False
        self._last_save = time.monotonic()

    def _maybe_save(self) -> None:
        self._dirty = True
        if time.monotonic() - self._last_save >= SAVE_INTERVAL_SECONDS:
            self.save()

    # --- scripts and keys ---

    def _rebuild_script_index(self) -> None:
        index: dict[bytes, Owned] = {}
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                for key in acc.keys[branch]:
                    if key is None:
                        continue
                    for kind, script in zip(
                        acc.scope.watch_kinds(branch), key.watch_scripts, strict=True
                    ):
                        index[script] = Owned(KeyRef(ai, branch, key.index), kind.value)
        for i, imported in enumerate(self.imported):
            for script, spend_kind in imported.scripts():
                index[script] = Owned(KeyRef(IMPORTED, 0, i), spend_kind)
        self._scripts = index
        self._watched: set[bytes] | None = None

    def _register_key(self, ai: int, key: DerivedKey) -> None:
        for kind, script in zip(
            self.accounts[ai].scope.watch_kinds(key.branch), key.watch_scripts, strict=True
        ):
            self._scripts[script] = Owned(KeyRef(ai, key.branch, key.index), kind.value)
        self._watched = None

    def owner(self, script: bytes) -> Owned | None:
        """The wallet key an output script pays to (a vote suffix allowed), or None."""
        found = self._scripts.get(script)
        if found is not None:
            return found
        if script and script[-1] == 0x66:  # OP_VOTE
            vote = split_vote(script)
            if vote is not None:
                return self._scripts.get(vote.base_script)
        return None

    def is_mine(self, script: bytes) -> bool:
        return self.owner(script) is not None

    def _note_outputs(self, tx: Transaction) -> None:
        """Mark keys used by `tx`'s outputs; watch vote-suffixed outputs paying us."""
        for out in tx.outputs:
            owned = self.owner(out.script)
            if owned is None:
                continue
            if not owned.ref.imported:
                self.used.add(owned.ref)
            if out.script not in self._scripts and out.script not in self.vote_scripts:
                self.vote_scripts[out.script] = owned.ref
                self._watched = None

    def _extend_gaps(self) -> bool:
        """Derive keys until every branch has `gap_limit` unused keys after its last used (or
        handed out) key; outputs of known transactions paying the new keys count as uses.
        Returns True when keys were added."""
        added = False
        while self._derive_gap_keys():
            added = True
            if not hasattr(self, "ledger"):
                break
            self.ledger.reindex()
            before = len(self.used)
            for ltx in self.ledger.txs.values():
                self._note_outputs(ltx.tx)
            if len(self.used) == before:
                break
        return added

    def _derive_gap_keys(self) -> bool:
        added = False
        last_used: dict[tuple[int, int], int] = {}
        for ref in self.used:
            if not ref.imported:
                k = (ref.account, ref.branch)
                last_used[k] = max(last_used.get(k, -1), ref.index)
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                last = last_used.get((ai, branch), -1)
                if branch == EXTERNAL:
                    last = max(last, acc.reserved)
                keys = acc.keys[branch]
                while len(keys) < last + 1 + self.gap_limit:
                    index = len(keys)
                    try:
                        key: DerivedKey | None = acc.account.derive(branch, index)
                    except InvalidChildError:
                        key = None
                    keys.append(key)
                    if key is not None:
                        self._register_key(ai, key)
                    added = True
        return added

    def watched_scripts(self) -> set[bytes]:
        if self._watched is None:
            self._watched = set(self._scripts) | set(self.vote_scripts)
        return self._watched

    # --- addresses ---

    def _account_for_kind(self, kind: AddressKind) -> int | None:
        for ai, acc in enumerate(self.accounts):
            if acc.scope.receive_kind is kind:
                return ai
        return None

    def _key(self, ref: KeyRef) -> DerivedKey:
        key = self.accounts[ref.account].keys[ref.branch][ref.index]
        if key is None:
            raise WalletError("invalid key index")
        return key

    def _first_unused(self, ai: int, branch: int) -> DerivedKey:
        for key in self.accounts[ai].keys[branch]:
            if key is not None and KeyRef(ai, branch, key.index) not in self.used:
                return key
        raise WalletError("no unused address left")  # the gap keeps some: never expected

    def receive_address(self, new: bool = False, *, legacy: bool = False) -> str:
        """The first unused receive address (BIP84 P2WPKH by default; `legacy`: P2PKH). With
        `new`, the next address after every used or already handed-out one."""
        ai = self.default_account
        if legacy:
            found = self._account_for_kind(AddressKind.P2PKH)
            if found is None:
                raise WalletError("this wallet has no legacy (P2PKH) account")
            ai = found
        acc = self.accounts[ai]
        if not new:
            current = self._first_unused(ai, EXTERNAL)
            if current.index > acc.reserved:
                acc.reserved = current.index  # handed out: `new` goes past it
                self._extend_gaps()
                self._maybe_save()
            return current.address(self.params)
        index = max(
            [acc.reserved]
            + [r.index for r in self.used if r.account == ai and r.branch == EXTERNAL]
        )
        key: DerivedKey | None = None
        while key is None:  # skip the (astronomically rare) invalid child indices
            index += 1
            acc.reserved = index
            self._extend_gaps()
            key = acc.keys[EXTERNAL][index]
        self._maybe_save()
        return key.address(self.params)

    def change_script(self) -> bytes:
        return self._first_unused(self.default_account, INTERNAL).script

    def addresses(self) -> list[AddressInfo]:
        """Every derived address (both script forms of m/49' change keys) and imported key."""
        balances: dict[bytes, int] = {}
        for coin in self.ledger.coins(self.frozen):
            vote = split_vote(coin.script)
            base = vote.base_script if vote is not None else coin.script
            balances[base] = balances.get(base, 0) + coin.value
        out: list[AddressInfo] = []
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                for key in acc.keys[branch]:
                    if key is None:
                        continue
                    used = KeyRef(ai, branch, key.index) in self.used
                    kinds = acc.scope.watch_kinds(branch)
                    for n, (kind, script) in enumerate(zip(kinds, key.watch_scripts, strict=True)):
                        address = address_from_script(script, self.params) or script.hex()
                        out.append(
                            AddressInfo(
                                address=address,
                                path=key.path_str,
                                account=acc.scope.name or acc.scope.path_str,
                                branch=branch,
                                index=key.index,
                                kind=kind.value,
                                used=used,
                                balance=balances.get(script, 0),
                                label=self.labels.get(address, ""),
                                primary=n == 0,
                            )
                        )
        seen_imported = {
            owned
            for ltx in self.ledger.txs.values()
            for o in ltx.tx.outputs
            if (owned := self.owner(o.script)) is not None and owned.ref.imported
        }
        for i, imported in enumerate(self.imported):
            for n, (script, spend_kind) in enumerate(imported.scripts()):
                address = address_from_script(script, self.params) or script.hex()
                out.append(
                    AddressInfo(
                        address=address,
                        path="imported",
                        account="imported",
                        branch=0,
                        index=i,
                        kind=spend_kind,
                        used=Owned(KeyRef(IMPORTED, 0, i), spend_kind) in seen_imported,
                        balance=balances.get(script, 0),
                        label=self.labels.get(address, imported.label),
                        primary=n == 0,
                    )
                )
        return out

    def set_label(self, target: str, text: str) -> None:
        """Label an address or a transaction id ("" removes the label)."""
        target = target.strip()
        if not re.fullmatch(r"[0-9a-fA-F]{64}", target):
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
        if text:
            self.labels[target] = text
        else:
            self.labels.pop(target, None)
        self._maybe_save()

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
        chosen = []
        for _ in range(min(count, n)):
            chosen.append(positions.pop(_secrets.randbelow(len(positions))))
        return sorted(chosen)

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
                secrets = _open_secrets(self.key_path, password)
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

    # --- chain watcher ---

    def attach_chain(self, chain: HeightIndex | None) -> None:
        self._chain = chain

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
        self._dirty = True
        return low

    def history_from_height(self) -> int | None:
        """The lowest block the light client must keep headers for, so this wallet's scan can
        start at its birthday: a safe under-estimate from the birthday's date (the light
        client starts at the newest checkpoint at or below it; for a new wallet that is the
        newest one). 0 when the birthday is unknown (a restore without one)."""
        if self.birthday_height is not None:
            return self.birthday_height
        if self.birthday is None:
            return 0
        return estimate_height_below(
            self.params, _utc_midnight(self.birthday) - BIRTHDAY_MARGIN_SECONDS
        )

    def _request_rescan(self, height: int) -> None:
        """Ask for the filters from `height` to be scanned again. `pending_rescan` is saved and
        cleared only by a completed sync; `take_rescan_request` hands new requests to the
        sync loop."""
        if self.pending_rescan is None or height < self.pending_rescan:
            self.pending_rescan = height
        if self._rescan_request is None or height < self._rescan_request:
            self._rescan_request = height

    def take_rescan_request(self) -> int | None:
        found, self._rescan_request = self._rescan_request, None
        return found

    def _after_new_tx(self, tx: Transaction, height: int | None) -> None:
        """Keys were used: extend the gap. New keys may already have been used in blocks the
        filters were matched without them: while restoring rescan from the birthday, else
        from the next block (the rest of the filter batch). Keys added for an unconfirmed
        transaction can only be used in blocks still to come."""
        self._note_outputs(tx)
        if self._extend_gaps():
            if self.restoring:
                self._request_rescan(self.scan_start_height())
            elif height is not None:
                self._request_rescan(height + 1)

    def on_block_transactions(
        self, height: int, block_hash: bytes, timestamp: int, txs: Sequence[Transaction]
    ) -> None:
        """Every transaction of a block whose filter matched: the ledger keeps those that pay
        or spend the wallet (in block order, so a spend of an output created earlier in the
        same block is seen). Saved by the next `on_scan_progress`."""
        now = int(self.clock())
        position = 0
        for tx in txs:
            if self.ledger.add(
                tx,
                height=height,
                block_hash=block_hash,
                timestamp=timestamp,
                position=position,
                now=now,
            ):
                position += 1
                self._after_new_tx(tx, height)
                self._dirty = True

    def on_scan_progress(self, height: int) -> None:
        """The light client matched the filters up to `height` and delivered every matching
        block: remember the position (with a locator, to see a reorg while closed) and save,
        so a sync killed half-way resumes from here. A pending rescan still restarts lower
        (`pending_rescan` is cleared only by `finish_sync`)."""
        if height > self.synced_height:
            self.synced_height = height
            if self._chain is not None:
                self._set_locator(self._chain, height)
            self._dirty = True
        if self._dirty:
            self.save()

    def on_chain_rewound(self, height: int) -> None:
        self.ledger.rewind(height)
        self.synced_height = min(self.synced_height, height)
        self.locator = [(h, x) for h, x in self.locator if h <= height]
        self._maybe_save()

    def on_mempool_transaction(self, tx: Transaction) -> bool:
        """An unconfirmed transaction a peer announced; True when it concerns the wallet."""
        if self.ledger.add(tx, now=int(self.clock())):
            self._after_new_tx(tx, None)
            self._maybe_save()
            return True
        return False

    def prepare_sync(self, chain: HeightIndex) -> int | None:
        """Before a sync: compare what the wallet saw with the local header chain (a reorg may
        have happened while it was closed) and return the height the filter scan must restart
        from, or None when the wallet is up to date with the scan position."""
        self.attach_chain(chain)
        fork: int | None = None
        for ltx in self.ledger.txs.values():
            h = ltx.height
            if h is None or h > chain.height or h < chain.first_height:
                continue
            if ltx.block_hash is not None and chain.hash_at(h) != ltx.block_hash:
                fork = h - 1 if fork is None else min(fork, h - 1)
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
        self._set_locator(chain, scan_height)
        self.restoring = False
        self.save()

    def _set_locator(self, chain: HeightIndex, height: int) -> None:
        heights = sorted({height - (1 << i) + 1 for i in range(16)} | {height})
        self.locator = [
            (h, chain.hash_at(h)) for h in heights if chain.first_height <= h <= chain.height
        ]

    @property
    def tip_height(self) -> int:
        return self.ledger.tip_height

    # --- ledger views ---

    def balance(self) -> Balance:
        return self.ledger.balance(self.frozen)

    def coins(self) -> list[Coin]:
        return self.ledger.coins(self.frozen)

    def history(self) -> list[HistoryEntry]:
        return self.ledger.history(self.labels)

    def freeze(self, outpoints: Iterable[OutPoint | str], frozen: bool = True) -> None:
        known = {c.outpoint for c in self.coins()}
        for item in outpoints:
            op = outpoint_from_text(item) if isinstance(item, str) else item
            if op not in known:
                raise WalletError(f"{outpoint_text(op)} is not an unspent coin of this wallet")
            if frozen:
                self.frozen.add(op)
            else:
                self.frozen.discard(op)
        self._maybe_save()

    def export_csv(self, target: Path | io.TextIOBase | None = None) -> str:
        """History as CSV (date, txid, amount, fee, balance, label, confirmations), amounts in
        coins; written to `target` when given (atomically for a path). Returns the text."""
        upc = self.params.units_per_coin
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["date", "txid", "amount", "fee", "balance", "label", "confirmations"])
        for e in self.history():
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

    # --- building transactions ---

    def _fee_rate(self, fee_rate: str | float | Fraction | None) -> Fraction:
        rate = self.default_fee_rate if fee_rate is None else parse_fee_rate(fee_rate)
        minimum = Fraction(self.params.min_relay_fee_per_kb, 1000)
        if rate < minimum:
            raise TxBuildError(
                f"the fee rate {rate} is below the network's minimum relay fee of {minimum} "
                "unit(s) per vbyte"
            )
        return rate

    def _destination(self, address: str) -> bytes:
        text = address.strip()
        if text.lower().startswith("pkt:") or text.lower().startswith(f"{self.params.bech32_hrp}:"):
            from spv.uri import parse_payment_uri

            text = parse_payment_uri(text, self.params).address
        try:
            return script_for_address(text, self.params)
        except ParseError as exc:
            raise WalletError(f"invalid {self.params.name} address {text!r}: {exc}") from None

    def _chosen_coins(self, chosen: Sequence[OutPoint | str]) -> list[Coin]:
        available = {c.outpoint: c for c in self.coins()}
        result: list[Coin] = []
        for item in chosen:
            op = outpoint_from_text(item) if isinstance(item, str) else item
            coin = available.get(op)
            if coin is None:
                raise WalletError(f"{outpoint_text(op)} is not an unspent coin of this wallet")
            if not coin.mature:
                raise WalletError(f"{outpoint_text(op)} is an immature mining reward")
            if coin.ns_expired:
                raise WalletError(f"{outpoint_text(op)} is an expired Network Steward payment")
            if coin.frozen:
                raise WalletError(f"{outpoint_text(op)} is frozen; unfreeze it to spend it")
            if op in (c.outpoint for c in result):
                raise WalletError(f"{outpoint_text(op)} is chosen twice")
            result.append(coin)
        return result

    def spendable_coins(self) -> list[Coin]:
        return [c for c in self.coins() if c.spendable and c.trusted]

    @staticmethod
    def _candidate(coin: Coin) -> Candidate:
        return Candidate(coin.outpoint, coin.value, coin.owner.kind, coin.confirmed)

    def _preview(
        self,
        purpose: str,
        coins: Sequence[Coin],
        outputs: Sequence[tuple[bytes, int, bool]],
        rate: Fraction,
        rbf: bool = False,
    ) -> TxPreview:
        """Assemble an unsigned transaction; `outputs` are (script, value, is_change). With
        `rbf` the inputs signal BIP125 replaceability (pktwallet never does; off by default)."""
        tx_outputs = tuple(TxOut(v, s) for s, v, _ in outputs)
        sequence = SEQUENCE_RBF if rbf else SEQUENCE_FINAL
        tx = Transaction(
            TX_VERSION,
            tuple(TxIn(c.outpoint, b"", sequence) for c in coins),
            tx_outputs,
            0,
        )
        weight = tx_weight([c.owner.kind for c in coins], [s for s, _, _ in outputs])
        fee = sum(c.value for c in coins) - sum(v for _, v, _ in outputs)
        preview_outputs = tuple(
            PreviewOutput(address_from_script(s, self.params), s, v, change, self.is_mine(s))
            for s, v, change in outputs
        )
        return TxPreview(
            purpose, tuple(coins), preview_outputs, fee, vsize_of_weight(weight), rate, tx
        )

    def create_send(
        self,
        payments: Sequence[tuple[str, int | str]],
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        rbf: bool = False,
    ) -> TxPreview:
        """Pay `payments` ((address, units or "max"), at most one "max") from the wallet's
        spendable coins (or exactly the `coins` chosen), change to a fresh change address.
        `rbf`: signal BIP125 replaceability (off by default, as pktwallet)."""
        if not payments:
            raise WalletError("nothing to pay")
        rate = self._fee_rate(fee_rate)
        scripts: list[bytes] = []
        amounts: list[int | None] = []
        for address, amount in payments:
            script = self._destination(address)
            if isinstance(amount, str):
                if amount.strip().lower() != "max":
                    raise WalletError(f"bad amount {amount!r}")
                amounts.append(None)
            else:
                if amount <= 0:
                    raise WalletError("the amount must be positive")
                if is_dust(amount, script, self.params.min_relay_fee_per_kb):
                    raise WalletError(
                        f"{amount} units is below the dust limit of "
                        f"{dust_threshold(script, self.params.min_relay_fee_per_kb)} units "
                        "for this address"
                    )
                amounts.append(amount)
            scripts.append(script)
        if amounts.count(None) > 1:
            raise WalletError('only one payment can be "max"')
        chosen = self._chosen_coins(coins) if coins else None
        pool = chosen if chosen is not None else self.spendable_coins()
        fixed = sum(a for a in amounts if a is not None)
        min_relay = self.params.min_relay_fee_per_kb
        if None in amounts:
            if not pool:
                raise InsufficientFundsError("no spendable coins")
            kinds = [c.owner.kind for c in pool]
            if len(pool) > max_inputs_for(kinds) or tx_weight(kinds, scripts) > MAX_STANDARD_WEIGHT:
                raise WalletError(
                    f"sending everything needs {len(pool)} coins, more than one transaction "
                    "may spend: consolidate the wallet first"
                )
            fee = fee_for(vsize_of_weight(tx_weight(kinds, scripts)), rate)
            rest = sum(c.value for c in pool) - fixed - fee
            i = amounts.index(None)
            if rest <= 0 or is_dust(rest, scripts[i], min_relay):
                raise InsufficientFundsError(
                    "not enough left to send after the other payments and the fee"
                )
            values = [a if a is not None else rest for a in amounts]
            return self._preview(
                "send",
                pool,
                [(s, v, False) for s, v in zip(scripts, values, strict=True)],
                rate,
                rbf,
            )
        values = [a for a in amounts if a is not None]
        change = self.change_script()
        if chosen is not None:
            selection = finish_selection(
                [self._candidate(c) for c in chosen], scripts, fixed, rate, change, min_relay
            )
            if selection is None:
                raise InsufficientFundsError("the chosen coins do not cover the amount and the fee")
        else:
            selection = select_coins(
                [self._candidate(c) for c in pool],
                scripts,
                fixed,
                rate,
                change,
                min_relay_fee_per_kb=min_relay,
            )
        by_outpoint = {c.outpoint: c for c in pool}
        used = [by_outpoint[c.outpoint] for c in selection.coins]
        outs: list[tuple[bytes, int, bool]] = [
            (s, v, False) for s, v in zip(scripts, values, strict=True)
        ]
        if selection.change:
            outs.insert(_secrets.randbelow(len(outs) + 1), (change, selection.change, True))
        return self._preview("send", used, outs, rate, rbf)

    def _batches(self, coins: Sequence[Coin], dest: bytes) -> list[list[Coin]]:
        """Split coins into groups that each fit one standard transaction paying `dest`."""
        batches: list[list[Coin]] = []
        current: list[Coin] = []
        for coin in coins:
            trial = [*current, coin]
            kinds = [c.owner.kind for c in trial]
            if current and (
                len(trial) > max_inputs_for(kinds) or tx_weight(kinds, [dest]) > MAX_STANDARD_WEIGHT
            ):
                batches.append(current)
                current = [coin]
            else:
                current = trial
        if current:
            batches.append(current)
        return batches

    def _sweep_previews(
        self, purpose: str, coins: Sequence[Coin], dest: bytes, rate: Fraction
    ) -> list[TxPreview]:
        previews = []
        for batch in self._batches(coins, dest):
            weight = tx_weight([c.owner.kind for c in batch], [dest])
            value = sum(c.value for c in batch) - fee_for(vsize_of_weight(weight), rate)
            if value <= 0 or is_dust(value, dest, self.params.min_relay_fee_per_kb):
                continue
            previews.append(self._preview(purpose, batch, [(dest, value, True)], rate))
        return previews

    def create_consolidation(
        self,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        max_coin_value: int | None = None,
    ) -> list[TxPreview]:
        """Merge many small coins into one output per batch (each batch a standard-size
        transaction: at most 1460 segwit / 499 legacy inputs, weight 400000). Coins worth
        less than their own input fee are left alone."""
        rate = self._fee_rate(fee_rate)
        pool = (
            self._chosen_coins(coins)
            if coins
            else [c for c in self.spendable_coins() if c.confirmed]
        )
        if max_coin_value is not None:
            pool = [c for c in pool if c.value <= max_coin_value]
        pool = [c for c in pool if c.value > rate * Fraction(INPUT_WEIGHT[c.owner.kind], 4)]
        pool.sort(key=lambda c: (c.value, c.outpoint.txid, c.outpoint.index))
        if len(pool) < 2:
            raise WalletError("nothing to consolidate: fewer than two spendable coins")
        previews = self._sweep_previews("consolidate", pool, self.change_script(), rate)
        if not previews:
            raise WalletError("nothing to consolidate: the coins do not cover the fee")
        return previews

    def _vote_candidate(self, address: str | None) -> bytes | None:
        if address is None or address.strip().lower() in ("", "none", "-"):
            return None
        return self._destination(address)

    def create_vote(
        self,
        vote_for: str | None,
        vote_against: str | None = None,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
    ) -> list[TxPreview]:
        """Network Steward vote: move the coins (all spendable ones by default) to the
        wallet's own legacy P2PKH address with ``<for> <against> OP_VOTE`` appended (segwit
        outputs cannot carry a vote). Every coin then votes with its value."""
        rate = self._fee_rate(fee_rate)
        for_script = self._vote_candidate(vote_for)
        against_script = self._vote_candidate(vote_against)
        if for_script is None and against_script is None:
            raise WalletError("give a candidate to vote for and/or against")
        ai = self.legacy_account
        if ai is None:
            raise WalletError("this wallet has no legacy (P2PKH) account to vote from")
        key = self._first_unused(ai, EXTERNAL)
        try:
            dest = add_vote(key.script, for_script, against_script)
        except ValueError as exc:
            raise WalletError(f"cannot vote: {exc}") from None
        pool = self._chosen_coins(coins) if coins else self.spendable_coins()
        if not pool:
            raise InsufficientFundsError("no spendable coins to vote with")
        previews = self._sweep_previews("vote", pool, dest, rate)
        if not previews:
            raise InsufficientFundsError("the coins do not cover the fee of the vote")
        return previews

    def create_sweep_imported(
        self, *, fee_rate: str | float | Fraction | None = None
    ) -> list[TxPreview]:
        """Move the coins of imported keys into the HD wallet (a fresh receive address)."""
        rate = self._fee_rate(fee_rate)
        pool = [c for c in self.coins() if c.owner.ref.imported and c.spendable]
        if not pool:
            raise WalletError("the imported keys have no spendable coins (yet)")
        dest = self._first_unused(self.default_account, EXTERNAL).script
        previews = self._sweep_previews("sweep", pool, dest, rate)
        if not previews:
            raise WalletError("the imported coins do not cover the fee")
        return previews

    # --- signing ---

    def check_password(self, password: str) -> None:
        """Raise PasswordError unless `password` opens this wallet's key file."""
        forbid_gui_thread("Wallet.check_password")
        self._check_secrets_match(_open_secrets(self.key_path, password))

    def open_secrets(self, password: str) -> keystore.WalletSecrets:
        """Decrypt the key file (the slow part of signing: the password's key derivation).
        It reads only the key file, so it may run on a worker thread while the wallet is
        used elsewhere; hand the result to :meth:`sign` and drop it."""
        forbid_gui_thread("Wallet.open_secrets")
        return _open_secrets(self.key_path, password)

    def create_fee_bump(
        self, txid: str, fee_rate: str | float | Fraction | None = None
    ) -> TxPreview:
        """A BIP125 replacement of an unconfirmed payment of this wallet that allowed it (sent
        with RBF): the same coins and recipients, a higher fee taken from the change. The fee
        also covers BIP125's rule that a replacement pays for its own relay on top of the
        fee it replaces."""
        ltx = self.ledger.txs.get(hash_from_display(txid))
        if ltx is None:
            raise WalletError(f"unknown transaction {txid}")
        if ltx.confirmed:
            raise WalletError("this payment is confirmed already: its fee cannot change")
        tx = ltx.tx
        if tx.is_coinbase() or not any(i.sequence <= SEQUENCE_RBF for i in tx.inputs):
            raise WalletError(
                "this payment was sent without 'allow fee bump later' (RBF): it cannot be replaced"
            )
        coins = []
        for txin in tx.inputs:
            parent = self.ledger.txs.get(txin.prevout.txid)
            out = (
                parent.tx.outputs[txin.prevout.index]
                if parent is not None and txin.prevout.index < len(parent.tx.outputs)
                else None
            )
            owned = self.owner(out.script) if out is not None else None
            if parent is None or out is None or owned is None:
                raise WalletError("this payment spends coins that are not this wallet's")
            coins.append(
                Coin(
                    outpoint=txin.prevout,
                    value=out.value,
                    script=out.script,
                    owner=owned,
                    height=parent.height,
                    coinbase=parent.tx.is_coinbase(),
                    confirmations=self.ledger.confirmations(parent.height),
                    mature=True,
                    ns_expired=False,
                    trusted=True,
                )
            )
        old_fee = sum(c.value for c in coins) - sum(o.value for o in tx.outputs)
        change_at = [
            n
            for n, o in enumerate(tx.outputs)
            if (owned_out := self.owner(o.script)) is not None
            and not owned_out.ref.imported
            and owned_out.ref.branch == INTERNAL
        ]
        if not change_at:
            raise WalletError("this payment has no change to take a higher fee from")
        rate = self._fee_rate(fee_rate)
        kinds = [c.owner.kind for c in coins]
        vsize = vsize_of_weight(tx_weight(kinds, [o.script for o in tx.outputs]))
        relay = fee_for(vsize, Fraction(self.params.min_relay_fee_per_kb, 1000))
        new_fee = max(fee_for(vsize, rate), old_fee + relay)
        change_n = change_at[-1]
        change = tx.outputs[change_n]
        outputs = [(o.script, o.value, n == change_n) for n, o in enumerate(tx.outputs)]
        new_change = change.value - (new_fee - old_fee)
        if new_change < 0 or is_dust(new_change, change.script, self.params.min_relay_fee_per_kb):
            raise WalletError(
                f"the change ({format_amount(change.value, self.params.units_per_coin)} "
                f"{self.params.coin_symbol}) is too small to pay a fee of "
                f"{format_amount(new_fee, self.params.units_per_coin)} {self.params.coin_symbol}"
            )
        outputs[change_n] = (change.script, new_change, True)
        return self._preview("bump", coins, outputs, rate, rbf=True)

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
        unspent = {c.outpoint for c in self.coins()}
        spent_by = self.ledger.spent_by()
        for coin in preview.inputs:
            if coin.outpoint in unspent:
                continue
            spender = self.ledger.txs.get(spent_by.get(coin.outpoint, b""))
            replaceable = (
                preview.purpose == "bump" and spender is not None and not spender.confirmed
            )
            if not replaceable:
                raise WalletError("this preview spends coins that are gone; prepare it again")
        if secrets is None:
            if password is None:
                raise PasswordError("the password is needed to sign")
            secrets = _open_secrets(self.key_path, password)
        self._check_secrets_match(secrets)
        private_accounts: dict[int, Account] = {}
        imported_keys = _imported_private_keys(secrets, self.params)
        inputs = []
        for coin in preview.inputs:
            ref = coin.owner.ref
            if ref.imported:
                imported = self.imported[ref.index]
                priv = imported_keys.get(imported.public_key)
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

    def _private_account(self, secrets: keystore.WalletSecrets, ai: int) -> Account:
        acc = self.accounts[ai]
        for secret in secrets.accounts:
            if secret.path == acc.scope.path_str and secret.nonstandard == acc.scope.nonstandard:
                key = parse_extended_key(secret.xprv, self.params)
                if key.neutered() != acc.account.key:
                    raise StateFileError("the key file and the state file are of different wallets")
                return Account(acc.scope, key)
        raise KeyFileError(f"the key file has no key for account {acc.scope.path_str}")

    def _check_secrets_match(self, secrets: keystore.WalletSecrets) -> None:
        if self.accounts:
            self._private_account(secrets, 0)

    def record_pending(self, tx: Transaction) -> None:
        """Record a broadcast transaction (unconfirmed) and save."""
        self.ledger.add(tx, now=int(self.clock()))
        self._after_new_tx(tx, None)
        self.save()

    def abandon(self, txid: str) -> None:
        """Forget an unconfirmed transaction (and those spending it)."""
        from spv.hashes import hash_from_display

        key = hash_from_display(txid)
        ltx = self.ledger.txs.get(key)
        if ltx is None:
            raise WalletError(f"unknown transaction {txid}")
        if ltx.confirmed:
            raise WalletError("a confirmed transaction cannot be abandoned")
        self.ledger.remove(key)
        self.save()

    # --- passwords and imported keys ---

    def change_password(self, old: str, new: str) -> None:
        if not new:
            raise WalletError("the new password cannot be empty")
        try:
            keystore.change_password(self.key_path, old, new)
        except keystore.WrongPasswordError:
            raise PasswordError("wrong password") from None
        except keystore.KeystoreError as exc:
            raise KeyFileError(f"cannot read the key file: {exc}") from None
        except FileNotFoundError:
            raise KeyFileError(f"the key file {self.key_path} is missing") from None

    def import_key(self, wif: str, password: str, *, label: str = "") -> str:
        """Add a WIF private key (its P2PKH, P2WPKH and P2SH-P2WPKH forms are watched) and ask
        for a rescan from the first block; sweep it with :meth:`create_sweep_imported`.
        Returns its primary address."""
        try:
            priv, compressed = decode_wif(wif, self.params)
        except ParseError as exc:
            raise WalletError(f"invalid private key: {exc}") from None
        pub = public_key_of(priv, compressed)
        if any(k.public_key == pub for k in self.imported):
            raise WalletError("this key is already imported")
        secrets = _open_secrets(self.key_path, password)
        self._check_secrets_match(secrets)
        metadata = dict(secrets.metadata)
        entries = list(metadata.get("imported_keys", []))
        entries.append({"wif": wif.strip(), "label": label})
        metadata["imported_keys"] = entries
        updated = keystore.WalletSecrets(
            seed_type=secrets.seed_type,
            mnemonic=secrets.mnemonic,
            seed_hex=secrets.seed_hex,
            has_passphrase=secrets.has_passphrase,
            birthday=secrets.birthday,
            accounts=secrets.accounts,
            metadata=metadata,
        )
        header = keystore.read_header(self.key_path)
        keystore.create(
            self.key_path,
            updated,
            password,
            kdf=header["kdf"]["name"],
            kdf_params=header["kdf"]["params"],
            cipher=header["cipher"],
            overwrite=True,
        )
        imported = ImportedKey(pub, compressed, label)
        self.imported.append(imported)
        self._rebuild_script_index()
        self.ledger.reindex()
        self._request_rescan(0)
        self.save()
        first = imported.scripts()[0][0]
        return address_from_script(first, self.params) or first.hex()


# --- secrets -------------------------------------------------------------------------------------


def _open_secrets(path: Path, password: str) -> keystore.WalletSecrets:
    try:
        return keystore.open_wallet(path, password)
    except keystore.WrongPasswordError:
        raise PasswordError("wrong password") from None
    except keystore.KeystoreError as exc:
        raise KeyFileError(f"cannot read the key file {path.name}: {exc}") from None
    except FileNotFoundError:
        raise KeyFileError(
            f"the key file {path} is missing: this copy of the wallet cannot sign"
        ) from None


def _imported_private_keys(
    secrets: keystore.WalletSecrets, params: NetworkParams
) -> dict[bytes, bytes]:
    found = {}
    for entry in secrets.metadata.get("imported_keys", []):
        priv, compressed = decode_wif(str(entry["wif"]), params)
        found[public_key_of(priv, compressed)] = priv
    return found


def _account_secrets(
    master: ExtendedKey, scopes: Sequence[AccountScope]
) -> tuple[keystore.AccountSecret, ...]:
    out = []
    for scope in scopes:
        account = Account.from_master(master, scope)
        out.append(
            keystore.AccountSecret(
                path=scope.path_str,
                xprv=account.key.to_string(),
                kind=scope.receive_kind.value,
                nonstandard=scope.nonstandard,
                label=scope.name,
            )
        )
    return tuple(out)


def _scopes_for(seed_type: str, params: NetworkParams) -> tuple[AccountScope, ...]:
    return pktwallet_scopes(params) if seed_type == "pktwallet" else bip39_scopes(params)


def _bip39_secrets(
    params: NetworkParams, mnemonic: str, passphrase: str, birthday: date | None
) -> keystore.WalletSecrets:
    seed = bip39.mnemonic_to_seed(mnemonic, passphrase)
    master = master_key_from_seed(seed, params)
    return keystore.WalletSecrets(
        seed_type="bip39",
        mnemonic=" ".join(bip39.normalize_words(mnemonic)),
        has_passphrase=bool(passphrase),
        birthday=birthday,
        accounts=_account_secrets(master, bip39_scopes(params)),
    )


def seed_secrets(
    params: NetworkParams,
    seed_words: str,
    seed_passphrase: str = "",
    *,
    birthday: date | None = None,
    seed_kdf: pktseed.SeedKdf | None = None,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    now: float | None = None,
) -> keystore.WalletSecrets:
    """Decode seed words (BIP39, or pktwallet's 15 words) into the wallet's secrets."""
    words = bip39.normalize_words(seed_words)
    if not words:
        raise WalletError("no seed words given")
    if len(words) == pktseed.WORD_COUNT:
        text = " ".join(words)
        try:
            encoded = pktseed.parse_seed_words(text)
        except pktseed.SeedWordsError as exc:
            if bip39.is_valid_mnemonic(text):  # a 15-word BIP39 mnemonic
                return _bip39_secrets(params, text, seed_passphrase, birthday)
            raise WalletError(f"invalid pktwallet seed: {exc}") from None
        try:
            seed = pktseed.decrypt_seed(
                encoded,
                seed_passphrase,
                kdf=seed_kdf or pktseed.argon2id_seed_key,  # looked up now (tests swap it)
                cancel=cancel,
                progress=progress,
                now=now,
            )
        except pktseed.PktSeedError as exc:
            raise WalletError(str(exc)) from None
        master = master_key_from_seed(seed.seed, params)
        seed_birthday = seed.birthday
        if birthday is not None and birthday < seed_birthday:
            seed_birthday = birthday
        return keystore.WalletSecrets(
            seed_type="pktwallet",
            mnemonic=text,
            seed_hex=seed.seed.hex(),
            has_passphrase=encoded.needs_passphrase,
            birthday=seed_birthday,
            accounts=_account_secrets(master, pktwallet_scopes(params)),
        )
    try:
        bip39.validate_mnemonic(" ".join(words))
    except bip39.MnemonicError as exc:
        raise WalletError(f"invalid seed words: {exc}") from None
    return _bip39_secrets(params, " ".join(words), seed_passphrase, birthday)


def _initial_state(
    params: NetworkParams, secrets: keystore.WalletSecrets, *, restoring: bool, now: float
) -> dict[str, Any]:
    scopes = _scopes_for(secrets.seed_type, params)
    by_path = {a.path: a for a in secrets.accounts}
    accounts = []
    for scope in scopes:
        secret = by_path.get(scope.path_str)
        if secret is None:
            raise KeyFileError(f"the key file has no key for account {scope.path_str}")
        xpub = parse_extended_key(secret.xprv, params).neutered().to_string()
        entry = _scope_to_json(scope)
        entry.update({"path": scope.path_str, "xpub": xpub, "keys": {"0": [], "1": []}})
        accounts.append(entry)
    default = next(i for i, s in enumerate(scopes) if s.receive_kind is AddressKind.P2WPKH)
    legacy = next((i for i, s in enumerate(scopes) if s.receive_kind is AddressKind.P2PKH), None)
    word_count = len(secrets.mnemonic.split()) if secrets.mnemonic else 0
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "network": params.name,
        "seed_type": secrets.seed_type,
        "word_count": word_count,
        "birthday": secrets.birthday.isoformat() if secrets.birthday else None,
        "backed_up": restoring,
        "created": int(now),
        "accounts": accounts,
        "default_account": default,
        "legacy_account": legacy,
        "sync": {"height": -1, "restoring": restoring},
        "imported": [
            {"public_key": pub.hex(), "compressed": len(pub) == 33, "label": label}
            for pub, label in _imported_public_keys(secrets, params)
        ],
    }


def _imported_public_keys(
    secrets: keystore.WalletSecrets, params: NetworkParams
) -> list[tuple[bytes, str]]:
    out = []
    for entry in secrets.metadata.get("imported_keys", []):
        priv, compressed = decode_wif(str(entry["wif"]), params)
        out.append((public_key_of(priv, compressed), str(entry.get("label", ""))))
    return out


def _state_candidates(path: Path) -> Iterable[tuple[dict[str, Any] | None, bool, str]]:
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
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            yield None, is_backup, f"{candidate.name} is not a wallet state file"
            continue
        yield data, is_backup, ""


def describe_outpoint(outpoint: OutPoint) -> str:
    return f"{hash_to_display(outpoint.txid)}:{outpoint.index}"
