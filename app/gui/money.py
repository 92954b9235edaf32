"""How amounts are written in the window, and read back from what the user types.

The display unit (PKT, mPKT = PKT/1000, μPKT = PKT/10^6; `app.display_units`) is one setting
for the whole process: `set_unit` changes it and `unit_changes().unit_changed` tells pages to
re-render.
"""

from PySide6.QtCore import QObject, Signal

from app.display_units import format_in_unit, parse_in_unit
from app.settings import check_units
from spv.params import NetworkParams


class UnitNotifier(QObject):
    unit_changed = Signal(str)


_notifier = UnitNotifier()
_unit = "PKT"


def unit_changes() -> UnitNotifier:
    return _notifier


def current_unit() -> str:
    return _unit


def set_unit(unit: str) -> None:
    """Show amounts in `unit` from now on ("PKT", "mPKT" or "μPKT")."""
    global _unit
    check_units(unit)
    if unit != _unit:
        _unit = unit
        _notifier.unit_changed.emit(unit)


def unit_symbol(params: NetworkParams, unit: str | None = None) -> str:
    """The symbol amounts are written with: PKT, mPKT, μPKT (tPKT, mtPKT, … on testnet)."""
    prefix = (unit or _unit).removesuffix("PKT")
    return prefix + params.coin_symbol


def coins(units: int, params: NetworkParams, signed: bool = False) -> str:
    text = format_in_unit(units, params.units_per_coin, _unit)
    if signed and units > 0:
        text = "+" + text
    return f"{text} {unit_symbol(params)}"


def parse_coins(text: str, params: NetworkParams) -> int:
    """Atomic units for an amount typed in the current display unit (the Send page's field)."""
    return parse_in_unit(text, params.units_per_coin, _unit)
