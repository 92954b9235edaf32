"""A BIP125 fee bump: the same payment again with a higher fee, replacing an unconfirmed one
of this wallet that allowed it."""

from __future__ import annotations

from fractions import Fraction

from spv.tx import Transaction

from .accounts import INTERNAL
from .errors import WalletError
from .model import TxPreview
from .spending import SEQUENCE_RBF, Spending
from .txbuild import fee_for, is_dust, tx_weight, vsize_of_weight


def create_fee_bump(
    spending: Spending,
    txid: str,
    raw: bytes | None,
    confirmed: bool,
    fee_rate: str | float | Fraction | None,
) -> TxPreview:
    """A BIP125 replacement of an unconfirmed payment of this wallet that allowed it: the
    same coins and recipients, a higher fee — at least the rate asked and the old fee
    plus the replacement's own relay fee (BIP125 rule 4) — taken from the change, or,
    for a payment without change to one recipient (a "max" payment), from that payment
    (as Electrum does; the preview's `reduced_output` says which)."""
    if confirmed:
        raise WalletError("this payment is confirmed already: its fee cannot change")
    if raw is None:
        raise WalletError("this payment spends coins that are not this wallet's")
    tx = Transaction.parse(raw)
    if tx.is_coinbase() or not any(i.sequence <= SEQUENCE_RBF for i in tx.inputs):
        raise WalletError(
            "this payment was sent without 'allow fee bump later' (RBF): it cannot be replaced"
        )
    coins = []
    for txin in tx.inputs:
        coin = spending.coins.owned_output(txin.prevout)
        if coin is None:
            raise WalletError("this payment spends coins that are not this wallet's")
        coins.append(coin)
    old_fee = sum(c.value for c in coins) - sum(o.value for o in tx.outputs)
    rate = spending.fee_rate(fee_rate)
    kinds = [c.owner.kind for c in coins]
    vsize = vsize_of_weight(tx_weight(kinds, [o.script for o in tx.outputs]))
    relay = fee_for(vsize, Fraction(spending.params.min_relay_fee_per_kb, 1000))
    new_fee = max(fee_for(vsize, rate), old_fee + relay)
    outputs = [(o.script, o.value, False) for o in tx.outputs]
    change_at = [
        n
        for n, o in enumerate(tx.outputs)
        if (owned := spending.keys.owner(o.script)) is not None
        and not owned.ref.imported
        and owned.ref.branch == INTERNAL
    ]
    reduced: int | None = None
    if change_at:
        target = change_at[-1]
        outputs[target] = (tx.outputs[target].script, tx.outputs[target].value, True)
    else:
        others = [n for n, o in enumerate(tx.outputs) if spending.keys.owner(o.script) is None]
        if len(others) != 1:
            raise WalletError(
                "this payment has no change and pays several recipients: a higher fee "
                "cannot be taken from it"
            )
        target = reduced = others[0]
    out = tx.outputs[target]
    new_value = out.value - (new_fee - old_fee)
    if new_value < 0 or is_dust(new_value, out.script, spending.params.min_relay_fee_per_kb):
        what = "the payment" if reduced is not None else "the change"
        raise WalletError(
            f"{what} ({spending.money(out.value)}) is too small to pay a fee of "
            f"{spending.money(new_fee)}"
        )
    outputs[target] = (out.script, new_value, outputs[target][2])
    return spending.preview("bump", coins, outputs, rate, rbf=True, reduced_output=reduced)
