"""The application core runs the light client on its own thread and reports events."""

import threading
import time
from pathlib import Path

import pytest

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
        if (
            isinstance(payload, SyncProgress)
            and payload.stage == "synced"
            and payload.height == chain.height
        ):
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


def test_core_keeps_an_open_wallet_in_sync(tmp_path: Path) -> None:
    from app.core import WalletView
    from app.wallet.wallet import Wallet
    from spv.address import script_for_address
    from spv.tx import OutPoint

    chain = RegtestChain()
    born = chain.next_time() - 3 * 86400  # the wallet's birthday comes before the blocks
    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, "pw", kdf_params={"n": 1024, "r": 8, "p": 1}, clock=lambda: born
    )
    pay_to = script_for_address(wallet.receive_address(), REGTEST)
    wallet.close()
    chain.mine(pay_to=pay_to)
    chain.mine_many(100)  # the coinbase matures
    views: list[WalletView] = []
    got_coins = threading.Event()

    def on_event(kind: str, payload: object) -> None:
        if kind == "wallet" and isinstance(payload, WalletView):
            views.append(payload)
            if payload.balance.confirmed > 0:
                got_coins.set()

    with TestPeer(chain) as peer:
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=on_event)
        core.start()
        try:
            first = core.open_wallet("main").result(10)
            assert first.name == "main" and first.balance.confirmed == 0
            assert got_coins.wait(30)
            view = views[-1]
            assert view.balance.confirmed == chain.value_of(
                OutPoint(chain.blocks[1].block.transactions[0].txid, 0)
            )
            assert [h.height for h in view.history] == [1]
            core.close_wallet().result(10)
            assert core.wallet_view().result(10) is None
        finally:
            core.stop()
    reopened = Wallet.open(tmp_path, "main", REGTEST)
    assert reopened.balance().confirmed == views[-1].balance.confirmed  # saved on the way out
    reopened.close()


def test_work_asked_after_the_core_stopped_fails_cleanly(tmp_path: Path) -> None:
    from app.core import CoreStoppedError

    core = AppCore(REGTEST, tmp_path, use_dns_seeds=False)
    core.start()
    assert core.call(lambda: 7).result(10) == 7
    core.stop()
    late = core.call(lambda: 7)
    assert isinstance(late.exception(1), CoreStoppedError)


def test_the_key_file_is_decrypted_off_the_network_thread(
    tmp_path: Path, monkeypatch: "pytest.MonkeyPatch"
) -> None:
    from app.core import WalletView
    from app.wallet.wallet import PasswordError, Wallet
    from spv.address import script_for_address

    wallet, _ = Wallet.create(
        tmp_path, "main", REGTEST, "pw123456", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    address = wallet.receive_address()
    wallet.close()
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(address, REGTEST))
    chain.mine_many(100)
    threads: list[str] = []
    original = Wallet.open_secrets

    def recording(self: Wallet, password: str) -> object:
        threads.append(threading.current_thread().name)
        return original(self, password)

    monkeypatch.setattr(Wallet, "open_secrets", recording)
    funded = threading.Event()

    def on_event(kind: str, payload: object) -> None:
        if isinstance(payload, WalletView) and payload.balance.confirmed > 0:
            funded.set()

    with TestPeer(chain) as peer:
        core = AppCore(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], on_event=on_event)
        core.start()
        try:
            core.open_wallet("main").result(30)
            assert funded.wait(30)
            preview = core.prepare_send(address, 100_000_000).result(10)
            wrong = core.sign_and_broadcast(preview, "not it")
            assert isinstance(wrong.exception(30), PasswordError) and peer.received_txs == []
            txid = core.sign_and_broadcast(preview, "pw123456").result(30)
            assert [tx.txid_hex for tx in peer.received_txs] == [txid]
        finally:
            core.stop()
    assert len(threads) == 2 and "network" not in threads
