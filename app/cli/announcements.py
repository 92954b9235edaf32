"""CLI commands for PacketCrypt announcements: `ann-check` and `ann-mine` (offline).

Hashes are given and printed in display order (byte-reversed, as explorers and pktd's RPCs
show them). Both commands go through miner.kernel: the C kernel when it is built, the
pure-Python reference otherwise (`ann-mine` then says how slow that is).
"""

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from miner import kernel
from miner.reference import difficulty
from miner.reference.announce import ANN_SIZE, MIN_V1_PARENT_HEIGHT

from .common import CLIError, Context, describe_os_error


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "ann-check",
        help="validate PacketCrypt announcements (1024-byte records from a file or stdin)",
        description="Validate concatenated 1024-byte announcements against their parent block. "
        "Prints 'ok <work hash>' or 'fail <REASON>' per announcement; exit status 0 only if "
        "all are valid.",
    )
    p.add_argument(
        "--parent-hash", required=True, metavar="HEX", help="parent block hash, display order"
    )
    p.add_argument("file", nargs="?", default="-", help="file of announcements (default: stdin)")
    p.set_defaults(handler=cmd_ann_check)

    p = sub.add_parser(
        "ann-mine",
        help="mine PacketCrypt announcements offline",
        description="Mine announcements for a parent block and write them (1024 bytes each) to "
        "--out or stdout. Every thread mines its own hard nonces of the same job.",
    )
    p.add_argument(
        "--parent-hash", required=True, metavar="HEX", help="parent block hash, display order"
    )
    p.add_argument("--parent-height", required=True, type=int, metavar="N")
    p.add_argument(
        "--target",
        required=True,
        metavar="BITS",
        help="compact target: 0x-prefixed hex (0x1f100000 = work 4096) or decimal as in a "
        "pool's config.json annTarget (521142272)",
    )
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, metavar="T")
    p.add_argument("--count", type=int, default=1, metavar="K", help="announcements to mine")
    p.add_argument("--out", metavar="FILE", help="write the announcements here (default stdout)")
    p.add_argument(
        "--signing-key", metavar="HEX", help="the pool's 32-byte signing key (default none)"
    )
    p.add_argument(
        "--hard-nonce",
        type=lambda s: int(s, 0),
        metavar="N",
        help="first hard nonce (miner id); default random. Thread w starts at N + w",
    )
    p.set_defaults(handler=cmd_ann_mine)


def _parent_hash(text: str) -> bytes:
    cleaned = text.strip().lower()
    if cleaned.startswith("0x"):
        cleaned = cleaned[2:]
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        raise CLIError("--parent-hash is not hexadecimal") from None
    if len(raw) != 32:
        raise CLIError(f"--parent-hash must be 32 bytes (64 hex digits), got {len(raw)}")
    return raw[::-1]


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        with open(name, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise CLIError(f"cannot read it: {describe_os_error(exc)}") from None


def cmd_ann_check(ctx: Context) -> int:
    parent = _parent_hash(ctx.args.parent_hash)
    data = _read_input(ctx.args.file)
    if len(data) % ANN_SIZE:
        raise CLIError(
            f"input is {len(data)} bytes, not a whole number of {ANN_SIZE}-byte announcements"
        )
    if not data:
        raise CLIError("no announcements in the input")
    anns = [data[i : i + ANN_SIZE] for i in range(0, len(data), ANN_SIZE)]
    workers = min(len(anns), os.cpu_count() or 1) if kernel.BACKEND == "native" else 1
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda ann: kernel.validate(ann, parent), anns))
    else:
        results = [kernel.validate(ann, parent) for ann in anns]
    records: list[dict[str, Any]] = []
    lines = []
    for index, result in enumerate(results):
        if result.ok:
            lines.append(f"ok {result.work_hash_display}")
        else:
            lines.append(f"fail {result.code.value}")
        records.append(
            {
                "index": index,
                "ok": result.ok,
                "result": result.code.value,
                "work_hash": result.work_hash_display,
            }
        )
    ctx.emit({"backend": kernel.BACKEND, "announcements": records}, lines)
    return 0 if all(r.ok for r in results) else 1


def _target(text: str) -> int:
    cleaned = text.strip().lower()
    try:
        bits = int(cleaned, 16) if cleaned.startswith("0x") else int(cleaned, 10)
    except ValueError:
        raise CLIError(
            f"--target {text!r}: give the compact target as 0x-prefixed hex or as decimal"
        ) from None
    if not 0 < bits <= difficulty.MAX_COMPACT or difficulty.compact_to_target(bits) <= 0:
        raise CLIError(
            f"--target {text!r} is not a usable compact target (0 < target <= 0x207fffff)"
        )
    return bits


def cmd_ann_mine(ctx: Context) -> int:
    args = ctx.args
    parent = _parent_hash(args.parent_hash)
    bits = _target(args.target)
    if not MIN_V1_PARENT_HEIGHT <= args.parent_height <= 0xFFFFFFFF:
        raise CLIError(
            f"--parent-height must be at least {MIN_V1_PARENT_HEIGHT}: version-1 announcements "
            "with an older parent are invalid"
        )
    if args.count < 1:
        raise CLIError("--count must be at least 1")
    if args.threads < 1:
        raise CLIError("--threads must be at least 1")
    signing_key = bytes(32)
    if args.signing_key:
        try:
            signing_key = bytes.fromhex(args.signing_key)
        except ValueError:
            raise CLIError("--signing-key is not hexadecimal") from None
        if len(signing_key) != 32:
            raise CLIError("--signing-key must be 32 bytes (64 hex digits)")
    hard_nonce = args.hard_nonce
    if hard_nonce is None:
        hard_nonce = int.from_bytes(os.urandom(4), "little")
    if not 0 <= hard_nonce <= 0xFFFFFFFF:
        raise CLIError("--hard-nonce must be a 32-bit unsigned integer")

    if kernel.BACKEND != "native":
        print(
            f"warning: {kernel.BACKEND_REASON}; pure-Python mining needs minutes per hard nonce",
            file=sys.stderr,
        )
    out: IO[bytes]
    to_stdout = args.out is None
    if to_stdout:
        out = sys.stdout.buffer
        hex_lines = sys.stdout.isatty()
    else:
        try:
            out = open(args.out, "wb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise CLIError(f"cannot write it: {describe_os_error(exc)}") from None
        hex_lines = False

    def write(ann: bytes) -> None:
        out.write(ann.hex().encode() + b"\n" if hex_lines else ann)
        out.flush()

    start = time.perf_counter()
    try:
        stats = kernel.mine_threads(
            parent,
            args.parent_height,
            bits,
            signing_key,
            threads=args.threads,
            hard_nonce_base=hard_nonce,
            max_anns=args.count,
            on_ann=write,
        )
    finally:
        if not to_stdout:
            out.close()
    elapsed = time.perf_counter() - start
    summary = {
        "announcements": stats.anns,
        "threads": stats.threads,
        "backend": kernel.BACKEND,
        "seconds": round(elapsed, 3),
        "hashes": stats.hashes,
        "hard_nonces": stats.jobs,
        "first_hard_nonce": hard_nonce,
        "out": args.out,
    }
    rate = stats.anns / elapsed if elapsed > 0 else 0.0
    line = (
        f"mined {stats.anns} announcements in {elapsed:.1f} s ({rate:.1f}/s, "
        f"{stats.hashes / elapsed if elapsed > 0 else 0:,.0f} hashes/s, {stats.threads} "
        f"threads, {stats.jobs} hard nonces, backend {kernel.BACKEND})"
    )
    if to_stdout:
        print(line, file=sys.stderr)
    else:
        ctx.emit(summary, [line + f" -> {args.out}"])
    return 0
