"""The wallet commands that spend: `send`, `consolidate`, the 2019-2023 `vote --legacy-2019`,
`sweep` and `bump` (today's Electorium `vote` is `app.cli.voting`).

Each one syncs the wallet first (unless ``--offline``), builds the transactions, shows their
preview on stderr and asks to confirm (unless ``--yes``), signs with the password (the one
remembered by the system keyring if the user opted in) and broadcasts. Their options are
registered with the other wallet commands in `app.cli.wallet`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from spv.tx import Transaction
from spv.units import parse_amount

from ..wallet import unlock_cache
from ..wallet.errors import TooManyCoinsError
from ..wallet.model import outpoint_text
from ..wallet.spending import many_inputs_advice
from ..wallet.wallet import TxPreview, Wallet, WalletError
from .common import CLIError, Context, coins_text
from .wallet_session import Secrets, broadcast_all, sync_with_peers, with_wallet

CONSOLIDATION_ROUND = 20  # transactions built, signed and broadcast at a time


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


def ask_confirmation(ctx: Context, lines: list[str], count: int) -> None:
    """Show what will be signed and ask (unless --yes); raises CLIError when declined."""
    if ctx.args.yes:
        return
    for line in lines:
        print(line, file=sys.stderr)
    print(f"Sign and broadcast {count} transaction(s)? [y/N] ", end="", file=sys.stderr)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise CLIError("cancelled")


def remembered_or_stdin_password(ctx: Context, wallet: Wallet, secrets: Secrets) -> str | None:
    if secrets.from_stdin:
        return secrets.line("Password: ")
    return unlock_cache.recall(ctx.params.name, wallet.name)  # only if the user opted in


def sign_all(
    wallet: Wallet, previews: list[TxPreview], secrets: Secrets, password: str | None
) -> tuple[list[Transaction], str]:
    """Sign the previews; returns the transactions and the password that worked."""
    if password is None:
        password = secrets.line("Password: ")
    try:
        return [wallet.sign(p, password) for p in previews], password
    except WalletError:
        if secrets.from_stdin:
            raise
        # the remembered password is out of date (changed elsewhere): ask
        password = secrets.line("Password: ")
        return [wallet.sign(p, password) for p in previews], password


def print_sent(
    ctx: Context,
    signed: list[Transaction],
    previews: list[TxPreview],
    extra: dict[str, Any] | None = None,
) -> None:
    """Each txid on its own line, or JSON (with `extra` added)."""
    if ctx.json_output:
        print(
            json.dumps(
                {
                    "txids": [t.txid_hex for t in signed],
                    "fees": [p.fee for p in previews],
                    "previews": [p.to_json(ctx.params) for p in previews],
                    **(extra or {}),
                },
                indent=2,
            )
        )
    else:
        for tx in signed:
            print(tx.txid_hex)


def confirm_and_send(
    ctx: Context,
    wallet: Wallet,
    previews: list[TxPreview],
    *,
    then: Callable[[], list[TxPreview]] | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Show the previews (unless --yes), ask to confirm, sign and broadcast, print the txids.
    `then` builds more transactions once these are broadcast (they may spend their outputs):
    signed with the same password and sent after them."""
    secrets = Secrets(ctx)
    password = remembered_or_stdin_password(ctx, wallet, secrets)
    lines = [line for preview in previews for line in _preview_lines(ctx, preview)]
    for preview in previews:
        advice = many_inputs_advice(len(preview.inputs), ctx.params)
        if advice is not None and preview.purpose == "send":
            lines.append(f"note: {advice} (pkt-wallet consolidate)")
    ask_confirmation(ctx, lines, len(previews))
    signed, password = sign_all(wallet, previews, secrets, password)
    broadcast_all(ctx, wallet, signed)
    sent = list(previews)
    if then is not None:
        more = then()
        more_signed = [wallet.sign(p, password) for p in more]
        broadcast_all(ctx, wallet, more_signed)
        sent += more
        signed += more_signed
    print_sent(ctx, signed, sent, extra)
    return 0


@with_wallet
def cmd_send(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    amount: int | str
    if ctx.args.amount.strip().lower() == "max":
        amount = "max"
    else:
        amount = parse_amount(ctx.args.amount, ctx.params.units_per_coin, ctx.params.coin_symbol)
    try:
        preview = wallet.create_send(
            [(ctx.args.address, amount)],
            fee_rate=ctx.args.fee_rate,
            coins=ctx.args.coin or None,
            rbf=ctx.args.rbf,
            fit_one_transaction=ctx.args.largest_single,
        )
    except TooManyCoinsError as exc:
        hint = "run `pkt-wallet consolidate` first"
        if amount == "max":
            hint += ", or send the largest single payment with `send ADDRESS max --largest-single`"
        raise CLIError(f"{exc}; {hint}") from None
    return confirm_and_send(ctx, wallet, [preview])


@with_wallet
def cmd_consolidate(ctx: Context, wallet: Wallet) -> int:
    """Merge small coins, smallest first, in rounds of standard-size transactions: the plan
    is counted first (a wallet of a million payouts needs hundreds of transactions), then each
    round is built, signed and broadcast, so memory stays small."""
    sync_with_peers(ctx, wallet)
    max_value = (
        parse_amount(ctx.args.max_value, ctx.params.units_per_coin, ctx.params.coin_symbol)
        if ctx.args.max_value
        else None
    )
    limit = ctx.args.max_transactions
    if limit is not None and limit < 1:
        raise CLIError("--max-transactions must be at least 1")
    if ctx.args.coin:
        previews = wallet.create_consolidation(
            fee_rate=ctx.args.fee_rate, coins=ctx.args.coin, max_coin_value=max_value
        )
        return confirm_and_send(ctx, wallet, previews)
    plan = wallet.consolidation_plan(fee_rate=ctx.args.fee_rate, max_coin_value=max_value)
    if plan.coins < 2:
        raise CLIError("nothing to consolidate: fewer than two spendable coins")
    total = plan.transactions if limit is None else min(limit, plan.transactions)
    summary = [
        f"consolidate {plan.coins:,} coins ({_coins(ctx, plan.value)}) in "
        f"{plan.transactions:,} transaction(s) of at most {plan.max_inputs:,} coins, total fee "
        f"{_coins(ctx, plan.fee)}"
        + (f"; this run sends the first {total:,}" if total < plan.transactions else "")
    ]
    secrets = Secrets(ctx)
    password = remembered_or_stdin_password(ctx, wallet, secrets)
    ask_confirmation(ctx, summary, total)
    sent = 0
    while sent < total:
        previews = wallet.create_consolidation(
            fee_rate=ctx.args.fee_rate,
            max_coin_value=max_value,
            max_transactions=min(CONSOLIDATION_ROUND, total - sent),
        )
        signed, password = sign_all(wallet, previews, secrets, password)
        broadcast_all(ctx, wallet, signed)
        print_sent(ctx, signed, previews)
        sent += len(signed)
    return 0


@with_wallet
def cmd_legacy_vote(ctx: Context, wallet: Wallet) -> int:
    """The 2019-2023 OP_VOTE vote (`vote --legacy-2019 FOR [AGAINST]`)."""
    sync_with_peers(ctx, wallet)
    if not ctx.args.target:
        raise CLIError("give the address to vote for (2019-2023 OP_VOTE system)")
    previews = wallet.create_legacy_vote(
        ctx.args.target,
        ctx.args.against,
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
