"""Sync, wallet I/O and mining never run on the Qt thread (app/threadguard.py).

(a) Called directly on the marked GUI thread, each guarded entry point raises
GuiThreadViolation (strict mode, on for the whole suite in tests/conftest.py).
(b) Driving the real window through create wallet → sync → mining start/stop records none.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app import threadguard  # noqa: E402
from app.core import AppCore  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.mining.service import MiningService  # noqa: E402
from app.threadguard import GuiThreadViolation  # noqa: E402
from app.wallet.sync import sync_wallet  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from miner import kernel  # noqa: E402
from spv.node import SpvNode  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.mining.conftest import fast_options  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

PASSWORD = "correct horse battery"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}


@pytest.fixture
def gui_thread(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Mark the Qt thread (the test's thread) as the GUI thread, like run_gui does."""
    assert threadguard.is_strict()
    threadguard.clear_violations()
    threadguard.mark_gui_thread()
    try:
        yield
    finally:
        threadguard.unmark_gui_thread()
        threadguard.clear_violations()


def _wallet(datadir: Path) -> Wallet:
    wallet, _ = Wallet.create(datadir, "main", REGTEST, PASSWORD, kdf_params=FAST_KDF)
    return wallet


def _in_thread(fn: Callable[[], object]) -> BaseException | None:
    """Run fn on a plain thread; its exception, if any."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            failure.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    return failure[0] if failure else None


def test_wallet_io_on_the_gui_thread_raises(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)  # before marking: the test's own setup
    threadguard.mark_gui_thread()
    try:
        with pytest.raises(GuiThreadViolation, match="Wallet.save"):
            wallet.save()
        with pytest.raises(GuiThreadViolation, match="Wallet.check_password"):
            wallet.check_password(PASSWORD)
        with pytest.raises(GuiThreadViolation, match="Wallet.open"):
            Wallet.open(tmp_path, "main", REGTEST)
        with pytest.raises(GuiThreadViolation, match="Wallet.create"):
            Wallet.create(tmp_path, "other", REGTEST, PASSWORD, kdf_params=FAST_KDF)
        assert threadguard.violations() == [
            "Wallet.save",
            "Wallet.check_password",
            "Wallet.open",
            "Wallet.create",
        ]
        # the same calls on another thread are fine
        assert _in_thread(wallet.save) is None
        assert _in_thread(lambda: wallet.check_password(PASSWORD)) is None
    finally:
        threadguard.unmark_gui_thread()
        threadguard.clear_violations()
    wallet.close()


def test_sync_on_the_gui_thread_raises(tmp_path: Path) -> None:
    wallet = _wallet(tmp_path)
    node = SpvNode(REGTEST, tmp_path, peers=[], use_dns_seeds=False)
    threadguard.mark_gui_thread()
    try:
        with pytest.raises(GuiThreadViolation, match="sync_wallet"):
            asyncio.run(sync_wallet(wallet, node))
        with pytest.raises(GuiThreadViolation, match="SpvNode.sync"):
            asyncio.run(node.sync(timeout=1))
    finally:
        threadguard.unmark_gui_thread()
        threadguard.clear_violations()
    wallet.close()


def test_mining_on_the_gui_thread_raises() -> None:
    parent = bytes(range(32))
    threadguard.mark_gui_thread()
    try:
        with pytest.raises(GuiThreadViolation, match="kernel.mine_threads"):
            kernel.mine_threads(parent, 100, 0x207FFFFF, threads=1, max_anns=1)
        with pytest.raises(GuiThreadViolation, match="kernel.prepare_job"):
            kernel.prepare_job(parent, 100, 0x207FFFFF)
    finally:
        threadguard.unmark_gui_thread()
        threadguard.clear_violations()
    # off the GUI thread the same entry point mines
    stats: list[kernel.MiningStats] = []
    error = _in_thread(
        lambda: stats.append(kernel.mine_threads(parent, 100, 0x207FFFFF, threads=1, max_anns=1))
    )
    assert error is None and stats[0].anns == 1


def test_lenient_mode_logs_once_and_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wallet = _wallet(tmp_path)
    threadguard.set_strict(False)
    threadguard.mark_gui_thread()
    try:
        with caplog.at_level(logging.ERROR, logger="miner.threadguard"):
            wallet.save()
            wallet.save()
        assert threadguard.violations() == ["Wallet.save", "Wallet.save"]
        assert [r.getMessage() for r in caplog.records].count(
            "Wallet.save was called on the GUI thread; it must run on a worker or network thread"
        ) == 1
    finally:
        threadguard.unmark_gui_thread()
        threadguard.set_strict(None)
        threadguard.clear_violations()
    assert threadguard.is_strict()
    wallet.close()


@pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")
def test_create_sync_and_mine_through_the_window_stay_off_the_gui_thread(
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    gui_thread: None,
) -> None:
    chain = RegtestChain()
    chain.mine_many(30)
    with TestPeer(chain) as peer, TestPool() as pool:
        bridge = CoreBridge()
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=bridge.deliver)
        core.start()
        mining = MiningService(REGTEST, options=fast_options())
        try:
            window = MainWindow(core, bridge, GuiCalls(), mining)
            qtbot.addWidget(window)
            window.show()
            # create a wallet and confirm its seed, as a person would
            setup = window.setup_page
            setup.stack.setCurrentWidget(setup.create_page)
            setup.create_password.setText(PASSWORD)
            setup.create_repeat.setText(PASSWORD)
            qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: setup.stack.currentWidget() is setup.seed_page, timeout=30_000)
            words = [w for w in setup.seed_words.text().split() if not w.endswith(".")]
            setup._ask_words_back()
            for edit, pos in zip(setup.confirm_edits, setup._challenge, strict=True):
                edit.setText(words[pos - 1])
            qtbot.mouseClick(setup.confirm_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: window.wallet_name is not None, timeout=20_000)
            # sync with the loopback peer
            qtbot.waitUntil(
                lambda: (
                    core.last_progress is not None
                    and core.last_progress.stage == "synced"
                    and core.last_progress.height == 30
                ),
                timeout=30_000,
            )
            # mine against the loopback pool, then stop
            page = window.mining_page
            qtbot.waitUntil(lambda: page.payout.text().startswith("bcrt1"), timeout=10_000)
            page.pools.clear()
            page.new_pool.setText(pool.url)
            page._add_pool()
            page.threads.setValue(1)
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: pool.accepted > 0, timeout=30_000)
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.start_button.text() == "Start mining", timeout=10_000)
            assert threadguard.violations() == []
        finally:
            mining.stop()
            core.stop()
    assert threadguard.violations() == []  # the wallet was saved and closed off the GUI thread
