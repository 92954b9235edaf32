"""The `pkt-wallet` command line: global options, read commands, and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.common import parse_peer
from app.cli.main import main
from app.paths import default_datadir

ROOT = Path(__file__).resolve().parent.parent
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "usage: pkt-wallet" in out and "--network" in out and "decode-tx" in out


def test_no_subcommand_without_a_display_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    code, out, err = run(capsys)
    assert code == 1 and "no display" in err and err.count("\n") == 1


def test_network_info_json_and_datadir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--network", "testnet", "--json", "network-info")
    assert code == 0
    data = json.loads(out)
    assert data["network"] == "testnet" and data["bech32_hrp"] == "tpk"
    assert data["default_port"] == 64512
    assert data["datadir"] == str(default_datadir("testnet"))
    assert default_datadir("testnet").name == "testnet"
    code, out, _ = run(capsys, "--datadir", str(tmp_path), "--json", "network-info")
    assert json.loads(out)["datadir"] == str(tmp_path)
    assert json.loads(out)["genesis_hash"].startswith("0bdc1712")


def test_decode_address_and_wrong_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "decode-address", NS_ADDRESS)
    assert code == 0
    assert json.loads(out)["script"] == (
        "0020d5c1005c0d4012d3ae2672319e7f9eb15a57516aeefabbbc062265f67e308f2b"
    )
    code, out, err = run(capsys, "--network", "testnet", "decode-address", NS_ADDRESS)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "mainnet" in err


def test_decode_tx_shows_vote_and_amounts(capsys: pytest.CaptureFixture[str], pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    st = pkt_vectors("tx_sighash_vote_vectors.json")["signed_tx"]
    code, out, _ = run(capsys, "decode-tx", st["tx_hex_with_witness"])
    assert code == 0
    assert st["txid"] in out and "7 PKT to pJoPaQDXTtyfS41G5m1rkF5sEkWr3ynnEy" in out
    assert "Network Steward vote" in out
    code, out, _ = run(capsys, "--json", "decode-tx", st["tx_hex_with_witness"])
    data = json.loads(out)
    assert data["wtxid"] == st["wtxid"] and data["outputs"][0]["vote_for"] is not None


def test_decode_block_from_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from spv.params import MAINNET

    path = tmp_path / "genesis.bin"
    path.write_bytes(MAINNET.genesis_block)
    code, out, _ = run(capsys, "--json", "decode-block", f"@{path}")
    assert code == 0
    data = json.loads(out)
    assert data["hash"].startswith("0bdc1712") and data["merkle_root_valid"] is True
    assert data["packetcrypt_proof"]["records"] == [{"type": 1, "length": 5636}]
    code, out, err = run(capsys, "decode-block", "@" + str(tmp_path / "missing.bin"))
    assert code == 1 and "cannot read" in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["decode-tx", "zz"], "not hexadecimal"),
        (["decode-tx", "0100"], "not a valid transaction: the data is cut short: 4 more bytes"),
        (["decode-tx", "0100000001"], "32 more bytes expected, none is left"),
        (["subsidy", "-5"], "negative"),
        (["subsidy", "10000000000"], "beyond the largest block height (2,147,483,647)"),
        (["decode-block", "@/"], "'/' is a folder, not a file"),
        (["parse-uri", f"pkt:{NS_ADDRESS}?amount=0.0000000001"], "less than the smallest"),
        (["parse-uri", "bitcoin:abc"], "pkt:"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err


def test_peer_option_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_peer("127.0.0.1:64764").port == 64764
    assert parse_peer("[::1]:18444").host == "::1"
    assert parse_peer("example.org").port == 0
    code, _, err = run(capsys, "--peer", "127.0.0.1:99999", "network-info")
    assert code == 2 and "bad peer port" in err


def test_entry_point_runs_as_a_program(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--network", "regtest", "subsidy", "150"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "25 rBTC" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "app", "decode-tx", "00"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
