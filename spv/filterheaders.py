"""Flat file of 32-byte BIP157 filter headers by height, committed like the header store.

`filterheaders.dat` holds consecutive filter headers from `first_height`; `filterheaders.idx`
(JSON, replaced atomically) records the committed count and the filter header just below
`first_height` (`base`). Appends are fsynced before the index; a shrink (reorg) writes the
index first, so a crash leaves at most uncommitted records, which opening drops.
"""

import json
import os
from pathlib import Path

from .atomic import atomic_write, make_private_dir
from .errors import ChainError

RECORD = 32


class FilterHeaderStore:
    def __init__(self, directory: Path, network: str) -> None:
        self.directory = Path(directory)
        make_private_dir(self.directory)
        self.network = network
        self._data = self.directory / "filterheaders.dat"
        self._index = self.directory / "filterheaders.idx"
        self.first_height = -1  # -1: empty store, no base yet
        self.base = b""
        self._count = 0
        self._open()

    def _open(self) -> None:
        if not self._data.exists():
            self._data.touch()
        try:
            index = json.loads(self._index.read_text(encoding="utf-8"))
            if index["network"] != self.network:
                raise ChainError(f"{self.directory} holds {index['network']} filter headers")
            self.first_height = int(index["first_height"])
            self.base = bytes.fromhex(index["base"])
            committed = int(index["count"])
        except FileNotFoundError:
            committed = 0
        except (ValueError, KeyError, TypeError):
            committed = 0  # damaged index: start over (filter headers are re-downloadable)
            self.first_height = -1
        size = self._data.stat().st_size
        n = min(size // RECORD, committed)
        if size != n * RECORD:
            with open(self._data, "r+b") as fh:
                fh.truncate(n * RECORD)
                os.fsync(fh.fileno())
        self._count = n
        if n != committed:
            self._write_index()

    def _write_index(self) -> None:
        index = {
            "version": 1,
            "network": self.network,
            "first_height": self.first_height,
            "base": self.base.hex(),
            "count": self._count,
        }
        atomic_write(self._index, json.dumps(index).encode(), mode=0o644)

    @property
    def tip_height(self) -> int:
        """Height of the last stored filter header (-1 before the store is initialized)."""
        if self.first_height < 0:
            return -1
        return self.first_height + self._count - 1

    @property
    def is_initialized(self) -> bool:
        return self.first_height >= 0

    def initialize(self, first_height: int, base: bytes) -> None:
        """Start the store at `first_height`, whose parent's filter header is `base`."""
        self.first_height = first_height
        self.base = base
        self._count = 0
        with open(self._data, "r+b") as fh:
            fh.truncate(0)
            os.fsync(fh.fileno())
        self._write_index()

    def reset(self) -> None:
        """Forget everything; the next sync starts the chain of filter headers again."""
        self.initialize(-1, b"")

    def get(self, height: int) -> bytes:
        if height == self.first_height - 1:
            return self.base
        return self.get_range(height, 1)[0]

    def get_range(self, first: int, n: int) -> list[bytes]:
        """Filter headers for heights first .. first+n-1 (all stored)."""
        i = first - self.first_height
        if i < 0 or n < 0 or i + n > self._count:
            raise KeyError(first)
        with open(self._data, "rb") as fh:
            fh.seek(i * RECORD)
            raw = fh.read(n * RECORD)
        return [raw[j * RECORD : (j + 1) * RECORD] for j in range(n)]

    def has(self, height: int) -> bool:
        return self.first_height - 1 <= height <= self.tip_height and self.is_initialized

    def append(self, headers: list[bytes]) -> None:
        if not headers:
            return
        with open(self._data, "r+b") as fh:
            fh.seek(self._count * RECORD)
            fh.write(b"".join(headers))
            fh.flush()
            os.fsync(fh.fileno())
        self._count += len(headers)
        self._write_index()

    def truncate_above(self, height: int) -> None:
        """Forget filter headers above `height` (after a reorg)."""
        keep = max(0, height - self.first_height + 1)
        if keep >= self._count:
            return
        self._count = keep
        self._write_index()
        with open(self._data, "r+b") as fh:
            fh.truncate(keep * RECORD)
            os.fsync(fh.fileno())
