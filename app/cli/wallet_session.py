"""What the commands that use a wallet share: opening it, reading its secrets (from the
terminal or, with ``--password-stdin``, from stdin lines), syncing it with the peers and
broadcasting its transactions.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from spv.node import SpvNode, SyncProgress

from ..wallet.sync import broadcast, sync_wallet
from ..wallet.wallet import Wallet
from .common import CLIError, Context, ProgressPrinter

T = TypeVar("T")


class Secrets:
    """Reads secrets from stdin lines (--password-stdin) or the terminal."""

    def __init__(self, ctx: Context) -> None:
        self.from_stdin = bool(getattr(ctx.args, "password_stdin", False))

    def line(self, prompt: str, *, secret: bool = True) -> str:
        if self.from_stdin:
            text = sys.stdin.readline()
            if not text:
                raise CLIError(f"stdin ended before the {prompt.rstrip(': ').lower()}")
            return text.rstrip("\r\n")
        try:
            if secret:
                return getpass.getpass(prompt)
        except EOFError:
            raise CLIError(f"no input for the {prompt.rstrip(': ').lower()}") from None
        print(prompt, end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().rstrip("\r\n")

    def new_password(self) -> str:
        first = self.line("New wallet password: ")
        if not first:
            raise CLIError("the password cannot be empty")
        if not self.from_stdin and getpass.getpass("Repeat the password: ") != first:
            raise CLIError("the passwords differ")
        return first


def open_wallet(ctx: Context) -> Wallet:
    return Wallet.open(ctx.datadir, ctx.args.wallet, ctx.params)


def with_wallet(fn: Callable[[Context, Wallet], int]) -> Callable[[Context], int]:
    """A command handler that receives the `--wallet` wallet, open, and closes it after."""

    def handler(ctx: Context) -> int:
        wallet = open_wallet(ctx)
        try:
            return fn(ctx, wallet)
        finally:
            wallet.close()

    return handler


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _node(ctx: Context, wallet: Wallet | None = None) -> SpvNode:
    peers = [(p.host, p.port) for p in ctx.peers]
    if not peers and not ctx.params.dns_seeds:
        raise CLIError("no peers: give --peer HOST:PORT (or --offline)")
    printer: Callable[[SyncProgress], None] | None = None
    if sys.stderr.isatty() and not ctx.json_output:
        printer = ProgressPrinter(enabled=True)
    return SpvNode(
        ctx.params,
        ctx.datadir,
        peers=peers,
        use_dns_seeds=not peers,
        on_progress=printer,
        history_from_height=wallet.history_from_height() if wallet is not None else None,
    )


def sync_with_peers(ctx: Context, wallet: Wallet) -> None:
    if getattr(ctx.args, "offline", False):
        return
    node = _node(ctx, wallet)
    timeout = getattr(ctx.args, "timeout", None)

    async def go() -> None:
        async with node:
            await sync_wallet(wallet, node, timeout=timeout)

    try:
        _run(go())
    except TimeoutError:
        raise CLIError(f"sync did not finish within {timeout:g} s") from None
    finally:
        if isinstance(node.on_progress, ProgressPrinter):
            node.on_progress.done()


def broadcast_all(ctx: Context, wallet: Wallet, txs: list[Any]) -> None:
    node = _node(ctx)

    async def go() -> None:
        async with node:
            await node.wait_for_peers(1, timeout=30)
            for tx in txs:
                await broadcast(wallet, node, tx)

    _run(go())
