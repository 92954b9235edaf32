"""Check the payment: exactly what will be signed (recipients, change, the fee as an amount and
a rate, the total), then the password.

Two ways to use it. With `signs_in_place` (the Send page) "Sign and send" emits
`send_requested(password)` and the dialog stays open while the payment is signed and sent: a
wrong password (or any failure) is said in it without losing the preview (`failed`), and
`succeeded` closes it. Without it, `accepted` fires and `password` holds what was typed
(History's fee bump)."""

from PySide6.QtCore import Qt, Signal
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

from app.wallet.wallet import SEQUENCE_RBF, TxPreview
from spv.params import NetworkParams

from .money import coins
from .payment_text import fee_text, plural, unit_explained
from .seed_display import notice
from .widgets import enter_submits, make_primary, page_header

_ERROR = "color: #b00020"


def _value_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class PreviewDialog(QDialog):
    """Shows exactly what will be signed; asks for the password."""

    send_requested = Signal(str)  # the password (when connected, the dialog signs in place)

    def __init__(
        self,
        preview: TxPreview,
        params: NetworkParams,
        parent: QWidget | None = None,
        *,
        signs_in_place: bool = False,
        reduced_by: int | None = None,
    ) -> None:
        """`reduced_by`: for a fee bump taken from the payment itself (`reduced_output`), how
        much less the recipient gets, when the caller knows."""
        super().__init__(parent)
        self.preview = preview
        self.params = params
        self._in_place = signs_in_place
        self.setWindowTitle("Check the payment")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(page_header("Check the payment", "Exactly this will be signed and sent."))
        form = QFormLayout()
        recipients_first = sorted(preview.outputs, key=lambda o: (o.is_change, o.is_mine))
        for out in recipients_first:
            who = out.address or out.script.hex()
            role = (
                "Change (back to you)"
                if out.is_change
                else ("To yourself" if out.is_mine else "To")
            )
            form.addRow(role, _value_label(f"{coins(out.value, params)}  {who}"))
        fee = _value_label(fee_text(preview.fee, preview.vsize, preview.fee_rate, params))
        fee.setToolTip(unit_explained(params))
        form.addRow("Fee", fee)
        total = preview.sent + preview.fee
        form.addRow("Total", _value_label(f"<b>{coins(total, params)}</b> leaves your wallet"))
        form.addRow("Coins spent", QLabel(plural(len(preview.inputs), "coin")))
        form.addRow("Fee bump (RBF)", _value_label(self._rbf_text()))
        layout.addLayout(form)
        reduced = self._reduced_text(reduced_by)
        if reduced:
            layout.addWidget(notice(reduced))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("wallet password")
        layout.addWidget(self.password)
        self.error = QLabel()
        self.error.setStyleSheet(_ERROR)
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton(
            "Sign and send", QDialogButtonBox.ButtonRole.AcceptRole
        )
        make_primary(self.send_button)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.send_button.setEnabled(False)  # until a password is typed
        self.password.textChanged.connect(self._password_typed)
        enter_submits(self, self.send_button)
        self.password.setFocus()

    def _rbf_text(self) -> str:
        preview = self.preview
        if not any(i.sequence <= SEQUENCE_RBF for i in preview.unsigned.inputs):
            return "no (final once broadcast)"
        if preview.purpose == "send" and not any(o.is_change for o in preview.outputs):
            return (
                "allowed later. This payment has no change, so a higher fee would be taken "
                "from what the recipient receives."
            )
        return "allowed later (while unconfirmed, it can be sent again with a higher fee)"

    def _reduced_text(self, reduced_by: int | None) -> str:
        index = self.preview.reduced_output
        if index is None or not 0 <= index < len(self.preview.outputs):
            return ""
        out = self.preview.outputs[index]
        less = f"{coins(reduced_by, self.params)} less: " if reduced_by else ""
        return (
            f"The recipient receives {less}{coins(out.value, self.params)}. This payment has "
            "no change, so the higher fee comes out of the payment itself."
        )

    def _password_typed(self, text: str) -> None:
        self.send_button.setEnabled(bool(text))
        self.error.clear()

    def accept(self) -> None:
        """ "Sign and send" (also Enter): in place, signing starts and the dialog stays."""
        if self._in_place:
            self._sign_and_send()
        else:
            super().accept()

    def _sign_and_send(self) -> None:
        if not self.password.text():
            return
        if not self._in_place:
            super().accept()
            return
        if not self.password.isEnabled():
            return  # already signing
        self.send_button.setEnabled(False)
        self.password.setEnabled(False)
        self.error.setStyleSheet("")
        self.error.setText("Signing and sending…")
        self.send_requested.emit(self.password.text())

    def failed(self, message: str) -> None:
        """Signing or sending failed: say why; the preview stays for another try."""
        self.password.setEnabled(True)
        self.error.setStyleSheet(_ERROR)
        self.error.setText(message)
        self.password.selectAll()
        self.password.setFocus()
        self.send_button.setEnabled(bool(self.password.text()))

    def succeeded(self) -> None:
        self.password.clear()
        super().accept()
