"""Amounts: integer atomic units in, decimal coin strings out (1 PKT = 2^30 units).

Parsing uses exact rational arithmetic and rounds to the nearest unit (ties to even); an
amount that is not zero but less than half a unit is refused rather than silently becoming 0.
Formatting by default gives the shortest decimal that parses back to the same units.
"""

import re
from fractions import Fraction

from .errors import ParseError

MAX_SUPPLY_COINS = 6_000_000_000
MAX_FRACTION_DIGITS = 30

_AMOUNT = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


class AmountError(ParseError):
    """An amount string is invalid."""


def max_units(units_per_coin: int) -> int:
    """The largest amount accepted: the 6e9-coin maximum supply, in units."""
    return MAX_SUPPLY_COINS * units_per_coin


def _check_units_per_coin(units_per_coin: int) -> None:
    if units_per_coin < 1:
        raise ValueError(f"units_per_coin must be positive, got {units_per_coin}")


def _explain_bad_amount(text: str) -> str:
    if text.startswith("-"):
        return "amount cannot be negative"
    if "," in text:
        return f"invalid amount {text!r}: use '.' as the decimal point and no thousands separators"
    if any(char in "eE" for char in text):
        return f"invalid amount {text!r}: exponents are not allowed"
    return f"invalid amount {text!r}: expected a decimal number such as 1.5"


def _exact_coins(text: str) -> Fraction:
    match = _AMOUNT.fullmatch(text)
    if match is None or text in ("", "."):
        raise AmountError(_explain_bad_amount(text[:40]))
    whole = match.group("whole").lstrip("0")
    fraction = match.group("fraction") or ""
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise AmountError(f"too many decimal places (more than {MAX_FRACTION_DIGITS})")
    if len(whole) > len(str(MAX_SUPPLY_COINS)):
        raise AmountError(f"amount is above the maximum supply of {MAX_SUPPLY_COINS} coins")
    scale = 10 ** len(fraction)
    return Fraction(int(whole or "0") * scale + int(fraction or "0"), scale)


def below_one_unit(text: str, units_per_coin: int, symbol: str = "") -> AmountError:
    """The error for a non-zero amount that rounds to no unit at all."""
    smallest = format_amount(1, units_per_coin)
    unit = f" {symbol}" if symbol else ""
    return AmountError(
        f"{text}{unit} is less than the smallest amount, one unit ({smallest}{unit}): "
        "too many decimal places"
    )


def parse_amount(text: str, units_per_coin: int, symbol: str = "") -> int:
    """Units for a decimal coin amount such as "1.5"; raises AmountError on anything else,
    including a non-zero amount below half a unit (`symbol` names the coin in messages)."""
    _check_units_per_coin(units_per_coin)
    exact = _exact_coins(text.strip())
    units = round(exact * units_per_coin)  # Fraction rounds half to even
    if units == 0 and exact:
        raise below_one_unit(text.strip(), units_per_coin, symbol)
    if units > max_units(units_per_coin):
        raise AmountError(f"amount is above the maximum supply of {MAX_SUPPLY_COINS} coins")
    return units


def _rounded_units(units: int, units_per_coin: int, decimals: int) -> int:
    """`units` in coins rounded half-even to `decimals` places, as an integer of 10^-decimals."""
    return round(Fraction(units * 10**decimals, units_per_coin))


def _decimal_text(scaled: int, decimals: int) -> str:
    whole, fraction = divmod(scaled, 10**decimals)
    if decimals == 0:
        return str(whole)
    return f"{whole}.{fraction:0{decimals}d}"


def _round_half_even(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), ties to even, in integers (numerator >= 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        return quotient + 1
    return quotient


def _shortest(units: int, units_per_coin: int) -> str:
    # The first number of places at which the floor or the ceiling of the exact value parses
    # back (the nearer one tried first; on a tie, the floor); its last digit is never 0, or
    # one place fewer would already have worked. Integers only: this runs for every amount
    # a window or a listing shows.
    decimals = 0
    while True:
        scale = 10**decimals
        floor, remainder = divmod(units * scale, units_per_coin)
        candidates = (
            [floor]
            if remainder == 0
            else ([floor, floor + 1] if 2 * remainder <= units_per_coin else [floor + 1, floor])
        )
        for scaled in candidates:
            if _round_half_even(scaled * units_per_coin, scale) == units:
                return _decimal_text(scaled, decimals)
        decimals += 1


def format_amount(units: int, units_per_coin: int, decimals: int | None = None) -> str:
    """Coin amount text for `units`.

    With `decimals` None: the shortest decimal string that `parse_amount` turns back into
    exactly `units` ("0" for zero; at most 10 decimal places for 2^30 units per coin).
    With `decimals`: exactly that many places, rounded half to even.
    Negative amounts (e.g. a net outgoing payment) get a leading '-'.
    """
    _check_units_per_coin(units_per_coin)
    if units < 0:
        return "-" + format_amount(-units, units_per_coin, decimals)
    if decimals is None:
        return _shortest(units, units_per_coin)
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    return _decimal_text(_rounded_units(units, units_per_coin, decimals), decimals)
