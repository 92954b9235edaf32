"""`pkt-wallet vpn premium EXIT --buy`: the wallet first syncs with the peers (the coins it
pays from are the chain's current ones), then pays the exit's premium address; the exit gets a
signed transaction and broadcasts it itself."""

import io
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.wallet.wallet import Wallet
from spv.address import script_for_address
from spv.params import REGTEST
from spv.tx import Transaction
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

from .cjdns_server import FakeCjdns
from .directory_server import FakeDirectory
from .test_cli_vpn import conf_file

FAST_KDF = {"n": 1024, "r": 8, "p": 1}
COIN = REGTEST.units_per_coin


def test_premium_buy_syncs_the_wallet_then_pays(
    tmp_path: Path,
    cjdns: FakeCjdns,
    directory: FakeDirectory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    datadir = tmp_path / "data"
    payer, _ = Wallet.create(datadir, "payer", REGTEST, "pw", kdf_params=FAST_KDF)
    funded_address = payer.receive_address()
    payer.close()
    payee_wallet, _ = Wallet.create(tmp_path / "exit", "exit", REGTEST, "x", kdf_params=FAST_KDF)
    payee = payee_wallet.receive_address()
    payee_wallet.close()
    directory.premium_address = payee
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(funded_address, REGTEST))
    chain.mine_many(100)
    conf = conf_file(tmp_path, cjdns.port)
    vpn = [
        "--network", "regtest", "--datadir", str(datadir), "vpn", "--directory-url",
        directory.url, "--cjdroute-conf", str(conf), "--no-system-changes",
    ]  # fmt: skip
    assert main([*vpn, "connect", "Routie France"]) == 0  # premium is for the tunnel's address
    capsys.readouterr()
    with TestPeer(chain) as peer:
        argv = [
            "--network", "regtest", "--datadir", str(datadir), "--peer", peer.address,
            "vpn", "--directory-url", directory.url, "--cjdroute-conf", str(conf),
            "--no-system-changes",
            "premium", "Routie France", "--buy", "--yes", "--password-stdin", "--wallet", "payer",
        ]  # fmt: skip
        monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "premium until" in out and peer.received_txs == []  # the exit broadcasts it
    (post,) = directory.premium_posts
    tx = Transaction.parse(bytes.fromhex(post["transaction"]))
    assert tx.txid_hex in out
    assert [o.value for o in tx.outputs if o.script == script_for_address(payee, REGTEST)] == [
        10 * COIN
    ]
    assert {i.prevout.txid for i in tx.inputs} == {chain.blocks[1].block.transactions[0].txid}
    wallet = Wallet.open(datadir, "payer", REGTEST)
    try:
        assert wallet.balance().spendable == 0  # its only coin is spent by the pending payment
    finally:
        wallet.close()
