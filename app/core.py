"""The application core: owns the one asyncio network thread and the services on it.

The GUI and the CLI call the core's thread-safe methods; results come back as
`concurrent.futures.Future`s, and events (sync progress, wallet changes, ...) as calls of the
`on_event(kind, payload)` callback, made on the network thread (the GUI turns them into Qt
signals). Nothing here imports Qt.
"""

import asyncio
import concurrent.futures
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from spv.node import ChainWatcher, NoPeersError, SpvNode, SyncProgress
from spv.params import NetworkParams
from spv.peer import PeerError
from spv.script import split_vote
from spv.tasks import cancel_and_wait
from spv.tx import Transaction

from .paths import prepare_datadir
from .steward.my_vote import MyVote, my_vote
from .wallet.coin_view import CoinView, coin_view
from .wallet.history import DailyEarnings
from .wallet.keystore import WalletSecrets
from .wallet.model import Balance, HistoryEntry, TxDetails
from .wallet.sync import broadcast as broadcast_tx
from .wallet.sync import sync_wallet
from .wallet.voting import VoteBatch, VotingAddress
from .wallet.wallet import AddressInfo, TxPreview, Wallet, WalletError

log = logging.getLogger(__name__)

T = TypeVar("T")
RECENT_HISTORY = 100  # transactions a WalletView carries; older ones are read by pages
SYNC_VIEW_INTERVAL = 2.0  # seconds between WalletViews sent while a sync records blocks


@dataclass(frozen=True)
class WalletView:
    """What the window shows of a wallet, copied on the network thread."""

    name: str
    balance: Balance
    receive_address: str
    history: list[HistoryEntry]  # the newest RECENT_HISTORY transactions, oldest first
    synced_height: int
    backed_up: bool = True  # False: the seed words were never confirmed
    history_count: int = 0  # all transactions (pages: AppCore.history_page)
    mining_address: str = ""  # the steady address mining pays to
    earnings: tuple[DailyEarnings, ...] = ()  # coinbase earnings per UTC day
    vote_reminder: str = ""  # a Network Steward vote expires within four weeks: vote again


@dataclass(frozen=True)
class SeedWords:
    """A wallet's seed words, for the person to write down (never logged or stored)."""

    words: str
    seed_type: str  # "bip39" or "pktwallet"
    has_passphrase: bool

    def __repr__(self) -> str:
        return f"SeedWords(seed_type={self.seed_type!r}, <words redacted>)"


EventCallback = Callable[[str, object], None]


class CoreStoppedError(RuntimeError):
    """Work was asked of the core after it stopped."""


class AppCore:
    """Signing decrypts the key file (the password's key derivation, about a second) on a
    worker thread; everything else of the wallet happens on the network thread."""

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

    def submit(self, coro: Coroutine[Any, Any, T]) -> "concurrent.futures.Future[T]":
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

    def call(self, fn: Callable[[], T]) -> "concurrent.futures.Future[T]":
        """Run a plain function on the network thread (to read or change service state)."""

        async def run() -> T:
            return fn()

        return self.submit(run())

    # --- the wallet ---

    def open_wallet(self, name: str) -> "concurrent.futures.Future[WalletView]":
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

    def close_wallet(self) -> "concurrent.futures.Future[None]":
        return self.submit(self._detach_wallet())

    def prepare_send(
        self,
        address: str,
        amount: int | str,
        fee_rate: str | None = None,
        coins: Sequence[str] | None = None,
        rbf: bool = False,
    ) -> "concurrent.futures.Future[TxPreview]":
        """An unsigned payment of `amount` units (or "max") to `address`, for the user to
        check; nothing is signed. `coins` (TXID:N): spend exactly these; `rbf`: allow a fee
        bump later (BIP125)."""
        return self.prepare_payments([(address, amount)], fee_rate, coins, rbf)

    def prepare_payments(
        self,
        payments: Sequence[tuple[str, int | str]],
        fee_rate: str | None = None,
        coins: Sequence[str] | None = None,
        rbf: bool = False,
    ) -> "concurrent.futures.Future[TxPreview]":
        """Like prepare_send, paying several (address, units or "max") in one transaction
        (at most one "max")."""
        payments = list(payments)

        def prepare() -> TxPreview:
            wallet = self._open_wallet_or_fail()
            return wallet.create_send(payments, fee_rate=fee_rate, coins=coins, rbf=rbf)

        return self.call(prepare)

    def coins(self) -> "concurrent.futures.Future[list[CoinView]]":
        """The open wallet's unspent coins (frozen ones included), oldest first (all of them:
        long lists read pages with `coins_page`)."""

        def read() -> list[CoinView]:
            wallet = self._open_wallet_or_fail()
            return [coin_view(c, self.params, wallet.labels) for c in wallet.coins()]

        return self.call(read)

    def coins_page(
        self, offset: int, limit: int, order: str = "age", descending: bool = False
    ) -> "concurrent.futures.Future[tuple[int, list[CoinView]]]":
        """(number of unspent coins, one page of them) for coin control."""

        def read() -> tuple[int, list[CoinView]]:
            wallet = self._open_wallet_or_fail()
            page = wallet.coins_page(offset=offset, limit=limit, order=order, descending=descending)
            return wallet.coin_count(), [coin_view(c, self.params, wallet.labels) for c in page]

        return self.call(read)

    def history_page(
        self,
        offset: int,
        limit: int,
        *,
        newest_first: bool = True,
        sort: str = "date",
        search: str = "",
    ) -> "concurrent.futures.Future[tuple[int, list[HistoryEntry]]]":
        """(number of matching transactions, one page of them) for the History page."""

        def read() -> tuple[int, list[HistoryEntry]]:
            wallet = self._open_wallet_or_fail()
            page = wallet.history_page(
                offset=offset, limit=limit, newest_first=newest_first, sort=sort, search=search
            )
            return wallet.history_count(search), page

        return self.call(read)

    def freeze(self, outpoints: Sequence[str], frozen: bool) -> "concurrent.futures.Future[None]":
        """Freeze (never spent unless chosen after unfreezing) or unfreeze coins (TXID:N);
        saved at once, and the window gets a fresh WalletView (the balance shows frozen)."""

        def change() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.freeze(outpoints, frozen)
            wallet.save()
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(change)

    def sign_and_broadcast(
        self, preview: TxPreview, password: str
    ) -> "concurrent.futures.Future[str]":
        """Sign a previewed transaction with the wallet's keys and broadcast it; returns the
        txid once a peer took it (it is then recorded as pending)."""

        async def send() -> str:
            wallet = self._open_wallet_or_fail()
            assert self.node is not None
            secrets = await self._open_secrets(wallet, password)
            tx = wallet.sign(preview, secrets=secrets)
            await broadcast_tx(wallet, self.node, tx)
            self.emit("wallet", self._wallet_view(wallet))
            return tx.txid_hex

        return self.submit(send())

    def set_label(self, target: str, text: str) -> "concurrent.futures.Future[None]":
        """Label a transaction id or an address; the window gets a fresh WalletView."""

        def label() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.set_label(target, text)
            wallet.save()
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(label)

    def export_history(self, path: Path) -> "concurrent.futures.Future[None]":
        """Write the history as CSV to `path` (atomically)."""

        def export() -> None:
            self._open_wallet_or_fail().export_csv(Path(path))

        return self.call(export)

    # --- signing without broadcasting (VPN premium), the 2019-2023 Network Steward vote ---

    def sign_only(
        self, preview: TxPreview, password: str
    ) -> "concurrent.futures.Future[Transaction]":
        """Sign a previewed transaction without broadcasting or recording it (a VPN exit
        broadcasts the premium payment itself); `tx.serialize().hex()` and `tx.txid_hex` are
        what the receiver needs. Call `record_pending` once the receiver accepted it."""

        async def sign() -> Transaction:
            wallet = self._open_wallet_or_fail()
            secrets = await self._open_secrets(wallet, password)
            return wallet.sign(preview, secrets=secrets)

        return self.submit(sign())

    def record_pending(self, tx: Transaction) -> "concurrent.futures.Future[None]":
        """Record a transaction someone else broadcasts as pending in the open wallet, so its
        coins are not spent twice; the window gets a fresh WalletView."""

        def record() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.record_pending(tx)
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(record)

    def prepare_legacy_vote(
        self, candidate: str | None, fee_rate: str | None = None
    ) -> "concurrent.futures.Future[list[TxPreview]]":
        """The 2019-2023 OP_VOTE vote, which today's Electorium count ignores: every spendable
        coin moves to the wallet's own legacy address carrying `<candidate> OP_0 OP_VOTE`.
        With no candidate, the vote is withdrawn: the coins that carry a vote move to a plain
        receive address of the wallet."""

        def prepare() -> list[TxPreview]:
            wallet = self._open_wallet_or_fail()
            if candidate is not None:
                return wallet.create_legacy_vote(candidate, None, fee_rate=fee_rate)
            voting = [
                c.outpoint for c in wallet.spendable_coins() if split_vote(c.script) is not None
            ]
            if not voting:
                raise WalletError("this wallet has no spendable coins carrying a vote")
            own = wallet.receive_address()
            return [wallet.create_send([(own, "max")], fee_rate=fee_rate, coins=voting)]

        return self.call(prepare)

    # --- Electorium votes (the Network Steward election since 2024) ---

    def voting_addresses(self) -> "concurrent.futures.Future[list[VotingAddress]]":
        """The open wallet's addresses holding coins, each a voter with its balance."""
        return self.call(lambda: self._open_wallet_or_fail().voting.voting_addresses())

    def prepare_electorium_vote(
        self,
        vote_for: str | None,
        *,
        candidate: bool = False,
        withdraw: bool = False,
        from_addresses: Sequence[str] | None = None,
        fee_rate: str | None = None,
    ) -> "concurrent.futures.Future[VoteBatch]":
        """Unsigned vote transactions, one per voting address (see `app.wallet.voting`); sign
        and send them with `sign_and_broadcast_all(batch.previews, ...)`."""
        addresses = list(from_addresses) if from_addresses else None
        return self.call(
            lambda: self._open_wallet_or_fail().voting.create_vote(
                vote_for,
                candidate=candidate,
                withdraw=withdraw,
                from_addresses=addresses,
                fee_rate=fee_rate,
            )
        )

    def prepare_gather(
        self, address: str, fee_rate: str | None = None
    ) -> "concurrent.futures.Future[list[TxPreview]]":
        """Unsigned transactions moving the coins of the wallet's other addresses to its
        `address` (to vote from it alone: `gather_then_vote`)."""
        return self.call(
            lambda: self._open_wallet_or_fail().voting.create_gather(address, fee_rate=fee_rate)
        )

    def gather_then_vote(
        self,
        gather: Sequence[TxPreview],
        address: str,
        vote_for: str | None,
        password: str,
        *,
        candidate: bool = False,
        fee_rate: str | None = None,
    ) -> "concurrent.futures.Future[list[str]]":
        """Sign and broadcast the `gather` previews, then the vote from `address` alone (it
        spends the gathered coins, unconfirmed but the wallet's own); the txids, gathering
        first."""

        async def send() -> list[str]:
            wallet = self._open_wallet_or_fail()
            assert self.node is not None
            secrets = await self._open_secrets(wallet, password)
            signed = [wallet.sign(preview, secrets=secrets) for preview in gather]
            for tx in signed:
                await broadcast_tx(wallet, self.node, tx)
            batch = wallet.voting.create_vote(
                vote_for, candidate=candidate, from_addresses=[address], fee_rate=fee_rate
            )
            votes = [wallet.sign(preview, secrets=secrets) for preview in batch.previews]
            for tx in votes:
                await broadcast_tx(wallet, self.node, tx)
            self.emit("wallet", self._wallet_view(wallet))
            return [tx.txid_hex for tx in (*signed, *votes)]

        return self.submit(send())

    def my_vote(self) -> "concurrent.futures.Future[MyVote]":
        """The open wallet's votes: per address the vote in force and its expiry, the next
        election (see `app.steward.my_vote`)."""
        return self.call(
            lambda: my_vote(self._open_wallet_or_fail().voting.snapshot(), time.time())
        )

    def sign_and_broadcast_all(
        self, previews: Sequence[TxPreview], password: str
    ) -> "concurrent.futures.Future[list[str]]":
        """Sign every preview (nothing is sent if one cannot be signed), then broadcast them in
        order; returns their txids."""

        async def send() -> list[str]:
            wallet = self._open_wallet_or_fail()
            assert self.node is not None
            secrets = await self._open_secrets(wallet, password)
            signed = [wallet.sign(preview, secrets=secrets) for preview in previews]
            for tx in signed:
                await broadcast_tx(wallet, self.node, tx)
            self.emit("wallet", self._wallet_view(wallet))
            return [tx.txid_hex for tx in signed]

        return self.submit(send())

    def seed_words(self, password: str) -> "concurrent.futures.Future[SeedWords]":
        """The open wallet's seed words (the key file decrypted on a worker thread)."""

        async def read() -> SeedWords:
            wallet = self._open_wallet_or_fail()
            secrets = await self._open_secrets(wallet, password)
            if not secrets.mnemonic:
                raise WalletError("this wallet has no seed words (it was made from keys)")
            return SeedWords(secrets.mnemonic, secrets.seed_type, secrets.has_passphrase)

        return self.submit(read())

    def confirm_backup(
        self, words_at_positions: dict[int, str], password: str
    ) -> "concurrent.futures.Future[None]":
        """Check words typed back from the paper; the wallet is then marked backed up."""

        async def check() -> None:
            wallet = self._open_wallet_or_fail()
            secrets = await self._open_secrets(wallet, password)
            wallet.confirm_backup(words_at_positions, secrets=secrets)
            self.emit("wallet", self._wallet_view(wallet))

        return self.submit(check())

    def prepare_fee_bump(
        self, txid: str, fee_rate: str | None
    ) -> "concurrent.futures.Future[TxPreview]":
        """An unsigned BIP125 replacement of an unconfirmed RBF payment, paying `fee_rate`;
        sign and send it with `sign_and_broadcast` (the original is then dropped)."""
        return self.call(lambda: self._open_wallet_or_fail().create_fee_bump(txid, fee_rate))

    def abandon(self, txid: str) -> "concurrent.futures.Future[None]":
        """Forget an unconfirmed transaction of the open wallet (and those spending it): its
        coins are spendable again; the window gets a fresh WalletView."""

        def forget() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.abandon(txid)
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(forget)

    def change_password(self, old: str, new: str) -> "concurrent.futures.Future[None]":
        """Re-encrypt the open wallet's key file with a new password (on a worker thread:
        two key derivations; the network thread goes on)."""

        async def change() -> None:
            wallet = self._open_wallet_or_fail()
            await asyncio.to_thread(wallet.change_password, old, new)

        return self.submit(change())

    def transaction_details(self, txid: str) -> "concurrent.futures.Future[TxDetails]":
        """Inputs and outputs of one of the open wallet's transactions."""
        return self.call(lambda: self._open_wallet_or_fail().transaction_details(txid))

    def addresses(self) -> "concurrent.futures.Future[list[AddressInfo]]":
        """Every address of the open wallet (receive, change, imported) with balance, use
        and label."""
        return self.call(lambda: self._open_wallet_or_fail().addresses())

    def set_mining_address(self, address: str | None) -> "concurrent.futures.Future[str]":
        """Make one of the open wallet's addresses its mining address (None: a fresh one);
        the window gets a fresh WalletView."""

        def change() -> str:
            wallet = self._open_wallet_or_fail()
            chosen = wallet.set_mining_address(address)
            self.emit("wallet", self._wallet_view(wallet))
            return chosen

        return self.call(change)

    def addresses_page(
        self, which: str, offset: int, limit: int
    ) -> "concurrent.futures.Future[tuple[int, list[AddressInfo]]]":
        """(addresses listed under `which`, one page of them) for the Receive page."""

        def read() -> tuple[int, list[AddressInfo]]:
            wallet = self._open_wallet_or_fail()
            total, _used = wallet.address_count(which)
            return total, wallet.addresses_page(which, offset, limit)

        return self.call(read)

    def address_summary(
        self, which: str, address: str
    ) -> "concurrent.futures.Future[tuple[int, int, bool]]":
        """(addresses listed under `which`, how many used, whether `address` was used)."""

        def read() -> tuple[int, int, bool]:
            wallet = self._open_wallet_or_fail()
            total, used = wallet.address_count(which)
            return total, used, bool(address) and wallet.address_used(address)

        return self.call(read)

    def new_receive_address(self) -> "concurrent.futures.Future[str]":
        """A fresh receive address, past every used or handed-out one (saved at once)."""

        def fresh() -> str:
            wallet = self._open_wallet_or_fail()
            address = wallet.receive_address(new=True)
            wallet.save()
            return address

        return self.call(fresh)

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

    def wallet_view(self) -> "concurrent.futures.Future[WalletView | None]":
        return self.call(lambda: self._wallet_view(self.wallet) if self.wallet else None)

    def _wallet_view(self, wallet: Wallet) -> "WalletView":
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

    def broadcast(self, raw_tx: bytes) -> "concurrent.futures.Future[Any]":
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
