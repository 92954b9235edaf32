"""Opt-in password memory in the system keyring, through the CLI (a test keyring backend)."""

import os
import subprocess
import sys
from pathlib import Path

from app.wallet.wallet import Wallet
from spv.address import script_for_address
from spv.params import REGTEST
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "remember me please"


def _cli(
    datadir: Path, *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--network", "regtest", "--datadir", str(datadir), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_remembered_password_signs_without_asking(tmp_path: Path) -> None:
    wallet, _ = Wallet.create(
        tmp_path, "default", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(wallet.receive_address(), REGTEST))
    chain.mine_many(100)
    wallet.close()
    no_keyring = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    out = _cli(
        tmp_path, "remember-password", "--password-stdin", env=no_keyring, stdin=PASSWORD + "\n"
    )
    assert out.returncode == 1 and "the wallet works without it" in out.stderr
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        PKT_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
    )
    wrong = _cli(tmp_path, "remember-password", "--password-stdin", env=env, stdin="nope\n")
    assert wrong.returncode == 1 and not (tmp_path / "keyring.json").exists()
    ok = _cli(tmp_path, "remember-password", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    with TestPeer(chain) as peer:
        dest = (
            "bcrt1q" + "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
        )  # not valid: check the error first
        bad = _cli(tmp_path, "--peer", peer.address, "send", dest, "1", "--yes", env=env)
        assert bad.returncode == 1
        other, _ = Wallet.create(
            tmp_path / "b", "b", REGTEST, "x" * 8, kdf_params={"n": 1024, "r": 8, "p": 1}
        )
        dest = other.receive_address()
        other.close()
        sent = _cli(tmp_path, "--peer", peer.address, "send", dest, "1", "--yes", env=env)
        assert sent.returncode == 0, sent.stderr  # no password typed: the keyring had it
        assert len(peer.received_txs) == 1
    forget = _cli(tmp_path, "remember-password", "--forget", env=env)
    assert forget.returncode == 0 and "no longer remembered" in forget.stdout
    assert "default" not in (tmp_path / "keyring.json").read_text()
