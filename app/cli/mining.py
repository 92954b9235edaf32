"""CLI commands for announcement mining: ``mine``, ``mining-earnings``, ``mining-address``.

``pkt-wallet mine [--pool URL ...] [--threads N] [--payout ADDR] [--duration S]``: pools default
to ``<datadir>/mining.json`` (or the first known community pool), the payout address to the
wallet's steady mining address (``mining-address``); without a wallet and without ``--payout``
it refuses to start. One status line every ``--status-interval`` seconds (10), a summary at the
end; Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from miner.annmine import MinerOptions
from miner.pool.client import PoolOptions
from miner.pool.upload import UploadOptions

from ..mining.earnings import format_earnings
from ..mining.service import MiningError, MiningService, validate_payout
from ..mining.settings import DEFAULT_POOLS, KNOWN_POOLS, load_settings
from ..mining.status_text import format_status, format_summary
from ..wallet.wallet import Wallet, WalletError, WalletNotFoundError
from .common import CLIError, Context, seconds, seconds_or_zero


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mine",
        help="mine PacketCrypt announcements for pools (paid to your wallet)",
        description="Mine PacketCrypt announcements and submit them to one or more pools.",
    )
    p.add_argument(
        "--pool",
        dest="pools",
        action="append",
        default=[],
        metavar="URL",
        help="pool master URL (repeatable; default: the saved settings, else "
        f"{DEFAULT_POOLS[0]}); see --list-pools",
    )
    p.add_argument("--threads", type=int, help="mining threads (default: all cores but one)")
    p.add_argument("--payout", metavar="ADDR", help="pay to this address (default: the wallet's)")
    p.add_argument(
        "--wallet", default="default", metavar="NAME", help='wallet paid by default ("default")'
    )
    p.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--status-interval",
        type=seconds,
        default=10.0,
        metavar="S",
        help="seconds between two status lines (default 10)",
    )
    p.add_argument("--uploaders", type=int, default=10, help="uploads in flight per pool (10)")
    p.add_argument(
        "--upload-timeout", type=seconds, default=30.0, metavar="S", help="per upload (30 s)"
    )
    p.add_argument(
        "--batch-seconds",
        type=seconds_or_zero,
        default=10.0,
        metavar="S",
        help="send a handler's batch once it is S seconds old, or full (10)",
    )
    p.add_argument(
        "--mine-old",
        type=int,
        default=-1,
        metavar="N",
        help="mine on the block N below the tip (default -1: the pool decides)",
    )
    p.add_argument(
        "--pause-on-battery", action="store_true", help="pause while the computer is on battery"
    )
    p.add_argument("--list-pools", action="store_true", help="list known pools and exit")
    p.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        default=argparse.SUPPRESS,
        help="JSON status objects and summary",
    )
    p.set_defaults(handler=cmd_mine)

    p = sub.add_parser(
        "mining-earnings",
        help="coins received from coinbase outputs per day (from the wallet)",
    )
    p.add_argument("--wallet", default="default", metavar="NAME")
    p.add_argument("--payout", metavar="ADDR", help="address paid (default: the wallet's)")
    p.add_argument("--days", type=int, default=30, help="days to show (default 30)")
    p.add_argument("--json", dest="json_output", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_mining_earnings)

    p = sub.add_parser(
        "mining-address",
        help="the address mining pays to (steady; change it to one of your addresses)",
        description="Show the wallet's mining address: a receive address kept for mining, so "
        "pools always pay the same address. Give ADDRESS (one of the wallet's) or --new to "
        "change it.",
    )
    p.add_argument("address", nargs="?", metavar="ADDRESS")
    p.add_argument("--new", action="store_true", help="pick a fresh address of the wallet")
    p.add_argument("--wallet", default="default", metavar="NAME")
    p.add_argument("--json", dest="json_output", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_mining_address)


def _wallet_address(ctx: Context) -> str | None:
    """The wallet's mining address, or None when there is no such wallet."""
    try:
        wallet = Wallet.open(ctx.datadir, ctx.args.wallet, ctx.params)
    except WalletNotFoundError:
        return None
    except WalletError as exc:
        raise CLIError(f"cannot read the wallet for the payout address: {exc}") from None
    try:
        return wallet.mining_address()
    finally:
        wallet.close()


def cmd_mining_address(ctx: Context) -> int:
    """Show the wallet's mining address, or change it (one of its addresses, or --new)."""
    try:
        wallet = Wallet.open(ctx.datadir, ctx.args.wallet, ctx.params)
    except WalletError as exc:
        raise CLIError(str(exc)) from None
    try:
        if ctx.args.new:
            address = wallet.set_mining_address(None)
        elif ctx.args.address:
            address = wallet.set_mining_address(ctx.args.address)
        else:
            address = wallet.mining_address()
    except WalletError as exc:
        raise CLIError(str(exc)) from None
    finally:
        wallet.close()
    ctx.emit({"mining_address": address, "wallet": ctx.args.wallet}, [address])
    return 0


def cmd_mine(ctx: Context) -> int:
    args = ctx.args
    if args.list_pools:
        for pool in KNOWN_POOLS:
            print(f"{pool.url:<40} {pool.description}")
        return 0
    settings = load_settings(ctx.datadir)
    pools = args.pools or settings.pools or list(DEFAULT_POOLS)
    payout = args.payout or settings.payout
    if payout is None:
        payout = _wallet_address(ctx)
        if payout is None:
            raise CLIError(
                f"no payout address: there is no wallet {args.wallet!r} to pay; create one "
                "(pkt-wallet create) or give --payout ADDRESS"
            )
    threads = args.threads if args.threads is not None else settings.threads
    if args.status_interval <= 0:
        raise CLIError("--status-interval must be positive")
    if args.duration is not None and args.duration <= 0:
        raise CLIError("--duration must be positive")
    if args.uploaders < 1:
        raise CLIError("--uploaders must be at least 1")
    if args.batch_seconds < 0 or args.upload_timeout <= 0:
        raise CLIError("--batch-seconds and --upload-timeout must be positive")
    options = MinerOptions(
        threads=threads,
        pause_on_battery=args.pause_on_battery or settings.pause_on_battery,
        stats_interval=min(2.0, args.status_interval),
        pool=PoolOptions(
            mine_old_anns=args.mine_old if args.mine_old >= 0 else None,
            upload=UploadOptions(
                uploaders=args.uploaders,
                upload_timeout=args.upload_timeout,
                batch_seconds=args.batch_seconds,
            ),
        ),
    )

    def on_event(kind: str, payload: object) -> None:
        if not isinstance(payload, dict):
            return
        stamp = time.strftime("%H:%M:%S")
        if kind == "mining.watchdog":
            print(f"{stamp} watchdog: {payload.get('reason')}", file=sys.stderr, flush=True)
        elif kind == "mining.job":
            print(
                f"{stamp} new job: parent {payload.get('height')} from {payload.get('pool')}",
                file=sys.stderr,
                flush=True,
            )
        elif kind == "mining.pool":
            state = payload.get("state")
            error = payload.get("last_error")
            print(
                f"{stamp} pool {payload.get('url')} is {state}" + (f": {error}" if error else ""),
                file=sys.stderr,
                flush=True,
            )

    service = MiningService(ctx.params, on_event=on_event, options=options)
    try:
        payout = validate_payout(payout, ctx.params)
        service.start(payout, pools, threads)
    except MiningError as exc:
        raise CLIError(str(exc)) from None
    snap = service.snapshot()
    if not ctx.json_output:
        threads_used = snap.threads if snap else threads
        print(
            f"mining for {payout} with {threads_used} thread(s) on {', '.join(service.pools)} "
            f"({service.backend}); Ctrl-C stops",
            flush=True,
        )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        started = time.monotonic()
        next_status = started + args.status_interval
        end = started + args.duration if args.duration is not None else None
        while not stop.is_set():
            now = time.monotonic()
            wake = next_status if end is None else min(next_status, end)
            if stop.wait(max(0.0, min(0.25, wake - now))):
                break
            now = time.monotonic()
            if end is not None and now >= end:
                break
            if now >= next_status:
                next_status += args.status_interval
                _print_status(ctx, service)
    finally:
        service.stop(2.0)
        for signum, old in previous.items():
            signal.signal(signum, old)
    snap = service.snapshot()
    if snap is not None:
        data = snap.to_json()
        data["payout"] = payout
        ctx.emit(data, format_summary(snap))
        failures = [p for p in snap.pools if p.last_error]
        if snap.job_changes == 0 and failures and len(failures) == len(snap.pools):
            reasons = "; ".join(f"{p.url}: {p.last_error}" for p in failures)
            raise CLIError(f"no pool gave a job to mine ({reasons})")
    return 0


def _print_status(ctx: Context, service: MiningService) -> None:
    snap = service.snapshot()
    if snap is None:
        return
    if ctx.json_output:
        data = snap.to_json()
        data.pop("workers", None)
        print(json.dumps(data, sort_keys=True), flush=True)
    else:
        print(time.strftime("%H:%M:%S ") + format_status(snap), flush=True)


def cmd_mining_earnings(ctx: Context) -> int:
    if ctx.args.days < 1:
        raise CLIError("--days must be at least 1")
    try:
        wallet = Wallet.open(ctx.datadir, ctx.args.wallet, ctx.params)
    except WalletError as exc:
        raise CLIError(str(exc)) from None
    try:
        payout = ctx.args.payout or load_settings(ctx.datadir).payout
        if payout is None:  # every address of the wallet: its receive address moves on
            rows = wallet.coinbase_earnings(days=ctx.args.days)
            payout = f"wallet {wallet.name!r}"
        else:
            try:
                payout = validate_payout(payout, ctx.params)
            except MiningError as exc:
                raise CLIError(str(exc)) from None
            rows = wallet.coinbase_earnings(days=ctx.args.days, payout=payout)
    finally:
        wallet.close()
    total = sum(r.amount for r in rows)
    data = {
        "payout": payout,
        "days": [{"day": r.day.isoformat(), "amount": r.amount, "blocks": r.blocks} for r in rows],
        "total": total,
    }
    lines = [f"coinbase earnings of {payout}, last {ctx.args.days} days (UTC):"]
    lines += format_earnings([r for r in rows if r.amount], ctx.params) or ["  none"]
    ctx.emit(data, lines)
    return 0
