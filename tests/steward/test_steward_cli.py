"""`pkt-wallet steward …` against the loopback servers: in a subprocess (`python -m app`), and
in-process through `app.cli.main` where many runs are needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main

from .fake_servers import FakeServers

ROOT = Path(__file__).resolve().parents[2]
NS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"


def cli(
    datadir: Path, *args: str, stdin: str | None = None, pre: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    # never touch the developer's real OS keyring
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", "--datadir", str(datadir), *pre, "steward", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        input=stdin,
        timeout=60,
    )


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
    return p.stderr


class InProcess:
    """`main()` with the same arguments as `cli()`; stdout/stderr from capsys."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, datadir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        self.capsys.readouterr()
        code = main(["--datadir", str(datadir), "steward", *args])
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)


def test_refresh_list_show_offline(
    servers: FakeServers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Subprocess runs for the main path; in-process runs for the variations."""
    run = InProcess(capsys)
    d = tmp_path / "data"
    p = run(d, "list")
    assert p.returncode == 0 and "no proposals cached yet" in p.stdout
    p = cli(d, "refresh", "--api-url", servers.base_url)
    assert p.returncode == 0, p.stderr
    assert "refreshed 10 proposals" in p.stdout and "rate limit" in p.stdout
    assert "last refreshed" in p.stdout
    assert (d / "steward.sqlite").exists()

    p = cli(d, "list")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "STATUS", "DATE", "REQUESTED"]
    assert lines[1].startswith("2024_02_01_new_network_steward") and "in progress" in lines[1]
    assert "16,000,000 PKT" in lines[1]
    assert lines[-1].startswith("10 of 10 proposals · last refreshed")

    p = run(d, "list", "--status", "rejected", "--json")
    data = json.loads(p.stdout)
    assert [x["pull_requests"] for x in data["proposals"]] == [[72], [12]]
    assert data["cache"]["last_refreshed"] and data["cache"]["complete"] is True
    capsys.readouterr()
    assert main(["--datadir", str(d), "--json", "steward", "list", "--search", "mattermost"]) == 0
    (only,) = json.loads(capsys.readouterr().out)["proposals"]  # the global --json works too
    assert only["status"] == "proposed" and only["requested_pkt"] == 600000
    p = run(d, "list", "--min-pkt", "40000000")
    assert [ln.split()[0] for ln in p.stdout.splitlines()[1:-1]] == [
        "2020_07_25_tokenstrike",
        "2019_12_14_pkt-whitepaper-website",
    ]

    p = cli(d, "show", "tokenstrike")
    assert p.returncode == 0
    assert p.stdout.startswith("TokenStrike\n")
    for text in (
        "status        accepted",
        "40mn (40,000,000 PKT)",
        "#34 merged",
        "## Project summary",
    ):
        assert text in p.stdout
    p = run(d, "show", "#12", "--json", "--no-body")
    shown = json.loads(p.stdout)
    assert (
        shown["status"] == "rejected" and shown["parsed"]["title"] == "Cjdns wifi based interface"
    )

    # offline: the server is gone, the cache still answers
    servers.stop()
    p = cli(d, "list", "--status", "complete")
    assert p.returncode == 0 and "4 of 10 proposals · last refreshed" in p.stdout
    p = run(d, "show", "steward")
    assert p.returncode == 0 and "New Network Steward Vote" in p.stdout
    err = one_line_error(cli(d, "refresh"))
    assert "cannot reach 127.0.0.1" in err and "connection refused" in err
    err = one_line_error(run(d, "show", "no such thing"))
    assert "no proposal matches" in err


def test_election_and_vote(
    servers: FakeServers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = InProcess(capsys)
    d = tmp_path / "data"
    p = cli(d, "election", "--explorer-url", servers.explorer_url)
    assert p.returncode == 0, p.stderr
    assert f"Network Steward   {NS}" in p.stdout and "(current steward)" in p.stdout
    assert "candidates        2" in p.stdout
    p = run(d, "election", "--json")
    data = json.loads(p.stdout)
    assert data["votes_needed"] == 756890419284638197 and data["from_cache"] is False

    err = one_line_error(run(d, "vote", NS))
    assert "pkt-wallet vote ADDR" in err and "--legacy-2019" in err
    p = run(d, "vote", NS, "--legacy-2019", "--json")
    vote = json.loads(p.stdout)
    assert vote["vote_for_script"] == (
        "0020d5c1005c0d4012d3ae2672319e7f9eb15a57516aeefabbbc062265f67e308f2b"
    )
    assert vote["vote_suffix"] == "22" + vote["vote_for_script"] + "0066"
    assert vote["wallet"] is None and vote["lifetime_blocks"] == 524160
    p = cli(d, "vote", NS, "--legacy-2019")
    assert "2019-2023 OP_VOTE system" in p.stdout
    assert "already vote for it" in p.stdout  # from the cached election state
    assert "vote again before" in p.stdout and "create or restore a wallet" in p.stdout
    err = one_line_error(run(d, "vote", "pkt1qnotanaddress", "--legacy-2019"))
    assert "invalid candidate address" in err

    servers.stop()
    p = run(d, "election")
    assert p.returncode == 0 and NS in p.stdout  # the cached state, with a warning
    assert p.stderr.startswith("warning: explorer API") and "unreachable" in p.stderr
    fresh = tmp_path / "fresh"
    err = one_line_error(cli(fresh, "election", "--explorer-url", servers.explorer_url))
    assert "unreachable" in err


def test_refresh_errors(
    servers: FakeServers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = InProcess(capsys)
    d = tmp_path / "data"
    err = one_line_error(run(d, "refresh", "--api-url", "http://127.0.0.1:9"))
    assert "refresh failed: cannot reach 127.0.0.1:9" in err
    err = one_line_error(run(d, "refresh", "--api-url", "ftp://example"))
    assert "not an http(s) URL" in err
    servers.malformed.add("/repos/pkt-cash/ns-projects/git/trees/master")
    err = one_line_error(run(d, "refresh", "--api-url", servers.base_url))
    assert "sent an invalid reply" in err
    servers.malformed.clear()
    assert run(d, "config", "--json").stdout.count("api.github.com") == 1  # not saved yet
    assert run(d, "refresh", "--api-url", servers.base_url).returncode == 0  # saved now
    servers.exhausted = True
    err = one_line_error(run(d, "refresh"))
    assert "rate limit exceeded; it resets at" in err and "cached data from" in err
    err = one_line_error(run(d, "refresh"))  # refused without asking until the reset
    assert "rate limit exceeded" in err
    p = run(d, "list")
    assert p.returncode == 0 and "10 of 10 proposals" in p.stdout
    assert run(d, "refresh", "--force").returncode == 1
    servers.exhausted = False
    p = run(d, "refresh", "--force")
    assert p.returncode == 0 and "13 unchanged (304)" in p.stdout
    # an incomplete refresh says so
    servers.core_limit = servers.core_used + 3
    p = run(tmp_path / "other", "refresh", "--api-url", servers.base_url)
    assert p.returncode == 0 and "incomplete:" in p.stdout and "refresh again after" in p.stdout


def test_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import keyring
    from keyring.errors import NoKeyringError

    def no_backend(*args: object) -> None:
        raise NoKeyringError("no backend")

    for name in ("get_password", "set_password", "delete_password"):
        monkeypatch.setattr(keyring, name, no_backend)
    run = InProcess(capsys)
    d = tmp_path / "data"
    p = run(d, "config", "--explorer-url", "http://127.0.0.1:1/api/v1/PKT/pkt/", "--json")
    assert json.loads(p.stdout)["explorer_api_url"] == "http://127.0.0.1:1/api/v1/PKT/pkt"
    p = run(d, "config", "--reset")
    assert "https://explorer.pkt.cash/api/v1/PKT/pkt" in p.stdout
    assert "https://api.github.com" in p.stdout
    monkeypatch.setattr("sys.stdin", io.StringIO("ghp_test\n"))
    p = run(d, "config", "--set-token")
    assert p.returncode == 0 and "no OS keyring available; stored unencrypted" in p.stdout
    assert "github_token      settings" in p.stdout
    p = run(d, "config", "--clear-token")
    assert p.returncode == 0 and "github_token      -" in p.stdout
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert "empty token" in one_line_error(run(d, "config", "--set-token"))
    p = run(d, "list", "--status", "maybe")
    assert "unknown status 'maybe'" in one_line_error(p)
    p = run(d)
    assert p.returncode == 0 and "STEWARD_COMMAND" in p.stdout
