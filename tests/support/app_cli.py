"""Running the `pkt-wallet` CLI as a program (`python -m app`) on a regtest data directory."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def app_command(datadir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--network", "regtest", "--datadir", str(datadir), *args]


def run_app(datadir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command(datadir, *args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
