"""Where the application keeps its data: one directory per network, private to the user.

:func:`prepare_datadir` runs when the CLI or the window starts: it says plainly when the data
directory is not a folder, makes it and its folders private (0700, whatever the umask or an
older version left), and removes the temporaries of writes a kill interrupted (a key file
half-way through a password change, a chain index) whose process is gone.
"""

import errno
import logging
import os
from pathlib import Path

import platformdirs

from spv.atomic import PRIVATE_DIR_MODE, remove_stale_temporaries

log = logging.getLogger(__name__)

APP_NAME = "pkt-wallet"
DATA_FOLDERS = ("wallets", "chain", "steward", "vpn", "logs")
"""The folders of a data directory (each created on first use, private)."""


class DataDirError(OSError):
    """The data directory cannot be used (a file, not a folder; not ours)."""


def default_datadir(network: str) -> Path:
    """The per-user data directory for `network` (e.g. ~/.local/share/pkt-wallet/mainnet)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / network


def prepare_datadir(datadir: Path) -> None:
    """Check `datadir` and tidy it before use (see the module docstring). A data directory that
    does not exist yet is left to be created on first use (privately)."""
    datadir = Path(datadir)
    if not datadir.exists():
        parent = next((p for p in datadir.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise DataDirError(
                errno.ENOTDIR, f"the data directory {datadir} cannot be made: {parent} is a file"
            )
        return
    if not datadir.is_dir():
        raise DataDirError(
            errno.ENOTDIR,
            f"the data directory {datadir} is a file, not a folder; give a folder with --datadir",
        )
    for folder in (datadir, *(datadir / name for name in DATA_FOLDERS)):
        _make_private(folder)
    for name in ("wallets", "chain"):
        for p in remove_stale_temporaries(datadir / name):
            log.info("removed %s, left by an interrupted write", p)


def _make_private(folder: Path) -> None:
    """0700 on an existing folder of ours (one owned by someone else is left alone)."""
    try:
        st = folder.stat()
    except FileNotFoundError:
        return
    if not folder.is_dir() or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return
    if st.st_mode & 0o777 != PRIVATE_DIR_MODE:
        try:
            os.chmod(folder, PRIVATE_DIR_MODE)
        except OSError as exc:
            log.warning("cannot make %s private: %s", folder, exc.strerror)
