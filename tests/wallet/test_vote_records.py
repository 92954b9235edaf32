"""The wallet's own Electorium votes: recorded by the ledger as their transactions arrive,
removed with them, backfilled by the schema migration from a version-1 database written by
the previous code (tests/data/wallet_v1), and read as "My vote" (expiry, reminder, epochs)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app.steward.my_vote import CANDIDATE, EXPIRED, NONE, VOTING, WITHDRAWN, address_lines, my_vote
from app.wallet.store import SCHEMA_VERSION
from app.wallet.wallet import Wallet
from spv.address import address_from_script
from spv.params import REGTEST
from spv.tx import OutPoint, Transaction, TxIn, TxOut

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "wallet_v1" / "v1.db"
A = "bcrt1qa238tq8r0pyev3sttkpzeytwuy0p03yxasjmns"
B = "bcrt1qea6fpe2ktdqe4q7yezdkg0es08z65jqn3pkgk6"
TARGET = bytes.fromhex("00145f284d57f32ccbb74727391ab51e48df22af111b")
V1 = "5e91ee376ef5da25d0eb6067406e86316375a3ae594c9fb0b684cd5a5eb5133a"
VOID = "f11d05aacb3efaeb27aadebf5c9515e9eb5f1f805b574286b7c6d648853c784c"
V3 = "81ff951ff40609df620e3beff6606128b13bb294bd479195daa62210906f3134"
WITHDRAW = "d2a9db42d3d9785faa2665cdd7c9106b9eceb5e2568dcb6c1af8c016c8c88768"
COIN = REGTEST.units_per_coin
T0 = 1_700_000_000


def _open_fixture(tmp_path: Path) -> Wallet:
    (tmp_path / "wallets").mkdir()
    shutil.copy(FIXTURE, tmp_path / "wallets" / "v1.db")
    return Wallet.open(tmp_path, "v1", REGTEST)


def test_a_version_1_database_is_migrated_and_its_votes_backfilled(tmp_path: Path) -> None:
    with sqlite3.connect(FIXTURE) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'votes'").fetchone() is None
    wallet = _open_fixture(tmp_path)
    try:
        db = wallet.store.db
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        names = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
        assert {"votes", "votes_voter", "votes_tx_removed", "coins_unspent_script"} <= names
        records = wallet.voting.records()
        by_tx = {r.txid.hex(): r for r in records}
        assert set(by_tx) == {V1, V3, WITHDRAW}  # the void vote (two input scripts) is not one
        assert by_tx[V1].vote_for == TARGET and not by_tx[V1].candidate
        assert by_tx[V1].height == 12 and by_tx[V1].block_time == T0 + 120
        assert by_tx[V3].vote_for == b"" and by_tx[V3].candidate and by_tx[V3].height == 14
        assert by_tx[WITHDRAW].is_withdraw and by_tx[WITHDRAW].height is None
        # A's newest first: the pending withdrawal, then the vote of block 12
        assert [r.txid.hex() for r in records if r.txid.hex() in (V1, WITHDRAW)] == [WITHDRAW, V1]

        status = my_vote(wallet.voting.snapshot(), now=T0 + 600)
        entries = {e.address: e for e in status.addresses}
        a, b = entries[A], entries[B]
        assert a.state == VOTING and a.vote is not None and a.vote.txid == V1
        assert a.vote.vote_for == address_from_script(TARGET, REGTEST)
        assert a.expiry_block == 12 + 524160 and a.expiry_time == T0 + 120 + 524160 * 60
        assert a.pending is not None and a.pending.txid == WITHDRAW and a.pending.is_withdraw
        assert b.state == CANDIDATE and b.vote is not None and b.vote.txid == V3
        assert status.tip_height == 20 and status.epoch == 0
        assert status.next_election_block == 10081  # LastEpochEnd(20) + 10081, as the node says
        assert status.next_election_time == T0 + 600 + (10081 - 20) * 60
        assert status.reminder is None
        text = "\n".join(address_lines(a, str))
        assert f"votes for {a.vote.vote_for}" in text and "expires at block 524,172" in text
        assert "pending: no vote (withdrawn)" in text
    finally:
        wallet.close()
    # opened again: nothing to migrate, the records stay
    wallet = Wallet.open(tmp_path, "v1", REGTEST)
    try:
        assert len(wallet.voting.records()) == 3
    finally:
        wallet.close()


def test_votes_follow_their_transactions(tmp_path: Path) -> None:
    wallet = _open_fixture(tmp_path)
    try:
        (withdraw,) = [r for r in wallet.voting.records() if r.txid.hex() == WITHDRAW]
        raw = wallet.raw_transaction(WITHDRAW)
        assert raw is not None
        tx = Transaction.parse(raw)
        # confirmed: A has no vote any more
        wallet.on_block_transactions(21, b"\x21" * 32, T0 + 1260, [tx])
        status = my_vote(wallet.voting.snapshot(), now=T0 + 1300)
        a = next(e for e in status.addresses if e.address == A)
        assert a.state == WITHDRAWN and a.pending is None
        assert address_lines(a, str)[0].endswith(": no vote (withdrawn)")
        # a reorg takes it out of the chain: pending again, the vote of block 12 in force
        wallet.on_chain_rewound(20)
        a = next(e for e in my_vote(wallet.voting.snapshot(), 0).addresses if e.address == A)
        assert a.state == VOTING and a.pending is not None
        # abandoned: its record goes with it
        wallet.abandon(WITHDRAW)
        assert WITHDRAW not in {r.txid.hex() for r in wallet.voting.records()}
        assert wallet.store.db.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 2
    finally:
        wallet.close()


def test_a_signed_vote_is_recorded_when_the_ledger_adds_it(tmp_path: Path) -> None:
    w, _ = Wallet.create(tmp_path, "w", REGTEST, "pw", kdf_params={"n": 1024, "r": 8, "p": 1})
    try:
        address = w.receive_address()
        script = w.voting.own_address(address).script
        funding = Transaction(
            1, (TxIn(OutPoint(b"\x55" * 32, 0), b"", 0xFFFFFFFF),), (TxOut(COIN, script),), 0
        )
        w.on_block_transactions(100, b"\x01" * 32, T0, [funding])
        w.ledger.tip_height = 100
        batch = w.voting.create_vote(None, candidate=True)
        (preview,) = batch.previews
        signed = w.sign(preview, "pw")
        w.record_pending(signed)  # as after a broadcast
        (record,) = w.voting.records()
        assert record.txid.hex() == signed.txid_hex and record.height is None
        assert record.candidate and record.vote_for == b""
        status = my_vote(w.voting.snapshot(), now=T0)
        (entry,) = status.addresses
        assert entry.state == NONE and entry.pending is not None
        # mined at 100,000; near its expiry the wallet reminds
        w.on_block_transactions(100_000, b"\x02" * 32, T0 + 6_000_000, [signed])
        expiry = 100_000 + 524160
        w.ledger.tip_height = expiry - 4 * 10080
        status = my_vote(w.voting.snapshot(), now=T0)
        (entry,) = status.addresses
        assert entry.state == CANDIDATE and entry.expires_soon
        assert status.reminder is not None and address in status.reminder
        assert f"block {expiry:,}" in status.reminder and "vote again" in status.reminder
        w.ledger.tip_height = expiry - 4 * 10080 - 1
        assert my_vote(w.voting.snapshot(), now=T0).reminder is None
        w.ledger.tip_height = expiry
        (entry,) = my_vote(w.voting.snapshot(), now=T0).addresses
        assert entry.state == EXPIRED and not entry.expires_soon
        assert "expired (stands as a candidate in block 100,000)" in address_lines(entry, str)[0]
    finally:
        w.close()


@pytest.mark.parametrize("version", [3, 99])
def test_a_newer_database_is_refused(tmp_path: Path, version: int) -> None:
    (tmp_path / "wallets").mkdir()
    path = tmp_path / "wallets" / "v1.db"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {version}")
    with pytest.raises(Exception, match="newer version of this program"):
        Wallet.open(tmp_path, "v1", REGTEST)
