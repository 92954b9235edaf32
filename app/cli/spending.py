"""The wallet commands that spend: `send`, `consolidate`, `vote`, `sweep` and `bump`.

Each one syncs the wallet first (unless ``--offline``), builds the transactions, shows their
preview on stderr and asks to confirm (unless ``--yes``), signs with the password (the one
remembered by the system keyring if the user opted in) and broadcasts. Their options are
registered with the other wallet commands in `app.cli.wallet`.
"""

from __future__ import annotations

import argparse
import json
import sys

from spv.units import parse_amount

from ..wallet import unlock_cache
from ..wallet.model import outpoint_text
from ..wallet.wallet import TxPreview, Wallet, WalletError
from .common import CLIError, Context, coins_text
from .wallet_session import Secrets, broadcast_all, sync_with_peers, with_wallet


def spend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fee-rate", metavar="R", help="fee in units per vbyte (default 1 = the minimum relay fee)"
    )
    p.add_argument(
        "--coin",
        action="append",
        default=[],
        metavar="TXID:N",
        help="spend exactly these coins (repeatable)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _coins(ctx: Context, units: int) -> str:
    return coins_text(ctx.params, units)


def _preview_lines(ctx: Context, preview: TxPreview) -> list[str]:
    lines = [
        f"{preview.purpose}: {len(preview.inputs)} input(s), {_coins(ctx, preview.input_total)}"
    ]
    for coin in preview.inputs[:20]:
        lines.append(f"  in  {outpoint_text(coin.outpoint)}  {_coins(ctx, coin.value)}")
    if len(preview.inputs) > 20:
        lines.append(f"  ... and {len(preview.inputs) - 20} more")
    for out in preview.outputs:
        tag = " (change)" if out.is_change else " (yours)" if out.is_mine else ""
        lines.append(f"  out {out.address or out.script.hex()}  {_coins(ctx, out.value)}{tag}")
    lines.append(
        f"  fee {_coins(ctx, preview.fee)} ({preview.fee} units, {preview.vsize} vbytes at most, "
        f"{float(preview.fee_rate):g} unit/vbyte)"
    )
    return lines


def confirm_and_send(ctx: Context, wallet: Wallet, previews: list[TxPreview]) -> int:
    secrets = Secrets(ctx)
    password: str | None = None
    if secrets.from_stdin:
        password = secrets.line("Password: ")
    else:
        password = unlock_cache.recall(ctx.params.name, wallet.name)  # only if the user opted in
    if not ctx.args.yes:
        for preview in previews:
            for line in _preview_lines(ctx, preview):
                print(line, file=sys.stderr)
        print(f"Sign and broadcast {len(previews)} transaction(s)? [y/N] ", end="", file=sys.stderr)
        sys.stderr.flush()
        answer = sys.stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            raise CLIError("cancelled")
    if password is None:
        password = secrets.line("Password: ")
    try:
        signed = [wallet.sign(p, password) for p in previews]
    except WalletError:
        if secrets.from_stdin or password is None:
            raise
        # the remembered password is out of date (changed elsewhere): ask
        password = secrets.line("Password: ")
        signed = [wallet.sign(p, password) for p in previews]
    broadcast_all(ctx, wallet, signed)
    if ctx.json_output:
        print(
            json.dumps(
                {
                    "txids": [t.txid_hex for t in signed],
                    "fees": [p.fee for p in previews],
                    "previews": [p.to_json(ctx.params) for p in previews],
                },
                indent=2,
            )
        )
    else:
        for tx in signed:
            print(tx.txid_hex)
    return 0


@with_wallet
def cmd_send(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    amount: int | str
    if ctx.args.amount.strip().lower() == "max":
        amount = "max"
    else:
        amount = parse_amount(ctx.args.amount, ctx.params.units_per_coin, ctx.params.coin_symbol)
    preview = wallet.create_send(
        [(ctx.args.address, amount)],
        fee_rate=ctx.args.fee_rate,
        coins=ctx.args.coin or None,
        rbf=ctx.args.rbf,
    )
    return confirm_and_send(ctx, wallet, [preview])


@with_wallet
def cmd_consolidate(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    max_value = (
        parse_amount(ctx.args.max_value, ctx.params.units_per_coin, ctx.params.coin_symbol)
        if ctx.args.max_value
        else None
    )
    previews = wallet.create_consolidation(
        fee_rate=ctx.args.fee_rate, coins=ctx.args.coin or None, max_coin_value=max_value
    )
    return confirm_and_send(ctx, wallet, previews)


@with_wallet
def cmd_vote(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    previews = wallet.create_vote(
        ctx.args.vote_for,
        ctx.args.vote_against,
        fee_rate=ctx.args.fee_rate,
        coins=ctx.args.coin or None,
    )
    return confirm_and_send(ctx, wallet, previews)


@with_wallet
def cmd_sweep(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    ctx.args.coin = []
    previews = wallet.create_sweep_imported(fee_rate=ctx.args.fee_rate)
    return confirm_and_send(ctx, wallet, previews)


@with_wallet
def cmd_bump(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    ctx.args.coin = []
    preview = wallet.create_fee_bump(ctx.args.txid, ctx.args.fee_rate)
    return confirm_and_send(ctx, wallet, [preview])
