"""Building the wallet's transactions: payments, "max", consolidation, fee bumps, sweeps and
2019-2023 Network Steward votes (today's Electorium votes: :mod:`app.wallet.voting`). Everything returns unsigned previews (app.wallet.model.TxPreview)
for the user to check; `Wallet.sign` signs them.

Coin selection works on the spendable coins read largest first from the database, never on
the whole wallet: one transaction spends at most 1460 segwit (499 legacy) inputs, so the
largest `SELECTION_CANDIDATES` coins hold every selection that fits one transaction. Sending
"everything" and consolidating count first (indexed queries), then read coins one standard
batch at a time.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction

from spv.address import address_from_script, script_for_address
from spv.errors import ParseError
from spv.params import NetworkParams
from spv.tx import OutPoint, Transaction, TxIn, TxOut
from spv.units import format_amount

from .accounts import EXTERNAL, INTERNAL
from .coin_queries import CoinQueries
from .errors import TooManyCoinsError, WalletError
from .keychain import KeyChain
from .ledger import Ledger
from .model import (
    Coin,
    ConsolidationPlan,
    PreviewOutput,
    TxPreview,
    outpoint_from_text,
    outpoint_text,
)
from .txbuild import (
    INPUT_WEIGHT,
    MAX_INPUTS_SEGWIT,
    BatchBuilder,
    Candidate,
    InsufficientFundsError,
    TooManyInputsError,
    TxBuildError,
    dust_threshold,
    fee_for,
    finish_selection,
    is_dust,
    parse_fee_rate,
    select_coins,
    tx_weight,
    vsize_of_weight,
)

TX_VERSION = 1  # as pktwallet writes
SEQUENCE_FINAL = 0xFFFFFFFF  # no RBF signal
SEQUENCE_RBF = 0xFFFFFFFD  # BIP125: the transaction may be replaced by one paying more fee
SELECTION_CANDIDATES = 3000  # largest coins offered to coin selection
MANY_INPUTS = 200  # a payment needing more coins than this is worth a consolidation first


class Spending:
    """Transaction building for one wallet (its keys, coins and default fee rate)."""

    def __init__(
        self,
        params: NetworkParams,
        keys: KeyChain,
        ledger: Ledger,
        coins: CoinQueries,
        default_account: Callable[[], int],
        default_fee_rate: Callable[[], Fraction],
        legacy_account: Callable[[], int | None],
    ) -> None:
        self.params = params
        self.keys = keys
        self.ledger = ledger
        self.coins = coins
        self._default_account = default_account
        self._default_fee_rate = default_fee_rate
        self._legacy_account = legacy_account

    # --- amounts and addresses ---

    def money(self, units: int) -> str:
        return f"{format_amount(units, self.params.units_per_coin)} {self.params.coin_symbol}"

    def fee_rate(self, fee_rate: str | float | Fraction | None) -> Fraction:
        rate = self._default_fee_rate() if fee_rate is None else parse_fee_rate(fee_rate)
        minimum = Fraction(self.params.min_relay_fee_per_kb, 1000)
        if rate < minimum:
            raise TxBuildError(
                f"the fee rate {rate} is below the network's minimum relay fee of {minimum} "
                "unit(s) per vbyte"
            )
        return rate

    def destination(self, address: str) -> bytes:
        text = address.strip()
        if text.lower().startswith("pkt:") or text.lower().startswith(f"{self.params.bech32_hrp}:"):
            from spv.uri import parse_payment_uri

            text = parse_payment_uri(text, self.params).address
        try:
            return script_for_address(text, self.params)
        except ParseError as exc:
            raise WalletError(f"invalid {self.params.name} address {text!r}: {exc}") from None

    def change_script(self) -> bytes:
        return self.keys.first_unused(self._default_account(), INTERNAL).script

    # --- coins ---

    def chosen_coins(self, chosen: Sequence[OutPoint | str]) -> list[Coin]:
        result: list[Coin] = []
        seen: set[OutPoint] = set()
        for item in chosen:
            op = outpoint_from_text(item) if isinstance(item, str) else item
            coin = self.coins.get(op)
            if coin is None:
                raise WalletError(f"{outpoint_text(op)} is not an unspent coin of this wallet")
            if not coin.mature:
                raise WalletError(f"{outpoint_text(op)} is an immature mining reward")
            if coin.ns_expired:
                raise WalletError(f"{outpoint_text(op)} is an expired Network Steward payment")
            if coin.frozen:
                raise WalletError(f"{outpoint_text(op)} is frozen; unfreeze it to spend it")
            if op in seen:
                raise WalletError(f"{outpoint_text(op)} is chosen twice")
            seen.add(op)
            result.append(coin)
        return result

    @staticmethod
    def _candidate(coin: Coin) -> Candidate:
        return Candidate(coin.outpoint, coin.value, coin.owner.kind, coin.confirmed)

    def preview(
        self,
        purpose: str,
        coins: Sequence[Coin],
        outputs: Sequence[tuple[bytes, int, bool]],
        rate: Fraction,
        rbf: bool = False,
        reduced_output: int | None = None,
    ) -> TxPreview:
        """Assemble an unsigned transaction; `outputs` are (script, value, is_change). With
        `rbf` the inputs signal BIP125 replaceability (pktwallet never does; off by default)."""
        sequence = SEQUENCE_RBF if rbf else SEQUENCE_FINAL
        tx = Transaction(
            TX_VERSION,
            tuple(TxIn(c.outpoint, b"", sequence) for c in coins),
            tuple(TxOut(v, s) for s, v, _ in outputs),
            0,
        )
        weight = tx_weight([c.owner.kind for c in coins], [s for s, _, _ in outputs])
        fee = sum(c.value for c in coins) - sum(v for _, v, _ in outputs)
        preview_outputs = tuple(
            PreviewOutput(
                address_from_script(s, self.params), s, v, change, self.keys.owner(s) is not None
            )
            for s, v, change in outputs
        )
        return TxPreview(
            purpose,
            tuple(coins),
            preview_outputs,
            fee,
            vsize_of_weight(weight),
            rate,
            tx,
            reduced_output,
        )

    # --- payments ---

    def create_send(
        self,
        payments: Sequence[tuple[str, int | str]],
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        rbf: bool = False,
        fit_one_transaction: bool = False,
    ) -> TxPreview:
        """Pay `payments` ((address, units or "max"), at most one "max") from the spendable
        coins (or exactly the `coins` chosen), change to a fresh change address. When "max"
        needs more coins than one transaction may spend, TooManyCoinsError says so and how
        much the largest single payment could carry; `fit_one_transaction` sends that."""
        if not payments:
            raise WalletError("nothing to pay")
        rate = self.fee_rate(fee_rate)
        scripts: list[bytes] = []
        amounts: list[int | None] = []
        for address, amount in payments:
            script = self.destination(address)
            if isinstance(amount, str):
                if amount.strip().lower() != "max":
                    raise WalletError(f"bad amount {amount!r}")
                amounts.append(None)
            else:
                if amount <= 0:
                    raise WalletError("the amount must be positive")
                if is_dust(amount, script, self.params.min_relay_fee_per_kb):
                    raise WalletError(
                        f"{self.money(amount)} is below the smallest amount this address can "
                        f"receive ({self.money(dust_threshold(script, self.params.min_relay_fee_per_kb))})"
                    )
                amounts.append(amount)
            scripts.append(script)
        if amounts.count(None) > 1:
            raise WalletError('only one payment can be "max"')
        chosen = self.chosen_coins(coins) if coins else None
        fixed = sum(a for a in amounts if a is not None)
        if None in amounts:
            pool = (
                chosen
                if chosen is not None
                else self._max_pool(scripts, fixed, rate, fit_one_transaction)
            )
            return self._send_max(pool, scripts, amounts, fixed, rate, rbf)
        return self._send_amounts(chosen, scripts, amounts, fixed, rate, rbf)

    def _max_pool(
        self, scripts: list[bytes], fixed: int, rate: Fraction, fit_one: bool
    ) -> list[Coin]:
        summary = self.coins.spendable_summary()
        if summary.count == 0:
            raise InsufficientFundsError("no spendable coins", needed=fixed, available=0)
        largest = self._largest_fitting(self.coins.spendable_largest(), scripts)
        if len(largest) >= summary.count:
            return largest
        if fit_one:
            return largest
        weight = tx_weight([c.owner.kind for c in largest], scripts)
        single = sum(c.value for c in largest) - fixed - fee_for(vsize_of_weight(weight), rate)
        raise TooManyCoinsError(
            f"sending everything needs {summary.count:,} coins, more than one transaction may "
            f"spend ({len(largest):,}): consolidate the wallet first, or send the most one "
            f"payment can carry ({self.money(max(single, 0))})",
            coins=summary.count,
            single_max=max(single, 0),
        )

    @staticmethod
    def _largest_fitting(coins: Iterable[Coin], scripts: Sequence[bytes]) -> list[Coin]:
        batch = BatchBuilder(scripts)
        out: list[Coin] = []
        for coin in coins:
            if not batch.fits(coin.owner.kind):
                break
            batch.add(coin.owner.kind)
            out.append(coin)
        return out

    def _send_max(
        self,
        pool: list[Coin],
        scripts: list[bytes],
        amounts: list[int | None],
        fixed: int,
        rate: Fraction,
        rbf: bool,
    ) -> TxPreview:
        if not pool:
            raise InsufficientFundsError("no spendable coins", needed=fixed, available=0)
        kinds = [c.owner.kind for c in pool]
        batch = BatchBuilder(scripts)
        for kind in kinds:
            if not batch.fits(kind):
                raise TooManyCoinsError(
                    f"sending everything needs {len(pool):,} coins, more than one transaction "
                    "may spend: consolidate the wallet first",
                    coins=len(pool),
                )
            batch.add(kind)
        fee = fee_for(vsize_of_weight(tx_weight(kinds, scripts)), rate)
        available = sum(c.value for c in pool)
        rest = available - fixed - fee
        i = amounts.index(None)
        if rest <= 0 or is_dust(rest, scripts[i], self.params.min_relay_fee_per_kb):
            raise InsufficientFundsError(
                "not enough left to send after the other payments and the fee "
                f"({self.money(available)} spendable, {self.money(fixed)} to pay, "
                f"fee {self.money(fee)})",
                needed=fixed + fee,
                available=available,
            )
        values = [a if a is not None else rest for a in amounts]
        return self.preview(
            "send", pool, [(s, v, False) for s, v in zip(scripts, values, strict=True)], rate, rbf
        )

    def _send_amounts(
        self,
        chosen: list[Coin] | None,
        scripts: list[bytes],
        amounts: list[int | None],
        fixed: int,
        rate: Fraction,
        rbf: bool,
    ) -> TxPreview:
        values = [a for a in amounts if a is not None]
        change = self.change_script()
        min_relay = self.params.min_relay_fee_per_kb
        if chosen is not None:
            pool = chosen
            selection = finish_selection(
                [self._candidate(c) for c in chosen], scripts, fixed, rate, change, min_relay
            )
            if selection is None:
                raise InsufficientFundsError(
                    "the chosen coins do not cover the amount and the fee "
                    f"({self.money(sum(c.value for c in chosen))} chosen, "
                    f"{self.money(fixed)} to pay)",
                    needed=fixed,
                    available=sum(c.value for c in chosen),
                )
        else:
            summary = self.coins.spendable_summary()
            if summary.total < fixed:
                raise InsufficientFundsError(
                    f"insufficient funds: {self.money(fixed)} plus the fee are needed, "
                    f"{self.money(summary.total)} are spendable",
                    needed=fixed,
                    available=summary.total,
                )
            pool = []
            for coin in self.coins.spendable_largest():
                pool.append(coin)
                if len(pool) >= SELECTION_CANDIDATES:
                    break
            try:
                selection = select_coins(
                    [self._candidate(c) for c in pool],
                    scripts,
                    fixed,
                    rate,
                    change,
                    min_relay_fee_per_kb=min_relay,
                )
            except InsufficientFundsError as exc:
                if len(pool) < summary.count:  # the rest of the coins are smaller still
                    raise TooManyCoinsError(
                        f"this payment needs more coins than one transaction may spend "
                        f"({MAX_INPUTS_SEGWIT:,}): consolidate the wallet first",
                        coins=summary.count,
                    ) from None
                unconfirmed = exc.unconfirmed
                note = f" ({self.money(unconfirmed)} of it unconfirmed)" if unconfirmed else ""
                raise InsufficientFundsError(
                    f"insufficient funds: {self.money(fixed)} plus the fee are needed, "
                    f"{self.money(summary.total)} are spendable{note}",
                    needed=fixed,
                    available=summary.total,
                    unconfirmed=unconfirmed,
                ) from None
            except TooManyInputsError as exc:
                raise TooManyCoinsError(str(exc), coins=summary.count) from None
        by_outpoint = {c.outpoint: c for c in pool}
        used = [by_outpoint[c.outpoint] for c in selection.coins]
        outs: list[tuple[bytes, int, bool]] = [
            (s, v, False) for s, v in zip(scripts, values, strict=True)
        ]
        if selection.change:
            outs.insert(_secrets.randbelow(len(outs) + 1), (change, selection.change, True))
        return self.preview("send", used, outs, rate, rbf)

    # --- batches: consolidation, sweeps, 2019-2023 votes ---

    def batched_previews(
        self,
        purpose: str,
        coins: Iterable[Coin],
        dest: bytes,
        rate: Fraction,
        limit: int | None = None,
    ) -> list[TxPreview]:
        """Standard-size transactions each paying the coins of one batch (minus its fee) to
        `dest`; batches whose value does not cover their fee are left out."""
        previews: list[TxPreview] = []
        for batch in self._batches(coins, dest):
            weight = tx_weight([c.owner.kind for c in batch], [dest])
            value = sum(c.value for c in batch) - fee_for(vsize_of_weight(weight), rate)
            if value <= 0 or is_dust(value, dest, self.params.min_relay_fee_per_kb):
                continue
            previews.append(self.preview(purpose, batch, [(dest, value, True)], rate))
            if limit is not None and len(previews) >= limit:
                break
        return previews

    @staticmethod
    def _batches(coins: Iterable[Coin], dest: bytes) -> Iterator[list[Coin]]:
        builder = BatchBuilder([dest])
        current: list[Coin] = []
        for coin in coins:
            if current and not builder.fits(coin.owner.kind):
                yield current
                current = []
                builder.reset()
            builder.add(coin.owner.kind)
            current.append(coin)
        if current:
            yield current

    def consolidation_coins(self, rate: Fraction, max_coin_value: int | None) -> Iterator[Coin]:
        """Confirmed spendable coins worth more than their own input fee, smallest first."""
        floor = int(rate * Fraction(min(INPUT_WEIGHT.values()), 4))
        for coin in self.coins.spendable_smallest(above=floor, at_most=max_coin_value):
            if coin.value > rate * Fraction(INPUT_WEIGHT[coin.owner.kind], 4):
                yield coin

    def consolidation_plan(
        self,
        *,
        fee_rate: str | float | Fraction | None = None,
        max_coin_value: int | None = None,
    ) -> ConsolidationPlan:
        """How many coins a consolidation would merge, in how many transactions, for what
        total fee: one pass over the coins' values, none of them loaded as a whole."""
        rate = self.fee_rate(fee_rate)
        dest = self.change_script()
        min_relay = self.params.min_relay_fee_per_kb
        kind_of: dict[int, str] = {}
        input_fee = {k: rate * Fraction(w, 4) for k, w in INPUT_WEIGHT.items()}
        builder = BatchBuilder([dest])
        coins = value = txs = fee = batch_value = 0

        def close() -> None:
            nonlocal txs, fee, value, coins
            f = fee_for(vsize_of_weight(builder.weight()), rate)
            if (
                builder.size
                and batch_value - f > 0
                and not is_dust(batch_value - f, dest, min_relay)
            ):
                txs += 1
                fee += f
                value += batch_value
                coins += builder.size

        floor = int(min(input_fee.values()))
        for coin_value, sid in self.coins.consolidation_rows(above=floor, at_most=max_coin_value):
            kind = kind_of.get(sid)
            if kind is None:
                kind = kind_of[sid] = self.keys.script_of(sid)[1].kind
            if coin_value <= input_fee[kind]:
                continue
            if builder.size and not builder.fits(kind):
                close()
                builder.reset()
                batch_value = 0
            builder.add(kind)
            batch_value += coin_value
        close()
        return ConsolidationPlan(coins, value, txs, fee, MAX_INPUTS_SEGWIT)

    def create_consolidation(
        self,
        *,
        fee_rate: str | float | Fraction | None = None,
        coins: Sequence[OutPoint | str] | None = None,
        max_coin_value: int | None = None,
        max_transactions: int | None = None,
    ) -> list[TxPreview]:
        """Merge many small coins into one output per batch (each batch a standard-size
        transaction), smallest coins first; at most `max_transactions` of them (all when
        None). Coins worth less than their own input fee are left alone."""
        rate = self.fee_rate(fee_rate)
        if coins:
            pool: Iterable[Coin] = sorted(
                (
                    c
                    for c in self.chosen_coins(coins)
                    if c.value > rate * Fraction(INPUT_WEIGHT[c.owner.kind], 4)
                ),
                key=lambda c: (c.value, c.outpoint.txid, c.outpoint.index),
            )
            pool = [c for c in pool if max_coin_value is None or c.value <= max_coin_value]
            if len(pool) < 2:
                raise WalletError("nothing to consolidate: fewer than two spendable coins")
        else:
            pool = self.consolidation_coins(rate, max_coin_value)
        previews = self.batched_previews(
            "consolidate", pool, self.change_script(), rate, max_transactions
        )
        if not previews:
            raise WalletError(
                "nothing to consolidate: fewer than two spendable coins, or they do not "
                "cover the fee"
            )
        if len(previews) == 1 and len(previews[0].inputs) < 2:
            raise WalletError("nothing to consolidate: fewer than two spendable coins")
        return previews

    def create_sweep_imported(
        self, *, fee_rate: str | float | Fraction | None = None
    ) -> list[TxPreview]:
        """Move the coins of imported keys into the HD wallet (a fresh receive address)."""
        rate = self.fee_rate(fee_rate)
        pool = [c for c in self.coins.spendable_largest() if c.owner.ref.imported]
        if not pool:
            raise WalletError("the imported keys have no spendable coins (yet)")
        dest = self.keys.first_unused(self._default_account(), EXTERNAL).script
        previews = self.batched_previews("sweep", pool, dest, rate)
        if not previews:
            raise WalletError("the imported coins do not cover the fee")
        return previews


def many_inputs_advice(inputs: int, params: NetworkParams) -> str | None:
    """A sentence for a payment that spends very many coins (each adds to its fee)."""
    if inputs <= MANY_INPUTS:
        return None
    return (
        f"this payment spends {inputs:,} coins, which makes its fee large: consolidating the "
        "wallet's small coins first makes later payments smaller and cheaper"
    )
