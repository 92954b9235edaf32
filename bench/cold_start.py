"""Start-up time of the desktop app: process start to the main window shown, event loop idle.

Launches the app N times (offscreen, regtest, an empty temporary data directory, so no network
and the first-run screen) with PKT_WALLET_EXIT_WHEN_SHOWN=1: the app prints "window shown
X s after process start" from a zero-delay timer after ``show()`` and quits (app/gui/app.py).
Two figures per run: the wall time measured here from launch to that line, and the app's own
figure (Linux /proc, 10 ms resolution). Goal: <= 2 s to the window for the bundle.

    .venv/bin/python bench/cold_start.py                      # the bundle, dist/pkt-wallet
    .venv/bin/python bench/cold_start.py --source             # python -m app from this tree
    .venv/bin/python bench/cold_start.py --exe PATH -n 10

The first run of a series may read the files from disk; later runs find them in the page
cache. The first run is printed on its own; dropping the cache needs root and is left out.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXE = ROOT / "dist" / "pkt-wallet" / "pkt-wallet"
SHOWN = re.compile(r"^window shown (?:(?P<inner>[0-9.]+) s after process start|\(no /proc\))")
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class StartRun:
    wall_s: float  # launch to the "window shown" line, measured by this script
    inner_s: float | None  # process start to the window, as the app measured it


def start_once(command: list[str]) -> StartRun:
    with tempfile.TemporaryDirectory(prefix="pkt-wallet-coldstart-") as datadir:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PKT_WALLET_EXIT_WHEN_SHOWN": "1"}
        args = [*command, "--network", "regtest", "--datadir", datadir]
        started = time.perf_counter()
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                match = SHOWN.match(line)
                if match:
                    wall = time.perf_counter() - started
                    inner = match.group("inner")
                    process.wait(TIMEOUT_S)
                    return StartRun(wall, float(inner) if inner else None)
            code = process.wait(TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    raise SystemExit(f"{' '.join(command)} exited ({code}) without showing the window")


def _summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values):.3f} s, min {min(values):.3f} s, "
        f"max {max(values):.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--exe", type=Path, default=DEFAULT_EXE, help="default: the bundle")
    source.add_argument("--source", action="store_true", help="run python -m app instead")
    parser.add_argument("-n", "--runs", type=int, default=5, help="default: 5")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.source:
        command = [sys.executable, "-m", "app"]
        label = "python -m app"
    else:
        if not args.exe.is_file():
            parser.error(f"{args.exe} does not exist (build it: make package)")
        command = [str(args.exe)]
        label = str(args.exe)
    print(f"{label}: {args.runs} starts to the main window (offscreen, regtest, empty datadir)")
    runs = []
    for number in range(1, args.runs + 1):
        run = start_once(command)
        inner = f"{run.inner_s:.3f} s" if run.inner_s is not None else "n/a"
        print(f"  run {number}: {run.wall_s:.3f} s wall (app: {inner})")
        runs.append(run)
    print(_summary("wall", [r.wall_s for r in runs]))
    inner_values = [r.inner_s for r in runs if r.inner_s is not None]
    if inner_values:
        print(_summary("app ", inner_values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
