"""The application core's calls about the open wallet: payments and their previews, coins,
history pages, labels, the CSV export, fee bumps, abandoning, the password, seed words,
addresses and the mining address. Each runs on the network thread; results come back as
futures, and a change sends the window a fresh WalletView."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from pathlib import Path

from ..wallet.coin_view import CoinView, coin_view
from ..wallet.model import HistoryEntry, TxDetails
from ..wallet.sync import broadcast as broadcast_tx
from ..wallet.wallet import AddressInfo, TxPreview, WalletError
from .parts import CoreParts
from .view import SeedWords


class WalletCalls(CoreParts):
    def prepare_send(
        self,
        address: str,
        amount: int | str,
        fee_rate: str | None = None,
        coins: Sequence[str] | None = None,
        rbf: bool = False,
        fit_one_transaction: bool = False,
    ) -> concurrent.futures.Future[TxPreview]:
        """An unsigned payment of `amount` units (or "max") to `address`, for the user to
        check; nothing is signed. `coins` (TXID:N): spend exactly these; `rbf`: allow a fee
        bump later (BIP125); `fit_one_transaction`: see prepare_payments."""
        return self.prepare_payments([(address, amount)], fee_rate, coins, rbf, fit_one_transaction)

    def prepare_payments(
        self,
        payments: Sequence[tuple[str, int | str]],
        fee_rate: str | None = None,
        coins: Sequence[str] | None = None,
        rbf: bool = False,
        fit_one_transaction: bool = False,
    ) -> concurrent.futures.Future[TxPreview]:
        """Like prepare_send, paying several (address, units or "max") in one transaction
        (at most one "max"). `fit_one_transaction`: a "max" that needs more coins than one
        transaction may spend sends the most one transaction of the largest coins can carry
        (instead of TooManyCoinsError)."""
        payments = list(payments)

        def prepare() -> TxPreview:
            wallet = self._open_wallet_or_fail()
            return wallet.create_send(
                payments,
                fee_rate=fee_rate,
                coins=coins,
                rbf=rbf,
                fit_one_transaction=fit_one_transaction,
            )

        return self.call(prepare)

    def prepare_consolidation(
        self, fee_rate: str | None = None, max_transactions: int | None = 1
    ) -> concurrent.futures.Future[list[TxPreview]]:
        """Unsigned transactions merging the wallet's small coins into one of its own
        addresses (each of standard size), the first `max_transactions` of them (None: all)."""

        def prepare() -> list[TxPreview]:
            wallet = self._open_wallet_or_fail()
            return wallet.create_consolidation(fee_rate=fee_rate, max_transactions=max_transactions)

        return self.call(prepare)

    def coins(self) -> concurrent.futures.Future[list[CoinView]]:
        """The open wallet's unspent coins (frozen ones included), oldest first (all of them:
        long lists read pages with `coins_page`)."""

        def read() -> list[CoinView]:
            wallet = self._open_wallet_or_fail()
            return [coin_view(c, self.params, wallet.labels) for c in wallet.coins()]

        return self.call(read)

    def coins_page(
        self, offset: int, limit: int, order: str = "age", descending: bool = False
    ) -> concurrent.futures.Future[tuple[int, list[CoinView]]]:
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
    ) -> concurrent.futures.Future[tuple[int, list[HistoryEntry]]]:
        """(number of matching transactions, one page of them) for the History page."""

        def read() -> tuple[int, list[HistoryEntry]]:
            wallet = self._open_wallet_or_fail()
            page = wallet.history_page(
                offset=offset, limit=limit, newest_first=newest_first, sort=sort, search=search
            )
            return wallet.history_count(search), page

        return self.call(read)

    def freeze(self, outpoints: Sequence[str], frozen: bool) -> concurrent.futures.Future[None]:
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
    ) -> concurrent.futures.Future[str]:
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

    def set_label(self, target: str, text: str) -> concurrent.futures.Future[None]:
        """Label a transaction id or an address; the window gets a fresh WalletView."""

        def label() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.set_label(target, text)
            wallet.save()
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(label)

    def export_history(self, path: Path) -> concurrent.futures.Future[None]:
        """Write the history as CSV to `path` (atomically)."""

        def export() -> None:
            self._open_wallet_or_fail().export_csv(Path(path))

        return self.call(export)

    def seed_words(self, password: str) -> concurrent.futures.Future[SeedWords]:
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
    ) -> concurrent.futures.Future[None]:
        """Check words typed back from the paper; the wallet is then marked backed up."""

        async def check() -> None:
            wallet = self._open_wallet_or_fail()
            secrets = await self._open_secrets(wallet, password)
            wallet.confirm_backup(words_at_positions, secrets=secrets)
            self.emit("wallet", self._wallet_view(wallet))

        return self.submit(check())

    def prepare_fee_bump(
        self, txid: str, fee_rate: str | None
    ) -> concurrent.futures.Future[TxPreview]:
        """An unsigned BIP125 replacement of an unconfirmed RBF payment, paying `fee_rate`;
        sign and send it with `sign_and_broadcast` (the original is then dropped)."""
        return self.call(lambda: self._open_wallet_or_fail().create_fee_bump(txid, fee_rate))

    def abandon(self, txid: str) -> concurrent.futures.Future[None]:
        """Forget an unconfirmed transaction of the open wallet (and those spending it): its
        coins are spendable again; the window gets a fresh WalletView."""

        def forget() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.abandon(txid)
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(forget)

    def change_password(self, old: str, new: str) -> concurrent.futures.Future[None]:
        """Re-encrypt the open wallet's key file with a new password (on a worker thread:
        two key derivations; the network thread goes on)."""

        async def change() -> None:
            wallet = self._open_wallet_or_fail()
            await asyncio.to_thread(wallet.change_password, old, new)

        return self.submit(change())

    def transaction_details(self, txid: str) -> concurrent.futures.Future[TxDetails]:
        """Inputs and outputs of one of the open wallet's transactions."""
        return self.call(lambda: self._open_wallet_or_fail().transaction_details(txid))

    def addresses(self) -> concurrent.futures.Future[list[AddressInfo]]:
        """Every address of the open wallet (receive, change, imported) with balance, use
        and label."""
        return self.call(lambda: self._open_wallet_or_fail().addresses())

    def set_mining_address(self, address: str | None) -> concurrent.futures.Future[str]:
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
    ) -> concurrent.futures.Future[tuple[int, list[AddressInfo]]]:
        """(addresses listed under `which`, one page of them) for the Receive page."""

        def read() -> tuple[int, list[AddressInfo]]:
            wallet = self._open_wallet_or_fail()
            total, _used = wallet.address_count(which)
            return total, wallet.addresses_page(which, offset, limit)

        return self.call(read)

    def address_summary(
        self, which: str, address: str
    ) -> concurrent.futures.Future[tuple[int, int, bool]]:
        """(addresses listed under `which`, how many used, whether `address` was used)."""

        def read() -> tuple[int, int, bool]:
            wallet = self._open_wallet_or_fail()
            total, used = wallet.address_count(which)
            return total, used, bool(address) and wallet.address_used(address)

        return self.call(read)

    def new_receive_address(self) -> concurrent.futures.Future[str]:
        """A fresh receive address, past every used or handed-out one (saved at once)."""

        def fresh() -> str:
            wallet = self._open_wallet_or_fail()
            address = wallet.receive_address(new=True)
            wallet.save()
            return address

        return self.call(fresh)
