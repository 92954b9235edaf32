"""The application core: owns the one asyncio network thread and the services on it.

The GUI and the CLI call the core's thread-safe methods; results come back as
`concurrent.futures.Future`s, and events (sync progress, wallet changes, ...) as calls of the
`on_event(kind, payload)` callback, made on the network thread (the GUI turns them into Qt
signals). Nothing here imports Qt. The calls about the wallet and the votes are in
:mod:`.wallet_calls` and :mod:`.vote_calls`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from spv.node import ChainWatcher, NoPeersError, SpvNode, SyncProgress
from spv.params import NetworkParams
from spv.peer import PeerError
from spv.tasks import cancel_and_wait

from ..paths import prepare_datadir
from ..steward.my_vote import my_vote
from ..wallet.keystore import WalletSecrets
from ..wallet.sync import sync_wallet
from ..wallet.wallet import Wallet, WalletError
from .view import RECENT_HISTORY, WalletView
from .vote_calls import VoteCalls
from .wallet_calls import WalletCalls

log = logging.getLogger(__name__)

T = TypeVar("T")
SYNC_VIEW_INTERVAL = 2.0  # seconds between WalletViews sent while a sync records blocks
EventCallback = Callable[[str, object], None]


class CoreStoppedError(RuntimeError):
    """Work was asked of the core after it stopped."""


class AppCore(WalletCalls, VoteCalls):
    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        *,
        peers: Iterable[tuple[str, int]] = (),
        use_dns_seeds: bool = True,
        on_event: EventCallback | None = None,
        verify_packetcrypt_proofs: bool = True,
        peer_timeout: float | None = None,
    ) -> None:
        self.params = params
        self.datadir = Path(datadir)
        self._peers = list(peers)
        self._use_dns = use_dns_seeds
        self._verify_proofs = verify_packetcrypt_proofs
        self._peer_timeout = peer_timeout  # None: the light client's default
        self._on_event = on_event
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.node: SpvNode | None = None
        self._run_task: asyncio.Task[None] | None = None
        self.last_progress: SyncProgress | None = None
        self._last_sync_view = 0.0
        self.wallet: Wallet | None = None  # touched only on the network thread

    # --- lifecycle ---

    def start(self, timeout: float = 10.0) -> None:
        """Start the network thread and the light client; returns once they run."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._thread_main, name="network", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the network thread did not start")
        if self._startup_error is not None:
            raise self._startup_error

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            prepare_datadir(self.datadir)  # a file instead of a folder, modes, temporaries
            self.node = self._new_node()
            loop.run_until_complete(self.node.start())
            self._run_task = loop.create_task(self._follow_chain())
        except BaseException as exc:  # reported to start()'s caller
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _shutdown(self) -> None:
        if self._run_task is not None:
            await cancel_and_wait(self._run_task)
        wallet, self.wallet = self.wallet, None
        try:
            if wallet is not None:
                try:
                    wallet.save()
                finally:
                    wallet.close()
        finally:
            if self.node is not None:
                await self.node.stop()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the light client and the network thread (the wallet is saved and closed,
        stores are flushed)."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            frame = sys._current_frames().get(self._thread.ident or 0)
            where = "".join(traceback.format_stack(frame)[-6:]) if frame is not None else "?"
            log.warning(
                "the network thread did not stop within %.0f s; it is at:\n%s", timeout, where
            )
        self._thread = None

    async def _follow_chain(self) -> None:
        """Keep the light client (and the open wallet, if any) in sync until stopped."""
        assert self.node is not None
        node = self.node
        while True:
            wallet = self.wallet
            try:
                if wallet is not None:
                    await sync_wallet(wallet, node)
                    self.emit("wallet", self._wallet_view(wallet))
                else:
                    await node.sync()
            except (PeerError, NoPeersError, WalletError) as exc:
                log.info("sync interrupted: %s", exc)
                self.emit("sync-error", str(exc))
            await node.wait_for_news(30)

    # --- calling into the network thread ---

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run a coroutine on the network thread; returns a future for its result (failed
        with CoreStoppedError, the coroutine never run, once the core has stopped)."""
        if self._loop is None:
            raise RuntimeError("the core is not started")
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError:  # the loop is closed: late work from a window going away
            coro.close()
            failed: concurrent.futures.Future[T] = concurrent.futures.Future()
            failed.set_exception(CoreStoppedError("the application is shutting down"))
            return failed

    def call(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run a plain function on the network thread (to read or change service state)."""

        async def run() -> T:
            return fn()

        return self.submit(run())

    # --- the wallet ---

    def open_wallet(self, name: str) -> concurrent.futures.Future[WalletView]:
        """Open wallet `name` (no password needed to watch and show it) and sync it; the
        wallet open before (if another) is saved and closed, its sync stopped first."""

        async def attach() -> WalletView:
            assert self.node is not None
            if self.wallet is not None and self.wallet.name == name:
                return self._wallet_view(self.wallet)
            wallet = Wallet.open(self.datadir, name, self.params)  # fails before any change
            if self.wallet is not None:
                await self._detach_wallet()
            self.wallet = wallet
            needed = wallet.history_from_height()
            if needed is not None and needed < self.node.chain.first_height - 1:
                await self._restart_node(history_from_height=needed)
            assert self.node is not None
            self.node.wake()
            return self._wallet_view(wallet)

        return self.submit(attach())

    async def _detach_wallet(self) -> None:
        """Stop the sync of the open wallet (half-way is fine: the wallet commits what it
        recorded with its scan position, and the next sync goes on from there), save and close
        it, and sync the chain alone until another wallet is attached."""
        if self._run_task is not None:
            await cancel_and_wait(self._run_task)
        wallet, self.wallet = self.wallet, None
        assert self.node is not None
        self.node.watcher = None
        self._run_task = asyncio.get_running_loop().create_task(self._follow_chain())
        if wallet is not None:
            try:
                wallet.save()
            finally:
                wallet.close()

    async def _restart_node(self, history_from_height: int) -> None:
        """Start the light client again with headers reaching further back (a restored
        wallet needs blocks older than the store holds)."""
        if self._run_task is not None:
            await cancel_and_wait(self._run_task)
        assert self.node is not None
        await self.node.stop()
        self.node = self._new_node(history_from_height)
        await self.node.start()
        self._run_task = asyncio.get_running_loop().create_task(self._follow_chain())

    def _new_node(self, history_from_height: int | None = None) -> SpvNode:
        node = SpvNode(
            self.params,
            self.datadir,
            peers=self._peers,
            use_dns_seeds=self._use_dns,
            on_progress=self._progress,
            verify_packetcrypt_proofs=self._verify_proofs,
            history_from_height=history_from_height,
        )
        if self._peer_timeout is not None:
            node.peer_timeout = self._peer_timeout
        return node

    def close_wallet(self) -> concurrent.futures.Future[None]:
        return self.submit(self._detach_wallet())

    async def _open_secrets(self, wallet: Wallet, password: str) -> WalletSecrets:
        """The wallet's decrypted key file, derived on a worker thread (the password's key
        derivation takes about a second: the network thread goes on meanwhile)."""
        secrets = await asyncio.to_thread(wallet.open_secrets, password)
        if self.wallet is not wallet:
            raise WalletError("the wallet was closed meanwhile; nothing was signed")
        return secrets

    def _open_wallet_or_fail(self) -> Wallet:
        if self.wallet is None:
            raise WalletError("no wallet is open")
        return self.wallet

    def wallet_view(self) -> concurrent.futures.Future[WalletView | None]:
        return self.call(lambda: self._wallet_view(self.wallet) if self.wallet else None)

    def _wallet_view(self, wallet: Wallet) -> WalletView:
        return WalletView(
            name=wallet.name,
            balance=wallet.balance(),
            receive_address=wallet.receive_address(),
            history=list(reversed(wallet.history_page(limit=RECENT_HISTORY))),
            synced_height=wallet.synced_height,
            backed_up=wallet.backed_up,
            history_count=wallet.history_count(),
            mining_address=wallet.mining_address(),
            earnings=tuple(wallet.coinbase_earnings()),
            vote_reminder=my_vote(wallet.voting.snapshot(every_address=False), time.time()).reminder
            or "",
        )

    # --- services ---

    def set_watcher(self, watcher: ChainWatcher | None, rescan_from: int | None = None) -> None:
        """Attach the wallet (or detach it) to the light client."""

        def attach() -> None:
            assert self.node is not None
            self.node.watcher = watcher
            if rescan_from is not None:
                self.node.rescan_from(rescan_from)
            self.node._wake.set()

        self.call(attach).result(10)

    def chain_info(self) -> dict[str, object]:
        def info() -> dict[str, object]:
            assert self.node is not None
            return self.node.chain_info()

        return self.call(info).result(10)

    def broadcast(self, raw_tx: bytes) -> concurrent.futures.Future[Any]:
        assert self.node is not None
        return self.submit(self.node.broadcast(raw_tx))

    # --- events ---

    def _progress(self, progress: SyncProgress) -> None:
        """On the network thread, from the light client. While a long sync records the
        wallet's blocks, the window also gets a fresh WalletView now and then (the balance
        and history grow as a miner's first sync goes, not only at its end)."""
        self.last_progress = progress
        self.emit("sync", progress)
        wallet = self.wallet
        now = time.monotonic()
        if (
            wallet is not None
            and progress.stage in ("filters", "blocks")
            and now - self._last_sync_view >= SYNC_VIEW_INTERVAL
        ):
            self._last_sync_view = now
            self.emit("wallet", self._wallet_view(wallet))

    def emit(self, kind: str, payload: object) -> None:
        if self._on_event is not None:
            try:
                self._on_event(kind, payload)
            except Exception:  # a broken listener must not break the network thread
                log.exception("event listener failed for %s", kind)
