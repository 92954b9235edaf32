"""Password-encrypted wallet file.

The file is a JSON envelope::

    {
      "format": "pkt-wallet-keystore",
      "version": 1,
      "kdf": {"name": "scrypt", "params": {"n": 32768, "r": 8, "p": 1}, "salt": "<hex>"},
      "cipher": "chacha20poly1305",            # or "aes-256-gcm"
      "nonce": "<hex>",
      "key_check": "<hex>",
      "ciphertext": "<hex>"
    }

The password goes through the KDF (Argon2id by default, 64 MiB and 3 passes, or scrypt as
older files have it; the parameters are stored in the file) to a 32-byte root key. Two values are derived from the root key with HMAC-SHA256 and distinct
labels: the AEAD key and a 16-byte key-check value. On open, a key-check mismatch means a wrong
password (:class:`WrongPasswordError`); a matching key check followed by an AEAD failure means
the file was damaged or tampered with (:class:`CorruptWalletError`). The AEAD's associated data
is the canonical JSON of every header field (all but ``ciphertext``), so changing a header
field is detected too. (Tampering with the KDF parameters, salt or key check itself is
indistinguishable from a wrong password.)

The plaintext is the JSON form of :class:`WalletSecrets`. Every write goes through
``spv.atomic.atomic_write`` (temporary file, fsync, rename), so a crash leaves either the old or
the new file; a temporary a kill left behind is removed when the application next starts
(``app.paths.prepare_datadir``). After a password change nothing on disk opens with the old
password: the new file replaces the old one, and any ``<name>.bak`` (a copy under an older
password) is deleted first; no backup is kept, since the atomic replace already guarantees the
old or the new file, and the seed words are the way back from a forgotten password. Secrets never appear in exception messages or ``repr``. Passwords are NFKD
normalized before the KDF.

``open`` is an alias of :func:`open_wallet` (use it as ``keystore.open``; it is left out of
``__all__`` so that a star import cannot shadow the builtin).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from miner import safejson
from spv.atomic import atomic_write, fsync_directory

__all__ = [
    "CIPHER_NAMES",
    "DEFAULT_ARGON2ID_PARAMS",
    "DEFAULT_SCRYPT_PARAMS",
    "FORMAT",
    "KDF_NAMES",
    "VERSION",
    "AccountSecret",
    "CipherName",
    "CorruptWalletError",
    "KdfName",
    "KeystoreError",
    "UnsupportedVersionError",
    "WalletSecrets",
    "WrongPasswordError",
    "change_password",
    "create",
    "open_wallet",
    "read_header",
]

FORMAT = "pkt-wallet-keystore"
VERSION = 1
SECRETS_FORMAT_VERSION = 1
KEY_SIZE = 32
SALT_SIZE = 16
NONCE_SIZE = 12
KEY_CHECK_SIZE = 16
MAX_FILE_SIZE = 4 * 1024 * 1024
_ENC_LABEL = b"pkt-wallet keystore v1 encryption key"
_CHECK_LABEL = b"pkt-wallet keystore v1 key check"

KdfName = Literal["scrypt", "argon2id"]
CipherName = Literal["chacha20poly1305", "aes-256-gcm"]
KDF_NAMES: tuple[str, ...] = ("scrypt", "argon2id")
CIPHER_NAMES: tuple[str, ...] = ("chacha20poly1305", "aes-256-gcm")

DEFAULT_SCRYPT_PARAMS: dict[str, int] = {"n": 2**15, "r": 8, "p": 1}
DEFAULT_ARGON2ID_PARAMS: dict[str, int] = {"iterations": 3, "memory_kib": 65536, "lanes": 4}

# Accepted ranges on open (a hostile file must not make us allocate gigabytes).
_SCRYPT_LIMITS = {"n": (2**10, 2**22), "r": (1, 32), "p": (1, 16)}
_ARGON2ID_LIMITS = {
    "iterations": (1, 64),
    "memory_kib": (8 * 64, 4 * 1024 * 1024),
    "lanes": (1, 64),
}


class KeystoreError(Exception):
    """Base class of keystore errors."""


class WrongPasswordError(KeystoreError):
    """The password does not open this wallet file."""


class CorruptWalletError(KeystoreError):
    """The file is not a readable wallet file: bad JSON, truncated, or modified."""


class UnsupportedVersionError(KeystoreError):
    """The file was written by a newer program (or uses an algorithm this one lacks)."""


# --- secrets ------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AccountSecret:
    """One account's extended private key and where it lives."""

    path: str  # e.g. "m/84'/0'/0'"
    xprv: str
    kind: str  # address kind of its receive branch, e.g. "p2wpkh"
    nonstandard: bool = False  # derived with pktwallet's hardened-derivation quirk
    label: str = ""

    def __repr__(self) -> str:
        return f"AccountSecret(path={self.path!r}, kind={self.kind!r}, xprv=<redacted>)"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "xprv": self.xprv,
            "kind": self.kind,
            "nonstandard": self.nonstandard,
            "label": self.label,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountSecret:
        return cls(
            path=_str(data, "path"),
            xprv=_str(data, "xprv"),
            kind=_str(data, "kind"),
            nonstandard=_bool(data, "nonstandard", False),
            label=_str(data, "label", ""),
        )


@dataclass(frozen=True, repr=False)
class WalletSecrets:
    """Everything secret about a wallet.

    `seed_type` is "bip39" (`mnemonic` holds the BIP39 words) or "pktwallet" (`mnemonic` holds
    the 15 seed words and `seed_hex` the decrypted 19-byte seed, since the words alone need the
    seed passphrase). `has_passphrase` records that a BIP39 passphrase / pktwallet seed
    passphrase was used; the passphrase itself is not stored.
    """

    seed_type: str
    mnemonic: str | None = None
    seed_hex: str | None = None
    has_passphrase: bool = False
    birthday: date | None = None
    accounts: tuple[AccountSecret, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"WalletSecrets(seed_type={self.seed_type!r}, has_passphrase={self.has_passphrase}, "
            f"birthday={self.birthday}, accounts={len(self.accounts)}, <secrets redacted>)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "secrets_version": SECRETS_FORMAT_VERSION,
            "seed_type": self.seed_type,
            "mnemonic": self.mnemonic,
            "seed_hex": self.seed_hex,
            "has_passphrase": self.has_passphrase,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "accounts": [a.to_json() for a in self.accounts],
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WalletSecrets:
        version = data.get("secrets_version")
        if version != SECRETS_FORMAT_VERSION:
            raise UnsupportedVersionError(f"unsupported wallet secrets version {version!r}")
        birthday = data.get("birthday")
        accounts = data.get("accounts", [])
        metadata = data.get("metadata", {})
        if not isinstance(accounts, list) or not all(isinstance(a, dict) for a in accounts):
            raise CorruptWalletError("wallet secrets: 'accounts' must be a list of objects")
        if not isinstance(metadata, dict):
            raise CorruptWalletError("wallet secrets: 'metadata' must be an object")
        try:
            birthday_date = date.fromisoformat(birthday) if isinstance(birthday, str) else None
        except ValueError:
            raise CorruptWalletError("wallet secrets: bad birthday") from None
        return cls(
            seed_type=_str(data, "seed_type"),
            mnemonic=_opt_str(data, "mnemonic"),
            seed_hex=_opt_str(data, "seed_hex"),
            has_passphrase=_bool(data, "has_passphrase", False),
            birthday=birthday_date,
            accounts=tuple(AccountSecret.from_json(a) for a in accounts),
            metadata=metadata,
        )


def _str(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise CorruptWalletError(f"wallet secrets: {key!r} must be a string")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise CorruptWalletError(f"wallet secrets: {key!r} must be a string")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise CorruptWalletError(f"wallet secrets: {key!r} must be true or false")
    return value


# --- key derivation and encryption --------------------------------------------------------------


def _check_params(
    params: Mapping[str, Any], limits: Mapping[str, tuple[int, int]]
) -> dict[str, int]:
    if set(params) != set(limits):
        raise CorruptWalletError(f"kdf parameters must be exactly {sorted(limits)}")
    checked: dict[str, int] = {}
    for name, (low, high) in limits.items():
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CorruptWalletError(f"kdf parameter {name!r} out of range {low}..{high}")
        checked[name] = value
    return checked


def _validated_kdf_params(name: str, params: Mapping[str, Any]) -> dict[str, int]:
    if name == "scrypt":
        checked = _check_params(params, _SCRYPT_LIMITS)
        if checked["n"] & (checked["n"] - 1):
            raise CorruptWalletError("scrypt n must be a power of two")
        return checked
    if name == "argon2id":
        checked = _check_params(params, _ARGON2ID_LIMITS)
        if checked["memory_kib"] < 8 * checked["lanes"]:
            raise CorruptWalletError("argon2id memory must be at least 8 KiB per lane")
        return checked
    raise UnsupportedVersionError(f"unsupported key derivation function {name!r}")


def _derive_root_key(password: str, name: str, params: Mapping[str, int], salt: bytes) -> bytes:
    # NFKD so that the same password typed on another system (composed vs decomposed
    # accents) opens the file.
    secret = unicodedata.normalize("NFKD", password).encode("utf-8")
    if name == "scrypt":
        return Scrypt(
            salt=salt, length=KEY_SIZE, n=params["n"], r=params["r"], p=params["p"]
        ).derive(secret)
    return Argon2id(
        salt=salt,
        length=KEY_SIZE,
        iterations=params["iterations"],
        lanes=params["lanes"],
        memory_cost=params["memory_kib"],
    ).derive(secret)


def _subkey(root: bytes, label: bytes) -> bytes:
    return hmac.new(root, label, hashlib.sha256).digest()


def _aead(cipher: str, key: bytes) -> ChaCha20Poly1305 | AESGCM:
    if cipher == "chacha20poly1305":
        return ChaCha20Poly1305(key)
    if cipher == "aes-256-gcm":
        return AESGCM(key)
    raise UnsupportedVersionError(f"unsupported cipher {cipher!r}")


def _associated_data(header: Mapping[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _encrypt(
    secrets: WalletSecrets,
    password: str,
    kdf: str,
    kdf_params: Mapping[str, int],
    cipher: str,
) -> bytes:
    try:
        params = _validated_kdf_params(kdf, kdf_params)
    except CorruptWalletError as exc:
        raise ValueError(str(exc).replace("kdf parameter", "kdf parameter given")) from None
    if cipher not in CIPHER_NAMES:
        raise UnsupportedVersionError(f"unsupported cipher {cipher!r}")
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    root = _derive_root_key(password, kdf, params, salt)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"name": kdf, "params": params, "salt": salt.hex()},
        "cipher": cipher,
        "nonce": nonce.hex(),
        "key_check": _subkey(root, _CHECK_LABEL)[:KEY_CHECK_SIZE].hex(),
    }
    plaintext = json.dumps(secrets.to_json(), sort_keys=True).encode("utf-8")
    ciphertext = _aead(cipher, _subkey(root, _ENC_LABEL)).encrypt(
        nonce, plaintext, _associated_data(header)
    )
    envelope = dict(header, ciphertext=ciphertext.hex())
    return (json.dumps(envelope, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class _Envelope:
    header: dict[str, Any]
    kdf: str
    kdf_params: dict[str, int]
    salt: bytes
    cipher: str
    nonce: bytes
    key_check: bytes
    ciphertext: bytes


def _hex_field(data: Mapping[str, Any], key: str, size: int | None = None) -> bytes:
    value = data.get(key)
    if not isinstance(value, str):
        raise CorruptWalletError(f"wallet file field {key!r} is missing or not a string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CorruptWalletError(f"wallet file field {key!r} is not hex") from None
    if size is not None and len(raw) != size:
        raise CorruptWalletError(f"wallet file field {key!r} must be {size} bytes")
    return raw


def _parse_envelope(raw: bytes) -> _Envelope:
    if len(raw) > MAX_FILE_SIZE:
        raise CorruptWalletError("the file is too large to be a wallet file")
    try:
        data = safejson.loads(raw, max_bytes=MAX_FILE_SIZE)
    except safejson.JsonError:
        raise CorruptWalletError(
            "the wallet file is not valid JSON (truncated or damaged)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorruptWalletError("this is not a PKT wallet file")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise CorruptWalletError("the wallet file has no valid version")
    if version != VERSION:
        raise UnsupportedVersionError(
            f"wallet file version {version} is not supported (this program reads {VERSION})"
        )
    expected_keys = {"format", "version", "kdf", "cipher", "nonce", "key_check", "ciphertext"}
    if set(data) != expected_keys:
        raise CorruptWalletError("the wallet file has missing or unexpected fields")
    kdf = data["kdf"]
    if not isinstance(kdf, dict) or set(kdf) != {"name", "params", "salt"}:
        raise CorruptWalletError("the wallet file's kdf field is malformed")
    if not isinstance(kdf["name"], str) or not isinstance(kdf["params"], dict):
        raise CorruptWalletError("the wallet file's kdf field is malformed")
    cipher = data["cipher"]
    if not isinstance(cipher, str):
        raise CorruptWalletError("the wallet file's cipher field is malformed")
    if cipher not in CIPHER_NAMES:
        raise UnsupportedVersionError(f"unsupported cipher {cipher!r}")
    kdf_params = _validated_kdf_params(kdf["name"], kdf["params"])
    header = {k: v for k, v in data.items() if k != "ciphertext"}
    return _Envelope(
        header=header,
        kdf=kdf["name"],
        kdf_params=kdf_params,
        salt=_hex_field(kdf, "salt"),
        cipher=cipher,
        nonce=_hex_field(data, "nonce", NONCE_SIZE),
        key_check=_hex_field(data, "key_check", KEY_CHECK_SIZE),
        ciphertext=_hex_field(data, "ciphertext"),
    )


def _decrypt(raw: bytes, password: str) -> WalletSecrets:
    envelope = _parse_envelope(raw)
    if not 8 <= len(envelope.salt) <= 64:
        raise CorruptWalletError("the wallet file's salt has a bad length")
    root = _derive_root_key(password, envelope.kdf, envelope.kdf_params, envelope.salt)
    check = _subkey(root, _CHECK_LABEL)[:KEY_CHECK_SIZE]
    if not hmac.compare_digest(check, envelope.key_check):
        raise WrongPasswordError("wrong password")
    aead = _aead(envelope.cipher, _subkey(root, _ENC_LABEL))
    try:
        plaintext = aead.decrypt(
            envelope.nonce, envelope.ciphertext, _associated_data(envelope.header)
        )
    except InvalidTag:
        raise CorruptWalletError(
            "the wallet file has been damaged or modified (authentication failed)"
        ) from None
    try:
        data = safejson.loads(plaintext, max_bytes=MAX_FILE_SIZE)
    except safejson.JsonError:
        raise CorruptWalletError("the decrypted wallet data is not valid JSON") from None
    if not isinstance(data, dict):
        raise CorruptWalletError("the decrypted wallet data is not a JSON object")
    return WalletSecrets.from_json(data)


def _kdf_defaults(kdf: str) -> dict[str, int]:
    if kdf == "scrypt":
        return dict(DEFAULT_SCRYPT_PARAMS)
    if kdf == "argon2id":
        return dict(DEFAULT_ARGON2ID_PARAMS)
    raise UnsupportedVersionError(f"unsupported key derivation function {kdf!r}")


def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_FILE_SIZE + 1)


# --- public API ---------------------------------------------------------------------------------


def _kdf_for(kdf: str | None, kdf_params: Mapping[str, int] | None) -> str:
    """The KDF asked for; when not named, the one `kdf_params` are for (``n``/``r``/``p``:
    scrypt), else Argon2id (the default for new and re-encrypted files)."""
    if kdf is not None:
        return kdf
    if kdf_params is not None and set(kdf_params) == set(DEFAULT_SCRYPT_PARAMS):
        return "scrypt"
    return "argon2id"


def _as_strong_as_default(kdf: str, params: Mapping[str, int]) -> bool:
    defaults = _kdf_defaults(kdf)
    return all(params.get(k, 0) >= v for k, v in defaults.items() if k != "lanes")


def create(
    path: Path | str,
    secrets: WalletSecrets,
    password: str,
    *,
    kdf: KdfName | None = None,
    kdf_params: Mapping[str, int] | None = None,
    cipher: CipherName = "chacha20poly1305",
    overwrite: bool = False,
) -> None:
    """Write a new wallet file (mode 0600). Refuses to replace an existing file unless
    `overwrite` (the replaced file, under the same password, is then kept as ``<name>.bak``).
    The KDF is Argon2id with :data:`DEFAULT_ARGON2ID_PARAMS` unless `kdf` / `kdf_params` say
    otherwise (scrypt parameters alone choose scrypt)."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"a wallet file already exists at {target}")
    name = _kdf_for(kdf, kdf_params)
    params = dict(kdf_params) if kdf_params is not None else _kdf_defaults(name)
    atomic_write(target, _encrypt(secrets, password, name, params, cipher), keep_backup=overwrite)


def open_wallet(path: Path | str, password: str) -> WalletSecrets:
    """Decrypt a wallet file. Raises WrongPasswordError, CorruptWalletError,
    UnsupportedVersionError, or OSError (e.g. FileNotFoundError)."""
    return _decrypt(_read(Path(path)), password)


open = open_wallet  # the short name of the API; this module never uses the builtin open()


def read_header(path: Path | str) -> dict[str, Any]:
    """The non-secret header of a wallet file (format, version, kdf, cipher, ...)."""
    return dict(_parse_envelope(_read(Path(path))).header)


def change_password(
    path: Path | str,
    old_password: str,
    new_password: str,
    *,
    kdf: KdfName | None = None,
    kdf_params: Mapping[str, int] | None = None,
    cipher: CipherName | None = None,
) -> None:
    """Re-encrypt the wallet under `new_password` with a fresh salt and nonce.

    The old file is checked first (a wrong `old_password` changes nothing on disk). Then any
    ``<name>.bak`` is deleted and the new content replaces the file atomically: whenever the
    process stops, the key file opens with the old password or the new one, and once this
    returns nothing opens with the old one. The KDF becomes Argon2id with its defaults unless
    given (a file already under Argon2id at least as strong keeps its settings); the cipher
    stays as it was unless given.
    """
    target = Path(path)
    raw = _read(target)
    envelope = _parse_envelope(raw)
    secrets = _decrypt(raw, old_password)
    new_kdf = _kdf_for(kdf, kdf_params)
    if kdf_params is not None:
        params = dict(kdf_params)
    elif new_kdf == envelope.kdf and _as_strong_as_default(new_kdf, envelope.kdf_params):
        params = dict(envelope.kdf_params)
    else:
        params = _kdf_defaults(new_kdf)
    new_cipher = cipher if cipher is not None else envelope.cipher
    data = _encrypt(secrets, new_password, new_kdf, params, new_cipher)
    backup = target.with_name(target.name + ".bak")
    if backup.exists():
        backup.unlink()
        fsync_directory(target.parent)
    atomic_write(target, data)
