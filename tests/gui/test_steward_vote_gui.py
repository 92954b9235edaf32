"""The Steward page's vote flow, driven like a person would, against the real core and wallet
and a loopback test peer: a bad candidate address is refused as it is typed and nothing is
sent; a good one is previewed, signed and broadcast, and the peer receives a transaction whose
output carries the vote exactly as the headless code builds it."""

import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.steward.vote import plan_vote  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.script import ScriptClass, classify, split_vote  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}


def _new_wallet_address(datadir: Path, name: str) -> str:
    wallet, _ = Wallet.create(datadir, name, REGTEST, PASSWORD, kdf_params=FAST_KDF)
    address = wallet.receive_address()
    wallet.close()
    return address


def _chain_paying(address: str) -> RegtestChain:
    """Block 1 pays `address` 50 coins, mature (100 blocks on top)."""
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(address, REGTEST))
    chain.mine_many(100)
    return chain


def test_vote_needs_an_open_wallet(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.gui.steward_page import StewardPage

    page = StewardPage(REGTEST, tmp_path, GuiCalls())  # no core: no wallet to vote with
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.cache_label.text() != "", timeout=10_000)  # its cache read
    assert not page.vote_button.isEnabled()
    assert page.vote_note.text() == "Open a wallet to vote."


def test_vote_checks_the_candidate_then_broadcasts_the_vote(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chain = _chain_paying(_new_wallet_address(tmp_path, "main"))
    candidate = _new_wallet_address(tmp_path / "c", "candidate")
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: window.overview_page.confirmed.text() == "50 rBTC", timeout=30_000
            )
            page = window.steward_page
            assert page.vote_button.isEnabled()
            qtbot.mouseClick(page.vote_button, Qt.MouseButton.LeftButton)
            dialog = page.vote_dialog
            assert dialog is not None and dialog.isVisible()
            assert "OP_VOTE" in dialog.explanation.text()

            # a mainnet address on regtest, then a typo: refused as typed, nothing to preview
            dialog.candidate.setText(
                "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
            )
            assert "invalid candidate address" in dialog.candidate_state.text()
            assert not dialog.preview_button.isEnabled()
            dialog.candidate.setText(candidate[:-1] + ("q" if candidate[-1] != "q" else "p"))
            assert "invalid candidate address" in dialog.candidate_state.text()
            assert not dialog.preview_button.isEnabled() and not dialog.vote_button.isEnabled()
            dialog.preview()  # pressing anyway does nothing
            assert dialog.previews is None and peer.received_txs == []

            dialog.candidate.setText(candidate)
            assert dialog.candidate_state.text() == "✓ valid address"
            qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.previews is not None, timeout=10_000)
            assert "carrying the vote" in dialog.summary.text()
            assert "Network fee" in dialog.summary.text()
            assert not dialog.vote_button.isEnabled()  # no password yet

            dialog.password.setText("wrong password")
            qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Not sent"), timeout=10_000)
            assert peer.received_txs == []

            dialog.password.setText(PASSWORD)
            qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Vote sent"), timeout=20_000)
            (tx,) = peer.received_txs  # the peer checked its signature
            assert dialog.txids == [tx.txid_hex] and tx.txid_hex in dialog.outcome.text()
            (out,) = tx.outputs  # every coin moved to the wallet itself, voting
            plan = plan_vote(candidate, None, REGTEST, time.time())
            assert out.script.endswith(plan.suffix)
            vote = split_vote(out.script)
            assert vote is not None and vote.vote_for == script_for_address(candidate, REGTEST)
            base = out.script[: -len(plan.suffix)]
            assert classify(base) is ScriptClass.P2PKH and out.script == plan.output_script(base)
            assert 49 * 10**8 < out.value < 50 * 10**8

            # once the vote is mined, withdrawing it moves the voting coin again, without a vote
            chain.mine([tx])
            peer.set_chain(chain)

            def synced() -> bool:
                view = core.wallet_view().result(10)
                return view is not None and view.synced_height == chain.height

            qtbot.waitUntil(synced, timeout=30_000)
            dialog.withdraw.setChecked(True)
            assert not dialog.candidate.isEnabled() and dialog.preview_button.isEnabled()
            qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.previews is not None, timeout=10_000)
            assert "without a vote" in dialog.summary.text()
            dialog.password.setText(PASSWORD)
            qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda: dialog.outcome.text().startswith("Vote withdrawn"), timeout=20_000
            )
            withdrawal = peer.received_txs[1]
            assert [i.prevout.txid for i in withdrawal.inputs] == [tx.txid]
            assert all(split_vote(o.script) is None for o in withdrawal.outputs)
        finally:
            core.stop()
            qtbot.wait(200)  # deliver what the core answered before it stopped
