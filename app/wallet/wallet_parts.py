"""What the parts of an open wallet share: the attributes :class:`app.wallet.open_wallet.OpenWallet`
sets up and the few methods each part relies on. The parts are mixins of one object (the
wallet), each in its own module: :mod:`.chain_watch` (the light client's watcher),
:mod:`.wallet_signing` (building and signing transactions)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from spv.params import NetworkParams
from spv.tx import OutPoint

from .coin_queries import CoinQueries
from .history import History
from .keychain import KeyChain
from .ledger import Ledger
from .spending import Spending
from .store import WalletStore
from .voting import Voting


class HeightIndex(Protocol):
    """What the wallet needs from the header chain."""

    @property
    def height(self) -> int: ...

    @property
    def first_height(self) -> int: ...

    def hash_at(self, height: int) -> bytes: ...

    def timestamp_at(self, height: int) -> int: ...


class WalletParts:
    """Declared here, set by OpenWallet (its __init__ and _load)."""

    params: NetworkParams
    datadir: Path
    name: str
    key_path: Path
    store: WalletStore
    clock: Callable[[], float]
    keys: KeyChain
    ledger: Ledger
    coin_queries: CoinQueries
    history_view: History
    spending: Spending
    voting: Voting
    frozen: set[OutPoint]
    labels: dict[str, str]
    default_fee_rate: Fraction
    birthday: date | None
    birthday_height: int | None
    synced_height: int
    locator: list[tuple[int, bytes]]
    restoring: bool
    pending_rescan: int | None
    _rescan_request: int | None
    _chain: HeightIndex | None

    def save(self, durable: bool = True) -> None:
        raise NotImplementedError

    def _maybe_commit(self) -> None:
        raise NotImplementedError

    def _keys_added(self, height: int | None) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        raise NotImplementedError
        yield  # pragma: no cover
