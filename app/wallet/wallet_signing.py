"""Building the open wallet's transactions (the previews of :mod:`.spending`) and signing
them with the keys of the encrypted key file; recording what was broadcast, abandoning what
never will confirm."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from miner.threadguard import forbid_gui_thread
from spv.tx import OutPoint, Transaction

from . import keystore
from .accounts import Account
from .errors import KeyFileError, PasswordError, StateFileError, WalletError
from .fee_bump import create_fee_bump
from .ledger import display_txid
from .legacy_vote import create_legacy_vote
from .model import ConsolidationPlan, TxPreview
from .seeds import imported_private_keys, open_secrets
from .signing import SigningInput, sign_transaction
from .wallet_parts import WalletParts


class Signing(WalletParts):
    def create_send(
        self,
        payments: Sequence[tuple[str, int | str]],
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        rbf: bool = False,
        fit_one_transaction: bool = False,
    ) -> TxPreview:
        return self.spending.create_send(
            payments,
            fee_rate=fee_rate,
            coins=coins,
            rbf=rbf,
            fit_one_transaction=fit_one_transaction,
        )

    def consolidation_plan(
        self, *, fee_rate: str | float | Fraction | None = None, max_coin_value: int | None = None
    ) -> ConsolidationPlan:
        return self.spending.consolidation_plan(fee_rate=fee_rate, max_coin_value=max_coin_value)

    def create_consolidation(
        self,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        max_coin_value: int | None = None,
        max_transactions: int | None = None,
    ) -> list[TxPreview]:
        return self.spending.create_consolidation(
            fee_rate=fee_rate,
            coins=coins,
            max_coin_value=max_coin_value,
            max_transactions=max_transactions,
        )

    def create_legacy_vote(
        self,
        vote_for: str | None,
        vote_against: str | None = None,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
    ) -> list[TxPreview]:
        """The 2019-2023 OP_VOTE vote; today's Electorium vote is `voting.create_vote`."""
        return create_legacy_vote(
            self.spending, vote_for, vote_against, fee_rate=fee_rate, coins=coins
        )

    def create_sweep_imported(
        self, *, fee_rate: str | float | Fraction | None = None
    ) -> list[TxPreview]:
        return self.spending.create_sweep_imported(fee_rate=fee_rate)

    def create_fee_bump(
        self, txid: str, fee_rate: str | float | Fraction | None = None
    ) -> TxPreview:
        tx_row = self.ledger.tx_id(_txid(txid))
        if tx_row is None:
            raise WalletError(f"unknown transaction {txid}")
        height, raw = self.store.db.execute(
            "SELECT height, raw FROM txs WHERE id = ?", (tx_row,)
        ).fetchone()
        return create_fee_bump(self.spending, txid, raw, height is not None, fee_rate)

    # --- signing ---

    def check_password(self, password: str) -> None:
        """Raise PasswordError unless `password` opens this wallet's key file."""
        forbid_gui_thread("Wallet.check_password")
        self._check_secrets_match(open_secrets(self.key_path, password))

    def open_secrets(self, password: str) -> keystore.WalletSecrets:
        """Decrypt the key file (the slow part of signing); it reads only the key file, so it
        may run on a worker thread while the wallet is used elsewhere."""
        forbid_gui_thread("Wallet.open_secrets")
        return open_secrets(self.key_path, password)

    def sign(
        self,
        preview: TxPreview,
        password: str | None = None,
        *,
        secrets: keystore.WalletSecrets | None = None,
    ) -> Transaction:
        """Sign a preview with the keys from the key file: give the password, or the
        `secrets` :meth:`open_secrets` returned."""
        forbid_gui_thread("Wallet.sign")
        for coin in preview.inputs:
            if self.coin_queries.get(coin.outpoint) is not None:
                continue
            if preview.purpose == "bump" and self._spent_by_unconfirmed(coin.outpoint):
                continue
            raise WalletError("this preview spends coins that are gone; prepare it again")
        if secrets is None:
            if password is None:
                raise PasswordError("the password is needed to sign")
            secrets = open_secrets(self.key_path, password)
        self._check_secrets_match(secrets)
        private_accounts: dict[int, Account] = {}
        imported_keys = imported_private_keys(secrets, self.params)
        inputs = []
        for coin in preview.inputs:
            ref = coin.owner.ref
            if ref.imported:
                priv = imported_keys.get(self.keys.imported[ref.index].public_key)
                if priv is None:
                    raise KeyFileError("the key file lacks an imported key of this wallet")
            else:
                account = private_accounts.get(ref.account)
                if account is None:
                    account = self._private_account(secrets, ref.account)
                    private_accounts[ref.account] = account
                priv = account.private_key(ref.branch, ref.index)
            inputs.append(SigningInput(coin.script, coin.value, coin.owner.kind, priv))
        signed = sign_transaction(preview.unsigned, inputs)
        if signed.vsize > preview.vsize:  # the estimate is an upper bound
            raise WalletError("internal error: the signed transaction is larger than estimated")
        return signed

    def _spent_by_unconfirmed(self, outpoint: OutPoint) -> bool:
        row = self.store.db.execute(
            "SELECT s.height FROM txs t JOIN coins c ON c.tx = t.id JOIN txs s ON s.id = c.spent_by "
            "WHERE t.txid = ? AND c.vout = ?",
            (display_txid(outpoint.txid), outpoint.index),
        ).fetchone()
        return row is not None and row[0] is None

    def _private_account(self, secrets: keystore.WalletSecrets, ai: int) -> Account:
        from .bip32 import parse_extended_key

        acc = self.keys.accounts[ai]
        for secret in secrets.accounts:
            if secret.path == acc.scope.path_str and secret.nonstandard == acc.scope.nonstandard:
                key = parse_extended_key(secret.xprv, self.params)
                if key.neutered() != acc.account.key:
                    raise StateFileError("the key file and the database are of different wallets")
                return Account(acc.scope, key)
        raise KeyFileError(f"the key file has no key for account {acc.scope.path_str}")

    def _check_secrets_match(self, secrets: keystore.WalletSecrets) -> None:
        if self.keys.accounts:
            self._private_account(secrets, 0)

    def record_pending(self, tx: Transaction) -> None:
        """Record a broadcast transaction (unconfirmed) and commit."""
        with self._changing():
            result = self.ledger.add(tx, now=int(self.clock()))
        if result.keys_added:
            self._keys_added(None)
        self.save()

    def abandon(self, txid: str) -> None:
        """Forget an unconfirmed transaction (and those spending it)."""
        tx_row = self.ledger.tx_id(_txid(txid))
        if tx_row is None:
            raise WalletError(f"unknown transaction {txid}")
        (height,) = self.store.db.execute(
            "SELECT height FROM txs WHERE id = ?", (tx_row,)
        ).fetchone()
        if height is not None:
            raise WalletError("a confirmed transaction cannot be abandoned")
        with self._changing():
            self.ledger.remove_id(tx_row)
        self.save()

    def raw_transaction(self, txid: str) -> bytes | None:
        """The raw bytes the wallet kept of one of its transactions (None: only its outputs
        to the wallet were kept)."""
        row = self.store.db.execute(
            "SELECT raw FROM txs WHERE txid = ?", (display_txid(_txid(txid)),)
        ).fetchone()
        if row is None:
            raise WalletError(f"unknown transaction {txid}")
        return None if row[0] is None else bytes(row[0])


def _txid(text: str) -> bytes:
    from spv.hashes import hash_from_display

    try:
        return hash_from_display(text.strip())
    except ValueError:
        raise WalletError(f"bad transaction id {text!r}") from None
