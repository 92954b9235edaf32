"""`pkt-wallet steward count`: the Network Steward election as counted since 2024 (Electorium),
from an address list file in the shape of a full node's `listaddresses` answer, or from the
node's RPC (`--rpc URL`, or the node saved with `steward config --node-url`), with the node's
own `getwinners` result beside it when it offers one. The count itself is
`app.steward.electorium.service`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from spv.params import NetworkParams

from ..steward.errors import StewardError, format_local_time
from .common import CLIError, Context, coins_text, seconds


def register_count(
    ssub: argparse._SubParsersAction[argparse.ArgumentParser],
    json_flag: Callable[[argparse.ArgumentParser], None],
) -> None:
    p = ssub.add_parser(
        "count",
        help="count the Electorium election (the vote since 2024) from a listaddresses file "
        "or a full node",
        description="Count the Network Steward election as a PKT full node's vote indexer does "
        "(Electorium), from an address list in the shape of the node's listaddresses answer "
        "(a file), or from the node's RPC (--rpc, or the node saved with steward config).",
    )
    p.add_argument("file", metavar="FILE", nargs="?", help="listaddresses JSON (pages or one)")
    p.add_argument(
        "--rpc", metavar="URL", help="the full node's RPC address, e.g. http://host:64765"
    )
    p.add_argument("--rpc-user", metavar="USER", help="RPC user (default: the saved one)")
    p.add_argument(
        "--rpc-password-stdin",
        action="store_true",
        help="read the RPC password from stdin (default: the saved one)",
    )
    p.add_argument(
        "--current", action="store_true", help="count as of the tip, not the last epoch's end"
    )
    p.add_argument("--top", type=int, default=10, metavar="N", help="candidates shown (10)")
    p.add_argument(
        "--table-hash",
        choices=("fn-pr3", "fn-cjd"),
        help="also compute the vote table hash in this version (reads every address)",
    )
    p.add_argument("--timeout", type=seconds, default=30.0, help="seconds per RPC request")
    json_flag(p)
    p.set_defaults(handler=cmd_count)


def cmd_count(ctx: Context) -> int:
    """The Electorium count from a listaddresses file, or from a full node's RPC."""
    from ..steward.electorium import TableHashVersion, count_from_file, count_from_node

    a = ctx.args
    table_hash = TableHashVersion(a.table_hash) if a.table_hash else None
    if a.file and (a.rpc or a.rpc_user or a.rpc_password_stdin or a.current):
        raise CLIError("count a FILE or a node (--rpc), not both")
    try:
        if a.file:
            count = count_from_file(a.file, ctx.params, top=a.top, table_hash=table_hash)
            data, node_lines = count.as_dict(), []
        else:
            url, user, password = _node_credentials(ctx)
            counted = count_from_node(
                url,
                user,
                password,
                ctx.params,
                current=a.current,
                top=a.top,
                table_hash=table_hash,
                timeout=a.timeout,
            )
            count, data = counted.count, counted.as_dict()
            node_lines = _node_result_lines(counted)
    except StewardError as exc:
        raise CLIError(str(exc)) from None
    for warning in count.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ctx.emit(data, _count_lines(ctx.params, count) + node_lines)
    return 0


def _node_credentials(ctx: Context) -> tuple[str, str | None, str | None]:
    a = ctx.args
    from ..steward.service import StewardService

    with StewardService(ctx.datadir, ctx.params) as svc:
        saved = svc.node_settings()
    url = a.rpc or saved.url
    if not url:
        raise CLIError(
            "give a listaddresses FILE, or a full node: --rpc URL (or save one: "
            "pkt-wallet steward config --node-url URL --node-user USER --set-node-password)"
        )
    user = a.rpc_user if a.rpc_user is not None else saved.user
    password = saved.password
    if a.rpc_password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CLIError("stdin ended before the node RPC password")
    return url, user, password


def _count_lines(params: NetworkParams, count: Any) -> list[str]:
    when = (
        f"election of block {count.election_block:,} (balances and votes as of block "
        f"{count.as_of_block:,})"
        if count.as_of_block is not None
        else "balances and votes as given"
    )
    lines = [f"Network Steward election (Electorium), {when}"]
    if count.winner_address is None:
        lines.append("winner            none: no address stands as a candidate")
    else:
        lines.append(
            f"winner            {count.winner_address} ({coins_text(params, count.winner_total or 0)}"
            f", decided by {count.decided_by.value.replace('_', ' ')})"
        )
    lines.append(
        f"list              {count.entries:,} entries: {count.candidates:,} candidates, "
        f"{count.voters:,} voting for someone ({count.addresses:,} addresses read)"
    )
    for n, c in enumerate(count.ranking, 1):
        lines.append(
            f"  {n:>2}. {c.address}  {coins_text(params, c.total)} (own {coins_text(params, c.own_balance)})"
        )
    if count.table_hash is not None:
        lines.append(
            f"vote table hash   {count.table_hash.hex()} ({count.table_hash_version.value})"
        )
    return lines


def _node_result_lines(counted: Any) -> list[str]:
    if counted.winners is None:
        return ["node              does not offer getwinners: nothing to compare with"]
    lines = [
        f"next election     block {counted.winners.next_election_block:,} (about "
        f"{format_local_time(counted.winners.next_election_estimated_time)})"
    ]
    if counted.node_result is not None:
        agree = "agrees" if counted.agrees else "DIFFERS"
        lines.append(
            f"node's winner     {counted.node_result.winner or 'none'} ({agree} with this count)"
        )
    return lines
