"""Append-only flat file of 80-byte block headers plus a small index, safe against crashes.

Layout in the chain directory:
- `headers.dat`: consecutive 80-byte headers, record i is the header at `first_height + i`.
- `headers.idx`: JSON {version, network, first_height, anchor_hash, count, tip_hash}, replaced
  atomically after every committed write. `anchor_hash` is what the first record's prev hash
  must equal (the checkpoint we started after, or zeros when record 0 is the genesis header).

Crash safety: data is appended and fsynced before the index is replaced. On open, bytes past
the last whole record are cut, records past the committed count are dropped, and if a crash
interrupted a reorg (the committed tip is gone) the longest linked prefix is kept.
"""

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .atomic import atomic_write, make_private_dir
from .errors import ChainError
from .hashes import sha256d

HEADER_SIZE = 80
INDEX_VERSION = 1
_RELINK_WINDOW = 50_000  # how far back a crashed reorg is re-verified on open


class StoreError(ChainError):
    """The header store cannot be opened or does not belong to this network."""


@dataclass(frozen=True)
class StoreAnchor:
    first_height: int
    anchor_hash: bytes  # prev hash of record 0 (internal order)


def read_store_anchor(directory: Path) -> StoreAnchor | None:
    """The anchor of the header store in `directory`, or None when there is none (or its
    index is unreadable)."""
    try:
        index = json.loads((Path(directory) / "headers.idx").read_text(encoding="utf-8"))
        return StoreAnchor(int(index["first_height"]), bytes.fromhex(index["anchor_hash"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def remove_store(directory: Path) -> None:
    """Delete the header store files in `directory` (index first, so a crash in between leaves
    a data file that is simply discarded)."""
    for name in ("headers.idx", "headers.dat"):
        with contextlib.suppress(FileNotFoundError):
            (Path(directory) / name).unlink()


class HeaderStore:
    """Headers by height, backed by `headers.dat`; hashes are computed on demand and cached
    for the most recent records."""

    def __init__(self, directory: Path, network: str, anchor: StoreAnchor) -> None:
        self.directory = Path(directory)
        make_private_dir(self.directory)
        self.network = network
        self._data_path = self.directory / "headers.dat"
        self._index_path = self.directory / "headers.idx"
        self.first_height = anchor.first_height
        self.anchor_hash = anchor.anchor_hash
        self._count = 0
        # hashes of a contiguous run of heights near the tip: _cache[i] is the hash at
        # _cache_first + i
        self._cache: list[bytes] = []
        self._cache_first = 0
        self._fh: BinaryIO | None = None
        self._dirty = False
        self._last_commit = time.monotonic()
        self._open(anchor)

    # --- opening and recovery ---

    def _open(self, anchor: StoreAnchor) -> None:
        index = self._read_index()
        if index is not None:
            if index["network"] != self.network:
                raise StoreError(
                    f"{self.directory} holds {index['network']} headers, not {self.network}"
                )
            if (
                index["first_height"] != anchor.first_height
                or bytes.fromhex(index["anchor_hash"]) != anchor.anchor_hash
            ):
                raise StoreError(f"{self.directory} starts at another anchor; remove it to resync")
        if not self._data_path.exists():
            self._data_path.touch()
        size = self._data_path.stat().st_size
        n = size // HEADER_SIZE
        if size % HEADER_SIZE:
            self._truncate_records(n)  # torn tail
        if index is None:
            self._count = 0
            self._truncate_records(0)
            self._write_index()
            return
        committed = int(index["count"])
        tip_hash = bytes.fromhex(index["tip_hash"]) if committed else b""
        if n >= committed and (committed == 0 or self._hash_of_record(committed - 1) == tip_hash):
            self._count = committed
            if n > committed:
                self._truncate_records(committed)  # appended but never committed
            return
        # A reorg was interrupted: keep the longest prefix whose tail links up.
        self._count = self._linked_prefix(n)
        self._truncate_records(self._count)
        self._write_index()

    def _read_index(self) -> dict[str, Any] | None:
        try:
            raw = self._index_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            index = json.loads(raw)
            if index.get("version") != INDEX_VERSION:
                raise StoreError(f"unsupported header index version in {self._index_path}")
            for key in ("network", "first_height", "anchor_hash", "count", "tip_hash"):
                if key not in index:
                    raise KeyError(key)
            return dict(index)
        except (ValueError, KeyError, AttributeError):
            # The index is replaced atomically, so this means outside damage: rebuild it from
            # the data file's linked records.
            return None

    def _linked_prefix(self, n: int) -> int:
        start = max(0, n - _RELINK_WINDOW)
        prev = self.anchor_hash if start == 0 else self._hash_of_record(start - 1)
        with open(self._data_path, "rb") as fh:
            fh.seek(start * HEADER_SIZE)
            data = fh.read((n - start) * HEADER_SIZE)
        for i in range(n - start):
            rec = data[i * HEADER_SIZE : (i + 1) * HEADER_SIZE]
            if rec[4:36] != prev:
                return start + i
            prev = sha256d(rec)
        return n

    def _truncate_records(self, n: int) -> None:
        with open(self._data_path, "r+b") as fh:
            fh.truncate(n * HEADER_SIZE)
            fh.flush()
            os.fsync(fh.fileno())

    def _write_index(self) -> None:
        tip = self._hash_of_record(self._count - 1).hex() if self._count else ""
        index = {
            "version": INDEX_VERSION,
            "network": self.network,
            "first_height": self.first_height,
            "anchor_hash": self.anchor_hash.hex(),
            "count": self._count,
            "tip_hash": tip,
        }
        atomic_write(self._index_path, json.dumps(index).encode(), mode=0o644)

    # --- reading ---

    @property
    def count(self) -> int:
        return self._count

    @property
    def tip_height(self) -> int:
        """Height of the last stored header (first_height - 1 when empty: the anchor)."""
        return self.first_height + self._count - 1

    @property
    def tip_hash(self) -> bytes:
        if self._count == 0:
            return self.anchor_hash
        return self.hash_at(self.tip_height)

    def _read_records(self, first: int, n: int) -> bytes:
        if self._fh is not None:
            self._fh.flush()
        with open(self._data_path, "rb") as fh:
            fh.seek(first * HEADER_SIZE)
            return fh.read(n * HEADER_SIZE)

    def _hash_of_record(self, i: int) -> bytes:
        return sha256d(self._read_records(i, 1))

    def header_bytes(self, height: int) -> bytes:
        i = height - self.first_height
        if not 0 <= i < self._count:
            raise KeyError(height)
        return self._read_records(i, 1)

    def headers_bytes(self, first_height: int, n: int) -> bytes:
        i = first_height - self.first_height
        if i < 0 or n < 0 or i + n > self._count:
            raise KeyError(first_height)
        return self._read_records(i, n)

    def hash_at(self, height: int) -> bytes:
        if height == self.first_height - 1:
            return self.anchor_hash
        i = height - self._cache_first
        if 0 <= i < len(self._cache):
            return self._cache[i]
        return sha256d(self.header_bytes(height))

    def has_height(self, height: int) -> bool:
        return self.first_height <= height <= self.tip_height

    # --- writing ---

    def append(self, records: bytes, hashes: list[bytes] | None = None) -> None:
        """Append whole 80-byte records (already validated and linked) and commit them."""
        self.replace_from(self.tip_height + 1, records, hashes, commit=True)

    def replace_from(
        self, height: int, records: bytes, hashes: list[bytes] | None = None, commit: bool = True
    ) -> None:
        """Drop the headers at `height` and above, then append `records` (a reorg when
        `height` <= tip).

        A reorg is always committed at once. Plain appends may be left uncommitted
        (`commit=False`): they are committed by `commit()`, at the latest one second later;
        a crash before that only loses them (they are dropped on open and fetched again).
        """
        if len(records) % HEADER_SIZE:
            raise ValueError("records must be whole 80-byte headers")
        keep = height - self.first_height
        if not 0 <= keep <= self._count:
            raise ValueError(f"cannot write at height {height}")
        reorg = keep < self._count
        n_new = len(records) // HEADER_SIZE
        fh = self._handle()
        if reorg:
            fh.truncate(keep * HEADER_SIZE)
        fh.seek(keep * HEADER_SIZE)
        fh.write(records)
        del self._cache[max(0, height - self._cache_first) :]
        self._count = keep + n_new
        self._dirty = True
        if hashes is not None:
            shown = min(n_new, len(hashes), _HASH_CACHE)
            first_shown = height + n_new - shown
            if shown and self._cache_first + len(self._cache) == first_shown:
                self._cache += hashes[len(hashes) - shown :]
            elif shown:
                self._cache = hashes[len(hashes) - shown :]
                self._cache_first = first_shown
            self._trim_cache()
        if commit or reorg or time.monotonic() - self._last_commit >= 1.0:
            self.commit()

    def commit(self) -> None:
        """Make every record written so far durable and record it in the index."""
        if not self._dirty:
            return
        fh = self._handle()
        fh.flush()
        os.fsync(fh.fileno())
        self._write_index()
        self._dirty = False
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self.commit()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _handle(self) -> BinaryIO:
        if self._fh is None:
            self._fh = open(self._data_path, "r+b")  # noqa: SIM115 - kept open across calls
        return self._fh

    def _trim_cache(self) -> None:
        if len(self._cache) > 2 * _HASH_CACHE:
            cut = self.tip_height - _HASH_CACHE + 1 - self._cache_first
            if cut > 0:
                del self._cache[:cut]
                self._cache_first += cut


_HASH_CACHE = 4096
