"""`pkt-wallet ann-check` and `ann-mine`, run as `python -m app ...` in a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from miner import kernel
from miner.reference.announce import AnnHeader

from .conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_PARENT_DISPLAY = bytes(range(1, 33))[::-1].hex()
REAL_PARENT_DISPLAY = "255094b788fe98be51bafb4d941d507d4d5a949c751d1f68dfad0715215e1e48"
needs_native = pytest.mark.skipif(
    kernel.BACKEND != "native", reason="mining needs the C kernel miner._kernel (pip install -e .)"
)


def run(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=120,
        env=dict(os.environ),
    )


def test_ann_check_real_ann_from_stdin() -> None:
    proc = run(
        "ann-check",
        "--parent-hash",
        REAL_PARENT_DISPLAY,
        stdin=(DATA / "real_ann_v1.bin").read_bytes(),
    )
    assert proc.returncode == 0, proc.stderr
    expected = json.loads((DATA / "real_ann_v1.json").read_text())[
        "expected_work_hash_display_as_returned_by_pktd_checkpcann"
    ]
    assert proc.stdout.decode() == f"ok {expected}\n"


def test_ann_check_file_with_a_bad_ann(tmp_path: Path, synthetic_json: Any) -> None:
    blob = (DATA / "synthetic_mined_anns_v1.bin").read_bytes()[: 3 * 1024]
    bad = bytearray(blob)
    bad[1024 + 500] ^= 1  # a sibling of the second ann
    path = tmp_path / "anns.bin"
    path.write_bytes(bytes(bad))
    proc = run("ann-check", "--parent-hash", SYNTHETIC_PARENT_DISPLAY, str(path))
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    work = [a["work_hash_internal_order"] for a in synthetic_json["anns"][:3]]
    assert lines == [
        f"ok {bytes.fromhex(work[0])[::-1].hex()}",
        "fail INVAL_MERKLE",
        f"ok {bytes.fromhex(work[2])[::-1].hex()}",
    ]
    proc = run("--json", "ann-check", "--parent-hash", SYNTHETIC_PARENT_DISPLAY, str(path))
    records = json.loads(proc.stdout)["announcements"]
    assert [r["result"] for r in records] == ["OK", "INVAL_MERKLE", "OK"]
    wrong_parent = run("ann-check", "--parent-hash", REAL_PARENT_DISPLAY, str(path))
    assert wrong_parent.stdout.decode().splitlines() == ["fail INVAL_ITEM4"] * 3


def in_process(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: bytes,
) -> tuple[int, str, str]:
    """Run the CLI in this process (the error paths; the subprocess tests cover the rest)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["--parent-hash", SYNTHETIC_PARENT_DISPLAY], b"x" * 1000, "not a whole number"),
        (["--parent-hash", SYNTHETIC_PARENT_DISPLAY], b"", "no announcements"),
        (["--parent-hash", "abcd"], b"x" * 1024, "32 bytes"),
        (["--parent-hash", "zz" * 32], b"x" * 1024, "not hexadecimal"),
        (["--parent-hash", SYNTHETIC_PARENT_DISPLAY, "/nonexistent/anns"], b"", "cannot read"),
    ],
)
def test_ann_check_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: bytes,
    message: str,
) -> None:
    code, out, err = in_process(capsys, monkeypatch, ["ann-check", *argv], stdin)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@needs_native
def test_ann_mine_reproduces_the_reference_anns(tmp_path: Path) -> None:
    out = tmp_path / "mined.bin"
    proc = run(
        "ann-mine",
        "--parent-hash",
        SYNTHETIC_PARENT_DISPLAY,
        "--parent-height",
        "1000000",
        "--target",
        "0x20000fff",
        "--threads",
        "1",
        "--count",
        "3",
        "--hard-nonce",
        "0x12345678",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (DATA / "synthetic_mined_anns_v1.bin").read_bytes()[: 3 * 1024]
    assert b"mined 3 announcements" in proc.stdout


@needs_native
def test_ann_mine_threads_to_stdout_then_check(tmp_path: Path) -> None:
    signing_key = bytes(range(0x40, 0x60)).hex()
    proc = run(
        "ann-mine",
        "--parent-hash",
        SYNTHETIC_PARENT_DISPLAY,
        "--parent-height",
        "500000",
        "--target",
        str(0x2007FFFF),  # decimal, as a pool's config.json gives it
        "--threads",
        "2",
        "--count",
        "40",
        "--signing-key",
        signing_key,
        "--hard-nonce",
        "900",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) == 40 * 1024 and b"mined 40 announcements" in proc.stderr
    anns = [proc.stdout[i : i + 1024] for i in range(0, len(proc.stdout), 1024)]
    headers = [AnnHeader.from_bytes(a) for a in anns]
    assert {h.hard_nonce for h in headers} <= {900, 901, 902, 903}
    assert all(
        h.signing_key.hex() == signing_key and h.parent_block_height == 500000 for h in headers
    )
    check = run("ann-check", "--parent-hash", SYNTHETIC_PARENT_DISPLAY, stdin=proc.stdout)
    assert check.returncode == 0, check.stdout
    assert check.stdout.decode().count("ok ") == 40


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "0x21010000"], "not a usable compact target"),
        (["--target", "1f100000"], "0x-prefixed hex"),
        (["--parent-height", "103868"], "at least 103869"),
        (["--count", "0"], "--count"),
        (["--signing-key", "00"], "--signing-key"),
    ],
)
def test_ann_mine_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    base = {
        "--parent-hash": SYNTHETIC_PARENT_DISPLAY,
        "--parent-height": "1000000",
        "--target": "0x1f100000",
    }
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        base[flag] = value
    argv = ["ann-mine", *[x for pair in base.items() for x in pair]]
    code, out, err = in_process(capsys, monkeypatch, argv, b"")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err
