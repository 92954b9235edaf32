"""The Steward page's vote, driven like a person would, against the real core and wallet and a
loopback test peer that checks signatures: a bad address is refused as it is typed; a vote from
every address holding coins is previewed (one transaction each, the total fee), signed and
broadcast, each transaction carrying exactly the vote output and spending only its address's
coins; once mined, "Your vote" shows it with its expiry block; a candidacy from one address and
a withdrawal follow; the 2019-2023 OP_VOTE vote is reached only through its own option. The
reminder of a vote about to expire reaches the Overview row and the tray's notifications."""

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.notifications import Notification  # noqa: E402
from app.steward.vote import plan_vote  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import p2wpkh_address, script_for_address  # noqa: E402
from spv.electorium_vote import read_transaction_vote, vote_output_script  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from spv.script import split_vote  # noqa: E402
from spv.tx import Transaction  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
TARGET = p2wpkh_address(b"\x02" + b"\x33" * 32, REGTEST).encode(REGTEST)


def _wallet_addresses(datadir: Path) -> tuple[str, str]:
    wallet, _ = Wallet.create(datadir, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    addresses = wallet.receive_address(), wallet.receive_address(new=True)
    wallet.close()
    return addresses


def test_vote_needs_an_open_wallet(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.gui.steward_page import StewardPage

    page = StewardPage(REGTEST, tmp_path, GuiCalls())  # no core: no wallet to vote with
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.cache_label.text() != "", timeout=10_000)  # its cache read
    assert not page.vote_button.isEnabled()
    assert page.vote_note.text() == "Open a wallet to vote."
    assert page.my_vote_label.text() == "Open a wallet to see and cast your vote."


def test_vote_candidacy_withdraw_and_the_legacy_option(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = _wallet_addresses(tmp_path)
    scripts = {a: script_for_address(a, REGTEST), b: script_for_address(b, REGTEST)}
    chain = RegtestChain()
    chain.mine(pay_to=scripts[a])
    chain.mine(pay_to=scripts[b])
    chain.mine_many(100)
    with TestPeer(chain) as peer:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        try:
            window = MainWindow(core, bridge, GuiCalls())
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(
                lambda: window.overview_page.confirmed.text() == "100 rBTC", timeout=30_000
            )
            page = window.steward_page
            qtbot.waitUntil(
                lambda: "2 address(es) of this wallet hold coins" in page.my_vote_label.text(),
                timeout=10_000,
            )
            assert page.my_vote_label.text().startswith("You have not voted.")
            assert "next election at block 10,081" in page.election_label.text()

            def synced() -> bool:
                view = core.wallet_view().result(10)
                return view is not None and view.synced_height == chain.height

            def mine(txs: list[Transaction]) -> list[list[bytes]]:
                spent = [[chain.utxo_scripts[i.prevout] for i in tx.inputs] for tx in txs]
                chain.mine(txs)
                peer.set_chain(chain)
                qtbot.waitUntil(synced, timeout=30_000)
                return spent

            def sign(dialog, expected: str, summary: str = "") -> list[Transaction]:  # type: ignore[no-untyped-def]
                before = len(peer.received_txs)
                qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
                qtbot.waitUntil(lambda: dialog.previews is not None, timeout=10_000)
                assert dialog.summary.text().startswith(summary)
                dialog.password.setText(PASSWORD)
                qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
                qtbot.waitUntil(lambda: dialog.outcome.text().startswith(expected), timeout=20_000)
                sent = peer.received_txs[before:]
                assert dialog.txids == [t.txid_hex for t in sent] and not peer.rejected_txs
                return sent

            qtbot.mouseClick(page.vote_button, Qt.MouseButton.LeftButton)
            dialog = page.vote_dialog
            assert dialog is not None and dialog.isVisible()
            assert "OP_VOTE" not in dialog.explanation.text() + dialog.warning.text()
            qtbot.waitUntil(lambda: dialog.from_combo.count() == 3, timeout=10_000)
            assert dialog.from_combo.itemText(0).startswith("Every address holding coins (2")

            # a mainnet address on regtest, then a typo: refused as typed, nothing to preview
            dialog.candidate.setText(
                "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
            )
            assert "invalid address" in dialog.candidate_state.text()
            assert not dialog.preview_button.isEnabled()
            dialog.candidate.setText(TARGET[:-1] + ("q" if TARGET[-1] != "q" else "p"))
            assert "invalid address" in dialog.candidate_state.text()
            assert not dialog.preview_button.isEnabled() and not dialog.vote_button.isEnabled()
            dialog.preview()  # pressing anyway does nothing
            assert dialog.previews is None and peer.received_txs == []

            dialog.candidate.setText(TARGET)
            assert dialog.candidate_state.text() == "✓ valid address"
            qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.previews is not None, timeout=10_000)
            summary = dialog.summary.text()
            assert f"Votes for {TARGET}: 2 transaction(s), one per address." in summary
            assert f"from {a}" in summary and f"from {b}" in summary
            assert "Network fee in total" in summary
            assert not dialog.vote_button.isEnabled()  # no password yet
            dialog.password.setText("wrong password")
            qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Not sent"), timeout=10_000)
            assert peer.received_txs == []

            dialog.password.setText(PASSWORD)
            qtbot.mouseClick(dialog.vote_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Vote sent"), timeout=20_000)
            votes = peer.received_txs[:]
            assert len(votes) == 2 and dialog.txids == [t.txid_hex for t in votes]
            spent = mine(votes)
            voted_at = chain.height
            vote_script = vote_output_script(script_for_address(TARGET, REGTEST), False)
            for tx, prev in zip(votes, spent, strict=True):
                read = read_transaction_vote(tx, prev)
                assert read.counts and read.voter_script in scripts.values()
                assert [o.script for o in tx.outputs if o.value == 0] == [vote_script]
                assert {o.script for o in tx.outputs if o.value} == {read.voter_script}

            # "Your vote" shows both, with the expiry block
            table = page.votes_table
            qtbot.waitUntil(
                lambda: (
                    table.rowCount() == 2
                    and all(table.item(r, 2).text().startswith("votes") for r in range(2))
                ),
                timeout=10_000,
            )
            rows = {table.item(r, 0).text(): r for r in range(2)}
            assert set(rows) == {a, b}
            for r in rows.values():
                assert table.item(r, 2).text() == f"votes for {TARGET}"
                assert table.item(r, 3).text().startswith(f"block {voted_at + 524160:,} (~")
            assert page.my_vote_label.text() == "" and page.reminder_label.isHidden()

            def vote_of(address: str) -> str:
                for r in range(table.rowCount()):
                    if table.item(r, 0).text() == address:
                        return str(table.item(r, 2).text())
                return ""

            # B stands as a candidate, from B alone (6a0101)
            dialog.stand_mode.setChecked(True)
            assert not dialog.preview_button.isEnabled()  # every address would stand apart
            assert "Choose the one address that stands" in dialog.candidate_state.text()
            dialog.from_combo.setCurrentIndex(
                dialog.from_combo.findText(b, Qt.MatchFlag.MatchStartsWith)
            )
            (stand,) = sign(dialog, "Vote sent")
            prev = mine([stand])[0]
            assert prev == [scripts[b]]
            assert [o.script for o in stand.outputs if o.value == 0] == [bytes.fromhex("6a0101")]
            qtbot.waitUntil(lambda: vote_of(b) == "stands as a candidate", timeout=10_000)
            assert vote_of(a) == f"votes for {TARGET}"

            # withdraw from every address with a vote (6a0100)
            dialog.withdraw_mode.setChecked(True)
            dialog.from_combo.setCurrentIndex(0)
            withdrawals = sign(dialog, "Vote withdrawn")
            assert len(withdrawals) == 2
            mine(withdrawals)
            for tx in withdrawals:
                assert [o.script for o in tx.outputs if o.value == 0] == [bytes.fromhex("6a0100")]
            qtbot.waitUntil(
                lambda: vote_of(a) == vote_of(b) == "no vote (withdrawn)", timeout=10_000
            )

            # the 2019-2023 vote: only through its own option, and said to be the old system
            dialog.vote_mode.setChecked(True)
            dialog.legacy.setChecked(True)
            assert not dialog.stand_mode.isEnabled() and not dialog.from_combo.isEnabled()
            (legacy,) = sign(dialog, "Vote sent (2019–2023 system)", "2019–2023 system: moves")
            (out,) = legacy.outputs
            assert out.script.endswith(plan_vote(TARGET, None, REGTEST, 0).suffix)
            assert split_vote(out.script) is not None

            # a vote expiring within four weeks: one notification, the Overview row says so
            notes: list[Notification] = []
            window.glance.notification.connect(notes.append)
            view = core.wallet_view().result(10)
            assert view is not None and view.vote_reminder == ""
            reminder = f"Your Network Steward vote from {a} expires at block 9: vote again."
            window.glance.show_wallet(replace(view, vote_reminder=reminder))
            window.glance.show_wallet(replace(view, vote_reminder=reminder))
            assert notes == [Notification("Network Steward vote", reminder)]
            row = window.overview_page.glance
            assert not row.vote_button.isHidden() and row.vote_button.toolTip() == reminder
            qtbot.mouseClick(row.vote_button, Qt.MouseButton.LeftButton)
            assert window.pages.currentWidget() is page
            window.glance.show_wallet(view)
            assert row.vote_button.isHidden()
        finally:
            core.stop()
            qtbot.wait(200)  # deliver what the core answered before it stopped
