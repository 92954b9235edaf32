"""`pkt-wallet --self-test` (app/selftest.py), resource lookup (app/resources.py) and the
window-shown probe used by bench/cold_start.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest
from app.resources import resource_path, resources_dir
from miner import kernel

ROOT = Path(__file__).resolve().parent.parent
needs_native = pytest.mark.skipif(
    "native" not in kernel.available_backends(), reason="miner._kernel is not built"
)


def _run_app(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_native
def test_self_test_passes_in_process() -> None:
    report = selftest.run_self_test()
    line = selftest.format_report(report)
    assert report.ok, line
    assert [r.name for r in report.results] == ["kernel", "mine", "address", "wallet", "window"]
    assert line.startswith("self-test PASS")
    assert "\n" not in line
    assert selftest.VECTOR_ADDRESS in line


@needs_native
def test_self_test_flag_exits_zero_with_a_one_line_report() -> None:
    done = _run_app(["--self-test"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("self-test PASS"), done.stdout
    assert "kernel ok: C kernel miner._kernel" in lines[0]


def test_self_test_fails_with_exit_one_when_the_kernel_is_not_the_native_one() -> None:
    """PKT_MINER_BACKEND=reference makes the app mine with the pure-Python reference: the
    installation would be unusably slow, and the self-test says so."""
    done = _run_app(["--self-test"], PKT_MINER_BACKEND="reference")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("self-test FAIL")
    assert "kernel FAILED: mining backend is reference" in done.stdout
    assert "address ok" in done.stdout  # the other checks still ran


def test_a_failing_check_fails_the_report_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "wallet").write_text("a file where the wallet directory should go")
    failed = selftest.check_wallet_round_trip(tmp_path)
    assert not failed.ok and failed.name == "wallet"
    assert failed.detail and "\n" not in failed.detail
    report = selftest.SelfTestReport((selftest.check_address_vector(tmp_path), failed), 0.1)
    assert not report.ok
    line = selftest.format_report(report)
    assert line.startswith("self-test FAIL") and "address ok" in line
    assert f"wallet FAILED: {failed.detail}" in line


def test_an_empty_report_is_not_a_pass() -> None:
    assert not selftest.SelfTestReport((), 0.0).ok


def test_address_check_uses_the_vector_file_values() -> None:
    import json

    vectors = json.loads((ROOT / "tests/data/pkt/seedwords_hd_vectors.json").read_text())
    vector = next(v for v in vectors["seedwords_vectors"] if str(v["vector"]) == "1")
    assert vector["words"] == selftest.VECTOR_WORDS
    assert vector["encoded_21_bytes_hex_before_guard_bits"] == selftest.VECTOR_ENCODED_HEX
    assert vector["seed_bytes_19_hex"] == selftest.VECTOR_SEED_HEX
    entry = next(a for a in vector["addresses"] if a["Path"] == selftest.VECTOR_PATH)
    assert entry["Address"] == selftest.VECTOR_ADDRESS


def test_resources_come_from_the_source_tree_or_the_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert resources_dir() == ROOT / "resources"
    assert resource_path("icons/pkt-wallet.svg").is_file()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("icons/pkt-wallet.svg") == tmp_path / "resources/icons/pkt-wallet.svg"


def test_window_shown_probe_prints_and_exits(tmp_path: Path) -> None:
    done = _run_app(
        ["--network", "regtest", "--datadir", str(tmp_path)], PKT_WALLET_EXIT_WHEN_SHOWN="1"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("window shown ")


def test_window_check_fails_when_the_bundled_icon_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An installation without its resources/ folder fails the self-test (real lookup)."""
    monkeypatch.setattr("app.resources.SOURCE_ROOT", tmp_path)
    result = selftest.check_main_window(tmp_path)
    assert not result.ok
    assert "pkt-wallet.svg does not load" in result.detail


# --- the window check: the real display, or a failure that says why ---------------------------


def _window_check(tmp_path: Path, **env: str) -> selftest.CheckResult:
    old = {name: os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    try:
        for name in old:
            os.environ.pop(name, None)
        os.environ.update(env)
        return selftest.check_main_window(tmp_path)
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_window_check_fails_without_a_display(tmp_path: Path) -> None:
    """No display and no QT_QPA_PLATFORM=offscreen: not a PASS on a window never drawn."""
    result = _window_check(tmp_path)
    assert not result.ok and "no display" in result.detail
    assert "QT_QPA_PLATFORM=offscreen" in result.detail


def test_window_check_names_missing_system_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import qt_libraries

    monkeypatch.setattr(
        qt_libraries, "missing_libraries", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    )
    result = _window_check(tmp_path, DISPLAY=":0", QT_QPA_PLATFORM="xcb")
    assert not result.ok
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in result.detail


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb platform")
def test_window_check_fails_with_qts_reason_when_the_window_cannot_open(tmp_path: Path) -> None:
    """Qt ends the process when it cannot reach the display: the check says what Qt said."""
    result = _window_check(tmp_path, DISPLAY=":4077", QT_QPA_PLATFORM="xcb")  # no such display
    assert not result.ok
    assert "could not connect to display" in result.detail or "missing" in result.detail


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (make test installs it)")
def test_window_check_uses_the_real_display(tmp_path: Path) -> None:
    from tests.support.xvfb import xvfb

    with xvfb() as env:
        result = _window_check(tmp_path, DISPLAY=env["DISPLAY"])  # no platform asked for
    assert result.ok, result.detail
    assert result.detail.startswith("xcb: ")
