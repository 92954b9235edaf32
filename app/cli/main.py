"""`pkt-wallet`: with no subcommand it opens the desktop window; otherwise it is the CLI.

This module holds the root of the argparse tree (the global options) and asks each command
group module to add its subcommands; `main` turns the options into a `Context` and runs the
chosen command's handler.

Errors are one line on stderr and a non-zero exit status; `--verbose` shows tracebacks. A
closed pipe (`pkt-wallet history | head`) ends the command quietly, as other tools do.
"""

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from spv.errors import ChainError
from spv.params import NETWORKS, network_by_name

from .. import __version__
from ..database_errors import database_error_text
from ..paths import default_datadir, prepare_datadir
from . import announcements, chain, mining, steward, vpn, wallet
from .common import (
    EXIT_ERROR,
    EXIT_USAGE,
    CLIError,
    Command,
    Context,
    describe_os_error,
    parse_peer,
)

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a tool killed by a closed pipe returns."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pkt-wallet",
        description="PKT desktop wallet. Without a command it opens the desktop window.",
    )
    parser.add_argument("--version", action="version", version=f"pkt-wallet {__version__}")
    parser.add_argument(
        "--network", choices=sorted(NETWORKS), default="mainnet", help="default: mainnet"
    )
    parser.add_argument(
        "--datadir", type=Path, help="data directory (default: per user, per network)"
    )
    parser.add_argument(
        "--json", dest="json_output", action="store_true", help="machine-readable output"
    )
    parser.add_argument(
        "--peer",
        action="append",
        type=parse_peer,
        default=[],
        metavar="HOST:PORT",
        help="connect to this peer (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (mining kernel, keys, wallet file, window) and exit",
    )
    parser.add_argument(  # the self-test's window check runs in a child process (app/selftest.py)
        "--self-test-window", metavar="DATADIR", help=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # the order of the command list in --help
    chain.register(sub)
    mining.register(sub)
    vpn.register(sub)
    announcements.register(sub)
    steward.register(sub)
    wallet.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage or help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        from ..selftest import main as run_self_test

        return run_self_test()
    if args.self_test_window:
        from ..selftest import window_child_main

        return window_child_main(args.self_test_window)
    handler: Command | None = getattr(args, "handler", None)
    if handler is None:
        handler = _start_desktop_app
    try:
        params = network_by_name(args.network)
        ctx = Context(
            params=params,
            datadir=args.datadir if args.datadir else default_datadir(params.name),
            json_output=args.json_output,
            peers=list(args.peer),
            verbose=args.verbose,
            args=args,
        )
        if handler is not _start_desktop_app:  # the window prepares its data folder itself
            prepare_datadir(ctx.datadir)
            _apply_saved_proxy(ctx.datadir)
        return handler(ctx)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    except sqlite3.Error as exc:
        if args.verbose:
            raise
        name = getattr(args, "wallet", None)
        print(f"error: {database_error_text(exc, name if isinstance(name, str) else None)}",
              file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    except OSError as exc:
        if args.verbose:
            raise
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except (CLIError, ChainError, ValueError) as exc:
        if args.verbose:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _closed_pipe() -> int:
    """The reader of our output went away: stop quietly (no "Broken pipe" message, and no
    second error when Python flushes stdout at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _apply_saved_proxy(datadir: Path) -> None:
    """Commands reach the web services (pools, Steward, VPN directory) through the proxy
    chosen on the Settings page, as the window does."""
    from ..settings import apply_http_proxy, load_settings, settings_path

    if settings_path(datadir).exists():
        proxy = load_settings(datadir).proxy
        if proxy:
            apply_http_proxy(proxy)


def _start_desktop_app(ctx: Context) -> int:
    """No subcommand: open the desktop window."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise CLIError("no display to open the window on; use a command (pkt-wallet --help)")
    from .. import qt_libraries

    if qt_libraries.wants_xcb():  # else Qt aborts naming at best one of them
        missing = qt_libraries.missing_libraries()
        if missing:
            raise CLIError(qt_libraries.describe_missing(missing))
    try:
        from ..gui.app import run_gui
    except ImportError as exc:
        raise CLIError(
            f"the desktop window is not available ({exc}); use a command (pkt-wallet --help)"
        ) from None
    return run_gui(
        ctx.params, ctx.datadir, [(p.host, p.port or ctx.params.default_port) for p in ctx.peers]
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
