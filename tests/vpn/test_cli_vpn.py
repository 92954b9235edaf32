"""`pkt-wallet vpn ...` as a subprocess against the loopback servers, always with
--no-system-changes (the child never touches routes or DNS)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli.main import main

from .cjdns_server import FakeCjdns
from .conftest import ADMIN_PASSWORD
from .directory_server import DEFAULT_EXIT, PREMIUM_EXIT, FakeDirectory

ROOT = Path(__file__).resolve().parents[2]


def conf_file(tmp_path: Path, port: int, password: str = ADMIN_PASSWORD) -> Path:
    conf = tmp_path / "cjdroute.conf"
    conf.write_text(
        "{\n  // generated for the test\n"
        f'  "admin": {{ "bind": "127.0.0.1:{port}", "password": "{password}" }},\n'
        '  /* no TUN device: nothing on this machine changes */\n  "router": {},\n}\n'
    )
    return conf


def cli_args(tmp_path: Path, directory: FakeDirectory, conf: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app",
        "--datadir",
        str(tmp_path / "data"),
        "vpn",
        "--directory-url",
        directory.url,
        "--cjdroute-conf",
        str(conf),
        "--no-system-changes",
        *args,
    ]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT)
    e["PATH"] = "/nonexistent"  # no cjdroute to be found; nothing else is needed
    return e


def run(
    tmp_path: Path, directory: FakeDirectory, conf: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_args(tmp_path, directory, conf, *args),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=env(),
    )


def run_in_process(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """The same CLI in this process (faster); argv as after `python -m app`."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def in_process_args(tmp_path: Path, directory: FakeDirectory, conf: Path, *args: str) -> list[str]:
    return cli_args(tmp_path, directory, conf, *args)[3:]


def test_list_connect_status_disconnect(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    conf = conf_file(tmp_path, cjdns.port)
    r = run(tmp_path, directory, conf, "list", "--json", "--sort", "quality")
    assert r.returncode == 0, r.stderr
    listing = json.loads(r.stdout)
    assert [e["name"] for e in listing["exits"]] == ["Routie France 1", "PKT Pal Montreal"]
    assert listing["exits"][0]["premium"] and not listing["from_cache"]

    r = run(tmp_path, directory, conf, "connect", "PKT Pal Montreal")
    assert r.returncode == 0, r.stderr
    assert "connected to PKT Pal Montreal" in r.stdout
    assert "ip4        10.66.0.2" in r.stdout and "ip6        2001:db8:66::2" in r.stdout
    assert "no system changes: would keep 203.0.113.10 out of the tunnel routes" in r.stdout
    assert "would set the DNS resolver of tun0 to 1.1.1.1" in r.stdout
    assert "peering..." in r.stderr and "authorizing..." in r.stderr
    assert cjdns.exceptions == [] and len(cjdns.connections) == 1

    r = run(tmp_path, directory, conf, "status", "--json")
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["state"] == "connected" and status["exit_key"] == DEFAULT_EXIT
    assert status["ip4"] == "10.66.0.2" and status["ip6"] == "2001:db8:66::2"
    assert abs(status["since"] - time.time()) < 60

    r = run(tmp_path, directory, conf, "disconnect")
    assert r.returncode == 0 and "disconnected" in r.stdout, r.stderr
    assert cjdns.connections == {}


def test_connect_by_key_json(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = conf_file(tmp_path, cjdns.port)
    r = run(tmp_path, directory, conf, "connect", PREMIUM_EXIT, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["state"] == "connected" and data["exit_key"] == PREMIUM_EXIT and data["dry_run"]
    code, out, err = run_in_process(
        capsys, in_process_args(tmp_path, directory, conf, "premium", "Routie France")
    )
    assert code == 0, err
    assert "pay           10 PKT to pkt1q6hqs" in out
    assert directory.premium_posts == []  # a quote spends nothing


def test_wrong_password_names_the_step(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    conf = conf_file(tmp_path, cjdns.port, password="wrong")
    r = run(tmp_path, directory, conf, "connect")
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1].startswith("error: connect failed while starting cjdns:")
    assert "Auth failed." in r.stderr and "Traceback" not in r.stderr


def test_cjdroute_absent(tmp_path: Path, directory: FakeDirectory, free_udp_port: int) -> None:
    conf = conf_file(tmp_path, free_udp_port)
    r = run(tmp_path, directory, conf, "connect", "PKT Pal")
    assert r.returncode == 1 and "starting cjdns" in r.stderr
    assert "is not installed" in r.stderr and "github.com/cjdelisle/cjdns" in r.stderr
    r = run(tmp_path, directory, conf, "diagnose")
    assert r.returncode == 1, r.stdout
    assert "[fail] cjdroute running" in r.stdout and "[warn] cjdroute installed" in r.stdout
    assert "[ ok ] directory: 3 exits (2 active)" in r.stdout


def test_malformed_directory(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = conf_file(tmp_path, cjdns.port)
    directory.raw_exit_list = b"{not json"
    code, out, err = run_in_process(capsys, in_process_args(tmp_path, directory, conf, "list"))
    assert code == 1 and "the coordinator sent an invalid exit list" in err and out == ""
    assert err.count("\n") == 1


def test_foreground_reauthorizes_until_interrupted(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    conf = conf_file(tmp_path, cjdns.port)
    args = cli_args(
        tmp_path,
        directory,
        conf,
        "connect",
        "PKT Pal",
        "--foreground",
        "--reauth-interval",
        "0.3",
        "--health-interval",
        "0.1",
    )
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env()
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("connected to PKT Pal Montreal"), line + (
            proc.stderr.read() if proc.stderr else ""
        )
        deadline = time.time() + 10
        while len(directory.authorizations) < 3 and time.time() < deadline:
            time.sleep(0.05)
        assert len(directory.authorizations) >= 3
        assert len(cjdns.connections) == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "re-authorized" in err and "disconnected" in err
    assert cjdns.connections == {}


def test_config_saves_the_directory_url(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = conf_file(tmp_path, cjdns.port)
    argv = in_process_args(tmp_path, directory, conf, "config", "--dns", "9.9.9.9", "--json")
    code, out, err = run_in_process(capsys, argv)
    assert code == 0, err
    saved = json.loads(out)
    assert saved["directory_url"] == directory.url and saved["dns_servers"] == ["9.9.9.9"]
    code, out, err = run_in_process(
        capsys, ["--datadir", str(tmp_path / "data"), "vpn", "list", "--json"]
    )
    assert code == 0 and len(json.loads(out)["exits"]) == 2, err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_in_process(capsys, ["vpn", "connect", "--help"])
    assert code == 0 and "usage: pkt-wallet vpn connect" in out and "--no-system-changes" in out
