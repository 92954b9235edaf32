"""What every command module shares: the context a command receives, its errors and exit
codes, peer addresses, and the output helpers (JSON or text, amounts, the sync progress line).

Nothing here imports a command module; every command module may import this one.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spv.node import SyncProgress
from spv.params import NetworkParams
from spv.units import format_amount

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
