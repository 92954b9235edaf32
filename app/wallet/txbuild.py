"""Transaction sizes, dust, fees and coin selection.

Sizes are upper bounds computed from the input kinds (a signature is counted as 72 bytes, the
largest low-S DER signature plus its sighash byte), so a fee computed from them never falls
below the requested rate once the transaction is signed. Weight follows BIP141:
``base size * 3 + total size``; vsize is ``ceil(weight / 4)``.

Fee rates are in units per virtual byte (pktd's minimum relay fee, 1000 units per kB, is 1
unit/vbyte). Dust follows pktd's ``isDust``: an output is dust when
``value * 1000 / (3 * (output size + input size)) < min relay fee per kB``, with an input size
of 148 bytes, or 67 for witness programs (P2WPKH dust is below 294 units, P2PKH below 546).

Coin selection tries branch-and-bound for a change-free match first, then falls back to
largest-first accumulation with a change output (change below dust goes to the fee). Both run on
confirmed coins before unconfirmed ones are considered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from spv.script import split_vote, witness_program
from spv.tx import OutPoint

MAX_STANDARD_WEIGHT = 400_000
MAX_INPUTS_SEGWIT = 1460  # pktwallet's limits
MAX_INPUTS_LEGACY = 499
BNB_MAX_TRIES = 100_000

# Upper-bound weights of one input, by how it is spent.
INPUT_WEIGHT = {
    # outpoint 36 + empty scriptSig 1 + sequence 4 = 41 base bytes; witness 1+1+72+1+33
    "p2wpkh": 41 * 4 + 108,
    # scriptSig pushes the 22-byte redeem script: 64 base bytes; same witness
    "p2sh-p2wpkh": 64 * 4 + 108,
    # scriptSig 1+72 + 1+33 = 107 -> 148 base bytes (+1 witness-count byte in a segwit tx)
    "p2pkh": 148 * 4,
    # uncompressed public key: scriptSig 1+72 + 1+65 = 139 -> 180 base bytes
    "p2pkh-uncompressed": 180 * 4,
}
LEGACY_KINDS = frozenset({"p2pkh", "p2pkh-uncompressed"})


class TxBuildError(ValueError):
    """A transaction cannot be built as asked (with a message for the user)."""


class InsufficientFundsError(TxBuildError):
    """Not enough spendable coins. `needed` (the amount, before the fee), `available` and
    `unconfirmed` (the part of `available` not confirmed) are units when known, so a window
    can say them in the user's unit."""

    def __init__(
        self,
        message: str,
        *,
        needed: int | None = None,
        available: int | None = None,
        unconfirmed: int = 0,
    ) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available
        self.unconfirmed = unconfirmed


class TooManyInputsError(TxBuildError):
    pass


def compact_size_len(n: int) -> int:
    if n < 0xFD:
        return 1
    if n <= 0xFFFF:
        return 3
    if n <= 0xFFFF_FFFF:
        return 5
    return 9


def output_size(script: bytes) -> int:
    return 8 + compact_size_len(len(script)) + len(script)


def output_weight(script: bytes) -> int:
    return output_size(script) * 4


def tx_weight(input_kinds: Sequence[str], output_scripts: Sequence[bytes]) -> int:
    """Upper bound of the weight of a transaction with these inputs and outputs, signed."""
    counts: dict[str, int] = {}
    for kind in input_kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return tx_weight_of_counts(
        counts, sum(output_weight(s) for s in output_scripts), len(output_scripts)
    )


def tx_weight_of_counts(kind_counts: Mapping[str, int], outputs_weight: int, n_outputs: int) -> int:
    """`tx_weight` from the number of inputs of each kind and the outputs' total weight."""
    n_inputs = sum(kind_counts.values())
    segwit = any(n and k not in LEGACY_KINDS for k, n in kind_counts.items())
    base = 4 + 4 + compact_size_len(n_inputs) + compact_size_len(n_outputs)
    weight = base * 4 + outputs_weight
    for kind, n in kind_counts.items():
        weight += INPUT_WEIGHT[kind] * n
        if segwit and kind in LEGACY_KINDS:
            weight += n  # the empty witness of a non-witness input
    if segwit:
        weight += 2  # marker and flag
    return weight


def vsize_of_weight(weight: int) -> int:
    return (weight + 3) // 4


def fee_for(vsize: int, fee_rate: Fraction) -> int:
    """Units paid by `vsize` virtual bytes at `fee_rate` units/vbyte (rounded up)."""
    return math.ceil(fee_rate * vsize)


def parse_fee_rate(text: str | float | int | Fraction) -> Fraction:
    """A fee rate in units per vbyte ("1", "2.5") as an exact fraction; raises TxBuildError."""
    try:
        rate = Fraction(str(text).strip()) if not isinstance(text, Fraction) else text
    except (ValueError, ZeroDivisionError):
        raise TxBuildError(f"bad fee rate {text!r}: give units per vbyte, e.g. 1 or 2.5") from None
    if rate < 0 or rate > 100_000:
        raise TxBuildError("the fee rate must be between 0 and 100000 units per vbyte")
    return rate


def is_dust(value: int, script: bytes, min_relay_fee_per_kb: int = 1000) -> bool:
    """pktd's dust rule (a vote suffix counts in the output size)."""
    base = script
    vote = split_vote(script)
    if vote is not None:
        base = vote.base_script
    spend = 67 if witness_program(base) is not None else 148
    total = output_size(script) + spend
    return value * 1000 // (3 * total) < min_relay_fee_per_kb


def dust_threshold(script: bytes, min_relay_fee_per_kb: int = 1000) -> int:
    """The smallest value that is not dust for `script`."""
    low, high = 0, 1 << 40
    while low < high:
        mid = (low + high) // 2
        if is_dust(mid, script, min_relay_fee_per_kb):
            low = mid + 1
        else:
            high = mid
    return low


def max_inputs_for(kinds: Iterable[str]) -> int:
    return MAX_INPUTS_LEGACY if any(k in LEGACY_KINDS for k in kinds) else MAX_INPUTS_SEGWIT


class BatchBuilder:
    """Groups coins, in the order given, into standard-size transactions paying the given
    outputs (at most 1460 segwit / 499 legacy inputs, weight 400000), counting as it goes:
    each step is a few integer operations (consolidating a million coins walks them all)."""

    def __init__(self, output_scripts: Sequence[bytes]) -> None:
        self._outputs_weight = sum(output_weight(s) for s in output_scripts)
        self._n_outputs = len(output_scripts)
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, int] = {}
        self.size = 0
        self._inputs_weight = 0  # the inputs' own weights
        self._legacy = 0  # legacy inputs (each adds an empty witness in a segwit transaction)

    def _weight(self, size: int, inputs_weight: int, legacy: int) -> int:
        segwit = legacy < size
        base = 4 + 4 + compact_size_len(size) + compact_size_len(self._n_outputs)
        weight = base * 4 + self._outputs_weight + inputs_weight
        return weight + legacy + 2 if segwit else weight

    def weight(self) -> int:
        return self._weight(self.size, self._inputs_weight, self._legacy)

    def fits(self, kind: str) -> bool:
        """Whether one more input of `kind` keeps the transaction standard."""
        legacy = self._legacy + (kind in LEGACY_KINDS)
        size = self.size + 1
        limit = MAX_INPUTS_LEGACY if legacy else MAX_INPUTS_SEGWIT
        return size <= limit and (
            self._weight(size, self._inputs_weight + INPUT_WEIGHT[kind], legacy)
            <= MAX_STANDARD_WEIGHT
        )

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.size += 1
        self._inputs_weight += INPUT_WEIGHT[kind]
        self._legacy += kind in LEGACY_KINDS


@dataclass(frozen=True)
class Candidate:
    """A coin offered to the selector."""

    outpoint: OutPoint
    value: int
    kind: str  # a key of INPUT_WEIGHT
    confirmed: bool


@dataclass(frozen=True)
class Selection:
    coins: tuple[Candidate, ...]
    fee: int
    change: int  # 0 when there is no change output
    weight: int  # upper bound, change output included when there is one


def _effective(c: Candidate, rate: Fraction) -> Fraction:
    """Value of a coin minus the fee for spending it."""
    return c.value - rate * Fraction(INPUT_WEIGHT[c.kind], 4)


def _check_limits(kinds: Sequence[str], outputs: Sequence[bytes]) -> None:
    if len(kinds) > max_inputs_for(kinds):
        raise TooManyInputsError(
            f"this payment needs {len(kinds)} coins, more than the {max_inputs_for(kinds)} a "
            "transaction may spend: consolidate the wallet first"
        )
    if tx_weight(kinds, outputs) > MAX_STANDARD_WEIGHT:
        raise TooManyInputsError(
            "the transaction would be larger than the standard limit (weight 400000): "
            "consolidate the wallet first"
        )


def _within_limits(kinds: Sequence[str], outputs: Sequence[bytes]) -> bool:
    return len(kinds) <= max_inputs_for(kinds) and tx_weight(kinds, outputs) <= MAX_STANDARD_WEIGHT


def finish_selection(
    coins: Sequence[Candidate],
    outputs: Sequence[bytes],
    amount: int,
    rate: Fraction,
    change_script: bytes,
    min_relay: int = 1000,
) -> Selection | None:
    """Fee and change for a fixed set of coins, or None when they do not cover `amount`.
    Change below dust is left to the fee."""
    kinds = [c.kind for c in coins]
    total = sum(c.value for c in coins)
    with_change = tx_weight(kinds, [*outputs, change_script])
    fee_change = fee_for(vsize_of_weight(with_change), rate)
    change = total - amount - fee_change
    if change > 0 and not is_dust(change, change_script, min_relay):
        return Selection(tuple(coins), fee_change, change, with_change)
    without = tx_weight(kinds, outputs)
    fee = fee_for(vsize_of_weight(without), rate)
    if total - amount < fee:
        return None
    return Selection(tuple(coins), total - amount, 0, without)


def branch_and_bound(
    values: Sequence[Fraction | int],
    target: Fraction | int,
    window: Fraction | int,
    max_tries: int = BNB_MAX_TRIES,
) -> list[int] | None:
    """Indices of `values` (sorted in decreasing order) whose sum lies in
    [target, target + window], with the least excess found within `max_tries` steps
    (the depth-first search of Bitcoin Core's branch and bound); None when none is found."""
    available: Fraction | int = sum(values, 0)
    if available < target:
        return None
    selection: list[bool] = []
    current: Fraction | int = 0
    best: list[int] | None = None
    best_waste: Fraction | int | None = None
    for _ in range(max_tries):
        backtrack = False
        if current + available < target or current > target + window:
            backtrack = True
        elif current >= target:
            waste = current - target
            if best_waste is None or waste < best_waste:
                best = [i for i, used in enumerate(selection) if used]
                best_waste = waste
                if waste == 0:
                    break
            backtrack = True
        if backtrack:
            while selection and not selection[-1]:
                selection.pop()
                available += values[len(selection)]
            if not selection:
                break  # the whole tree has been walked
            selection[-1] = False
            current -= values[len(selection) - 1]
        else:
            i = len(selection)
            available -= values[i]
            if selection and not selection[-1] and values[i] == values[i - 1]:
                selection.append(False)  # same value as an excluded coin: same sums again
            else:
                selection.append(True)
                current += values[i]
    return best


def select_coins(
    candidates: Sequence[Candidate],
    output_scripts: Sequence[bytes],
    amount: int,
    fee_rate: Fraction,
    change_script: bytes,
    *,
    min_relay_fee_per_kb: int = 1000,
) -> Selection:
    """Choose coins paying `amount` to outputs `output_scripts` plus the fee at `fee_rate`.

    Confirmed coins are tried first, then all coins. Raises InsufficientFundsError or
    TooManyInputsError with a message for the user."""
    confirmed = [c for c in candidates if c.confirmed]
    pools = [confirmed] if len(confirmed) == len(candidates) else [confirmed, list(candidates)]
    too_many: TooManyInputsError | None = None
    for pool in pools:
        try:
            found = _select_from(
                pool, output_scripts, amount, fee_rate, change_script, min_relay_fee_per_kb
            )
        except TooManyInputsError as exc:
            too_many = exc
            continue
        if found is not None:
            return found
    if too_many is not None:
        raise too_many
    available = sum(c.value for c in candidates)
    unconfirmed = sum(c.value for c in candidates if not c.confirmed)
    note = f" ({unconfirmed} of them unconfirmed)" if unconfirmed else ""
    raise InsufficientFundsError(
        f"insufficient funds: {amount} units plus the fee are needed, {available} units are "
        f"spendable{note}",
        needed=amount,
        available=available,
        unconfirmed=unconfirmed,
    )


def _select_from(
    pool: Sequence[Candidate],
    outputs: Sequence[bytes],
    amount: int,
    rate: Fraction,
    change_script: bytes,
    min_relay: int,
) -> Selection | None:
    usable = [c for c in pool if _effective(c, rate) > 0]
    if not usable:
        return None
    ordered = sorted(usable, key=lambda c: (_effective(c, rate), c.value), reverse=True)
    target = amount + rate * Fraction(tx_weight([], outputs), 4)
    # 1. Branch and bound: a match close enough to need no change output. The window is what
    # a change output would cost now and when it is spent later. Every quantity is a multiple
    # of 1/(4 * denominator of the rate): scaled to integers, the search runs several times
    # faster than with fractions.
    window = rate * Fraction(output_weight(change_script) + INPUT_WEIGHT["p2wpkh"], 4)
    scale = 4 * rate.denominator
    found = branch_and_bound(
        [int(_effective(c, rate) * scale) for c in ordered],
        int(target * scale),
        int(window * scale),
    )
    if found is not None:
        match = [ordered[i] for i in found]
        if _within_limits([c.kind for c in match], outputs):
            done = finish_selection(match, outputs, amount, rate, change_script, min_relay)
            if done is not None:
                return done
    # 2. Largest first until the amount, the fee and a non-dust change (or none) are covered.
    chosen: list[Candidate] = []
    for c in ordered:
        chosen.append(c)
        done = finish_selection(chosen, outputs, amount, rate, change_script, min_relay)
        if done is not None:
            scripts = [*outputs, change_script] if done.change else list(outputs)
            _check_limits([x.kind for x in chosen], scripts)
            return done
    return None
