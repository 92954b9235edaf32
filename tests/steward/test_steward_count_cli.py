"""`pkt-wallet steward count --rpc URL` and the node saved with `steward config`: the count
from a loopback full node's vote RPC, with the node's own result beside it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spv.params import MAINNET

from .electorium_data import named_address
from .fake_pktd_rpc import FakePktdRpc, tennessee_node
from .test_steward_cli import InProcess, one_line_error

NASHVILLE = named_address("Nashville").encode(MAINNET)


@pytest.fixture
def node() -> Iterator[FakePktdRpc]:
    fake = tennessee_node()
    yield fake
    fake.stop()


def test_count_from_a_node(
    node: FakePktdRpc,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    run = InProcess(capsys)
    d = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO(node.password + "\n"))
    p = run(d, "count", "--rpc", node.url, "--rpc-user", node.user, "--rpc-password-stdin")
    assert p.returncode == 0, p.stderr
    assert f"winner            {NASHVILLE}" in p.stdout
    assert f"node's winner     {NASHVILLE} (agrees with this count)" in p.stdout
    assert node.password not in p.stdout + p.stderr
    # without a password: the node refuses, one line, no password shown
    err = one_line_error(run(d, "count", "--rpc", node.url, "--rpc-user", node.user))
    assert "refused the RPC user name or password" in err
    # saved once, then counted without options
    monkeypatch.setattr("sys.stdin", io.StringIO(node.password + "\n"))
    p = run(d, "config", "--node-url", node.url, "--node-user", node.user, "--set-node-password")
    assert p.returncode == 0 and "node password stored in" in p.stdout
    assert "node_rpc_password settings" in p.stdout  # no OS keyring here: in the settings
    assert f"node_rpc_url      {node.url}" in p.stdout and node.password not in p.stdout
    p = run(d, "count", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["winner"] == NASHVILLE and data["node_agrees"] is True
    err = one_line_error(run(d, "count", "--rpc", node.url, "somefile.json"))
    assert "not both" in err
    err = one_line_error(run(d, "config", "--node-url", "ftp://x"))
    assert "http:// or https://" in err
