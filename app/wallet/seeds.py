"""Seed words to the wallet's secrets, and the key file opened with a password.

BIP39 words (any standard count) or pktwallet's 15 words (detected by the count; decoded with
Argon2id, seconds: run it off the GUI thread) become a :class:`keystore.WalletSecrets`: the seed
words, each account's xprv for the wallet kind's scopes, the birthday.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from spv.address import decode_wif
from spv.params import NetworkParams

from . import bip39, keystore, pktseed
from .accounts import Account, AccountScope, bip39_scopes, pktwallet_scopes
from .bip32 import ExtendedKey, master_key_from_seed
from .errors import KeyFileError, PasswordError, WalletError
from .signing import public_key_of


def open_secrets(path: Path, password: str) -> keystore.WalletSecrets:
    """Decrypt the key file; wrong password, damage and absence become wallet errors."""
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


def imported_private_keys(
    secrets: keystore.WalletSecrets, params: NetworkParams
) -> dict[bytes, bytes]:
    found = {}
    for entry in secrets.metadata.get("imported_keys", []):
        priv, compressed = decode_wif(str(entry["wif"]), params)
        found[public_key_of(priv, compressed)] = priv
    return found


def account_secrets(
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


def scopes_for(seed_type: str, params: NetworkParams) -> tuple[AccountScope, ...]:
    return pktwallet_scopes(params) if seed_type == "pktwallet" else bip39_scopes(params)


def bip39_secrets(
    params: NetworkParams, mnemonic: str, passphrase: str, birthday: date | None
) -> keystore.WalletSecrets:
    seed = bip39.mnemonic_to_seed(mnemonic, passphrase)
    master = master_key_from_seed(seed, params)
    return keystore.WalletSecrets(
        seed_type="bip39",
        mnemonic=" ".join(bip39.normalize_words(mnemonic)),
        has_passphrase=bool(passphrase),
        birthday=birthday,
        accounts=account_secrets(master, bip39_scopes(params)),
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
                return bip39_secrets(params, text, seed_passphrase, birthday)
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
            accounts=account_secrets(master, pktwallet_scopes(params)),
        )
    try:
        bip39.validate_mnemonic(" ".join(words))
    except bip39.MnemonicError as exc:
        raise WalletError(f"invalid seed words: {exc}") from None
    return bip39_secrets(params, " ".join(words), seed_passphrase, birthday)


def imported_public_keys(
    secrets: keystore.WalletSecrets, params: NetworkParams
) -> list[tuple[bytes, str]]:
    out = []
    for entry in secrets.metadata.get("imported_keys", []):
        priv, compressed = decode_wif(str(entry["wif"]), params)
        out.append((public_key_of(priv, compressed), str(entry.get("label", ""))))
    return out
