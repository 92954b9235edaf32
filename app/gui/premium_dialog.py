"""The VPN premium offer: what the exit asks for, what leaves the wallet, the terms, and the
password that confirms the payment. Nothing here signs or sends; the VPN page does that off the
Qt thread once the user pressed "Pay and activate"."""

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.vpn.premium import PremiumOffer
from app.wallet.wallet import TxPreview
from spv.params import NetworkParams

from .money import coins
from .widgets import enter_submits


@dataclass(frozen=True)
class PremiumQuote:
    """An exit's offer together with the wallet's unsigned payment for it."""

    offer: PremiumOffer
    payment: TxPreview
    spendable: int  # the wallet's spendable balance when the offer was fetched


class PremiumDialog(QDialog):
    def __init__(
        self, quote: PremiumQuote, params: NetworkParams, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        offer, payment = quote.offer, quote.payment
        self.setWindowTitle(f"Premium VPN on {offer.exit_name}")
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with its text
        terms = QLabel(offer.describe(params.units_per_coin, params.coin_symbol))
        terms.setMinimumWidth(360)
        terms.setWordWrap(True)
        layout.addWidget(terms)
        form = QFormLayout()
        form.addRow("Price", QLabel(coins(offer.amount_units, params)))
        form.addRow("Pay to", QLabel(offer.address))
        form.addRow("Network fee", QLabel(coins(payment.fee, params)))
        total = payment.sent + payment.fee
        form.addRow("Total", QLabel(f"<b>{coins(total, params)}</b> leaves your wallet"))
        form.addRow("Your balance", QLabel(coins(quote.spendable, params)))
        form.addRow("Duration", QLabel("1 hour from now"))
        layout.addLayout(form)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("wallet password (confirms the payment)")
        layout.addWidget(self.password)
        buttons = QDialogButtonBox()
        self.pay_button = buttons.addButton(
            "Pay and activate", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.pay_button.setEnabled(False)
        self.password.textChanged.connect(lambda text: self.pay_button.setEnabled(bool(text)))
        enter_submits(self, self.pay_button)
