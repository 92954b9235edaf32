"""Amounts in a display unit: PKT, mPKT (PKT/1000) or μPKT (PKT/10^6), exactly.

Amounts stay integers of atomic units; the unit only changes the decimal text. Arithmetic is
rational, so the text is the shortest decimal that `parse_in_unit` turns back into the same
units (even 1 unit shows as a non-zero number), and parsing rounds to the nearest unit.
"""

import re

from spv.units import MAX_FRACTION_DIGITS, MAX_SUPPLY_COINS, AmountError, max_units

from .settings import UNITS, check_units

UNIT_DIVISORS: dict[str, int] = {"PKT": 1, "mPKT": 1000, "μPKT": 1_000_000}
"""How many of each display unit make one coin."""
assert tuple(UNIT_DIVISORS) == UNITS

_AMOUNT = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


def _round_half_even(numerator: int, denominator: int) -> int:
    """numerator/denominator (both > 0) to the nearest integer, half to even; integers only
    (a History page formats thousands of amounts: Fraction is ten times slower)."""
    quotient, rest = divmod(numerator, denominator)
    if 2 * rest > denominator or (2 * rest == denominator and quotient % 2 == 1):
        return quotient + 1
    return quotient


def _nearest_first(units: int, units_per_coin: int, divisor: int, decimals: int) -> list[int]:
    """The integers next to `units` in the display unit times 10^decimals, the nearer first
    (the smaller on a tie); one when it is exact."""
    low, rest = divmod(units * divisor * 10**decimals, units_per_coin)
    if rest == 0:
        return [low]
    return [low, low + 1] if 2 * rest <= units_per_coin else [low + 1, low]


def _units_of(scaled: int, units_per_coin: int, divisor: int, decimals: int) -> int:
    """Atomic units for the decimal scaled/10^decimals in the display unit, half to even."""
    return _round_half_even(scaled * units_per_coin, divisor * 10**decimals)


def _decimal_text(scaled: int, decimals: int) -> str:
    whole, fraction = divmod(scaled, 10**decimals)
    return f"{whole}.{fraction:0{decimals}d}" if decimals else str(whole)


def format_in_unit(units: int, units_per_coin: int, unit: str) -> str:
    """The shortest decimal text, in `unit`, that parses back to exactly `units`."""
    if units < 0:
        return "-" + format_in_unit(-units, units_per_coin, unit)
    divisor = UNIT_DIVISORS[check_units(unit)]
    decimals = 0
    while True:  # ends: at 10^decimals > units_per_coin / divisor every unit has a decimal
        for scaled in _nearest_first(units, units_per_coin, divisor, decimals):
            if _units_of(scaled, units_per_coin, divisor, decimals) == units:
                return _decimal_text(scaled, decimals)
        decimals += 1


def _explain_bad_amount(text: str) -> str:
    if text.startswith("-"):
        return "the amount cannot be negative"
    if "," in text:
        return f"{text!r} is not an amount: use '.' as the decimal point, no thousands separators"
    return f"{text!r} is not an amount: write a decimal number such as 1.5"


def parse_in_unit(text: str, units_per_coin: int, unit: str) -> int:
    """Atomic units for an amount typed in `unit` (rounded to the nearest unit, half to even).

    Raises AmountError with a message for the user, also for a non-zero amount below half a
    unit (it would otherwise become 0 without a word)."""
    divisor = UNIT_DIVISORS[check_units(unit)]
    text = text.strip()
    match = _AMOUNT.fullmatch(text)
    if match is None or text in ("", "."):
        raise AmountError(_explain_bad_amount(text[:40]))
    whole = match.group("whole").lstrip("0")
    fraction = match.group("fraction") or ""
    limit = f"the maximum supply of {MAX_SUPPLY_COINS * divisor:,} {unit}"
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise AmountError(f"too many decimal places (more than {MAX_FRACTION_DIGITS})")
    if len(whole) > len(str(MAX_SUPPLY_COINS * divisor)):
        raise AmountError(f"the amount is above {limit}")
    exact = _exact_decimals(units_per_coin, divisor)
    if exact is not None and len(fraction.rstrip("0")) > exact:
        raise AmountError(f"too many decimals: {unit} amounts have at most {exact} decimals")
    decimals = len(fraction)
    scaled = int((whole or "0") + fraction)
    units = _units_of(scaled, units_per_coin, divisor, decimals)
    if units == 0 and scaled != 0:
        smallest = format_in_unit(1, units_per_coin, unit)
        raise AmountError(f"too many decimals: the smallest amount is {smallest} {unit}")
    if units > max_units(units_per_coin):
        raise AmountError(f"the amount is above {limit}")
    return units


def _exact_decimals(units_per_coin: int, divisor: int) -> int | None:
    """How many decimals the unit has when its smallest amount is a power of ten of it (BTC's
    regtest coins: 8 in BTC); None when it is not (PKT: 2^30 units a coin), where typed
    decimals are rounded to the nearest unit."""
    per_unit, rest = divmod(units_per_coin, divisor)
    if rest or per_unit < 1:
        return None
    digits = len(str(per_unit)) - 1
    return digits if per_unit == 10**digits else None
