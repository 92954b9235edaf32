"""The Send page as a new user meets it (issue 15): amounts in the chosen unit, errors too; a
fee as an amount and a rate; "too many decimals"; a plain message for an obviously bad
address; no stale error under Preview; a wrong password keeps the preview; "max" with RBF says
where a later fee would come from, and a fee bump of it says the recipient gets less; too many
coins offers consolidation or the most one payment can carry. Against the real core and wallet
and a loopback test peer (tests/gui/test_send_coin_control.py's `funded`)."""

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.gui.money import current_unit, set_unit  # noqa: E402
from app.gui.payment_text import rate_label  # noqa: E402
from app.gui.preview_dialog import PreviewDialog  # noqa: E402
from app.wallet.errors import TooManyCoinsError  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.gui.test_send_coin_control import (  # noqa: E402
    PASSWORD,
    Setup,
    _new_wallet_address,
    _preview,
    funded,
)

__all__ = ["funded"]  # the fixture, used by name
COIN = REGTEST.units_per_coin


@pytest.fixture
def in_millis() -> Iterator[None]:
    before = current_unit()
    set_unit("mPKT")
    yield
    set_unit(before)


def _destination(setup: Setup) -> str:
    return _new_wallet_address(setup.window.core.datadir / "other", "other")


def test_not_enough_money_is_said_in_the_chosen_unit(
    qtbot: Any, funded: Setup, in_millis: None
) -> None:
    send = funded.send
    send.address.setText(_destination(funded))
    send.amount.setText("250000")  # mPKT: 250 coins, the wallet has 100
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.status.text().startswith("Not enough"), timeout=10_000)
    text = send.status.text()
    assert "250000 mrBTC plus the fee" in text and "100000 mrBTC is spendable" in text
    assert "units" not in text
    send.amount.setText("1")  # the error was about the old amount: it goes
    assert send.status.text() == ""


def test_amount_and_address_problems_in_plain_words(qtbot: Any, funded: Setup) -> None:
    send = funded.send
    send.address.setText("pkt1q")
    assert send.address_state.text().startswith("this is too short to be an address")
    assert "checksum" not in send.address_state.text()
    send.address.setText(_destination(funded))
    send.amount.setText("0.000000001")  # below the regtest coin's smallest unit
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    assert send.status.text().startswith("too many decimals")
    send.amount.setText("0")
    qtbot.mouseClick(send.preview_button, Qt.MouseButton.LeftButton)
    assert send.status.text() == "enter an amount above zero"


def test_preview_fee_amount_and_rate_and_password(qtbot: Any, funded: Setup) -> None:
    send = funded.send
    send.address.setText(_destination(funded))
    send.max.setChecked(True)
    send.rbf.setChecked(True)
    dialog = _preview(qtbot, send)
    texts = " ".join(label.text() for label in dialog.findChildren(type(send.status)))
    preview = dialog.preview
    assert f"({rate_label(preview.fee_rate)} × {preview.vsize} vbytes)" in texts
    assert rate_label(preview.fee_rate) == "2 units/vbyte"  # Normal
    assert "taken from what the recipient receives" in texts  # max + RBF: no change
    assert not dialog.send_button.isEnabled()  # no password yet
    dialog.password.setText("not it")
    assert dialog.send_button.isEnabled()
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.error.text().startswith("Wrong password"), timeout=10_000)
    assert dialog.isVisible() and dialog.preview is preview and funded.peer.received_txs == []
    dialog.password.setText(PASSWORD)
    dialog.send_button.click()
    qtbot.waitUntil(lambda: send.status.text().startswith("Sent."), timeout=20_000)
    assert not dialog.isVisible()
    txid = send.status.text().split()[-1]

    # bumping it takes the higher fee from the payment, and the preview says so
    core = funded.window.core
    bump = core.prepare_fee_bump(txid, "5").result(20)
    assert bump.reduced_output is not None
    bumped = PreviewDialog(bump, REGTEST, send, reduced_by=bump.fee - preview.fee)
    qtbot.addWidget(bumped)
    said = " ".join(label.text() for label in bumped.findChildren(type(send.status)))
    assert "The recipient receives" in said and "less" in said
    assert "the higher fee comes out of the payment itself" in said


def test_too_many_coins_offers_consolidation_or_the_most_one_payment_carries(
    qtbot: Any, funded: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    send = funded.send
    core = funded.window.core
    asked: list[dict[str, Any]] = []
    real = core.prepare_payments

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(core, "prepare_payments", recording)
    send.address.setText(_destination(funded))
    send.max.setChecked(True)
    send._preview_failed(TooManyCoinsError("too many", coins=2000, single_max=75 * COIN))
    assert "2,000 coins" in send.status.text() and "75 rBTC" in send.status.text()
    assert send.consolidate_button.isVisible() and send.fit_button.isVisible()
    assert "(75 rBTC)" in send.fit_button.text()
    before = send.dialog
    qtbot.mouseClick(send.fit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.dialog is not before and send.dialog is not None, timeout=10_000)
    assert asked[-1]["fit_one_transaction"] is True
    assert not send.fit_button.isVisible()
    send.dialog.reject()

    before = send.dialog
    send._preview_failed(TooManyCoinsError("too many", coins=2000))
    assert send.consolidate_button.isVisible() and not send.fit_button.isVisible()
    qtbot.mouseClick(send.consolidate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.dialog is not before and send.dialog is not None, timeout=10_000)
    assert send.dialog.preview.purpose == "consolidate"
    send.dialog.reject()
