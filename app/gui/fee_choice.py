"""Fee rate for a payment: Economy / Normal / Priority presets or a custom rate, checked as it
is typed, with the fee the current draft pays at that rate once a preview measured it."""

from dataclasses import dataclass
from fractions import Fraction

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.wallet.txbuild import TxBuildError, fee_for, parse_fee_rate
from spv.params import NetworkParams

from .money import coins
from .payment_text import rate_label, rate_text, unit_explained

_ERROR = "color: #b00020"


@dataclass(frozen=True)
class FeePreset:
    name: str
    multiple: int  # of the network's minimum relay fee rate


# The light client has no fee estimator (PKT has no fee market to speak of: blocks are rarely
# full), so the presets are multiples of the minimum every node relays.
PRESETS = (FeePreset("Economy", 1), FeePreset("Normal", 2), FeePreset("Priority", 5))
CUSTOM = "Custom"

_TOOLTIP = (
    "The light client cannot estimate fees: PKT blocks are rarely full, so the minimum relay "
    "rate normally confirms in the next blocks.\n"
    "Economy = the minimum every node relays ({minimum} unit/vbyte).\n"
    "Normal = 2× the minimum, a margin if nodes raise their limit.\n"
    "Priority = 5× the minimum, for when blocks are busy.\n"
    "Custom = any rate from the minimum up, in units per vbyte (e.g. 3 or 2.5).\n"
    "{units}"
)


TYPICAL_VSIZE = 141
"""A payment from one coin to one recipient with change (segwit): the fee shown before a
preview measured the real one."""


class FeeChoice(QWidget):
    """`rate()` is the chosen rate in units per vbyte (or None while a custom rate is bad,
    with `problem()` saying why). `changed` fires whenever the rate (or its validity) changes."""

    changed = Signal()

    def __init__(self, params: NetworkParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params = params
        self.minimum = Fraction(params.min_relay_fee_per_kb, 1000)
        self._vsize: int | None = None  # of the last previewed draft
        self._exact_fee: int | None = None  # that preview's fee, at the rate it used
        self._exact_rate: Fraction | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.preset = QComboBox()
        for preset in PRESETS:
            rate = self.minimum * preset.multiple
            self.preset.addItem(f"{preset.name} — {rate_label(rate)}", rate)
        self.preset.addItem(CUSTOM, None)
        self.preset.setCurrentIndex(1)  # Normal
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preset.setToolTip(
            _TOOLTIP.format(minimum=rate_text(self.minimum), units=unit_explained(params))
        )
        self.custom = QLineEdit()
        self.custom.setPlaceholderText(f"units/vbyte, at least {rate_text(self.minimum)}")
        self.custom.setVisible(False)
        row.addWidget(self.preset, 1)
        row.addWidget(self.custom)
        layout.addLayout(row)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setToolTip(unit_explained(params))
        layout.addWidget(self.info)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.custom.textChanged.connect(self._rate_changed)
        self._rate_changed()

    def is_custom(self) -> bool:
        return self.preset.currentData() is None

    def select(self, name: str) -> None:
        """Choose a preset (or "Custom") by name."""
        for i in range(self.preset.count()):
            if self.preset.itemText(i).split(" — ")[0] == name:
                self.preset.setCurrentIndex(i)
                return
        raise ValueError(f"no fee choice {name!r}")

    def rate(self) -> Fraction | None:
        preset = self.preset.currentData()
        if isinstance(preset, Fraction):
            return preset
        try:
            rate = parse_fee_rate(self.custom.text())
        except TxBuildError:
            return None
        return rate if rate >= self.minimum else None

    def rate_argument(self) -> str | None:
        """The rate as the wallet parses it (exact), or None while it is bad."""
        rate = self.rate()
        return str(rate) if rate is not None else None

    def problem(self) -> str | None:
        if not self.is_custom():
            return None
        text = self.custom.text().strip()
        if not text:
            return f"enter a fee rate in units per vbyte (at least {rate_text(self.minimum)})"
        try:
            rate = parse_fee_rate(text)
        except TxBuildError as exc:
            return str(exc)
        if rate < self.minimum:
            return (
                f"{text} units/vbyte is below the minimum every node relays "
                f"({rate_text(self.minimum)})"
            )
        return None

    def draft_changed(self) -> None:
        """The payment changed: the last measured size no longer applies."""
        self._vsize = self._exact_fee = self._exact_rate = None
        self._rate_changed()

    def show_fee(self, fee: int, vsize: int, rate: Fraction) -> None:
        """A preview measured the draft: `fee` units for `vsize` vbytes at `rate`."""
        self._vsize, self._exact_fee, self._exact_rate = vsize, fee, rate
        self._rate_changed()

    def _preset_changed(self) -> None:
        self.custom.setVisible(self.is_custom())
        if self.is_custom():
            self.custom.setFocus()
        self._rate_changed()

    def _rate_changed(self) -> None:
        problem = self.problem()
        rate = self.rate()
        if problem is not None or rate is None:
            self.info.setStyleSheet(_ERROR)
            self.info.setText(problem or "")
        else:
            self.info.setStyleSheet("")
            self.info.setText(self._fee_text(rate))
        self.changed.emit()

    def _fee_text(self, rate: Fraction) -> str:
        """The fee as an amount in the user's unit, and the rate it comes from."""
        head = rate_label(rate)
        if self._vsize is None:
            typical = coins(fee_for(TYPICAL_VSIZE, rate), self.params)
            return (
                f"{head}: about {typical} for a simple payment ({TYPICAL_VSIZE} vbytes); "
                "the exact fee is shown in the preview"
            )
        if rate == self._exact_rate and self._exact_fee is not None:
            return (
                f"{head}: this payment pays {coins(self._exact_fee, self.params)} "
                f"({self._vsize:,} vbytes)"
            )
        estimate = fee_for(self._vsize, rate)
        return (
            f"{head}: about {coins(estimate, self.params)} for this payment "
            f"({self._vsize:,} vbytes)"
        )
