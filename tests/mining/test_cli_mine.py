"""`pkt-wallet mine` against the loopback pool: the wallet's address by default, refusal without
a payout address, status lines and summary, Ctrl-C (SIGINT) in a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli.main import main
from app.mining.settings import KNOWN_POOLS
from app.wallet.wallet import Wallet
from miner import kernel
from spv.params import MAINNET
from spv.tx import TxOut

from .conftest import PAYTO
from .poolserver import TestPool

ROOT = Path(__file__).resolve().parents[2]
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
native = pytest.mark.skipif(kernel.BACKEND != "native", reason="needs the C kernel")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_refuses_to_start_without_payout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pool: TestPool
) -> None:
    code, out, err = run(capsys, "--datadir", str(tmp_path), "mine", "--pool", pool.url)
    assert code == 1 and out == ""
    assert err.startswith("error: no payout address") and err.count("\n") == 1
    assert "--payout" in err
    code, out, err = run(
        capsys, "--datadir", str(tmp_path), "mine", "--pool", pool.url, "--payout", "pkt1qbad"
    )
    assert code == 1 and "not valid" in err
    code, out, err = run(
        capsys, "--datadir", str(tmp_path), "--network", "testnet", "mine", "--pool", pool.url,
        "--payout", PAYTO,
    )  # fmt: skip
    assert code == 1 and "mainnet" in err
    code, out, err = run(
        capsys, "--datadir", str(tmp_path), "mine", "--pool", "pool.example", "--payout", PAYTO
    )
    assert code == 1 and "http" in err
    assert pool.config_requests == 0  # nothing started


def test_list_pools(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mine", "--list-pools")
    assert code == 0 and all(p.url in out for p in KNOWN_POOLS)


@native
def test_mines_for_the_wallet_address(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pool: TestPool
) -> None:
    wallet, _ = Wallet.create(tmp_path, "default", MAINNET, "pw", kdf_params=FAST_KDF)
    receive = wallet.receive_address()
    wallet.close()
    code, out, _ = run(capsys, "--datadir", str(tmp_path), "mining-address")
    address = out.strip()
    assert code == 0 and address.startswith("pkt1q") and address != receive
    code, out, err = run(
        capsys, "--datadir", str(tmp_path), "mine", "--pool", pool.url, "--threads", "1",
        "--duration", "3", "--status-interval", "0.5", "--batch-seconds", "0.2",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"mining for {address} with 1 thread(s)")
    status = [ln for ln in lines if "acc/rej/ovl" in ln]
    assert len(status) >= 4 and "anns/s" in status[-1]
    assert any(ln.startswith("mined for") for ln in lines)
    assert pool.accepted > 0 and {s.payto for s in pool.submissions} == {address}
    assert "new job" in err


@native
def test_json_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path, pool: TestPool) -> None:
    code, out, _ = run(
        capsys, "--datadir", str(tmp_path), "--json", "mine", "--pool", pool.url, "--payout",
        PAYTO, "--threads", "1", "--duration", "1", "--status-interval", "0.4",
    )  # fmt: skip
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines() if line.startswith('{"')]
    assert objects and all("hashes_per_sec" in o for o in objects)
    summary = json.loads(out[out.index("{\n") :])
    assert summary["payout"] == PAYTO and not summary["running"]
    assert summary["pools"][0]["url"] == pool.url


@native
def test_sigint_stops_cleanly(tmp_path: Path, pool: TestPool) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "--datadir",
            str(tmp_path),
            "mine",
            "--pool",
            pool.url,
            "--payout",
            PAYTO,
            "--threads",
            "1",
            "--status-interval",
            "0.3",
            "--batch-seconds",
            "0.2",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "acc/rej/ovl" in line and "acc/rej/ovl 0/" not in line:
                break
        assert pool.accepted > 0, "".join(lines)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert elapsed < 2.0
    assert "mined for" in out and "accepted" in out and "Traceback" not in err


def test_mining_earnings_from_the_wallet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from spv.address import decode_address

    from .test_service import coinbase

    wallet, _ = Wallet.create(tmp_path, "default", MAINNET, "pw", kdf_params=FAST_KDF)
    address = wallet.receive_address()
    script = decode_address(address, MAINNET).to_script()
    now = int(time.time())
    for i, value in enumerate((1000, 2000)):
        cb = coinbase(2_000_000 + i, [TxOut(value, script)])
        wallet.on_block_transactions(2_000_000 + i, bytes([i]) * 32, now, [cb])
    wallet.save()
    wallet.close()
    code, out, err = run(
        capsys, "--datadir", str(tmp_path), "--json", "mining-earnings", "--days", "2"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["payout"] == "wallet 'default'" and data["total"] == 3000
    assert [d["amount"] for d in data["days"]] == [0, 3000]
    for payout, total in ((address, 3000), (PAYTO, 0)):
        code, out, _ = run(
            capsys, "--datadir", str(tmp_path), "--json", "mining-earnings", "--payout", payout
        )
        assert code == 0 and json.loads(out)["total"] == total
    code, out, _ = run(capsys, "--datadir", str(tmp_path), "mining-earnings")
    assert code == 0 and "(2 blocks)" in out
    code, _, err = run(capsys, "--datadir", str(tmp_path / "none"), "mining-earnings")
    assert code == 1 and "no wallet" in err


def test_hostile_config_is_a_pool_error_not_a_thread_crash(tmp_path: Path, pool: TestPool) -> None:
    """A pool serving `[` x 100000 as config.json (RecursionError in json.loads before) is
    reported as an invalid reply; the poller keeps retrying, and `mine` says no pool gave a
    job and exits 1 instead of printing a thread traceback and exiting 0 with 0 hashes."""
    pool.config_mode = "body"
    pool.config_body = b"[" * 100_000
    argv = ["--datadir", str(tmp_path), "mine", "--pool", pool.url, "--payout", PAYTO,
            "--threads", "1", "--duration", "2.5", "--status-interval", "1"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)  # fmt: skip
    assert "Traceback" not in proc.stderr and "Exception in thread" not in proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the pool sent an invalid config.json (nested deeper than 32 levels)" in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].startswith("error: no pool gave a job to mine")
    assert "DOWN" in proc.stdout and "good -" in proc.stdout  # no "goodrate 100%" for nothing


@native
@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"currentHeight": 1e400}', b'{"annTarget": NaN}', b"1" * 5000]
)
def test_mining_moves_on_from_a_hostile_pool(tmp_path: Path, pool: TestPool, body: bytes) -> None:
    """The first pool's config.json is hostile: it is reported down with the reason and the
    job comes from the second pool (waited for as an event, then Ctrl-C)."""
    pool.config_mode = "body"
    pool.config_body = body
    with TestPool() as good:
        argv = ["--datadir", str(tmp_path), "mine", "--pool", pool.url, "--pool", good.url,
                "--payout", PAYTO, "--threads", "1", "--status-interval", "5"]  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "app", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
        assert proc.stderr is not None
        seen: list[str] = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                seen.append(line)
                if "new job" in line:
                    break
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = "".join(seen) + err
    job = f"new job: parent {good.job_block().height} from {good.url}"
    assert any(job in line for line in seen), err
    assert f"pool {pool.url} is down: the pool sent an invalid config.json" in err
    assert proc.returncode == 0 and "Traceback" not in err
