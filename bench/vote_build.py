"""Building an Electorium vote from a wallet whose mining address holds very many coins: the
vote must spend one coin (just enough for the fee, largest first), whatever the number of
coins. Also listing the voting addresses, "My vote", and the schema migration that adds the
votes table and the per-script coin index to such a wallet. Printed, not asserted.

Run: .venv/bin/python bench/vote_build.py [COINS]   (default 1,000,000; ten times a big miner)
"""

import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.steward.my_vote import my_vote  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from spv.address import p2wpkh_address  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from spv.tx import OutPoint, Transaction, TxIn, TxOut  # noqa: E402

OUTPUTS_PER_TX = 1000
TARGET = p2wpkh_address(b"\x02" + b"\x44" * 32, MAINNET).encode(MAINNET)


def fill(wallet: Wallet, coins: int) -> None:
    """`coins` payouts of 0.5 to 1.5 PKT to the mining address, and a few other addresses."""
    mining = wallet.voting.own_address(wallet.mining_address()).script
    others = [k.script for k in wallet.accounts[wallet.default_account].keys[0][:5] if k]
    unit = MAINNET.units_per_coin
    height = 1_000_000
    for n in range(0, coins, OUTPUTS_PER_TX):
        outputs = tuple(
            TxOut(unit // 2 + (i * 7919) % unit, mining)
            for i in range(n, min(coins, n + OUTPUTS_PER_TX))
        )
        funding = Transaction(
            1, (TxIn(OutPoint(n.to_bytes(32, "little"), 0), b"", 0xFFFFFFFF),), outputs, 0
        )
        wallet.on_block_transactions(
            height, height.to_bytes(32, "little"), 1_700_000_000, [funding]
        )
        height += 1
    extra = Transaction(
        1,
        (TxIn(OutPoint(b"\xee" * 32, 0), b"", 0xFFFFFFFF),),
        tuple(TxOut(3 * unit, s) for s in others),
        0,
    )
    wallet.on_block_transactions(height, b"\xee" * 32, 1_700_000_000, [extra])
    wallet.ledger.tip_height = height + 200
    wallet.save()


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<58} {elapsed * 1000:9.1f} ms")
    return result, elapsed


def main() -> None:
    coins = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp)
        wallet, _ = Wallet.create(
            datadir, "miner", MAINNET, "pw", kdf_params={"n": 1024, "r": 8, "p": 1}
        )
        _, fill_time = timed(f"inject {coins:,} coins", lambda: fill(wallet, coins))
        print(f"  ({coins / fill_time:,.0f} coins/s)")
        voters, _ = timed("voting_addresses()", wallet.voting.voting_addresses)
        print(f"  {len(voters)} addresses, the heaviest with {voters[0].coins:,} coins")
        heavy = voters[0].address
        batch, t_one = timed(
            "create_vote(target, from the mining address)",
            lambda: wallet.voting.create_vote(TARGET, from_addresses=[heavy]),
        )
        (preview,) = batch.previews
        print(f"  inputs: {len(preview.inputs)}, fee {preview.fee} units")
        batch, _ = timed(
            "create_vote(target) from every address", lambda: wallet.voting.create_vote(TARGET)
        )
        print(
            f"  {len(batch.previews)} transactions, inputs {[len(p.inputs) for p in batch.previews]}"
        )
        signed, _ = timed(
            f"sign the {len(batch.previews)} previews",
            lambda: [wallet.sign(p, "pw") for p in batch.previews],
        )
        timed(
            "record them (as after a broadcast)", lambda: [wallet.record_pending(t) for t in signed]
        )
        timed("my_vote(snapshot())", lambda: my_vote(wallet.voting.snapshot(), time.time()))
        wallet.close()

        # the migration on this wallet: back to version 1, then opened again
        db_file = datadir / "wallets" / "miner.db"
        copy = datadir / "wallets" / "copy.db"
        shutil.copy(db_file, copy)
        with sqlite3.connect(copy) as db:
            db.execute("DROP TRIGGER votes_tx_removed")
            db.execute("DROP INDEX coins_unspent_script")
            db.execute("DROP TABLE votes")
            db.execute("PRAGMA user_version = 1")
        reopened, _ = timed(
            "open a version-1 copy: migration (index, backfill)",
            lambda: Wallet.open(datadir, "copy", MAINNET),
        )
        print(f"  votes backfilled: {len(reopened.voting.records())}")
        reopened.close()

        small, _ = Wallet.create(
            datadir, "small", MAINNET, "pw", kdf_params={"n": 1024, "r": 8, "p": 1}
        )
        fill(small, 1000)
        address = small.voting.voting_addresses()[0].address
        _, t_small = timed(
            "create_vote from an address with 1,000 coins",
            lambda: small.voting.create_vote(TARGET, from_addresses=[address]),
        )
        small.close()
        print(f"ratio ({coins:,} coins / 1,000 coins) for one vote: {t_one / t_small:.2f}")


if __name__ == "__main__":
    main()
