"""The data folder and leftover secrets (issue 16): folders private whatever the umask, no file
opening with the old password after `change-password` (even when it is killed), temporaries of
killed writes removed at the next start, and the CLI's plain words for what goes wrong."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.cli.main import main
from app.paths import prepare_datadir
from app.wallet import keystore
from spv.atomic import atomic_write, make_private_dir, remove_stale_temporaries

ROOT = Path(__file__).resolve().parent.parent
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def cli(*argv: str, stdin: str = "", umask: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def opens_with(folder: Path, password: str) -> list[str]:
    found = []
    for p in sorted(folder.iterdir()):
        try:
            keystore.open_wallet(p, password)
        except (keystore.KeystoreError, OSError):
            continue
        found.append(p.name)
    return found


# --- private folders ------------------------------------------------------------------------------


def test_folders_are_private_under_umask_000(tmp_path: Path) -> None:
    datadir = tmp_path / "new" / "mainnet"
    done = cli("--datadir", str(datadir), "create", "--password-stdin", stdin="pw\n", umask=0)
    assert done.returncode == 0, done.stderr
    assert cli("--datadir", str(datadir), "chain-info", umask=0).returncode == 0
    for folder in (tmp_path / "new", datadir, datadir / "wallets", datadir / "chain"):
        assert mode(folder) == 0o700, folder
    for name in ("default.wallet", "default.db"):
        assert mode(datadir / "wallets" / name) == 0o600


def test_make_private_dir_ignores_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        make_private_dir(tmp_path / "a" / "b" / "c")
        atomic_write(tmp_path / "x" / "y" / "file", b"data")
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "a/b/c", "x", "x/y"):
        assert mode(tmp_path / folder) == 0o700
    assert mode(tmp_path / "x" / "y" / "file") == 0o600
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError):
        make_private_dir(tmp_path / "f" / "sub")


def test_start_makes_older_folders_private(tmp_path: Path) -> None:
    """Folders an older version (or the umask) left group/world readable are tightened."""
    for name in ("wallets", "chain", "steward", "logs"):
        (tmp_path / name).mkdir(mode=0o755)
        os.chmod(tmp_path / name, 0o755)
    os.chmod(tmp_path, 0o777)
    assert main(["--datadir", str(tmp_path), "wallets"]) == 0
    assert mode(tmp_path) == 0o700
    assert all(mode(tmp_path / n) == 0o700 for n in ("wallets", "chain", "steward", "logs"))


# --- temporaries of killed writes ------------------------------------------------------------------


def test_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    chain = tmp_path / "chain"
    chain.mkdir()
    stale = chain / f".headers.idx.{dead_pid}.abcd1234.tmp"
    live = chain / f".headers.idx.{os.getpid()}.abcd1234.tmp"
    old_style = chain / ".peers.json.k2j4h5g6.tmp"
    young_old_style = chain / ".scan.json.q1w2e3r4.tmp"
    unrelated = chain / ".notes.tmp"
    for p in (stale, live, old_style, young_old_style, unrelated):
        p.write_bytes(b"x")
    os.utime(old_style, (time.time() - 3600, time.time() - 3600))
    removed = remove_stale_temporaries(chain)
    assert sorted(removed) == sorted([stale, old_style])
    assert live.exists() and young_old_style.exists() and unrelated.exists()


# --- change-password ---------------------------------------------------------------------------------

KILL_AT_REPLACE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    real_replace = os.replace
    when = sys.argv.pop(1)

    def replace(src, dst):
        if str(dst).endswith("default.wallet") and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)  # the new file is written, not yet in place
        real_replace(src, dst)
        if str(dst).endswith("default.wallet") and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)  # in place, nothing after it ran

    os.replace = replace
    from app.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_during_change_password(tmp_path: Path, when: str) -> None:
    """SIGKILL with the new key file written but not renamed, or just renamed: the key file
    opens with one of the passwords, the next start removes the temporary, and afterwards no
    file in the folder opens with the old password once the change went through."""
    wallets = tmp_path / "wallets"
    assert (
        cli("--datadir", str(tmp_path), "create", "--password-stdin", stdin="old pw\n").returncode
        == 0
    )
    # an older version's backup under the old password (what issue 16 found)
    keystore.create(
        wallets / "default.wallet",
        keystore.open_wallet(wallets / "default.wallet", "old pw"),
        "old pw",
        overwrite=True,
    )
    assert opens_with(wallets, "old pw") == ["default.wallet", "default.wallet.bak"]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_REPLACE, when, "--datadir", str(tmp_path),
         "change-password", "--password-stdin"],
        input="old pw\nnew pw\n", capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    temporaries = list(wallets.glob(".default.wallet.*.tmp"))
    if when == "before":
        assert len(temporaries) == 1  # the seed under the new password, left behind
        assert opens_with(wallets, "old pw") == ["default.wallet"]  # the .bak went first
        assert keystore.open_wallet(temporaries[0], "new pw")
    else:
        assert temporaries == []
        assert opens_with(wallets, "old pw") == []
        assert opens_with(wallets, "new pw") == ["default.wallet"]
    assert cli("--datadir", str(tmp_path), "wallets").returncode == 0  # the next start
    assert list(wallets.glob(".*.tmp")) == []
    password = "old pw" if when == "before" else "new pw"
    assert opens_with(wallets, password) == ["default.wallet"]
    other = "new pw" if when == "before" else "old pw"
    assert opens_with(wallets, other) == []


def test_change_password_leaves_nothing_for_the_old_password(tmp_path: Path) -> None:
    wallets = tmp_path / "wallets"
    assert (
        cli("--datadir", str(tmp_path), "create", "--password-stdin", stdin="old pw\n").returncode
        == 0
    )
    done = cli("--datadir", str(tmp_path), "change-password", "--password-stdin",
               stdin="old pw\nnew pw\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert opens_with(wallets, "old pw") == []
    assert opens_with(wallets, "new pw") == ["default.wallet"]
    header = keystore.read_header(wallets / "default.wallet")
    assert header["kdf"]["name"] == "argon2id" and header["kdf"]["params"]["memory_kib"] >= 65536


# --- what the CLI says -------------------------------------------------------------------------------


def test_datadir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file"
    f.write_text("")
    assert main(["--datadir", str(f), "balance"]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"error: the data directory {f} is a file, not a folder; give a folder with --datadir\n"
    )
    assert main(["--datadir", str(f / "sub"), "balance"]) == 1
    assert f"{f} is a file" in capsys.readouterr().err


def test_file_errors_are_sentences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not "[Errno 20] Not a directory: ..." (issue 16)."""
    (tmp_path / "wallets").write_text("")
    code = main(["--datadir", str(tmp_path), "balance"])
    err = capsys.readouterr().err
    assert code == 1 and "[Errno" not in err
    assert "is not a folder" in err or "no wallet" in err
    code = main(["--datadir", str(tmp_path), "decode-tx", f"@{tmp_path}"])
    err = capsys.readouterr().err
    assert code == 1 and err == f"error: cannot read it: '{tmp_path}' is a folder, not a file\n"


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "soon"])
def test_sync_timeout_must_be_a_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--timeout", value]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_amount_below_one_unit(tmp_path: Path) -> None:
    assert (
        cli("--datadir", str(tmp_path), "create", "--password-stdin", stdin="pw\n").returncode == 0
    )
    done = cli("--datadir", str(tmp_path), "send", NS_ADDRESS, "0.000000000001", "--yes",
               "--offline", "--password-stdin", stdin="pw\n")  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        "error: 0.000000000001 PKT is less than the smallest amount, one unit (0.000000001 PKT): "
        "too many decimal places\n"
    )
    uri = cli("parse-uri", f"pkt:{NS_ADDRESS}?amount=0.0000000001")
    assert uri.returncode == 1 and "less than the smallest amount" in uri.stderr


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "app", "mine", "--list-pools"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written (`| head -0`)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == b""


def test_a_damaged_wallet_database_names_the_repair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reports damage from any query, long after the database opened."""
    import app.cli.wallet as wallet_commands

    def damaged(ctx: object) -> int:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(wallet_commands, "cmd_balance", damaged)
    assert main(["--datadir", str(tmp_path), "balance", "--wallet", "savings"]) == 1
    assert capsys.readouterr().err == (
        "error: the wallet database is damaged: pkt-wallet repair --wallet savings rebuilds it "
        "from the key file (your password is needed)\n"
    )


def test_prepare_datadir_leaves_a_missing_folder_to_be_made_later(tmp_path: Path) -> None:
    prepare_datadir(tmp_path / "not" / "yet")
    assert not (tmp_path / "not").exists()
