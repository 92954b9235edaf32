"""CLI commands of the Network Steward:
`pkt-wallet steward list|show|refresh|election|count|vote|config`.

`list` and `show` read only the local cache (`<datadir>/steward.sqlite`), so they work offline;
`refresh` reads `pkt-cash/ns-projects` from the GitHub API; `election` asks the explorer API for
the 2019-2023 OP_VOTE totals; `count` counts today's Electorium election from a listaddresses
file or a full node; `vote --legacy-2019` previews a 2019-2023 OP_VOTE vote (today's vote is
`pkt-wallet vote`, in `app.cli.voting`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import TYPE_CHECKING, Any

from spv.params import NetworkParams

from ..steward.errors import RateLimitedError, StewardError, age_text, format_local_time
from ..steward.proposal import SORT_KEYS, STATUSES, Proposal
from ..steward.store import SETTING_EXPLORER, SETTING_GITHUB_API, SETTING_RAW_BASE
from ..steward.vote import EPOCH_BLOCKS, VOTE_LIFETIME_EPOCHS, VotePlan
from .common import CLIError, Context, coins_text, seconds
from .electorium import register_count
from .spending import cmd_legacy_vote

if TYPE_CHECKING:  # the service (and requests) load only when a steward command runs
    from ..steward.explorer import ElectionState
    from ..steward.service import StewardService


def _json_flag(p: argparse.ArgumentParser) -> None:
    # Same destination as the global --json; SUPPRESS keeps a global `--json` in force.
    p.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    steward = sub.add_parser(
        "steward",
        help="Network Steward: proposals, on-chain election state, votes",
        description="Network Steward proposals (pkt-cash/ns-projects), election state and votes.",
    )
    steward.set_defaults(handler=lambda ctx: _print_help(steward))
    ssub = steward.add_subparsers(dest="steward_command", metavar="STEWARD_COMMAND")

    p = ssub.add_parser("list", help="list cached proposals (works offline)")
    p.add_argument(
        "--status",
        action="append",
        metavar="S",
        help=f"only these statuses ({', '.join(STATUSES)}; repeatable or comma-separated)",
    )
    p.add_argument("--search", metavar="TEXT", help="only proposals containing every word")
    p.add_argument("--min-pkt", type=int, metavar="N", help="requested at least N PKT")
    p.add_argument("--max-pkt", type=int, metavar="N", help="requested at most N PKT")
    p.add_argument("--sort", choices=SORT_KEYS, default="date", help="default: date")
    p.add_argument("--oldest-first", action="store_true", help="with --sort date")
    _json_flag(p)
    p.set_defaults(handler=cmd_list)

    p = ssub.add_parser("show", help="one proposal: header fields, status and Markdown text")
    p.add_argument("id", help="proposal id, pull request number (#12) or a unique part of it")
    p.add_argument("--no-body", action="store_true", help="omit the Markdown text")
    _json_flag(p)
    p.set_defaults(handler=cmd_show)

    p = ssub.add_parser("refresh", help="update the cache from the GitHub API")
    p.add_argument("--api-url", metavar="URL", help="GitHub API base URL (saved as a setting)")
    p.add_argument("--raw-url", metavar="URL", help="raw file host base URL (saved as a setting)")
    p.add_argument("--force", action="store_true", help="try even before a rate-limit reset")
    p.add_argument("--timeout", type=seconds, default=20.0, help="seconds per request")
    _json_flag(p)
    p.set_defaults(handler=cmd_refresh)

    p = ssub.add_parser("election", help="on-chain Network Steward election state (explorer)")
    p.add_argument("--explorer-url", metavar="URL", help="explorer API base (saved)")
    p.add_argument("--timeout", type=seconds, default=15.0, help="seconds per request")
    _json_flag(p)
    p.set_defaults(handler=cmd_election)

    register_count(ssub, _json_flag)

    p = ssub.add_parser(
        "vote",
        help="preview a 2019-2023 OP_VOTE vote (needs --legacy-2019; today's vote: "
        "pkt-wallet vote ADDR)",
    )
    p.add_argument("candidate", metavar="ADDR", help="address to vote for ('none': no choice)")
    p.add_argument("against", metavar="AGAINST_ADDR", nargs="?", help="address to vote against")
    p.add_argument("--wallet", metavar="NAME", help="wallet to vote with (default: the only one)")
    p.add_argument("--fee-rate", metavar="UNITS", help="units per vbyte (default: the wallet's)")
    p.add_argument(
        "--send",
        action="store_true",
        help="sign and broadcast the vote with the wallet (asks to confirm unless --yes)",
    )
    p.add_argument("--yes", action="store_true", help="with --send: do not ask for confirmation")
    p.add_argument(
        "--password-stdin", action="store_true", help="with --send: read the password from stdin"
    )
    p.add_argument("--offline", action="store_true", help="with --send: do not sync first")
    p.add_argument("--timeout", type=seconds, default=300.0, help="with --send: sync time limit")
    p.add_argument(
        "--legacy-2019",
        action="store_true",
        help="yes, the 2019-2023 OP_VOTE system (today's Electorium count ignores it)",
    )
    _json_flag(p)
    p.set_defaults(handler=cmd_vote)

    p = ssub.add_parser("config", help="show or change the steward settings")
    p.add_argument("--api-url", metavar="URL", help="GitHub API base URL")
    p.add_argument("--raw-url", metavar="URL", help="raw file host base URL")
    p.add_argument("--explorer-url", metavar="URL", help="explorer API base URL")
    p.add_argument(
        "--set-token",
        action="store_true",
        help="store a GitHub token (read from the terminal or stdin) for a higher rate limit",
    )
    p.add_argument("--clear-token", action="store_true", help="forget the GitHub token")
    p.add_argument(
        "--node-url", metavar="URL", help="full node RPC address for `steward count` ('' : none)"
    )
    p.add_argument("--node-user", metavar="USER", help="full node RPC user")
    p.add_argument(
        "--set-node-password",
        action="store_true",
        help="store the node's RPC password (read from the terminal or stdin; OS keyring "
        "when there is one)",
    )
    p.add_argument("--clear-node-password", action="store_true", help="forget it")
    p.add_argument(
        "--reset", action="store_true", help="forget the URL settings (use the defaults)"
    )
    _json_flag(p)
    p.set_defaults(handler=cmd_config)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _service(ctx: Context, timeout: float = 20.0) -> StewardService:
    from ..steward.service import StewardService

    try:
        return StewardService(ctx.datadir, ctx.params, timeout=timeout)
    except StewardError as exc:
        raise CLIError(str(exc)) from None


def _pkt(n: int | None) -> str:
    return f"{n:,} PKT" if n is not None else "-"


def _coins(params: NetworkParams, units: int) -> str:
    return coins_text(params, units)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- list / show ---------------------------------------------------------------------------


def cmd_list(ctx: Context) -> int:
    a = ctx.args
    with _service(ctx) as svc:
        try:
            items = svc.proposals(
                status=a.status,
                text=a.search,
                min_pkt=a.min_pkt,
                max_pkt=a.max_pkt,
                sort=a.sort,
                newest_first=not a.oldest_first,
            )
        except StewardError as exc:
            raise CLIError(str(exc)) from None
        status = svc.cache_status()
    now = time.time()
    data = {"proposals": [p.summary() for p in items], "cache": status.to_dict()}
    lines: list[str] = []
    if items:
        id_w = min(40, max(len(p.id) for p in items))
        lines.append(f"{'ID':<{id_w}}  {'STATUS':<11}  {'DATE':<10}  {'REQUESTED':>16}  TITLE")
        for p in items:
            lines.append(
                f"{_cut(p.id, id_w):<{id_w}}  {p.status:<11}  {p.date or '-':<10}  "
                f"{_pkt(p.requested_pkt):>16}  {_cut(p.title, 60)}"
            )
    elif status.proposals:
        lines.append("no proposal matches")
    else:
        lines.append("no proposals cached yet: run `pkt-wallet steward refresh`")
    shown = f"{len(items)} of {status.proposals} proposals" if items else "0 proposals"
    lines.append(f"{shown} · {status.describe(now)}")
    ctx.emit(data, lines)
    return 0


def _pr_line(pr: Any) -> str:
    when = (pr.merged_at or pr.closed_at or pr.created_at or "")[:10]
    who = f" by {pr.user}" if pr.user else ""
    return f"#{pr.number} {pr.outcome}{who}{' ' + when if when else ''}: {pr.title}"


def _show_lines(p: Proposal, with_body: bool) -> list[str]:
    d = p.parsed
    lines = [p.title, "=" * min(len(p.title), 78)]

    def row(label: str, value: str | None) -> None:
        if value:
            lines.append(f"{label:<13} {value}")

    row("id", p.id)
    row("status", p.status)
    row("date", p.date)
    row("author", p.author)
    if d:
        row("project name", d.name)
        row("contact", d.email)
        if d.participants:
            row("participants", "; ".join(d.participants))
        row("duration", d.duration)
        row("effort", d.effort)
        row("pre-effort", d.pre_effort)
        amount = f"{d.requested_text}" + (
            f" ({_pkt(d.requested_pkt)})" if d.requested_pkt is not None else ""
        )
        row("requested", amount if d.requested_text else None)
        row("pay to", d.address)
        row("stated status", d.status_field)
        if d.payout_txids:
            row("payouts", f"{len(d.payout_txids)} transaction links in the text")
    row("file", p.path + ("" if p.on_master else " (pull request only)") if p.path else None)
    row("link", p.html_url)
    for i, pr in enumerate(p.pull_requests):
        row("pull request" if i == 0 else "", _pr_line(pr))
    if with_body:
        body = p.body.strip()
        lines += ["", "-" * 78, body if body else "(no text cached)", "-" * 78]
    return lines


def cmd_show(ctx: Context) -> int:
    with _service(ctx) as svc:
        try:
            p = svc.find(ctx.args.id)
        except StewardError as exc:
            raise CLIError(str(exc)) from None
        status = svc.cache_status()
    data = p.to_dict()
    data["date"] = p.date
    data["author"] = p.author
    data["cache"] = status.to_dict()
    lines = _show_lines(p, not ctx.args.no_body)
    lines.append(status.describe(time.time()))
    ctx.emit(data, lines)
    return 0


# --- refresh -------------------------------------------------------------------------------


def cmd_refresh(ctx: Context) -> int:
    a = ctx.args
    with _service(ctx, a.timeout) as svc:
        try:
            report = svc.refresh(api_url=a.api_url, raw_url=a.raw_url, force=a.force)
        except RateLimitedError as exc:
            cached = svc.cache_status()
            tail = (
                f"; cached data from {format_local_time(cached.last_refreshed)} is still shown"
                if cached.last_refreshed
                else ""
            )
            hint = "" if a.force else " (or add a token: steward config --set-token)"
            raise CLIError(f"{exc}{tail}{hint}") from None
        except StewardError as exc:
            raise CLIError(f"refresh failed: {exc}") from None
        status = svc.cache_status()
        source = svc.github_api_url()
    data = report.to_dict()
    data["cache"] = status.to_dict()
    rate = ""
    if report.rate_remaining is not None and report.rate_limit is not None:
        rate = f"; rate limit {report.rate_remaining}/{report.rate_limit} left"
        if report.rate_reset:
            rate += f" (resets {format_local_time(report.rate_reset)})"
    lines = [
        f"refreshed {report.proposals} proposals from {source}: {report.requests_made} "
        f"requests, {report.not_modified} unchanged (304), {report.downloaded} files "
        f"downloaded{rate}",
        status.describe(time.time()),
    ]
    if not report.complete:
        when = f" after {format_local_time(report.rate_reset)}" if report.rate_reset else " later"
        lines.append(
            f"incomplete: {len(report.pending)} item(s) postponed to stay within the rate "
            f"limit; refresh again{when}"
        )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ctx.emit(data, lines)
    return 0


# --- election ------------------------------------------------------------------------------


def _election_lines(state: ElectionState, params: NetworkParams) -> list[str]:
    pct = 100.0 * state.disapproval_ratio
    lines = [
        f"Network Steward   {state.network_steward}",
        f"votes against     {_coins(params, state.votes_against)} ({pct:.3g}% of the "
        f"{_coins(params, state.votes_needed)} that start an election)",
    ]
    if state.election_triggered:
        lines.append("                  over the threshold: an election runs on the next block")
    lines.append(f"candidates        {len(state.candidates)}")
    for c in state.candidates:
        mark = "  (current steward)" if c.address == state.network_steward else ""
        lines.append(
            f"  {c.address}  for {_coins(params, c.votes_for)}, against "
            f"{_coins(params, c.votes_against)}{mark}"
        )
    if state.more_candidates:
        lines.append("  … more candidates not shown")
    lines.append(
        "note: these are the OP_VOTE totals (2019–2023 system); Electorium votes (2024) are "
        "counted separately"
    )
    return lines


def cmd_election(ctx: Context) -> int:
    a = ctx.args
    with _service(ctx, a.timeout) as svc:
        try:
            view = svc.election(a.explorer_url)
        except StewardError as exc:
            raise CLIError(str(exc)) from None
    if view.state is None:
        raise CLIError(view.error or "no election data")
    state = view.state
    now = time.time()
    data = state.to_dict()
    data["from_cache"] = view.from_cache
    data["error"] = view.error
    lines = _election_lines(state, ctx.params)
    lines.append(
        f"source            {state.source}, {format_local_time(state.fetched_at)} "
        f"({age_text(now - state.fetched_at)})"
    )
    if view.from_cache:
        print(
            f"warning: {view.error}; showing the state cached {age_text(now - state.fetched_at)}",
            file=sys.stderr,
        )
    ctx.emit(data, lines)
    return 0


# --- vote ----------------------------------------------------------------------------------


def _expiry_lines(plan: VotePlan) -> list[str]:
    days = plan.lifetime_seconds / 86400
    return [
        "lasts         while these coins stay unspent (spending them withdraws the vote);",
        f"              votes expire after {VOTE_LIFETIME_EPOCHS} epochs of {EPOCH_BLOCKS} "
        f"blocks (~{days:.0f} days): vote again before {time.strftime('%Y-%m-%d', time.localtime(plan.expires_at))}",
    ]


def cmd_vote(ctx: Context) -> int:
    a = ctx.args
    params = ctx.params
    if not a.legacy_2019:
        raise CLIError(
            "`steward vote` casts the 2019-2023 OP_VOTE vote, which today's Electorium count "
            "ignores: vote with `pkt-wallet vote ADDR`, or add --legacy-2019 to use the old "
            "system anyway"
        )
    with _service(ctx) as svc:
        try:
            plan = svc.plan_vote(a.candidate, a.against)
        except StewardError as exc:
            raise CLIError(str(exc)) from None
        election = svc.cached_election()
    lines = ["Network Steward vote, 2019-2023 OP_VOTE system — preview, nothing is sent"]
    data: dict[str, Any] = {
        "vote_for": plan.vote_for.address if plan.vote_for else None,
        "vote_for_script": plan.vote_for.script.hex() if plan.vote_for else None,
        "vote_against": plan.vote_against.address if plan.vote_against else None,
        "vote_against_script": plan.vote_against.script.hex() if plan.vote_against else None,
        "vote_suffix": plan.suffix.hex(),
        "expires_at": plan.expires_at,
        "lifetime_blocks": plan.lifetime_blocks,
    }
    lines.append(f"vote for      {plan.vote_for.address if plan.vote_for else '- (none)'}")
    if plan.vote_against:
        lines.append(f"vote against  {plan.vote_against.address}")
    if election is not None and plan.vote_for is not None:
        known = {c.address: c for c in election.candidates}
        c = known.get(plan.vote_for.address)
        if c is not None:
            lines.append(
                f"              (explorer, {age_text(time.time() - election.fetched_at)}: "
                f"{_coins(params, c.votes_for)} already vote for it)"
            )

    previews, wallet_name, why_no_wallet = _wallet_vote(ctx, a.candidate, a.against)
    if previews is None:
        data["wallet"] = None
        data["transactions"] = []
        lines += [
            f"vote suffix   {plan.suffix.hex()}",
            "              (appended to one of the wallet's own legacy P2PKH output scripts)",
            f"wallet        {why_no_wallet}",
        ]
        lines += _expiry_lines(plan)
        lines.append(
            "The wallet casts the vote by moving its coins to its own legacy address with "
            "this suffix; create or restore a wallet to vote."
        )
        ctx.emit(data, lines)
        return 0

    data["wallet"] = wallet_name
    data["transactions"] = [pv.to_json(params) for pv in previews]
    to_self = sum(o.value for pv in previews for o in pv.outputs if o.is_mine)
    fee = sum(pv.fee for pv in previews)
    coins = sum(len(pv.inputs) for pv in previews)
    data["amount_to_self"] = to_self
    data["fee"] = fee
    vote_out = previews[0].outputs[0]
    lines += [
        f"wallet        {wallet_name} (coins as of its last sync)",
        f"sends         {_coins(params, to_self)} to itself ({vote_out.address}), "
        f"{coins} coin(s) in {len(previews)} transaction(s)",
        f"fee           {_coins(params, fee)} ({fee} units at "
        f"{previews[0].fee_rate} unit/vbyte, {sum(pv.vsize for pv in previews)} vbytes)",
        f"vote output   {vote_out.script.hex()}",
    ]
    lines += _expiry_lines(plan)
    against = f" {plan.vote_against.address}" if plan.vote_against else ""
    target = plan.vote_for.address if plan.vote_for else "none"
    if a.send:
        # The wallet syncs, shows its own preview, asks to confirm, signs and broadcasts.
        if not ctx.json_output:
            for line in lines:
                print(line)
        assert wallet_name is not None
        return _send_vote_with_wallet(ctx, wallet_name, plan)
    lines.append(
        f"To sign and broadcast it: pkt-wallet steward vote {target}{against} --legacy-2019 "
        "--send" + (f" --wallet {wallet_name}" if wallet_name != DEFAULT_WALLET else "")
    )
    ctx.emit(data, lines)
    return 0


def _send_vote_with_wallet(ctx: Context, wallet_name: str, plan: VotePlan) -> int:
    a = ctx.args
    a.wallet = wallet_name
    a.target = plan.vote_for.address if plan.vote_for else "none"
    a.against = plan.vote_against.address if plan.vote_against else None
    a.coin = []
    return cmd_legacy_vote(ctx)


DEFAULT_WALLET = "default"  # as in app.cli.wallet


def _wallet_vote(
    ctx: Context, vote_for: str, vote_against: str | None
) -> tuple[list[Any] | None, str | None, str]:
    """The wallet's vote previews; (None, None, reason) when there is no wallet to ask."""
    from ..wallet.wallet import Wallet, WalletError, list_wallets

    name: str | None = ctx.args.wallet
    if name is None:
        names = list_wallets(ctx.datadir)
        if not names:
            return None, None, f"none in {ctx.datadir}"
        if DEFAULT_WALLET in names:
            name = DEFAULT_WALLET
        elif len(names) == 1:
            name = names[0]
        else:
            raise CLIError(f"several wallets ({', '.join(names)}): choose one with --wallet")
    try:
        wallet = Wallet.open(ctx.datadir, name, ctx.params, lock=False)
    except WalletError as exc:
        raise CLIError(str(exc)) from None
    try:
        previews = wallet.create_legacy_vote(
            None if vote_for.strip().lower() in ("none", "-") else vote_for,
            vote_against,
            fee_rate=ctx.args.fee_rate,
        )
    except ValueError as exc:  # WalletError, TxBuildError, InsufficientFundsError
        raise CLIError(f"wallet {name}: {exc}") from None
    finally:
        wallet.close()
    return list(previews), name, ""


# --- config --------------------------------------------------------------------------------


def _read_secret(prompt: str, what: str) -> str:
    tty = sys.stdin.isatty()
    secret = (getpass.getpass(prompt) if tty else sys.stdin.readline()).strip()
    if not secret:
        raise CLIError(f"empty {what}")
    return secret


def _read_token() -> str:
    return _read_secret("GitHub token: ", "token")


def cmd_config(ctx: Context) -> int:
    a = ctx.args
    notes: list[str] = []
    with _service(ctx) as svc:
        try:
            if a.reset:
                for key in (SETTING_GITHUB_API, SETTING_RAW_BASE, SETTING_EXPLORER):
                    svc.set_setting(key, None)
            if a.api_url:
                svc.set_setting(SETTING_GITHUB_API, a.api_url)
            if a.raw_url:
                svc.set_setting(SETTING_RAW_BASE, a.raw_url)
            if a.explorer_url:
                svc.set_setting(SETTING_EXPLORER, a.explorer_url)
            if a.clear_token:
                notes.append(f"token removed from {svc.save_token(None)}")
            if a.set_token:
                notes.append(f"token stored in {svc.save_token(_read_token())}")
            if a.node_url is not None or a.node_user is not None:
                node = svc.node_settings()
                svc.save_node(
                    node.url if a.node_url is None else a.node_url,
                    node.user if a.node_user is None else a.node_user,
                )
            if a.clear_node_password:
                notes.append(f"node password removed from {svc.save_node_password(None)}")
            if a.set_node_password:
                where = svc.save_node_password(_read_secret("Node RPC password: ", "password"))
                notes.append(f"node password stored in {where}")
        except StewardError as exc:
            raise CLIError(str(exc)) from None
        settings = svc.settings()
    lines = [f"{k:<17} {v if v is not None else '-'}" for k, v in settings.items()]
    ctx.emit(settings, notes + lines)
    return 0
