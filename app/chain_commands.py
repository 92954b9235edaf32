"""CLI commands that talk to the network: `sync` and `chain-info`."""

import argparse
import asyncio
import sys
import time
from typing import Any

from spv.node import NoPeersError, SpvNode, SyncProgress
from spv.peer import PeerError
from spv.tasks import within

from .cli import CLIError, Context, parse_peer


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("sync", help="sync headers and compact filters with the network")
    p.add_argument(
        "--peer",
        dest="sync_peers",
        action="append",
        type=parse_peer,
        default=[],
        metavar="HOST:PORT",
        help="connect to this peer (repeatable)",
    )
    p.add_argument(
        "--until-synced",
        action="store_true",
        help="exit once caught up with the best peer (otherwise keep following)",
    )
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    p.add_argument("--no-dns", action="store_true", help="do not ask the DNS seeds for peers")
    p.add_argument(
        "--no-proof-checks",
        action="store_true",
        help="skip PacketCrypt proof spot checks of new blocks (not recommended)",
    )
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("chain-info", help="height, tip, filter height and peers of the local chain")
    p.add_argument("--connect", action="store_true", help="also connect and list live peers")
    p.set_defaults(handler=cmd_chain_info)


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


def _node(
    ctx: Context,
    extra_peers: list[Any],
    use_dns: bool,
    printer: ProgressPrinter | None,
    proof_checks: bool = True,
) -> SpvNode:
    peers = [(p.host, p.port) for p in [*ctx.peers, *extra_peers]]
    return SpvNode(
        ctx.params,
        ctx.datadir,
        peers=peers,
        use_dns_seeds=use_dns,
        on_progress=printer,
        verify_packetcrypt_proofs=proof_checks,
    )


def cmd_sync(ctx: Context) -> int:
    printer = ProgressPrinter(enabled=not ctx.json_output)
    node = _node(
        ctx,
        ctx.args.sync_peers,
        not ctx.args.no_dns,
        printer,
        proof_checks=not ctx.args.no_proof_checks,
    )
    if not node.manual_peers and not node.use_dns_seeds:
        raise CLIError("no peers: give --peer HOST:PORT or allow DNS seeds")

    async def run() -> None:
        async with node:
            if ctx.args.until_synced:
                await node.sync(timeout=ctx.args.timeout)
            else:
                await within(node.run(), ctx.args.timeout)

    try:
        asyncio.run(run())
    except (NoPeersError, PeerError) as exc:
        raise CLIError(str(exc)) from None
    except TimeoutError:
        raise CLIError(f"sync did not finish within {ctx.args.timeout:g} s") from None
    finally:
        printer.done()
    info = node.chain_info()
    ctx.emit(info, [f"synced to height {info['height']}", f"tip {info['tip']}"])
    return 0


def cmd_chain_info(ctx: Context) -> int:
    node = _node(ctx, [], use_dns=False, printer=None)
    if ctx.args.connect:

        async def connect() -> None:
            async with node:
                await node.wait_for_peers(1, timeout=10)
                await asyncio.sleep(0.5)
                info.update(node.chain_info())

        info: dict[str, Any] = {}
        try:
            asyncio.run(connect())
        except NoPeersError as exc:
            raise CLIError(str(exc)) from None
    info = node.chain_info() | ({} if not ctx.args.connect else {"peers": info.get("peers", [])})
    peers = info["peers"]
    ctx.emit(
        info,
        [
            f"network              {info['network']}",
            f"height               {info['height']}",
            f"tip                  {info['tip']}",
            f"filter header height {info['filter_header_height']}",
            f"filter scan height   {info['filter_height']}",
            f"peers                {len(peers) if isinstance(peers, list) else 0}",
        ],
    )
    return 0
