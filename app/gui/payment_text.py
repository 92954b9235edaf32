"""How payments, fees and their problems are said in the window: amounts in the user's unit,
a fee as an amount and a rate, counts with the right plural."""

from fractions import Fraction

from app.wallet.errors import TooManyCoinsError
from app.wallet.txbuild import InsufficientFundsError
from app.wallet.wallet import PasswordError
from spv.address import decode_address
from spv.errors import ParseError
from spv.params import NetworkParams

from .money import coins

RATE_UNIT = "units/vbyte"
"""Fee rates: the smallest unit per virtual byte (Bitcoin wallets say sat/vB)."""


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 confirmation", "2 confirmations", "1,024 coins"."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def rate_text(rate: Fraction) -> str:
    """A fee rate's number: "2", "2.5"."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.6g}"


def rate_label(rate: Fraction) -> str:
    """ "1 unit/vbyte", "2.5 units/vbyte"."""
    return f"{rate_text(rate)} {'unit/vbyte' if rate == 1 else RATE_UNIT}"


def unit_explained(params: NetworkParams) -> str:
    return (
        f"A unit is the smallest amount of {params.coin_symbol}: 1 {params.coin_symbol} = "
        f"{params.units_per_coin:,} units. A vbyte (virtual byte) measures the size of a "
        "transaction."
    )


def fee_text(fee: int, vsize: int, rate: Fraction, params: NetworkParams) -> str:
    """ "0.0000004 PKT (2 units/vbyte × 210 vbytes)": the amount first, then how it came about."""
    return f"{coins(fee, params)} ({rate_label(rate)} × {vsize:,} vbytes)"


def describe_send_error(exc: BaseException, params: NetworkParams) -> str:
    """Why a payment could not be prepared or sent, with amounts in the user's unit."""
    if isinstance(exc, PasswordError) or "wrong password" in str(exc).lower():
        return "Wrong password. Check it and try again."
    if isinstance(exc, InsufficientFundsError) and exc.available is not None:
        if exc.available == 0:
            return "Not enough money: this wallet has no spendable coins yet."
        needed = (
            f"this payment needs {coins(exc.needed, params)} plus the fee"
            if exc.needed is not None
            else "this payment needs more"
        )
        waiting = (
            f" ({coins(exc.unconfirmed, params)} of it is unconfirmed: wait for a confirmation)"
            if exc.unconfirmed
            else ""
        )
        return f"Not enough money: {needed}; {coins(exc.available, params)} is spendable{waiting}."
    if isinstance(exc, TooManyCoinsError):
        text = (
            f"This payment needs {plural(exc.coins, 'coin')}, more than one transaction can "
            "spend. Merge your small coins first (Consolidate)"
        )
        if exc.single_max is not None:
            text += f", or send the most one payment can carry ({coins(exc.single_max, params)})"
        return text + "."
    return str(exc) or type(exc).__name__


SHORTEST_ADDRESS = 26
"""Characters in the shortest address of any kind (a legacy base58 one)."""


def address_problem(text: str, params: NetworkParams) -> str | None:
    """Why `text` is not an address of this network, in a person's words (None: it is)."""
    text = text.strip()
    try:
        decode_address(text, params)
    except ParseError as exc:
        reason = str(exc)
    else:
        return None
    where = (
        f"{params.name} addresses start with {params.bech32_hrp}1 "
        "(or are 34-character legacy addresses)"
    )
    if len(text) < SHORTEST_ADDRESS:
        return f"this is too short to be an address: {where}"
    if "checksum" in reason and "short" not in reason:
        return f"not a valid address: {reason}"
    return f"not a {params.name} address ({reason}); {where}"
