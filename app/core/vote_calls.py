"""The application core's calls that sign for others or vote: signing without broadcasting
(a VPN exit's premium payment) and recording it; the Network Steward votes — today's
Electorium vote (per address, gathering, "My vote") and the 2019-2023 OP_VOTE one."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence

from spv.script import split_vote
from spv.tx import Transaction

from ..steward.my_vote import MyVote, my_vote
from ..wallet.sync import broadcast as broadcast_tx
from ..wallet.voting import VoteBatch, VotingAddress
from ..wallet.wallet import TxPreview, WalletError
from .parts import CoreParts


class VoteCalls(CoreParts):
    def sign_only(
        self, preview: TxPreview, password: str
    ) -> concurrent.futures.Future[Transaction]:
        """Sign a previewed transaction without broadcasting or recording it (a VPN exit
        broadcasts the premium payment itself); `tx.serialize().hex()` and `tx.txid_hex` are
        what the receiver needs. Call `record_pending` once the receiver accepted it."""

        async def sign() -> Transaction:
            wallet = self._open_wallet_or_fail()
            secrets = await self._open_secrets(wallet, password)
            return wallet.sign(preview, secrets=secrets)

        return self.submit(sign())

    def record_pending(self, tx: Transaction) -> concurrent.futures.Future[None]:
        """Record a transaction someone else broadcasts as pending in the open wallet, so its
        coins are not spent twice; the window gets a fresh WalletView."""

        def record() -> None:
            wallet = self._open_wallet_or_fail()
            wallet.record_pending(tx)
            self.emit("wallet", self._wallet_view(wallet))

        return self.call(record)

    def prepare_legacy_vote(
        self, candidate: str | None, fee_rate: str | None = None
    ) -> concurrent.futures.Future[list[TxPreview]]:
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

    def voting_addresses(self) -> concurrent.futures.Future[list[VotingAddress]]:
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
    ) -> concurrent.futures.Future[VoteBatch]:
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
    ) -> concurrent.futures.Future[list[TxPreview]]:
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
    ) -> concurrent.futures.Future[list[str]]:
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

    def my_vote(self) -> concurrent.futures.Future[MyVote]:
        """The open wallet's votes: per address the vote in force and its expiry, the next
        election (see `app.steward.my_vote`)."""
        return self.call(
            lambda: my_vote(self._open_wallet_or_fail().voting.snapshot(), time.time())
        )

    def sign_and_broadcast_all(
        self, previews: Sequence[TxPreview], password: str
    ) -> concurrent.futures.Future[list[str]]:
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
