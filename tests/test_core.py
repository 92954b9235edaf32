"""The application core runs the light client on its own thread and reports events."""

import threading
import time
from pathlib import Path

from app.core import AppCore
from spv.node import SyncProgress
from spv.params import REGTEST
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer


def test_core_syncs_in_the_background_and_follows_new_blocks(tmp_path: Path) -> None:
    chain = RegtestChain()
    chain.mine_many(500)
    events: list[tuple[str, object, str]] = []
    synced = threading.Event()

    def on_event(kind: str, payload: object) -> None:
        events.append((kind, payload, threading.current_thread().name))
        if isinstance(payload, SyncProgress) and payload.stage == "synced" and payload.height == chain.height:
            synced.set()

    with TestPeer(chain) as peer:
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=on_event)
        core.start()
        try:
            assert synced.wait(30)
            info = core.chain_info()
            assert info["height"] == 500 and info["filter_header_height"] == 500
            synced.clear()
            chain.mine_many(3)
            peer.set_chain(chain)  # announced to the client, which follows
            assert synced.wait(30)
            assert core.chain_info()["height"] == 503
        finally:
            core.stop()
    assert {name for _, _, name in events} == {"network"}  # events come from the network thread
    assert (tmp_path / "chain" / "headers.idx").exists()


def test_core_stops_cleanly_without_peers(tmp_path: Path) -> None:
    core = AppCore(REGTEST, tmp_path, use_dns_seeds=False)
    core.start()
    start = time.monotonic()
    core.stop()
    assert time.monotonic() - start < 5
