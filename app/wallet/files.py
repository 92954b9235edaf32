"""Where a wallet's files live, their names, and the lock a process holds on an open wallet.

``<datadir>/wallets/``: ``<name>.wallet`` (the encrypted key file), ``<name>.db`` (the public
state, SQLite, with its ``-wal``/``-shm`` journal files), ``<name>.lock``, and, from older
versions, ``<name>.state.json`` (imported at the first open, then kept as
``<name>.state.json.imported``).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from spv.atomic import make_private_dir

from .errors import WalletError, WalletLockedError

WALLETS_DIR = "wallets"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


def db_path(datadir: Path, name: str) -> Path:
    return wallets_dir(datadir) / f"{check_name(name)}.db"


def state_path(datadir: Path, name: str) -> Path:
    """The JSON state file of older versions (imported at the first open)."""
    return wallets_dir(datadir) / f"{check_name(name)}.state.json"


def list_wallets(datadir: Path) -> list[str]:
    """Names of the wallets in `datadir` (a key file, a database or an old state file)."""
    folder = wallets_dir(datadir)
    if not folder.is_dir():
        return []
    names = set()
    for p in folder.iterdir():
        if p.name.endswith(".state.json"):
            names.add(p.name[: -len(".state.json")])
        elif p.suffix in (".wallet", ".db"):
            names.add(p.stem)
    return sorted(n for n in names if NAME_PATTERN.match(n))


class WalletLock:
    """An advisory lock on ``<name>.lock`` (POSIX flock; a no-op where unavailable)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        make_private_dir(self.path.parent)
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


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def delete_wallet_files(datadir: Path, name: str) -> None:
    """Remove every file of a (closed) wallet: only for one whose seed words were never
    shown, so nothing can have been paid to it."""
    remove_database(db_path(datadir, name))
    legacy = state_path(datadir, name)
    for path in (
        key_path(datadir, name),
        legacy,
        legacy.with_name(legacy.name + ".bak"),
        wallets_dir(datadir) / f"{name}.lock",
    ):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
