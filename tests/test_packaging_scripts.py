"""The Linux archive's install.sh / uninstall.sh and .desktop file (packaging/linux/), run
against a stand-in bundle in a temporary HOME (the real bundle is checked in CI: .ci/run)."""

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")


def _unpacked_archive(where: Path) -> Path:
    """What build-linux.sh puts in the archive, with a one-line script as the program."""
    top = where / "pkt-wallet-0.0.0"
    (top / "pkt-wallet" / "_internal").mkdir(parents=True)
    program = top / "pkt-wallet" / "pkt-wallet"
    program.write_text('#!/bin/sh\necho "stand-in $*"\n')
    program.chmod(0o755)
    for name in ("pkt-wallet.desktop", "install.sh", "uninstall.sh", "qt-system-libs.sh"):
        shutil.copy2(LINUX / name, top / name)
    shutil.copy2(ROOT / "resources" / "icons" / "pkt-wallet.svg", top / "pkt-wallet.svg")
    return top


def _run(
    script: Path, home: Path, *args: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["sh", str(script), *args],
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_install_then_uninstall_in_a_temporary_home(tmp_path: Path) -> None:
    top = _unpacked_archive(tmp_path / "download")
    home = tmp_path / "home"
    home.mkdir()
    wallets = home / ".local" / "share" / "pkt-wallet" / "mainnet" / "wallets"
    wallets.mkdir(parents=True)
    (wallets / "default.wallet").write_text("{}")

    done = _run(top / "install.sh", home)
    assert done.returncode == 0, done.stderr
    opt = home / ".local" / "opt" / "pkt-wallet"
    link = home / ".local" / "bin" / "pkt-wallet"
    desktop = home / ".local" / "share" / "applications" / "pkt-wallet.desktop"
    icon = home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "pkt-wallet.svg"
    assert (opt / "pkt-wallet").is_file() and (opt / "_internal").is_dir()
    assert subprocess.run([str(link), "--self-test"], capture_output=True, text=True).stdout == (
        "stand-in --self-test\n"
    )
    assert icon.read_bytes() == (ROOT / "resources/icons/pkt-wallet.svg").read_bytes()
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(desktop)
    assert entry["Desktop Entry"]["Exec"] == f'"{opt}/pkt-wallet"'
    assert entry["Desktop Entry"]["Icon"] == "pkt-wallet"

    again = _run(top / "install.sh", home)  # an upgrade over the installed copy
    assert again.returncode == 0, again.stderr

    gone = _run(opt / "uninstall.sh", home)
    assert gone.returncode == 0, gone.stderr
    assert not opt.exists() and not link.exists() and not desktop.exists() and not icon.exists()
    assert (wallets / "default.wallet").read_text() == "{}"  # wallets are never removed
    assert str(wallets.parent.parent) in gone.stdout


def test_install_refuses_to_run_outside_the_archive(tmp_path: Path) -> None:
    lone = tmp_path / "install.sh"
    shutil.copy2(LINUX / "install.sh", lone)
    done = _run(lone, tmp_path)
    assert done.returncode == 1
    assert "run me from the unpacked archive" in done.stderr
    assert not (tmp_path / ".local" / "opt" / "pkt-wallet").exists()


def test_desktop_entry_has_the_required_keys() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(LINUX / "pkt-wallet.desktop")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "PKT Wallet"
    assert section["Exec"] == '"@BIN@"'  # install.sh fills in the path
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")


def _stand_in_qt(top: Path) -> Path:
    """The bundle's Qt as far as the check looks: the xcb plugin and a Qt library."""
    qt = top / "pkt-wallet" / "_internal" / "PySide6" / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "lib").mkdir(parents=True)
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    (qt / "lib" / "libQt6Core.so.6").write_bytes(b"\x7fELF")
    return top / "pkt-wallet"


def _ldd_saying(where: Path, lines: str) -> str:
    """A PATH whose ldd prints `lines` (what the dynamic linker would say)."""
    where.mkdir()
    ldd = where / "ldd"
    ldd.write_text(f"#!/bin/sh\ncat <<'EOF'\n{lines}\nEOF\n")
    ldd.chmod(0o755)
    return f"{where}:{os.environ['PATH']}"


MISSING = """\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibQt6Gui.so.6 => not found
\tlibunheard-of.so.9 => not found"""


def test_install_names_the_missing_system_packages(tmp_path: Path) -> None:
    top = _unpacked_archive(tmp_path / "download")
    _stand_in_qt(top)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".fonts").mkdir()
    (home / ".fonts" / "a.ttf").write_bytes(b"")  # fonts are there
    done = _run(top / "install.sh", home, path=_ldd_saying(tmp_path / "bin", MISSING))
    assert done.returncode == 3, done.stdout + done.stderr
    assert (home / ".local" / "opt" / "pkt-wallet" / "pkt-wallet").is_file()  # installed anyway
    assert "missing system packages: libxcb-icccm4 libxcb-keysyms1" in done.stdout
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in done.stdout
    assert "libunheard-of.so.9" in done.stdout  # named, though no package is known for it
    assert "libQt6" not in done.stdout  # Qt's own libraries are the bundle's business


def test_the_library_check_passes_when_nothing_is_missing(tmp_path: Path) -> None:
    qt = _stand_in_qt(tmp_path / "top")
    home = tmp_path / "home"
    (home / ".fonts").mkdir(parents=True)
    (home / ".fonts" / "a.ttf").write_bytes(b"")
    ok = _run(
        LINUX / "qt-system-libs.sh",
        home,
        "check",
        str(qt),
        path=_ldd_saying(tmp_path / "bin", "\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)"),
    )
    assert ok.returncode == 0 and ok.stdout == "", ok.stdout + ok.stderr
