"""The HD wallet: its files, addresses, the ledger as the light client's watcher, spending and
signing. The work is done by one module per concern: the database (:mod:`.store`), keys and
watched scripts (:mod:`.keychain`), transactions and coins (:mod:`.ledger`), history pages
(:mod:`.history`), coin queries (:mod:`.coin_queries`), transaction building (:mod:`.spending`).

Files (``<datadir>/wallets/``):

* ``<name>.wallet`` — the encrypted keystore (:mod:`app.wallet.keystore`): seed words, account
  private keys, imported private keys. Needed only to sign (and to repair the database).
* ``<name>.db`` — everything public, in SQLite (:mod:`app.wallet.store`), so the wallet syncs and
  shows balances without the password. A state file of the JSON era (``<name>.state.json``) is
  imported the first time the wallet is opened and kept as ``<name>.state.json.imported``;
  :meth:`Wallet.repair` rebuilds the database from the keystore.
* ``<name>.lock`` — an advisory lock held while a process has the wallet open.

New wallets are BIP39 (12 or 24 words) with the BIP84, BIP49 and BIP44 accounts of
``m/purpose'/C'/0'`` (C = ``params.wallet_coin_type``); receive addresses are BIP84 P2WPKH and
the BIP44 account provides the legacy P2PKH address 2019-2023 votes are paid to. A restore
takes BIP39 words or pktwallet's 15 seed words (detected by the count).

Every receive and change branch keeps ``gap_limit`` unused keys past the last used one. When a
transaction uses a key near the end, more keys are derived and the wallet asks for a rescan
(:attr:`Wallet.pending_rescan`): from the birthday while restoring, else from the next block.

Writes go into the database's open transaction and are committed in batches during a sync
(:meth:`on_scan_progress`, or at least every second) and at once for a user action.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from miner.threadguard import forbid_gui_thread
from spv.params import NetworkParams

from . import keystore, pktseed
from .accounts import DEFAULT_GAP_LIMIT, AddressKind
from .errors import (
    BackupCheckError,
    KeyFileError,
    PasswordError,
    StateFileError,
    TooManyCoinsError,
    WalletError,
    WalletExistsError,
    WalletLockedError,
    WalletNotFoundError,
)
from .files import (
    WalletLock,
    check_name,
    db_path,
    delete_wallet_files,
    key_path,
    list_wallets,
    remove_database,
    state_path,
    wallets_dir,
)
from .keychain import ImportedKey, KeyChain
from .legacy_import import IMPORTED_SUFFIX, import_legacy_state
from .model import (
    AddressInfo,
    Balance,
    Coin,
    ConsolidationPlan,
    HistoryEntry,
    KeyRef,
    Owned,
    PreviewOutput,
    TxDetails,
    TxPreview,
)
from .open_wallet import OpenWallet, today_of
from .seeds import imported_public_keys, open_secrets, scopes_for, seed_secrets
from .spending import SEQUENCE_FINAL, SEQUENCE_RBF, TX_VERSION
from .store import WalletStore

__all__ = [
    "SEQUENCE_FINAL",
    "SEQUENCE_RBF",
    "TX_VERSION",
    "AddressInfo",
    "BackupCheckError",
    "Balance",
    "Coin",
    "ConsolidationPlan",
    "HistoryEntry",
    "KeyFileError",
    "KeyRef",
    "Owned",
    "PasswordError",
    "PreviewOutput",
    "StateFileError",
    "TooManyCoinsError",
    "TxDetails",
    "TxPreview",
    "Wallet",
    "WalletError",
    "WalletExistsError",
    "WalletLockedError",
    "WalletNotFoundError",
    "check_name",
    "db_path",
    "delete_wallet_files",
    "key_path",
    "list_wallets",
    "state_path",
    "wallets_dir",
]

# --- the wallet ----------------------------------------------------------------------------------


class Wallet(OpenWallet):
    """One HD wallet. Open with :meth:`open`, :meth:`create` or :meth:`restore`; close with
    :meth:`close` (or use it as a context manager). It is a ``spv.node.ChainWatcher``."""

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
        """Open an existing wallet from its database (no password needed)."""
        forbid_gui_thread("Wallet.open")
        kpath, dpath, jpath = (
            key_path(datadir, name),
            db_path(datadir, name),
            state_path(datadir, name),
        )
        backup = jpath.with_name(jpath.name + ".bak")
        locker = WalletLock(wallets_dir(datadir) / f"{name}.lock")
        if lock:
            locker.acquire()
        try:
            recovered = False
            if lock:
                _remove_stale_temporaries(dpath)
            if not dpath.exists():
                if jpath.exists() or backup.exists():
                    recovered = import_legacy_state(jpath, dpath, params, name)
                elif kpath.exists():
                    raise StateFileError(
                        f"the wallet database of {name!r} is missing; rebuild it with the "
                        f"password: pkt-wallet repair --wallet {name}"
                    )
                else:
                    raise WalletNotFoundError(
                        f"no wallet named {name!r} in {wallets_dir(datadir)} (create or restore one)"
                    )
            elif jpath.exists():  # killed right after an import, before the rename
                with contextlib.suppress(OSError):
                    jpath.replace(jpath.with_name(jpath.name + IMPORTED_SUFFIX))
            try:
                store = WalletStore(dpath)
            except StateFileError as exc:
                if "newer version" in str(exc):
                    raise
                raise StateFileError(
                    f"{exc}; rebuild it with the password: pkt-wallet repair --wallet {name}"
                ) from None
            try:
                wallet = cls(params, Path(datadir), name, store, clock=clock)
            except BaseException:
                store.db.close()
                raise
        except BaseException:
            locker.release()
            raise
        wallet._lock = locker
        wallet.recovered_from_backup = recovered
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
        from . import bip39
        from .seeds import bip39_secrets

        forbid_gui_thread("Wallet.create")
        if words not in (12, 24):
            raise WalletError("a new wallet has 12 or 24 words")
        mnemonic = bip39.generate_mnemonic(words)
        secrets = bip39_secrets(params, mnemonic, passphrase, today_of(clock()))
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
        kpath, dpath = key_path(datadir, name), db_path(datadir, name)
        if kpath.exists() or dpath.exists() or state_path(datadir, name).exists():
            raise WalletExistsError(f"a wallet named {name!r} already exists")
        if not password:
            raise WalletError("the wallet password cannot be empty")
        locker = WalletLock(wallets_dir(datadir) / f"{name}.lock")
        locker.acquire()
        try:
            keystore.create(kpath, secrets, password, kdf_params=kdf_params)
            _build_database(dpath, params, secrets, restoring=restoring, now=clock())
            wallet = cls(params, Path(datadir), name, WalletStore(dpath), clock=clock)
        except BaseException:
            locker.release()
            raise
        wallet._lock = locker
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
        """Rebuild the database from the key file (history and labels come back with the
        rescan from the birthday that follows; the damaged database is kept aside)."""
        kpath, dpath = key_path(datadir, name), db_path(datadir, name)
        secrets = open_secrets(kpath, password)
        locker = WalletLock(wallets_dir(datadir) / f"{name}.lock")
        locker.acquire()
        try:
            if dpath.exists():
                aside = dpath.with_name(dpath.name + ".damaged")
                remove_database(aside)
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        dpath.with_name(dpath.name + suffix).replace(
                            aside.with_name(aside.name + suffix)
                        )
            _build_database(dpath, params, secrets, restoring=True, now=clock(), backed_up=True)
            wallet = cls(params, Path(datadir), name, WalletStore(dpath), clock=clock)
        except BaseException:
            locker.release()
            raise
        wallet._lock = locker
        return wallet

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
        from spv.address import address_from_script, decode_wif
        from spv.errors import ParseError

        from .signing import public_key_of

        try:
            priv, compressed = decode_wif(wif, self.params)
        except ParseError as exc:
            raise WalletError(f"invalid private key: {exc}") from None
        pub = public_key_of(priv, compressed)
        if any(k.public_key == pub for k in self.keys.imported):
            raise WalletError("this key is already imported")
        secrets = open_secrets(self.key_path, password)
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
        self.keys.add_imported(imported)
        self._request_rescan(0)
        self.save()
        first = imported.scripts()[0][0]
        return address_from_script(first, self.params) or first.hex()


def _remove_stale_temporaries(dpath: Path) -> None:
    """Files left by a kill during an import or a creation (only called with the lock held)."""
    for p in dpath.parent.glob(f".{dpath.name}.*"):
        with contextlib.suppress(OSError):
            p.unlink()


def _build_database(
    path: Path,
    params: NetworkParams,
    secrets: keystore.WalletSecrets,
    *,
    restoring: bool,
    now: float,
    backed_up: bool | None = None,
) -> None:
    """A new wallet database from the secrets (accounts' xpubs, the first keys), built under a
    temporary name and renamed into place when complete."""
    from spv.atomic import fsync_directory

    from .bip32 import parse_extended_key

    tmp = path.with_name(f".{path.name}.creating")
    remove_database(tmp)
    store = WalletStore(tmp, create=True)
    try:
        scopes = scopes_for(secrets.seed_type, params)
        by_path = {a.path: a for a in secrets.accounts}
        keys = KeyChain(store, params, DEFAULT_GAP_LIMIT)
        for scope in scopes:
            secret = by_path.get(scope.path_str)
            if secret is None:
                raise KeyFileError(f"the key file has no key for account {scope.path_str}")
            keys.add_account(scope, parse_extended_key(secret.xprv, params).neutered().to_string())
        for pub, label in imported_public_keys(secrets, params):
            keys.add_imported(ImportedKey(pub, len(pub) == 33, label))
        keys.extend_gaps()
        default = next(i for i, s in enumerate(scopes) if s.receive_kind is AddressKind.P2WPKH)
        legacy = next(
            (i for i, s in enumerate(scopes) if s.receive_kind is AddressKind.P2PKH), None
        )
        values: dict[str, Any] = {
            "network": params.name,
            "seed_type": secrets.seed_type,
            "word_count": len(secrets.mnemonic.split()) if secrets.mnemonic else 0,
            "birthday": secrets.birthday.isoformat() if secrets.birthday else None,
            "backed_up": restoring if backed_up is None else backed_up,
            "created": int(now),
            "gap_limit": DEFAULT_GAP_LIMIT,
            "fee_rate": "1",
            "default_account": default,
            "legacy_account": legacy,
            "synced_height": -1,
            "tip_height": -1,
            "locator": [],
            "restoring": restoring,
            "birthday_height": None,
            "pending_rescan": None,
        }
        for key, value in values.items():
            store.put(key, value)
        store.commit()
        store.checkpoint()
    except BaseException:
        store.db.close()
        remove_database(tmp)
        raise
    store.db.close()
    os.replace(tmp, path)
    fsync_directory(path.parent)
