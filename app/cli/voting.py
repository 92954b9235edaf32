"""`pkt-wallet vote`: the Network Steward vote that counts today (Electorium, since 2024).

* ``vote ADDR [--candidate] [--from ADDR]...``: vote for ADDR from every address of the wallet
  holding coins (or only the ``--from`` ones), one transaction each; each txid is printed on
  its own line. ``--candidate`` alone: stand as a candidate without voting for anyone.
* ``vote --withdraw``: withdraw the votes (no vote, no candidacy).
* ``vote ADDR --gather-to MINE``: first move the coins of the wallet's other addresses to its
  address MINE, then vote from MINE alone (one voter with the whole balance).
* ``vote --status [--json]``: "My vote": per address the vote in force, its block and expiry,
  and the next election.
* ``vote --legacy-2019 FOR [AGAINST]``: the 2019-2023 ``OP_VOTE`` vote, which today's count
  ignores (`app.cli.spending.cmd_legacy_vote`).
"""

from __future__ import annotations

import argparse
import sys
import time

from ..steward.my_vote import address_lines, election_line, my_vote
from ..wallet.model import TxPreview
from ..wallet.voting import ONE_ADDRESS_PER_VOTE, VoteBatch
from ..wallet.wallet import Wallet
from .common import CLIError, Context, coins_text
from .spending import cmd_legacy_vote, confirm_and_send, spend_options
from .wallet_session import sync_with_peers, with_wallet


def vote_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="ADDR", nargs="?", help="the address to vote for")
    p.add_argument(
        "against",
        metavar="AGAINST_ADDR",
        nargs="?",
        help="with --legacy-2019 only: the address voted against",
    )
    p.add_argument(
        "--candidate",
        action="store_true",
        help="also stand as a candidate (without ADDR: stand without voting for anyone)",
    )
    p.add_argument("--withdraw", action="store_true", help="withdraw the vote (no vote at all)")
    p.add_argument(
        "--status",
        action="store_true",
        help="show the wallet's votes, their expiry, the next election",
    )
    p.add_argument(
        "--from",
        dest="from_addresses",
        action="append",
        default=[],
        metavar="ADDR",
        help="vote from this address of the wallet only (repeatable; default: every address "
        "holding coins)",
    )
    p.add_argument(
        "--gather-to",
        metavar="ADDR",
        help="first move the coins of the wallet's other addresses to this address of the "
        "wallet, then vote from it alone",
    )
    p.add_argument(
        "--legacy-2019",
        action="store_true",
        help="cast the 2019-2023 OP_VOTE vote instead (today's count ignores it): "
        "vote --legacy-2019 FOR [AGAINST]",
    )
    spend_options(p)


def cmd_vote(ctx: Context) -> int:
    a = ctx.args
    if a.legacy_2019:
        given = [
            name
            for name, on in (
                ("--candidate", a.candidate),
                ("--withdraw", a.withdraw),
                ("--status", a.status),
                ("--from", a.from_addresses),
                ("--gather-to", a.gather_to),
            )
            if on
        ]
        if given:
            raise CLIError(f"{', '.join(given)} belong to the Electorium vote, not --legacy-2019")
        return cmd_legacy_vote(ctx)
    if a.against:
        raise CLIError(
            "a second address (voted against) belongs to the 2019-2023 OP_VOTE system, which "
            "today's count ignores; to cast that vote anyway add --legacy-2019"
        )
    if a.coin:
        raise CLIError(
            "--coin is for --legacy-2019: an Electorium vote spends coins of its own address only"
        )
    if a.status:
        if a.target or a.candidate or a.withdraw or a.gather_to or a.from_addresses:
            raise CLIError("--status takes no address and no other vote option")
    elif a.withdraw:
        if a.target or a.candidate or a.gather_to:
            raise CLIError("--withdraw takes no address, --candidate or --gather-to")
    elif not a.target and not a.candidate:
        raise CLIError("give the address to vote for (or --candidate, --withdraw or --status)")
    if a.gather_to and a.from_addresses:
        raise CLIError("--gather-to votes from that address: leave out --from")
    return _electorium_vote(ctx)


@with_wallet
def _electorium_vote(ctx: Context, wallet: Wallet) -> int:
    a = ctx.args
    sync_with_peers(ctx, wallet)
    if a.status:
        return _status(ctx, wallet)

    def build(from_addresses: list[str] | None) -> VoteBatch:
        batch = wallet.voting.create_vote(
            a.target,
            candidate=a.candidate,
            withdraw=a.withdraw,
            from_addresses=from_addresses,
            fee_rate=a.fee_rate,
        )
        _say(_batch_lines(ctx, batch))
        return batch

    if a.gather_to:
        gather = wallet.voting.create_gather(a.gather_to, fee_rate=a.fee_rate)
        fee = sum(p.fee for p in gather)
        _say(
            [
                f"gather: {sum(len(p.inputs) for p in gather):,} coin(s) of the wallet's other "
                f"addresses move to {a.gather_to} in {len(gather)} transaction(s), fee "
                f"{coins_text(ctx.params, fee)}; then {a.gather_to} votes alone"
            ]
        )

        def then() -> list[TxPreview]:
            return list(build([a.gather_to]).previews)

        return confirm_and_send(ctx, wallet, gather, then=then)
    batch = build(a.from_addresses or None)
    return confirm_and_send(
        ctx, wallet, list(batch.previews), extra={"vote": batch.to_json(ctx.params)}
    )


def _say(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _batch_lines(ctx: Context, batch: VoteBatch) -> list[str]:
    def money(units: int) -> str:
        return coins_text(ctx.params, units)

    lines = [
        f"Network Steward vote (Electorium): {batch.describe()}; vote output "
        f"{batch.vote_script.hex()}"
    ]
    for voter, preview in zip(batch.voters, batch.previews, strict=True):
        change = sum(o.value for o in preview.outputs if o.is_change)
        lines.append(
            f"  from {voter.address} (weight {money(voter.balance)}): spends "
            f"{len(preview.inputs)} of its coin(s), {money(change)} back to it, fee "
            f"{money(preview.fee)}"
        )
    for address, why in batch.skipped:
        lines.append(f"  not from {address}: {why}")
    lines.append(
        f"{len(batch.previews)} transaction(s), one per address; total fee {money(batch.total_fee)}"
    )
    lines.append(f"note: {ONE_ADDRESS_PER_VOTE}")
    lines += [f"warning: {w}" for w in batch.warnings]
    return lines


def _status(ctx: Context, wallet: Wallet) -> int:
    status = my_vote(wallet.voting.snapshot(), time.time())

    def money(units: int) -> str:
        return coins_text(ctx.params, units)

    lines = [f"Network Steward vote (Electorium): {election_line(status)}"]
    voted = [e for e in status.addresses if e.vote is not None or e.pending is not None]
    silent = [e for e in status.addresses if e.vote is None and e.pending is None]
    for entry in voted:
        lines += address_lines(entry, money)
    if not voted:
        lines.append("this wallet has not voted: pkt-wallet vote ADDR")
    if silent and voted:
        total = sum(e.balance for e in silent)
        lines.append(
            f"{len(silent)} other address(es) holding {money(total)} do not vote "
            "(pkt-wallet vote ADDR votes from every address)"
        )
    if status.reminder:
        lines.append(f"reminder: {status.reminder}")
    ctx.emit(status.to_json(), lines)
    return 0
