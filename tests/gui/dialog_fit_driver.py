"""Do the dialogs fit what they show? Run by tests/gui/test_dialog_fit.py in its own process
(Xvfb, Qt's xcb platform, QT_SCALE_FACTOR 1 or 2):

    python -m tests.gui.dialog_fit_driver OUTDIR

Each dialog is opened at its own size with real content (a funded regtest wallet's payment
preview, seed words, …); a label, button or field narrower or lower than its content, or a
dialog larger than the screen, is a problem. OUTDIR/fit.json lists the problems per dialog
and OUTDIR/NAME.png shows each dialog.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.core import SeedWords
from app.gui.calls import GuiCalls
from app.gui.password_dialog import ChangePasswordDialog
from app.gui.premium_dialog import PremiumDialog, PremiumQuote
from app.gui.preview_dialog import PreviewDialog
from app.gui.seed_dialog import SeedWordsDialog
from app.gui.setup_dialog import WalletSetupDialog
from app.gui.theme import apply_theme
from app.gui.unlock_dialog import UnlockDialog
from app.gui.widgets import ElidedLabel
from app.vpn.premium import PremiumOffer
from app.wallet.sync import sync_wallet
from app.wallet.wallet import TxPreview, Wallet
from spv.address import script_for_address
from spv.node import SpvNode
from spv.params import REGTEST
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
PASSWORD = "correct horse battery"
WORDS = [
    "abandon",
    "ability",
    "able",
    "about",
    "above",
    "absent",
    "absorb",
    "abstract",
    "absurd",
    "abuse",
    "access",
    "accident",
    "account",
    "accuse",
    "achieve",
    "acid",
    "acoustic",
    "acquire",
    "across",
    "act",
    "action",
    "actor",
    "actress",
    "actual",
]


def previews(datadir: Path) -> tuple[TxPreview, TxPreview]:
    """A payment with change and a "max" with RBF, from a wallet funded on a regtest chain."""
    wallet, _ = Wallet.create(datadir, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    other, _ = Wallet.create(datadir / "other", "other", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    destination = other.receive_address()
    other.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(wallet.receive_address(), REGTEST))
    chain.mine_many(100)

    async def sync(peer: TestPeer) -> None:
        async with SpvNode(
            REGTEST, datadir / "chain", peers=[("127.0.0.1", peer.port)], peer_timeout=5.0
        ) as node:
            await sync_wallet(wallet, node)

    with TestPeer(chain) as peer:
        asyncio.run(asyncio.wait_for(sync(peer), 60))
    try:
        some = wallet.create_send([(destination, 3 * REGTEST.units_per_coin)])
        everything = wallet.create_send([(destination, "max")], rbf=True)
    finally:
        wallet.close()
    return some, everything


def problems(window: QWidget) -> list[str]:
    """Widgets cut by their window, and a window larger than its screen."""
    found = []
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisible() or isinstance(widget, ElidedLabel):
            continue
        name = f"{type(widget).__name__} {widget.objectName() or ''}".strip()
        if isinstance(widget, QLabel) and widget.text():
            text = widget.text()[:40]
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                if needed > widget.height() + 1:
                    found.append(f"{name} {text!r}: {widget.height()} px high of {needed}")
            elif widget.sizeHint().width() > widget.width() + 1:
                found.append(
                    f"{name} {text!r}: {widget.width()} px wide of {widget.sizeHint().width()}"
                )
        elif isinstance(widget, QAbstractButton | QLineEdit | QComboBox):
            hint = widget.minimumSizeHint()
            if widget.width() + 1 < hint.width() or widget.height() + 1 < hint.height():
                found.append(
                    f"{name} {getattr(widget, 'text', lambda: '')()!r}: {widget.width()}×"
                    f"{widget.height()} of {hint.width()}×{hint.height()}"
                )
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if frame.width() > screen.width() or frame.height() > screen.height():
        found.append(f"the window ({frame.width()}×{frame.height()}) is larger than the screen")
    return found


def settle(window: QWidget) -> None:
    end = time.monotonic() + 20
    handle = window.windowHandle()
    while handle is None or not handle.isExposed():
        if time.monotonic() > end:
            raise SystemExit(f"{window.windowTitle()!r} was never shown")
        QApplication.processEvents()
        time.sleep(0.01)
        handle = window.windowHandle()
    for _ in range(10):
        QApplication.processEvents()
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme(app)
    calls = GuiCalls()
    report: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="pkt-fit-") as tmp:
        datadir = Path(tmp)
        some, everything = previews(datadir)

        def seed_dialog() -> QDialog:
            return SeedWordsDialog(None, calls, "main", False)  # type: ignore[arg-type]

        def reveal(dialog: QDialog) -> None:  # as after the password: the dialog was shown
            assert isinstance(dialog, SeedWordsDialog)
            dialog._revealed(SeedWords(" ".join(WORDS), "bip39", False))

        def check(dialog: QDialog) -> None:
            reveal(dialog)
            assert isinstance(dialog, SeedWordsDialog)
            dialog.ask_words()

        def premium() -> QDialog:
            offer = PremiumOffer("k", "Routie France 1", some.outputs[0].address or "", 10, 10.0)
            return PremiumDialog(PremiumQuote(offer, some, 50 * REGTEST.units_per_coin), REGTEST)

        def setup(restore: bool) -> Callable[[], QDialog]:
            return lambda: WalletSetupDialog(REGTEST, datadir, calls, restore=restore)

        def keyring_known(dialog: QDialog) -> None:  # its note changes when the answer comes
            assert isinstance(dialog, UnlockDialog)
            end = time.monotonic() + 20
            while dialog.remember_note.text().startswith("Looking"):
                if time.monotonic() > end:
                    raise SystemExit("the keyring check never answered")
                QApplication.processEvents()
                time.sleep(0.01)

        shown_then: dict[str, Callable[[QDialog], None]] = {
            "unlock": keyring_known,
            "seed-words": reveal,
            "seed-check": check,
        }
        dialogs: dict[str, Callable[[], QDialog]] = {
            "unlock": lambda: UnlockDialog(REGTEST, datadir, calls, ["main", "other"], "main"),
            "seed-password": seed_dialog,
            "seed-words": seed_dialog,
            "seed-check": seed_dialog,
            "change-password": lambda: ChangePasswordDialog(None, calls, "main"),  # type: ignore[arg-type]
            "preview": lambda: PreviewDialog(some, REGTEST, signs_in_place=True),
            "preview-max-rbf": lambda: PreviewDialog(everything, REGTEST, signs_in_place=True),
            "premium": premium,
            "new-wallet": setup(False),
            "restore-wallet": setup(True),
        }
        for name, make in dialogs.items():
            dialog = make()
            dialog.show()
            settle(dialog)
            if name in shown_then:
                shown_then[name](dialog)
                settle(dialog)
            report[name] = problems(dialog)
            dialog.grab().save(str(out / f"{name}.png"))
            dialog.done(0)
            dialog.deleteLater()
            QApplication.processEvents()
    (out / "fit.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
