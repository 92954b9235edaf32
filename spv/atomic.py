"""Crash-safe file replacement: write a temporary file, fsync it, rename it over the target,
fsync the directory. A reader sees either the old or the new content, never a mix.

A temporary is named ``.<target>.<pid>.<random>.tmp``: a kill between the write and the rename
leaves it behind, and :func:`remove_stale_temporaries` (run when the application starts)
removes those whose writing process is gone, never one another live process is writing.
Directories made here are private (0700) whatever the umask: :func:`make_private_dir`.
"""

import contextlib
import errno
import os
import re
import tempfile
import time
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
OLD_TEMPORARY_AGE = 600.0
"""A temporary without a process id (written before they carried one) is stale after this."""

_TEMPORARY = re.compile(r"^\.(?P<target>.+?)(?:\.(?P<pid>[0-9]{1,10}))?\.[a-z0-9_]{8}\.tmp$")


def make_private_dir(path: Path) -> None:
    """Create the folder `path` and its missing parents with mode 0700 (the umask does not
    apply); an existing folder is left as it is. Raises NotADirectoryError when `path` or a
    parent is a file."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        if probe.exists() or probe.is_symlink():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(probe))
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode went through the umask


def atomic_write(path: Path, data: bytes, mode: int = 0o600, keep_backup: bool = False) -> None:
    """Replace `path` with `data` atomically; with `keep_backup`, the previous content is kept
    as `<name>.bak` (itself replaced atomically) before the switch."""
    path = Path(path)
    directory = path.parent
    make_private_dir(directory)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        if keep_backup and path.exists():
            atomic_write(path.with_name(path.name + ".bak"), path.read_bytes(), mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_directory(directory)


def _process_alive(pid: int) -> bool | None:
    """True / False, or None where it cannot be told (not POSIX: there `os.kill(pid, 0)`
    would send a Ctrl-C)."""
    if pid == os.getpid():
        return True  # a write in progress in another thread of this process
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid < 2**31  # someone else's process: leave its file alone
    return True


def remove_stale_temporaries(directory: Path, target: str | None = None) -> list[Path]:
    """Remove the temporaries of killed :func:`atomic_write` calls in `directory` (only those
    for the file `target` when given): their process is gone, or, for the older names without
    a process id (and where processes cannot be asked about), they are older than
    :data:`OLD_TEMPORARY_AGE`. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(directory).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    now = time.time()
    for p in entries:
        m = _TEMPORARY.match(p.name)
        if m is None or (target is not None and m.group("target") != target):
            continue
        pid = m.group("pid")
        try:
            alive = _process_alive(int(pid)) if pid is not None else None
            # no process id to ask about: by age
            stale = now - p.lstat().st_mtime > OLD_TEMPORARY_AGE if alive is None else not alive
            if stale and p.is_file():
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    if removed:
        fsync_directory(Path(directory))
    return removed


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
