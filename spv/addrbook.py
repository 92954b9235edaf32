"""A small persistent address book of peers: where we connected, what failed, who is banned."""

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import atomic_write

MAX_ENTRIES = 1000
BAN_SECONDS = 24 * 60 * 60


@dataclass
class PeerRecord:
    host: str
    port: int
    source: str = "addr"  # "manual", "dns", "addr"
    last_seen: float = 0.0
    last_success: float = 0.0
    failures: int = 0
    banned_until: float = 0.0
    ban_reason: str = ""

    @property
    def key(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class AddressBook:
    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self.records: dict[str, PeerRecord] = {}
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for item in data.get("peers", []):
                rec = PeerRecord(**item)
                self.records[rec.key] = rec
        except (ValueError, TypeError, AttributeError):
            self.records = {}  # a damaged address book is only a cache

    def save(self) -> None:
        if self.path is None:
            return
        peers = sorted(self.records.values(), key=lambda r: -max(r.last_success, r.last_seen))
        data = {"version": 1, "peers": [asdict(r) for r in peers[:MAX_ENTRIES]]}
        atomic_write(self.path, json.dumps(data, indent=1).encode(), mode=0o644)

    def add(self, host: str, port: int, source: str) -> PeerRecord:
        rec = PeerRecord(host, port, source)
        existing = self.records.get(rec.key)
        if existing is not None:
            if source == "manual":
                existing.source = "manual"
            existing.last_seen = max(existing.last_seen, self._clock())
            return existing
        rec.last_seen = self._clock()
        self.records[rec.key] = rec
        return rec

    def get(self, host: str, port: int) -> PeerRecord:
        rec = self.records.get(PeerRecord(host, port).key)
        return rec if rec is not None else self.add(host, port, "addr")

    def is_banned(self, host: str, port: int) -> bool:
        rec = self.records.get(PeerRecord(host, port).key)
        return rec is not None and rec.banned_until > self._clock()

    def ban(self, host: str, port: int, reason: str, seconds: float = BAN_SECONDS) -> None:
        rec = self.get(host, port)
        rec.banned_until = self._clock() + seconds
        rec.ban_reason = reason
        self.save()

    def mark_success(self, host: str, port: int) -> None:
        rec = self.get(host, port)
        rec.last_success = self._clock()
        rec.failures = 0

    def mark_failure(self, host: str, port: int) -> None:
        rec = self.get(host, port)
        rec.failures += 1

    def candidates(self, exclude: set[str]) -> list[PeerRecord]:
        """Peers worth trying, best first: manual, then recently good, then the rest."""
        now = self._clock()
        usable = [
            r for r in self.records.values() if r.key not in exclude and r.banned_until <= now
        ]
        return sorted(
            usable,
            key=lambda r: (r.source != "manual", r.failures, -r.last_success, -r.last_seen),
        )
