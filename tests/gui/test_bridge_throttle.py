"""CoreBridge passes sync progress on at most 10 times a second, always the newest; other
events pass one for one."""

import threading
import time

import pytest

pytest.importorskip("PySide6")

from app.gui.bridge import PROGRESS_PER_SECOND, CoreBridge  # noqa: E402
from spv.node import SyncProgress  # noqa: E402


def _progress(height: int) -> SyncProgress:
    return SyncProgress("headers", height, 10_000, 1, -1, -1)


def test_a_burst_of_progress_is_thinned_and_ends_with_the_newest(qtbot) -> None:  # type: ignore[no-untyped-def]
    bridge = CoreBridge()
    shown: list[SyncProgress] = []
    bridge.sync_progress.connect(shown.append)
    events: list[str] = []
    bridge.core_event.connect(lambda kind, _payload: events.append(kind))

    def network_thread() -> None:  # 400 updates and 50 other events in about 0.8 s
        for height in range(1, 401):
            bridge.deliver("sync", _progress(height))
            if height % 8 == 0:
                bridge.deliver("wallet", height)
            time.sleep(0.002)

    start = time.monotonic()
    sender = threading.Thread(target=network_thread)
    sender.start()
    qtbot.waitUntil(lambda: not sender.is_alive(), timeout=10_000)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].height == 400, timeout=2_000)
    elapsed = time.monotonic() - start
    assert len(shown) <= PROGRESS_PER_SECOND * elapsed + 2
    assert len(shown) >= 3  # still live while it runs, not only at the end
    heights = [p.height for p in shown]
    assert heights == sorted(heights)
    qtbot.waitUntil(lambda: len(events) == 50, timeout=2_000)


def test_a_single_update_is_shown_at_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    bridge = CoreBridge()
    shown: list[SyncProgress] = []
    bridge.sync_progress.connect(shown.append)
    bridge.deliver("sync", _progress(7))  # from the GUI thread itself: no wait
    assert [p.height for p in shown] == [7]
    bridge.deliver("sync", _progress(8))  # within the interval: shown when it is over
    assert [p.height for p in shown] == [7]
    qtbot.waitUntil(lambda: [p.height for p in shown] == [7, 8], timeout=1_000)
