"""Where the application keeps its data: one directory per network."""

from pathlib import Path

import platformdirs

APP_NAME = "pkt-wallet"


def default_datadir(network: str) -> Path:
    """The per-user data directory for `network` (e.g. ~/.local/share/pkt-wallet/mainnet)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / network
