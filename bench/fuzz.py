"""Fuzz every parser that reads bytes or text from outside: at least 1,000,000 inputs each.

Random, mutated real vectors and structure-aware inputs (tests/support/fuzzing.py) go to the
P2P, transaction, block, header, filter, address and URI parsers, the announcement and block
proof checks, the pool protocol, the VPN coordinator and exit replies, GitHub and explorer
answers, Steward proposal Markdown and the Electorium node answers (tests/support/
fuzz_targets.py). Prints inputs per second and the count of untyped exceptions per parser
(the goal is 0); an untyped exception's first example is written to --examples DIR.

Run: .venv/bin/python bench/fuzz.py [--count N] [--jobs J] [--seed S] [TARGET ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fuzz_targets import all_targets, target_named  # noqa: E402
from tests.support.fuzzing import FuzzResult, run_target  # noqa: E402

CHUNK = 50_000


def _chunk(name: str, count: int, seed: int) -> FuzzResult:
    return run_target(target_named(name), count, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="*", help="parsers to fuzz (default: all)")
    ap.add_argument("--count", type=int, default=1_000_000, help="inputs per parser")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--seed", type=int, default=20261208)
    ap.add_argument("--examples", type=Path, help="write each untyped input here")
    ap.add_argument("--list", action="store_true", help="list the parsers and exit")
    args = ap.parse_args(argv)
    targets = all_targets()
    if args.list:
        for t in targets:
            print(f"{t.name:28} {t.kind:6} typed: {', '.join(e.__name__ for e in t.typed) or '-'}")
        return 0
    names = args.targets or [t.name for t in targets]
    unknown = set(names) - {t.name for t in targets}
    if unknown:
        ap.error(f"unknown parser(s): {', '.join(sorted(unknown))} (see --list)")

    print(f"{args.count:,} inputs per parser, {args.jobs} process(es), seed {args.seed}")
    print(f"{'parser':28} {'inputs':>11} {'inputs/s':>10} {'rejected':>9} {'untyped':>8}")
    total_untyped = 0
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name in names:
            t0 = time.perf_counter()
            futures = []
            done = 0
            index = 0
            while done < args.count:
                n = min(CHUNK, args.count - done)
                seed = args.seed * 1_000_003 + zlib.crc32(name.encode()) % 100_000 * 1000 + index
                futures.append(pool.submit(_chunk, name, n, seed))
                done += n
                index += 1
            result = FuzzResult(name)
            cpu = 0.0
            for f in futures:
                part = f.result()
                cpu += part.seconds
                result.merge(part)
            wall = time.perf_counter() - t0
            per_process = result.inputs / cpu if cpu else 0.0
            rejected = result.typed_errors / result.inputs if result.inputs else 0.0
            print(
                f"{name:28} {result.inputs:>11,} {per_process:>10,.0f} {rejected:>8.0%} "
                f"{result.untyped_count:>8}   ({wall:.0f} s)",
                flush=True,
            )
            for key, u in result.untyped.items():
                print(f"    {u.count} x {key}: {u.where}", flush=True)
                if args.examples:
                    args.examples.mkdir(parents=True, exist_ok=True)
                    safe = key.replace("/", "_").replace(" ", "_").replace(":", "_")[-120:]
                    (args.examples / f"{name}-{safe}.bin").write_bytes(u.example)
            total_untyped += result.untyped_count
    print(f"untyped exceptions in all: {total_untyped}   ({time.perf_counter() - started:.0f} s)")
    return 1 if total_untyped else 0


if __name__ == "__main__":
    raise SystemExit(main())
