"""The wallet CLI's automation contract against the loopback regtest peer. The main paths run
as programs (`python -m app ...`); variations run `app.cli.main` in-process (faster)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from app.cli.main import main
from app.wallet import pktseed
from spv.address import p2pkh_address, script_for_address
from spv.params import REGTEST
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import TestPeer

ROOT = Path(__file__).resolve().parents[2]
COIN = REGTEST.units_per_coin


class Cli:
    def __init__(
        self, datadir: Path, peer: TestPeer | None = None, network: str = "regtest"
    ) -> None:
        self.datadir = datadir
        self.peer = peer
        self.network = network

    def __call__(
        self, *args: str, stdin: str = "", peer: bool = True, real: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI: as a program with `real`, else in this process."""
        argv = ["--network", self.network, "--datadir", str(self.datadir)]
        if peer and self.peer is not None:
            argv += ["--peer", self.peer.address]
        argv += args
        if real:
            return subprocess.run(
                [sys.executable, "-m", "app", *argv],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=ROOT,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
            )
        out, err = io.StringIO(), io.StringIO()
        with (
            patch.object(sys, "stdin", io.StringIO(stdin)),
            redirect_stdout(out),
            redirect_stderr(err),
        ):
            code = main(argv)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, stdin: str = "", real: bool = False) -> str:
        proc = self(*args, stdin=stdin, real=real)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


def test_wallet_cli_automation_contract(tmp_path: Path) -> None:
    chain = RegtestChain()
    cli = Cli(tmp_path)
    created = cli.ok("create", "--password-stdin", stdin="alice pw\n", real=True).splitlines()
    assert len(created) == 2 and len(created[0].split()) == 12
    mnemonic, first = created
    assert cli.ok("address").strip() == first
    assert cli.ok("address", "--new").strip() != first
    listed = json.loads(cli.ok("addresses", "--json"))
    assert {"address": first, "path": "m/84'/1'/0'/0/0"}.items() <= listed[0].items()
    bob_address = cli.ok("create", "--wallet", "bob", "--password-stdin", stdin="bob pw\n").split()[
        -1
    ]

    chain.mine(pay_to=script_for_address(first, REGTEST))
    chain.mine_many(100)
    with TestPeer(chain) as peer:
        cli.peer = peer
        balance = json.loads(cli.ok("balance", "--json", real=True))
        assert (balance["confirmed"], balance["unconfirmed"], balance["immature"]) == (
            50 * COIN,
            0,
            0,
        )
        assert json.loads(cli.ok("--json", "balance"))["height"] == 101

        # send: syncs, broadcasts, prints only the txid
        out = cli.ok(
            "send", bob_address, "1.5", "--yes", "--password-stdin", stdin="alice pw\n", real=True
        )
        txid = out.strip()
        assert len(txid) == 64 and out == txid + "\n"
        assert [t.txid_hex for t in peer.received_txs] == [txid] and not peer.rejected_txs
        tx = peer.received_txs[0]
        chain.mine(txs=[tx])
        peer.set_chain(chain)

        bob_balance = json.loads(cli.ok("balance", "--wallet", "bob", "--json"))
        assert bob_balance["confirmed"] == 150_000_000
        history = json.loads(cli.ok("history", "--json"))
        assert [(e["txid"], e["height"]) for e in history][-1] == (txid, 102)
        assert history[-1]["amount"] == -150_000_000 - history[-1]["fee"]
        assert history[-1]["fee"] > 0
        csv_path = tmp_path / "history.csv"
        cli.ok("history", "--csv", str(csv_path), "--offline")
        rows = csv_path.read_text().splitlines()
        assert rows[0] == "date,txid,amount,fee,balance,label,confirmations"
        assert rows[-1].split(",")[1] == txid and rows[-1].split(",")[2].startswith("-1.5")

        # errors are one line, never a traceback; secrets are not echoed
        wrong = cli(
            "send", bob_address, "1", "--yes", "--password-stdin", stdin="nope\n", real=True
        )
        assert wrong.returncode == 1 and wrong.stderr == "error: wrong password\n"
        bad = cli(
            "send", "bcrt1qnotanaddress", "1", "--yes", "--offline", "--password-stdin", stdin="x\n"
        )
        assert bad.returncode == 1 and bad.stderr.startswith("error: invalid regtest address")
        other_net = cli(
            "send",
            "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2",
            "1",
            "--yes",
            "--offline",
        )
        assert (
            other_net.returncode == 1
            and "mainnet" in other_net.stderr
            and len(other_net.stderr.splitlines()) == 1
        )
        too_much = cli(
            "send",
            bob_address,
            "1000",
            "--yes",
            "--offline",
            "--password-stdin",
            stdin="alice pw\n",
        )
        assert too_much.returncode == 1 and "insufficient funds" in too_much.stderr

        # restore the same words elsewhere: same balance after its own sync
        restored = cli.ok(
            "restore", "--wallet", "copy", "--password-stdin", stdin=f"copy pw\n{mnemonic}\n\n"
        )
        assert restored.strip() == first
        copy_balance = json.loads(cli.ok("balance", "--wallet", "copy", "--json"))
        assert (
            copy_balance["confirmed"]
            == json.loads(cli.ok("balance", "--json", "--offline"))["confirmed"]
        )

        # the 2019-2023 vote from the CLI, only with --legacy-2019: one transaction, OP_VOTE
        candidate = p2pkh_address(b"\x02" + b"\x11" * 32, REGTEST).encode(REGTEST)
        vote_txid = cli.ok(
            "vote",
            "--legacy-2019",
            candidate,
            "--yes",
            "--password-stdin",
            "--offline",
            stdin="alice pw\n",
        ).strip()
        voted = next(t for t in peer.received_txs if t.txid_hex == vote_txid)
        assert voted.outputs[0].script.endswith(b"\x66")

    changed = cli("change-password", "--password-stdin", stdin="alice pw\nnew pw\n", peer=False)
    assert changed.returncode == 0, changed.stderr
    again = cli("change-password", "--password-stdin", stdin="alice pw\nx\n", peer=False)
    assert again.stderr == "error: wrong password\n"
    missing = cli("balance", "--wallet", "nobody", "--offline", peer=False, real=True)
    assert missing.returncode == 1 and missing.stderr.startswith("error: no wallet named 'nobody'")
    assert "Traceback" not in missing.stderr + again.stderr
    for proc in (changed, again):
        assert "new pw" not in proc.stdout + proc.stderr


def test_restore_pktwallet_seed_with_passphrase_and_bip39_birthday(
    tmp_path: Path, seed_vectors: Any, seed_kdf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in-process with the session's Argon2id cache (the real KDF runs in test_pktseed)
    monkeypatch.setattr(pktseed, "argon2id_seed_key", seed_kdf)
    vector = next(
        v for v in seed_vectors["seedwords_vectors"] if v["passphrase"] and str(v["vector"]) == "2"
    )
    receive = next(a for a in vector["addresses"] if a["Path"] == "m/84'/0'/0'/0/0")
    cli = Cli(tmp_path, network="mainnet")
    # a protected seed without its passphrase: a one-line error before any slow work
    missing = cli("restore", "--password-stdin", stdin=f"pw\n{vector['words']}\n\n")
    assert missing.returncode == 1 and missing.stderr.startswith(
        "error: these seed words are protected by a passphrase"
    )
    assert not (tmp_path / "wallets" / "default.wallet").exists()
    out = cli.ok(
        "--json", "restore", "--password-stdin", stdin=f"pw\n{vector['words']}\npassword\n"
    )
    data = json.loads(out)
    assert data["seed_type"] == "pktwallet" and data["address"] == receive["Address"]
    assert data["birthday"] == vector["birthday_utc"][:10]
    assert vector["words"] not in out
    bip39 = "abandon " * 11 + "about"
    out = cli.ok(
        "--json",
        "restore",
        "--wallet",
        "b",
        "--birthday",
        "2024-02-03",
        "--password-stdin",
        stdin=f"pw\n{bip39}\n\n",
    )
    assert json.loads(out)["birthday"] == "2024-02-03"
    bad = cli("restore", "--wallet", "c", "--password-stdin", stdin="pw\nabandon abandon\n\n")
    assert bad.returncode == 1 and bad.stderr.startswith("error: invalid seed words")


def test_create_with_a_bip39_passphrase_restores_only_with_it(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    created = cli.ok(
        "create", "--with-passphrase", "--password-stdin", stdin="pw one\nseed extra\n"
    ).splitlines()
    mnemonic, first = created
    without = cli.ok(
        "restore", "--wallet", "plain", "--password-stdin", stdin=f"pw\n{mnemonic}\n\n"
    )
    assert without.strip() != first  # another seed: the passphrase is part of it
    with_it = cli.ok(
        "restore", "--wallet", "same", "--password-stdin", stdin=f"pw\n{mnemonic}\nseed extra\n"
    )
    assert with_it.strip() == first
    empty = cli("create", "--wallet", "e", "--with-passphrase", "--password-stdin", stdin="pw\n\n")
    assert empty.returncode != 0 and "passphrase is empty" in empty.stderr
    assert not (tmp_path / "wallets" / "e.wallet").exists()


def test_bump_pays_a_higher_fee_for_an_rbf_payment(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    first = cli.ok("create", "--password-stdin", stdin="pw one\n").splitlines()[-1]
    bob = cli.ok("create", "--wallet", "bob", "--password-stdin", stdin="bob pw\n").split()[-1]
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(first, REGTEST))
    chain.mine_many(100)
    with TestPeer(chain) as peer:
        cli.peer = peer
        txid = cli.ok(
            "send", bob, "2", "--rbf", "--yes", "--password-stdin", stdin="pw one\n"
        ).strip()
        bumped = cli.ok(
            "bump", txid, "--fee-rate", "10", "--yes", "--password-stdin", stdin="pw one\n"
        ).strip()
        original, replacement = peer.received_txs  # the peer checked both signatures
        assert (original.txid_hex, replacement.txid_hex) == (txid, bumped)
        assert [i.prevout for i in replacement.inputs] == [i.prevout for i in original.inputs]
        to_bob = script_for_address(bob, REGTEST)
        assert [o.value for o in replacement.outputs if o.script == to_bob] == [2 * COIN]
        assert sum(o.value for o in replacement.outputs) < sum(o.value for o in original.outputs)
        history = json.loads(cli.ok("--json", "history", "--offline"))
        assert [e["txid"] for e in history][-1] == bumped and txid not in {
            e["txid"] for e in history
        }
        again = cli(
            "bump",
            bumped,
            "--fee-rate",
            "0.5",
            "--yes",
            "--offline",
            "--password-stdin",
            stdin="pw one\n",
        )
        assert again.returncode == 1 and "minimum relay fee" in again.stderr
