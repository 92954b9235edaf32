"""Premium paid by the real wallet (app.wallet): the exit receives a signed, unbroadcast
transaction that pays its address the quoted amount and verifies against the funding output."""

from pathlib import Path

import pytest

from app.vpn.errors import PremiumError
from app.vpn.premium import WalletPaymentSigner
from app.vpn.state import VpnState
from app.wallet.wallet import Wallet
from spv.address import script_for_address
from spv.params import REGTEST
from spv.tx import OutPoint, Transaction, TxIn, TxOut
from tests.support.script_verify import verify_transaction

from .conftest import ServiceFactory
from .directory_server import FakeDirectory

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
COIN = REGTEST.units_per_coin


def funded_wallet(datadir: Path) -> tuple[Wallet, Transaction]:
    wallet, _ = Wallet.create(datadir, "payer", REGTEST, "pw", kdf_params=FAST_KDF)
    script = script_for_address(wallet.receive_address(), REGTEST)
    fund = Transaction(
        2, (TxIn(OutPoint(b"\x11" * 32, 0), b"\x51", 0xFFFFFFFF),), (TxOut(50 * COIN, script),), 0
    )
    wallet.on_block_transactions(1, b"\x22" * 32, 1_700_000_000, [fund])
    return wallet, fund


def test_premium_paid_by_the_wallet(
    make_service: ServiceFactory, directory: FakeDirectory, tmp_path: Path
) -> None:
    wallet, fund = funded_wallet(tmp_path / "w")
    payee, _ = Wallet.create(tmp_path / "w", "exit", REGTEST, "pw", kdf_params=FAST_KDF)
    directory.premium_address = payee.receive_address()
    svc = make_service(params=REGTEST, datadir=tmp_path / "vpn")
    target = svc.resolve_exit("Routie France")
    svc.connect(target)
    offer = svc.premium_offer(target)
    assert offer.amount_units == 10 * COIN
    signer = WalletPaymentSigner(wallet, "pw")
    with pytest.raises(PremiumError, match="not confirmed"):
        svc.buy_premium(offer, signer, lambda o: False)
    assert wallet.balance().spendable == 50 * COIN and directory.premium_posts == []
    grant = svc.buy_premium(offer, signer, lambda o: o == offer)
    (post,) = directory.premium_posts
    assert post["ip"] == "10.66.0.2" and post["address"] == offer.address
    tx = Transaction.parse(bytes.fromhex(post["transaction"]))
    assert tx.txid_hex == grant.txid
    verify_transaction(tx, lambda op: (fund.outputs[0].script, fund.outputs[0].value))
    paid = [o for o in tx.outputs if o.script == script_for_address(offer.address, REGTEST)]
    assert [o.value for o in paid] == [10 * COIN]
    # the wallet knows the payment (its coin is spent; the change is unconfirmed)
    assert wallet.balance().spendable == 0 and wallet.balance().unconfirmed > 39 * COIN
    assert svc.status.state == VpnState.CONNECTED and svc.status.premium_until == grant.until
    wallet.close()
    payee.close()
