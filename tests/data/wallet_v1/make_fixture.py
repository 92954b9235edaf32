"""Writes `v1.db`: a regtest wallet database of schema version 1 holding Electorium vote
transactions, for the test that migrates it (tests/wallet/test_vote_records.py).

It was run once at commit 9cce9fa (schema version 1, before the `votes` table existed):

    .venv/bin/python tests/data/wallet_v1/make_fixture.py tests/data/wallet_v1

Run with newer code it writes a database of the newer version, which is not what the test
needs. The transactions are injected as the light client would deliver them (their signatures
are not checked by the ledger, so none are made). Expected content: see PROVENANCE.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from app.wallet.wallet import Wallet
from spv.params import REGTEST
from spv.tx import OutPoint, Transaction, TxIn, TxOut

COIN = REGTEST.units_per_coin
TARGET = bytes.fromhex("0014" + "5f284d57f32ccbb74727391ab51e48df22af111b")
T0 = 1_700_000_000


def vote(target: bytes, candidate: bool) -> TxOut:
    data = bytes((1 if candidate else 0,)) + target
    return TxOut(0, bytes((0x6A, len(data))) + data)


def main(out_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wallet, _ = Wallet.create(
            Path(tmp), "v1", REGTEST, "pw", kdf_params={"n": 1024, "r": 8, "p": 1}
        )
        keys = wallet.accounts[wallet.default_account].keys[0]
        a, b = keys[0].script, keys[1].script  # type: ignore[union-attr]
        funding = Transaction(
            1,
            (TxIn(OutPoint(b"\x77" * 32, 0), b"", 0xFFFFFFFF),),
            (TxOut(5 * COIN, a), TxOut(3 * COIN, b), TxOut(1 * COIN, a)),
            0,
        )
        wallet.on_block_transactions(10, b"\x10" * 32, T0, [funding])
        # A votes for TARGET (not a candidate)
        v1 = Transaction(
            1,
            (TxIn(OutPoint(funding.txid, 0), b"", 0xFFFFFFFF),),
            (TxOut(5 * COIN - 300, a), vote(TARGET, False)),
            0,
        )
        wallet.on_block_transactions(12, b"\x12" * 32, T0 + 120, [v1])
        # inputs of B and A: a void vote, never recorded
        void = Transaction(
            1,
            (
                TxIn(OutPoint(funding.txid, 1), b"", 0xFFFFFFFF),
                TxIn(OutPoint(funding.txid, 2), b"", 0xFFFFFFFF),
            ),
            (TxOut(4 * COIN - 400, b), vote(TARGET, True)),
            0,
        )
        wallet.on_block_transactions(13, b"\x13" * 32, T0 + 180, [void])
        # B stands as a candidate without a target: 6a0101
        v3 = Transaction(
            1,
            (TxIn(OutPoint(void.txid, 0), b"", 0xFFFFFFFF),),
            (TxOut(4 * COIN - 700, b), vote(b"", True)),
            0,
        )
        wallet.on_block_transactions(14, b"\x14" * 32, T0 + 240, [v3])
        wallet.ledger.tip_height = 20
        wallet.synced_height = 20
        # A withdraws (6a0100), not confirmed yet
        withdraw = Transaction(
            1,
            (TxIn(OutPoint(v1.txid, 0), b"", 0xFFFFFFFF),),
            (TxOut(5 * COIN - 600, a), vote(b"", False)),
            0,
        )
        wallet.on_mempool_transaction(withdraw)
        wallet.store.checkpoint()
        print("A", wallet.keys.accounts[0].keys[0][0].address(REGTEST))  # type: ignore[union-attr]
        print("B", wallet.keys.accounts[0].keys[0][1].address(REGTEST))  # type: ignore[union-attr]
        for name, tx in (("v1", v1), ("void", void), ("v3", v3), ("withdraw", withdraw)):
            print(name, tx.txid_hex)
        wallet.close()
        db = Path(tmp) / "wallets" / "v1.db"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "v1.db").write_bytes(db.read_bytes())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
