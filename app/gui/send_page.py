"""Send: one or several recipients (address checked as it is typed, pkt: payment requests can
be pasted, amount or "max"), fee rate (presets or custom), optional coin control and RBF, a
preview to check, then the password, signing and broadcast."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore
from app.wallet.coin_view import CoinView
from app.wallet.errors import TooManyCoinsError
from app.wallet.wallet import PasswordError, TxPreview

from .calls import GuiCalls
from .coin_control import CoinControlDialog
from .fee_choice import FeeChoice
from .money import coins
from .payment_text import describe_send_error, plural
from .preview_dialog import PreviewDialog
from .recipient_row import RecipientError, RecipientRow
from .widgets import keep_left, make_primary, page_header

__all__ = ["PreviewDialog", "SendPage"]  # PreviewDialog: also History's fee bump

_ERROR = "color: #b00020"


class SendPage(QWidget):
    sent = Signal(str)  # txid

    def __init__(self, core: AppCore, calls: GuiCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.params = core.params
        self.calls = calls
        self.dialog: PreviewDialog | None = None
        self._error_shown = False
        self.coin_dialog: CoinControlDialog | None = None
        self.chosen_coins: list[CoinView] = []  # empty: the wallet chooses
        self._sending_description = ""  # becomes the label of the transaction being sent
        layout = QVBoxLayout(self)
        layout.addWidget(page_header("Send", "Pay to an address or a pkt: payment request."))
        self.fee = FeeChoice(self.params)
        self.recipients: list[RecipientRow] = []
        self.recipients_box = QVBoxLayout()
        layout.addLayout(self.recipients_box)
        first = self.add_recipient(removable=False)
        # the first recipient's fields, by their old names
        self.address, self.address_state = first.address, first.address_state
        self.amount, self.max = first.amount, first.max
        self.add_recipient_button = QPushButton("Add recipient")
        self.add_recipient_button.setToolTip("Pay several addresses in one transaction")
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_recipient_button)
        add_row.addStretch(1)
        layout.addLayout(add_row)
        form = QFormLayout()
        self.rbf = QCheckBox("Allow fee bump later (RBF)")
        self.rbf.setToolTip(
            "Marks the payment replaceable (BIP125) so it can be sent again with a higher fee "
            "while unconfirmed. The recipient should wait for a confirmation."
        )
        self.choose_coins = QPushButton("Choose coins…")
        self.coins_state = QLabel("The wallet chooses the coins")
        self.reset_coins = QPushButton("Reset")
        self.reset_coins.setToolTip("Let the wallet choose the coins again")
        self.reset_coins.setVisible(False)
        coins_row = QHBoxLayout()
        coins_row.addWidget(self.coins_state, 1)
        coins_row.addWidget(self.reset_coins)
        coins_row.addWidget(self.choose_coins)
        self.description = QLineEdit()
        self.description.setPlaceholderText(
            "optional: what this payment is for (only you see it, in History)"
        )
        form.addRow("Description", self.description)
        form.addRow("Fee rate", self.fee)
        form.addRow("", self.rbf)
        form.addRow("Coins", coins_row)
        layout.addLayout(form)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.preview_button = QPushButton("Preview…")
        layout.addWidget(make_primary(self.preview_button, "Preview the payment"))
        keep_left(layout, self.preview_button)
        layout.addWidget(self.status)
        # what to do when a payment needs more coins than one transaction can spend
        self.consolidate_button = QPushButton("Consolidate coins…")
        self.consolidate_button.setToolTip(
            "Merge small coins into one (a payment to yourself, one transaction at a time)"
        )
        self.fit_button = QPushButton("Send the most one payment can carry")
        remedies = QHBoxLayout()
        remedies.addWidget(self.consolidate_button)
        remedies.addWidget(self.fit_button)
        remedies.addStretch(1)
        layout.addLayout(remedies)
        self._show_remedies(None)
        layout.addStretch(1)
        self.preview_button.clicked.connect(self.preview)
        self.consolidate_button.clicked.connect(self.consolidate)
        self.fit_button.clicked.connect(lambda: self.preview(fit_one_transaction=True))
        self.fee.changed.connect(self._draft_changed)
        self.rbf.toggled.connect(self._draft_changed)
        self.add_recipient_button.clicked.connect(lambda: self.add_recipient(removable=True))
        self.choose_coins.clicked.connect(self.open_coin_control)
        self.reset_coins.clicked.connect(lambda: self.use_coins([]))

    # --- recipients ---

    def add_recipient(self, removable: bool = True) -> RecipientRow:
        row = RecipientRow(self.params, removable)
        self.recipients.append(row)
        self.recipients_box.addWidget(row)
        row.changed.connect(self.fee.draft_changed)
        row.changed.connect(self._draft_changed)
        row.max.toggled.connect(lambda on: self._only_one_max(row) if on else None)
        row.remove_requested.connect(self.remove_recipient)
        row.request_note.connect(self._request_note)
        if removable:
            row.address.setFocus()
        self.fee.draft_changed()
        return row

    def _request_note(self, note: str) -> None:
        if not self.description.text().strip():
            self.description.setText(note)

    def remove_recipient(self, row: RecipientRow) -> None:
        if row is self.recipients[0]:
            return
        self.recipients.remove(row)
        self.recipients_box.removeWidget(row)
        row.deleteLater()
        self.fee.draft_changed()

    def _only_one_max(self, row: RecipientRow) -> None:
        """The wallet can send "everything left" to one recipient only."""
        for other in self.recipients:
            if other is not row:
                other.max.setChecked(False)

    def _say(self, text: str, error: bool = False) -> None:
        self._error_shown = error
        self.status.setStyleSheet(_ERROR if error else "")
        self.status.setText(text)

    def _draft_changed(self) -> None:
        """An error about the payment as it was must not stay under the changed one."""
        if self._error_shown:
            self._say("")
            self._show_remedies(None)

    def _show_remedies(self, exc: BaseException | None) -> None:
        """Consolidate (and, for "max", send what one transaction can) after TooManyCoins."""
        too_many = isinstance(exc, TooManyCoinsError)
        self.consolidate_button.setVisible(too_many)
        self.fit_button.setVisible(
            isinstance(exc, TooManyCoinsError) and exc.single_max is not None
        )
        if isinstance(exc, TooManyCoinsError) and exc.single_max is not None:
            self.fit_button.setText(
                f"Send the most one payment can carry ({coins(exc.single_max, self.params)})"
            )

    def _preview_failed(self, exc: BaseException) -> None:
        self._say(describe_send_error(exc, self.params), error=True)
        self._show_remedies(exc)

    def preview(self, fit_one_transaction: bool = False) -> None:
        payments: list[tuple[str, int | str]] = []
        for number, row in enumerate(self.recipients, 1):
            try:
                payments.append(row.payment())
            except RecipientError as exc:
                where = f"recipient {number}: " if len(self.recipients) > 1 else ""
                self._say(f"{where}{exc}", error=True)
                return
        rate = self.fee.rate_argument()
        if rate is None:
            self._say(self.fee.problem() or "choose a fee rate", error=True)
            return
        self._say("Preparing…")
        self._show_remedies(None)
        self.calls.watch(
            self.core.prepare_payments(
                payments,
                rate,
                coins=[c.outpoint for c in self.chosen_coins] or None,
                rbf=self.rbf.isChecked(),
                fit_one_transaction=fit_one_transaction,
            ),
            self._show_preview,
            self._preview_failed,
        )

    def consolidate(self) -> None:
        """Merge small coins (the first standard-size batch) into the wallet's own address."""
        rate = self.fee.rate_argument()
        if rate is None:
            self._say(self.fee.problem() or "choose a fee rate", error=True)
            return
        self._say("Preparing the consolidation…")
        self._show_remedies(None)
        self.calls.watch(
            self.core.prepare_consolidation(rate, max_transactions=1),
            self._show_consolidation,
            self._preview_failed,
        )

    def _show_consolidation(self, previews: list[TxPreview]) -> None:
        if not previews:
            self._say("There are no small coins to merge.")
            return
        self._sending_description = ""
        self._open_preview(previews[0], consolidating=True)

    # --- coin control ---

    def open_coin_control(self) -> None:
        self.coin_dialog = CoinControlDialog(self.core, self.calls, self.chosen_coins, self)
        dialog = self.coin_dialog
        dialog.accepted.connect(lambda: self.use_coins(dialog.chosen()))
        dialog.open()

    def use_coins(self, chosen: list[CoinView]) -> None:
        """Spend exactly `chosen` (empty: let the wallet choose)."""
        self.chosen_coins = list(chosen)
        if chosen:
            total = coins(sum(c.value for c in chosen), self.params)
            self.coins_state.setText(f"Using {plural(len(chosen), 'chosen coin')} ({total})")
        else:
            self.coins_state.setText("The wallet chooses the coins")
        self.reset_coins.setVisible(bool(chosen))
        self.fee.draft_changed()

    def _show_preview(self, preview: TxPreview) -> None:
        self._say("")
        self.fee.show_fee(preview.fee, preview.vsize, preview.fee_rate)
        self._open_preview(preview, consolidating=False)

    def _open_preview(self, preview: TxPreview, consolidating: bool) -> None:
        dialog = PreviewDialog(preview, self.params, self, signs_in_place=True)
        dialog.send_requested.connect(
            lambda password: self._send(dialog, preview, password, consolidating)
        )
        self.dialog = dialog
        dialog.open()

    def _send(
        self, dialog: PreviewDialog, preview: TxPreview, password: str, consolidating: bool
    ) -> None:
        """Sign and broadcast; the preview dialog stays open until it worked (a wrong
        password is said there, and the preview is not lost)."""
        self._say("Signing and sending…")
        self.preview_button.setEnabled(False)
        self._sending_description = "" if consolidating else self.description.text().strip()

        def sent(txid: str) -> None:
            dialog.succeeded()
            if consolidating:
                self.preview_button.setEnabled(True)
                self._say(
                    f"Coins merged (transaction {txid}). Once it confirms, send the payment "
                    "again; if it still needs too many coins, consolidate once more."
                )
            else:
                self._sent(txid)

        def failed(exc: BaseException) -> None:
            self.preview_button.setEnabled(True)
            self._say("")
            if dialog.isVisible():
                dialog.failed(describe_send_error(exc, self.params))
            else:
                self._send_failed(exc)

        self.calls.watch(self.core.sign_and_broadcast(preview, password), sent, failed)

    def _sent(self, txid: str) -> None:
        description, self._sending_description = self._sending_description, ""
        if description:  # the transaction's label in History
            self.calls.watch(
                self.core.set_label(txid, description),
                lambda _none: None,
                lambda exc: self._say(f"Sent, but the description was not saved: {exc}"),
            )
        self.description.clear()
        self.preview_button.setEnabled(True)
        for row in self.recipients[1:]:
            self.remove_recipient(row)
        self.recipients[0].clear()
        self.use_coins([])  # they are spent now
        self._say(f"Sent. Transaction {txid}")
        self.sent.emit(txid)

    def _send_failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        if isinstance(exc, PasswordError):
            self._say("Not sent: wrong password.", error=True)
        else:
            self._say(f"Not sent: {describe_send_error(exc, self.params)}", error=True)
