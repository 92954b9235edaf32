"""A restored wallet asks the light client for headers back to its birthday."""

from datetime import date
from pathlib import Path

from app.wallet.wallet import Wallet
from spv.chain import anchor_for
from spv.params import MAINNET

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
WORDS = "abandon " * 11 + "about"


def test_restored_wallet_history_reaches_before_its_birthday(tmp_path: Path) -> None:
    restored = Wallet.restore(
        tmp_path, "old", MAINNET, "pw", WORDS, birthday=date(2020, 4, 8), kdf_params=FAST_KDF
    )
    height = restored.history_from_height()
    restored.close()
    assert height is not None
    # block 360272 was mined on 2020-04-18: the store must start below it
    assert anchor_for(MAINNET, height).first_height < 360272
    new, _ = Wallet.create(tmp_path, "new", MAINNET, "pw", kdf_params=FAST_KDF)
    assert anchor_for(MAINNET, new.history_from_height()) == anchor_for(MAINNET)  # newest
    new.close()
    unknown = Wallet.restore(tmp_path, "nobday", MAINNET, "pw", WORDS, kdf_params=FAST_KDF)
    assert unknown.history_from_height() == 0  # no birthday: every block may matter
    unknown.close()
