"""What every command module shares: the context a command receives, its errors and exit
codes, peer addresses, and the output helpers (JSON or text, amounts, the sync progress line).

Nothing here imports a command module; every command module may import this one.
"""

import argparse
import errno
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spv.node import SyncProgress
from spv.params import NetworkParams
from spv.units import format_amount

_OS_ERROR_TEXT = {
    errno.ENOENT: "{name} does not exist",
    errno.ENOTDIR: "{name} is not a folder (a file is in the way)",
    errno.EISDIR: "{name} is a folder, not a file",
    errno.EACCES: "no permission to use {name}",
    errno.EPERM: "no permission to use {name}",
    errno.ENOSPC: "the disk is full (writing {name})",
    errno.EROFS: "{name} is on a read-only disk",
    errno.EEXIST: "{name} already exists",
    errno.ENAMETOOLONG: "the name {name} is too long",
    errno.EMFILE: "too many files are open",
}


def describe_os_error(exc: OSError) -> str:
    """A file error as a sentence ("no permission to use /x"), not Python's "[Errno 13] ..."."""
    if type(exc).__module__ != "builtins" and exc.strerror and not exc.filename:
        return " ".join(exc.strerror.split())  # ours: the message is already a sentence
    name = f"'{exc.filename}'" if exc.filename else "a file"
    template = _OS_ERROR_TEXT.get(exc.errno) if exc.errno is not None else None
    if template is not None:
        return template.format(name=name)
    if exc.strerror:
        reason = exc.strerror[0].lower() + exc.strerror[1:]
        return f"{reason} ({exc.filename})" if exc.filename else reason
    return " ".join((str(exc) or type(exc).__name__).split())


EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CLIError(Exception):
    """An error to report to the user as one line."""


@dataclass(frozen=True)
class Peer:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_peer(text: str) -> Peer:
    """HOST:PORT, [IPv6]:PORT, or HOST alone (the network's default port is used later: 0)."""
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("empty peer address")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise argparse.ArgumentTypeError(f"bad peer address {text!r}: missing ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"bad peer address {text!r}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise argparse.ArgumentTypeError(f"bad peer address {text!r}: no host")
    port = 0
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise argparse.ArgumentTypeError(f"bad peer port in {text!r}")
        port = int(port_text)
    return Peer(host, port)


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds (not -5, 0, nan or inf)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def seconds_or_zero(text: str) -> float:
    """An argparse type: zero or a positive, finite number of seconds."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds")
    return value


@dataclass
class Context:
    """What every subcommand receives: the parsed options resolved to values."""

    params: NetworkParams
    datadir: Path
    json_output: bool
    peers: list[Peer]
    verbose: bool
    args: argparse.Namespace

    def emit(self, data: dict[str, Any], text_lines: Sequence[str]) -> None:
        if self.json_output:
            print(json.dumps(data, indent=2, sort_keys=True))
        else:
            for line in text_lines:
                print(line)


Command = Callable[[Context], int]


def coins_text(params: NetworkParams, units: int) -> str:
    """An amount as the user reads it: "1.5 PKT"."""
    return f"{format_amount(units, params.units_per_coin)} {params.coin_symbol}"


class ProgressPrinter:
    """One status line on stderr: rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._last_stage = ""

    def __call__(self, p: SyncProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if p.stage == self._last_stage and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last, self._last_stage = now, p.stage
        eta = f", ETA {p.eta:.0f} s" if p.eta else ""
        rate = f", {p.rate:,.0f}/s" if p.rate else ""
        line = (
            f"{p.stage}: height {p.height}/{p.target}, filter headers {p.filter_header_height}, "
            f"peers {p.peers}{rate}{eta}"
        )
        if self.tty:
            print("\r\033[K" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled and self.tty:
            print(file=sys.stderr)
