"""Which wallet was used last in this data directory (so the unlock dialog preselects it).

Stored as `<datadir>/last_wallet.json`, `{"wallet": name}`, written atomically. A missing or
unreadable file just means "no preference".
"""

import json
from pathlib import Path

from spv.atomic import atomic_write

from .wallet.files import NAME_PATTERN

FILE_NAME = "last_wallet.json"


def last_wallet_path(datadir: Path) -> Path:
    return Path(datadir) / FILE_NAME


def load_last_wallet(datadir: Path) -> str | None:
    """The name of the wallet opened last, or None (no file, damaged file, odd name)."""
    try:
        data = json.loads(last_wallet_path(datadir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("wallet") if isinstance(data, dict) else None
    return name if isinstance(name, str) and NAME_PATTERN.match(name) else None


def save_last_wallet(datadir: Path, name: str) -> None:
    payload = json.dumps({"wallet": name}, indent=1) + "\n"
    atomic_write(last_wallet_path(datadir), payload.encode("utf-8"))


def preselected_wallet(datadir: Path, wallets: list[str]) -> str | None:
    """The wallet to offer first: the last used one if it still exists, else the first."""
    last = load_last_wallet(datadir)
    if last in wallets:
        return last
    return wallets[0] if wallets else None
