"""Mining settings: the known community pools and the user's choices (``<datadir>/mining.json``).

Pool URLs are only suggestions (spec section 13.1: liveness is not guaranteed); every one is
user-editable. Nothing here contacts a pool.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spv.atomic import atomic_write

SETTINGS_FILE = "mining.json"


@dataclass(frozen=True)
class KnownPool:
    url: str
    description: str


KNOWN_POOLS: tuple[KnownPool, ...] = (
    KnownPool("http://pool.pkt.world/master/4096", "pool.pkt.world, announcement work 4096"),
    KnownPool("http://pool.pkt.world/master/2048", "pool.pkt.world, announcement work 2048"),
    KnownPool("http://pool.pktpool.io/diff/8192", "pktpool.io, announcement work 8192"),
    KnownPool("https://stratum.zetahash.com/d/4096", "zetahash, announcement work 4096"),
    KnownPool("http://pool.pkteer.com", "pkteer community pool"),
    KnownPool("http://pktco.in", "pktco.in community pool"),
)
DEFAULT_POOLS: tuple[str, ...] = (KNOWN_POOLS[0].url,)
"""Mainnet's. The known pools mine mainnet only: other networks start with no pool."""


def default_pools(network: str) -> list[str]:
    """The pools a new installation mines for on `network` (none but on mainnet)."""
    return list(DEFAULT_POOLS) if network == "mainnet" else []


@dataclass
class MiningSettings:
    pools: list[str] = field(default_factory=lambda: list(DEFAULT_POOLS))
    threads: int | None = None
    """None: every core but one."""
    payout: str | None = None
    """None: the wallet's receive address."""
    pause_on_battery: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "pools": list(self.pools),
            "threads": self.threads,
            "payout": self.payout,
            "pause_on_battery": self.pause_on_battery,
        }

    @classmethod
    def from_json(cls, data: Any) -> MiningSettings:
        if not isinstance(data, dict):
            raise ValueError("mining settings: not a JSON object")
        pools = data.get("pools", list(DEFAULT_POOLS))
        if not isinstance(pools, list) or not all(isinstance(p, str) for p in pools):
            raise ValueError("mining settings: pools must be a list of URLs")
        threads = data.get("threads")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            raise ValueError("mining settings: threads must be a number")
        payout = data.get("payout")
        if payout is not None and not isinstance(payout, str):
            raise ValueError("mining settings: payout must be an address")
        return cls(
            pools=[p.strip() for p in pools if p.strip()],
            threads=threads,
            payout=payout or None,
            pause_on_battery=bool(data.get("pause_on_battery", False)),
        )


def settings_path(datadir: Path) -> Path:
    return Path(datadir) / SETTINGS_FILE


def load_settings(datadir: Path, network: str = "mainnet") -> MiningSettings:
    """The saved settings, or the defaults for `network` when there are none."""
    path = settings_path(datadir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return MiningSettings(pools=default_pools(network))
    try:
        return MiningSettings.from_json(json.loads(raw))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save_settings(datadir: Path, settings: MiningSettings) -> None:
    data = json.dumps(settings.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    atomic_write(settings_path(datadir), data, mode=0o644)
