"""What the parts of the application core share: the attributes and methods
:class:`app.core.appcore.AppCore` sets up, declared for its mixins (:mod:`.wallet_calls`,
:mod:`.vote_calls`)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from spv.node import SpvNode
from spv.params import NetworkParams

from ..wallet.keystore import WalletSecrets
from ..wallet.wallet import Wallet
from .view import WalletView

T = TypeVar("T")


class CoreParts:
    """Declared here, set and defined by AppCore."""

    params: NetworkParams
    datadir: Path
    node: SpvNode | None
    wallet: Wallet | None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        raise NotImplementedError

    def call(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        raise NotImplementedError

    def emit(self, kind: str, payload: object) -> None:
        raise NotImplementedError

    def _open_wallet_or_fail(self) -> Wallet:
        raise NotImplementedError

    def _wallet_view(self, wallet: Wallet) -> WalletView:
        raise NotImplementedError

    async def _open_secrets(self, wallet: Wallet, password: str) -> WalletSecrets:
        raise NotImplementedError
