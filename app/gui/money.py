"""How amounts are written in the window."""

from spv.params import NetworkParams
from spv.units import format_amount


def coins(units: int, params: NetworkParams, signed: bool = False) -> str:
    text = format_amount(units, params.units_per_coin, decimals=None)
    if signed and units > 0:
        text = "+" + text
    return f"{text} {params.coin_symbol}"
