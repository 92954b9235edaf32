"""The headless mining service: payout checks (refuses to start without a valid address),
events shaped for AppCore.emit, threads, earnings from the wallet, settings."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.mining.service import MiningError, MiningService, validate_payout, validate_pools
from app.mining.settings import (
    DEFAULT_POOLS,
    KNOWN_POOLS,
    MiningSettings,
    load_settings,
    save_settings,
)
from app.mining.status_text import format_status, format_summary
from app.wallet.wallet import Wallet
from miner import kernel
from miner.workers import cpu_count
from spv.address import decode_address
from spv.params import MAINNET, TESTNET
from spv.script import add_vote, p2pkh_script
from spv.tx import OutPoint, Transaction, TxIn, TxOut

from .conftest import PAYTO, fast_options
from .poolserver import TestPool, wait_for


def test_payout_is_required_and_checked() -> None:
    for missing in (None, "", "   "):
        with pytest.raises(MiningError, match="no payout address"):
            validate_payout(missing, MAINNET)
    with pytest.raises(MiningError, match="not valid"):
        validate_payout("pkt1qnotanaddress", MAINNET)
    with pytest.raises(MiningError, match="mainnet"):
        validate_payout(PAYTO, TESTNET)  # a mainnet address on testnet
    assert validate_payout(PAYTO.upper(), MAINNET) == PAYTO


def test_pool_urls() -> None:
    assert validate_pools(
        [" http://127.0.0.1:1/ ", "http://127.0.0.1:1", "https://127.0.0.1:2"]
    ) == [
        "http://127.0.0.1:1",
        "https://127.0.0.1:2",
    ]
    with pytest.raises(MiningError, match="no pool"):
        validate_pools(["", " "])
    with pytest.raises(MiningError, match="http"):
        validate_pools(["pool.example"])


def test_service_refuses_to_start_without_payout() -> None:
    events: list[tuple[str, object]] = []
    service = MiningService(MAINNET, on_event=lambda k, p: events.append((k, p)))
    with pytest.raises(MiningError, match="no payout address"):
        service.start(None, ["http://127.0.0.1:1"], 1)
    no_wallet = MiningService(MAINNET, default_payout=lambda: None)
    with pytest.raises(MiningError, match="no payout address"):
        no_wallet.start(None, ["http://127.0.0.1:1"], 1)
    with pytest.raises(MiningError, match="threads"):
        service.start(PAYTO, ["http://127.0.0.1:1"], cpu_count() + 1)
    assert not service.running and service.snapshot() is None and events == []
    assert service.stats() == {"running": False}


@pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")
def test_service_mines_with_the_wallet_address(pool: TestPool) -> None:
    lock = threading.Lock()
    events: list[tuple[str, object]] = []

    def emit(kind: str, payload: object) -> None:  # what AppCore.emit receives
        with lock:
            events.append((kind, payload))

    service = MiningService(
        MAINNET, on_event=emit, default_payout=lambda: PAYTO, options=fast_options()
    )
    try:
        assert service.start(pools=[pool.url], threads=1) == PAYTO
        with pytest.raises(MiningError, match="already mining"):
            service.start(pools=[pool.url], threads=1)
        assert wait_for(lambda: pool.accepted > 0, 15)
        assert all(s.payto == PAYTO for s in pool.submissions)
        assert wait_for(lambda: any(k == "mining.stats" for k, _ in events), 3)
        stats = service.stats()
        assert stats["running"] and stats["payout"] == PAYTO and stats["threads"] == 1
        snap = service.snapshot()
        assert snap is not None
        line = format_status(snap)
        assert "anns/s" in line and "acc/rej/ovl" in line and "job" in line
        if cpu_count() >= 2:
            service.set_threads(2)
            assert wait_for(lambda: len(service.snapshot().workers) == 2, 3)  # type: ignore[union-attr]
        with pytest.raises(MiningError):
            service.set_threads(0)
    finally:
        assert service.stop(2.0)
    assert not service.running
    snap = service.snapshot()
    assert snap is not None
    summary = format_summary(snap)
    assert any("accepted" in line for line in summary)
    kinds = [k for k, _ in events]
    assert kinds[0] == "mining.state" and kinds[-1] == "mining.state"
    assert {"mining.job", "mining.pool", "mining.stats"} <= set(kinds)


def coinbase(height: int, outputs: list[TxOut]) -> Transaction:
    script_sig = height.to_bytes(4, "little") + b"\x00\x00"
    txin = TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), script_sig, 0xFFFFFFFF)
    return Transaction(1, (txin,), tuple(outputs), 0)


def ts(day: date, hour: int = 12) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


def test_earnings_per_day_from_coinbases(tmp_path: Path) -> None:
    """Coinbase earnings per UTC day, kept by the wallet database as blocks arrive."""
    wallet, _ = Wallet.create(tmp_path, "w", MAINNET, "pw", kdf_params={"n": 1024, "r": 8, "p": 1})
    address = wallet.receive_address()
    mine = decode_address(address, MAINNET).to_script()
    other = b"\x00\x14" + b"\x09" * 20
    d1, d2 = date(2024, 5, 1), date(2024, 5, 3)
    wallet.on_block_transactions(
        10, b"", ts(d1), [coinbase(10, [TxOut(100, mine), TxOut(7, other)])]
    )
    wallet.on_block_transactions(
        11, b"", ts(d1, 23), [coinbase(11, [TxOut(50, mine), TxOut(25, mine)])]
    )
    wallet.on_block_transactions(12, b"", ts(d2), [coinbase(12, [TxOut(40, mine)])])
    wallet.ledger.add(coinbase(13, [TxOut(999, mine)]))  # unconfirmed: not counted
    payment = Transaction(1, (TxIn(OutPoint(b"\x01" * 32, 0), b"", 0),), (TxOut(5, mine),), 0)
    wallet.on_block_transactions(14, b"", ts(d2), [payment])  # not mining income
    rows = wallet.coinbase_earnings()
    assert [(r.day, r.amount, r.blocks) for r in rows] == [(d1, 175, 2), (d2, 40, 1)]
    last = wallet.coinbase_earnings(days=4, today=date(2024, 5, 4), payout=address)
    assert [(r.day.day, r.amount) for r in last] == [(1, 175), (2, 0), (3, 40), (4, 0)]
    # a legacy payout address paid with a Network Steward vote suffix still counts
    legacy_address = wallet.receive_address(legacy=True)
    legacy = decode_address(legacy_address, MAINNET).to_script()
    voted = add_vote(legacy, p2pkh_script(b"\x06" * 20), None)
    wallet.on_block_transactions(20, b"", ts(d2), [coinbase(20, [TxOut(33, voted)])])
    assert [(r.amount, r.blocks) for r in wallet.coinbase_earnings(payout=legacy_address)] == [
        (33, 1)
    ]
    wallet.close()


def test_settings_round_trip(tmp_path: Path) -> None:
    assert load_settings(tmp_path).pools == list(DEFAULT_POOLS)
    assert DEFAULT_POOLS[0] == KNOWN_POOLS[0].url
    assert any("pktpool.io" in p.url for p in KNOWN_POOLS)
    saved = MiningSettings(
        pools=["http://127.0.0.1:1", "http://127.0.0.1:2"], threads=1, payout=PAYTO
    )
    save_settings(tmp_path, saved)
    assert load_settings(tmp_path) == saved
    (tmp_path / "mining.json").write_text('{"pools": "x"}')
    with pytest.raises(ValueError, match="pools"):
        load_settings(tmp_path)
    (tmp_path / "mining.json").write_text("{broken")
    with pytest.raises(ValueError, match="mining.json"):
        load_settings(tmp_path)
