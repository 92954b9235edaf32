"""The 2019-2023 Network Steward vote (``OP_VOTE`` appended to a P2PKH output), which
today's Electorium count ignores; kept behind an explicit legacy option (see
:mod:`app.wallet.voting` for the vote that counts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from spv.script import add_vote
from spv.tx import OutPoint

from .accounts import EXTERNAL
from .errors import WalletError
from .model import Coin, TxPreview
from .spending import Spending
from .txbuild import InsufficientFundsError


def create_legacy_vote(
    spending: Spending,
    vote_for: str | None,
    vote_against: str | None = None,
    *,
    fee_rate: str | float | Fraction | None = None,
    coins: Sequence[OutPoint | str] | None = None,
) -> list[TxPreview]:
    """The 2019-2023 Network Steward vote (``OP_VOTE``, ignored by today's Electorium
    count: see :mod:`app.wallet.voting`): move the coins (all spendable ones by default)
    to the wallet's own legacy P2PKH address with ``<for> <against> OP_VOTE`` appended
    (segwit outputs cannot carry it). Every coin then votes with its value."""
    rate = spending.fee_rate(fee_rate)
    for_script = _vote_candidate(spending, vote_for)
    against_script = _vote_candidate(spending, vote_against)
    if for_script is None and against_script is None:
        raise WalletError("give a candidate to vote for and/or against")
    ai = spending._legacy_account()
    if ai is None:
        raise WalletError("this wallet has no legacy (P2PKH) account to vote from")
    key = spending.keys.first_unused(ai, EXTERNAL)
    try:
        dest = add_vote(key.script, for_script, against_script)
    except ValueError as exc:
        raise WalletError(f"cannot vote: {exc}") from None
    pool: Iterable[Coin] = (
        spending.chosen_coins(coins) if coins else spending.coins.spendable_largest()
    )
    previews = spending.batched_previews("vote-2019", pool, dest, rate)
    if not previews:
        raise InsufficientFundsError("no spendable coins that cover the fee of the vote")
    return previews


def _vote_candidate(spending: Spending, address: str | None) -> bytes | None:
    if address is None or address.strip().lower() in ("", "none", "-"):
        return None
    return spending.destination(address)
