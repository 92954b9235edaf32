"""Kill (SIGKILL) wallet writes and password changes at random moments and count what broke.

Scenarios (tests/support/kill_stress.py): labels, payments recorded as pending, a sync
recording coinbase payouts block by block with its scan position committed as it goes (the
wallet calls the light client's watcher makes), the same sync run by the light client against
a loopback peer (node-sync), and password changes of the key file. After
each kill: "corrupt" = the database fails PRAGMA integrity_check or does not open, or the key
file opens with neither password; "lost" = something the process printed as committed (after
the call returned) is missing, or a file still opens with an older password after the next
start. The goal is 0 / 0.

Run: .venv/bin/python bench/stress_kill.py [--kills N] [--seed S] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.kill_stress import SCENARIOS, stress  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", help=f"some of: {', '.join(SCENARIOS)} (all)")
    ap.add_argument("--kills", type=int, default=200, help="kills per scenario (200)")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    print(f"{args.kills} kills per scenario, seed {args.seed}")
    print(f"{'scenario':10} {'kills':>6} {'committed':>10} {'corrupt':>8} {'lost':>5} {'time':>7}")
    failures = 0
    for scenario in args.scenarios or SCENARIOS:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"stress-{scenario}-") as workdir:
            out = stress(scenario, args.kills, Path(workdir), args.seed)
        elapsed = time.perf_counter() - started
        print(
            f"{scenario:10} {out.kills:>6} {out.committed:>10,} {out.corrupt:>8} {out.lost:>5} "
            f"{elapsed:>6.0f}s",
            flush=True,
        )
        for problem in out.problems:
            print(f"    {problem}")
        failures += out.corrupt + out.lost
    print(f"corrupt + lost in all: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
