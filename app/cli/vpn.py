"""CLI commands of the VPN (`pkt-wallet vpn status | list | connect | disconnect | diagnose |
premium | config`).

Automation contract:

* Every ``vpn`` command takes ``--directory-url URL`` (the coordinator; saved with ``vpn config``),
  ``--cjdroute-conf FILE`` (admin address/port/password from cjdroute.conf; otherwise
  ``~/.cjdnsadmin``, a readable /etc/cjdroute.conf, or 127.0.0.1:11234 with password NONE),
  ``--no-system-changes`` (never touch routes or DNS; say what would have been done) and
  ``--json``; they may be given before or after the subcommand.
* ``vpn connect [EXIT]`` (a name, a public key, or a ``pktvpn:`` invite; default: the saved
  default exit, else "PKT Pal Montreal") authorizes, connects, waits until the tunnel has an
  address, prints the tunnel addresses and exits 0; on failure the one-line error names the
  failing step. ``--foreground`` stays up instead, keeps the tunnel healthy and re-authorizes
  every hour until Ctrl-C (or SIGTERM), then disconnects.
* ``vpn status --json`` reads the live state from cjdroute: state, exit_key, ip4, ip6, since.
* ``vpn list --json`` prints ``{"exits": [...], "from_cache", "fetched_at", "warnings"}``.
* ``vpn disconnect`` removes the tunnel and restores routes/DNS; ``vpn diagnose [EXIT]`` tests
  each step and exits 1 if one fails.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from ..vpn.cjdroute import INSTALL_HINT
from ..vpn.connect import HEALTH_INTERVAL, POLL_INTERVAL, REAUTH_INTERVAL
from ..vpn.directory import SORT_KEYS, ExitServer, filter_exits, sort_exits
from ..vpn.errors import StepFailed, VpnError
from ..vpn.invite import Invite, looks_like_invite, parse_invite
from ..vpn.premium import PaymentSigner, PremiumOffer, SignedPayment
from ..vpn.service import VpnService, build_service
from ..vpn.settings import DEFAULT_EXIT_NAME, VpnSettings
from ..vpn.state import VpnState, VpnStatus
from .common import CLIError, Context, coins_text, seconds


def _common(p: argparse.ArgumentParser, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--directory-url",
        metavar="URL",
        default=default,
        help="VPN coordinator base URL (default: the saved setting, https://vpn.anode.co)",
    )
    p.add_argument(
        "--cjdroute-conf",
        metavar="FILE",
        type=Path,
        default=default,
        help="cjdroute.conf to read the admin address and password from",
    )
    p.add_argument(
        "--no-system-changes",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="never touch routes or DNS; report what would have been done",
    )
    p.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vpn = sub.add_parser("vpn", help="PKT VPN through cjdns: list exits, connect, status")
    _common(vpn, suppress=False)
    vsub = vpn.add_subparsers(dest="vpn_command", metavar="VPN_COMMAND")
    vpn.set_defaults(handler=_needs_subcommand(vpn))

    p = vsub.add_parser("status", help="live VPN state read from cjdroute")
    _common(p, suppress=True)
    p.set_defaults(handler=cmd_status)

    p = vsub.add_parser("list", help="VPN exits from the directory (cached when it is down)")
    _common(p, suppress=True)
    p.add_argument("--all", action="store_true", help="include inactive exits")
    p.add_argument("--sort", choices=sorted(SORT_KEYS), default="name")
    p.add_argument("--country", metavar="CC", help="only exits in this country (ISO code)")
    p.add_argument("--premium", action="store_true", help="only exits that sell premium")
    p.add_argument("--search", metavar="TEXT", help="name, key or country contains TEXT")
    p.add_argument("--offline", action="store_true", help="only the cached list")
    p.set_defaults(handler=cmd_list)

    p = vsub.add_parser("connect", help="connect to an exit (name, public key or pktvpn: invite)")
    _common(p, suppress=True)
    p.add_argument("exit", nargs="?", metavar="EXIT")
    p.add_argument(
        "--foreground",
        action="store_true",
        help="stay up: keep the tunnel healthy and re-authorized until Ctrl-C",
    )
    p.add_argument(
        "--timeout",
        type=seconds,
        default=20.0,
        help="seconds to wait for peers and for the tunnel address (default 20)",
    )
    p.add_argument(
        "--start-cjdroute", action="store_true", help="start cjdroute if it is not running"
    )
    p.add_argument(
        "--reauth-interval", type=seconds, default=REAUTH_INTERVAL, help=argparse.SUPPRESS
    )
    p.add_argument(
        "--health-interval", type=seconds, default=HEALTH_INTERVAL, help=argparse.SUPPRESS
    )
    p.set_defaults(handler=cmd_connect)

    p = vsub.add_parser("disconnect", help="remove the tunnel and restore routes and DNS")
    _common(p, suppress=True)
    p.set_defaults(handler=cmd_disconnect)

    p = vsub.add_parser("diagnose", help="test the connection step by step")
    _common(p, suppress=True)
    p.add_argument("exit", nargs="?", metavar="EXIT", help="also test authorization at this exit")
    p.set_defaults(handler=cmd_diagnose)

    p = vsub.add_parser("premium", help="premium price of an exit; --buy pays with the wallet")
    _common(p, suppress=True)
    p.add_argument("exit", metavar="EXIT")
    p.add_argument("--buy", action="store_true", help="pay for one hour (asks for confirmation)")
    p.add_argument("--wallet", default="default", metavar="NAME", help="wallet to pay from")
    p.add_argument(
        "--offline", action="store_true", help="pay without syncing the wallet with peers first"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the wallet password from stdin"
    )
    p.set_defaults(handler=cmd_premium)

    p = vsub.add_parser("config", help="show or save VPN settings")
    _common(p, suppress=True)
    p.add_argument("--cjdroute-path", metavar="FILE", help="the cjdroute executable")
    p.add_argument("--admin-bind", metavar="IP:PORT", help="cjdroute admin address")
    p.add_argument("--admin-password", metavar="PASSWORD", help="cjdroute admin password")
    p.add_argument("--dns", metavar="IP[,IP]", help="DNS servers to use while connected")
    p.add_argument("--set-dns", choices=("yes", "no"), help="let the wallet change DNS")
    p.add_argument("--default-exit", metavar="EXIT", help="exit used by 'vpn connect'")
    p.add_argument(
        "--coordinator-via-cjdns",
        choices=("yes", "no"),
        help="when the coordinator is unreachable, retry it over cjdns (its fc00::/8 address)",
    )
    p.add_argument("--reset", action="store_true", help="back to the defaults")
    p.set_defaults(handler=cmd_config)


def _needs_subcommand(parser: argparse.ArgumentParser) -> Callable[[Context], int]:
    def handler(ctx: Context) -> int:
        parser.print_help()
        return 0

    return handler


# --- helpers -------------------------------------------------------------------------------------


def _settings(ctx: Context) -> VpnSettings:
    try:
        settings = VpnSettings.load(ctx.datadir)
    except VpnError as exc:
        raise CLIError(str(exc)) from None
    url = getattr(ctx.args, "directory_url", None)
    if url:
        settings.directory_url = url
    return settings


def _service(ctx: Context, **kwargs: Any) -> VpnService:
    settings = _settings(ctx)
    try:
        return build_service(
            ctx.datadir,
            settings,
            params=ctx.params,
            no_system_changes=bool(getattr(ctx.args, "no_system_changes", False)),
            cjdroute_conf=getattr(ctx.args, "cjdroute_conf", None),
            **kwargs,
        )
    except VpnError as exc:
        raise CLIError(str(exc)) from None


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _status_lines(status: VpnStatus) -> list[str]:
    lines = [f"state      {status.state.value}"]
    if status.exit_key:
        name = f"{status.exit_name} " if status.exit_name else ""
        lines.append(f"exit       {name}({status.exit_key})")
    if status.ip4:
        lines.append(f"ip4        {status.ip4}")
    if status.ip6:
        lines.append(f"ip6        {status.ip6}")
    if status.since:
        lines.append(f"since      {_when(status.since)}")
    if status.lease_expires:
        lines.append(f"lease      until {_when(status.lease_expires)} ({status.auth_via or '?'})")
    if status.premium_until:
        lines.append(f"premium    until {_when(status.premium_until)}")
    if status.error:
        step = f" ({status.failed_step})" if status.failed_step else ""
        lines.append(f"problem{step}: {status.error}")
    return lines


def _extra_lines(status: VpnStatus) -> list[str]:
    prefix = "no system changes: " if status.dry_run else ""
    lines = [f"{prefix}{a}" for a in status.actions]
    lines += [f"note: {n}" for n in status.notices]
    return lines


def _resolve_target(svc: VpnService, text: str | None) -> ExitServer | Invite:
    wanted = text or svc.settings.default_exit or DEFAULT_EXIT_NAME
    try:
        if looks_like_invite(wanted):
            return parse_invite(wanted)
        return svc.resolve_exit(wanted)
    except VpnError as exc:
        raise CLIError(str(exc)) from None


def _emit_status(ctx: Context, status: VpnStatus, extra: bool = True) -> None:
    ctx.emit(status.to_json(), _status_lines(status) + (_extra_lines(status) if extra else []))


# --- commands ------------------------------------------------------------------------------------


def cmd_status(ctx: Context) -> int:
    svc = _service(ctx, admin_retries=2)
    _emit_status(ctx, svc.live_status(), extra=False)
    return 0


def cmd_list(ctx: Context) -> int:
    svc = _service(ctx)
    include_inactive = ctx.args.all or svc.settings.show_inactive
    try:
        if ctx.args.offline:
            listing = svc.directory.cached_exits(include_inactive)
            if listing is None:
                raise CLIError("no cached exit list yet (run 'pkt-wallet vpn list' online)")
        else:
            listing = svc.directory.list_exits(include_inactive)
    except VpnError as exc:
        raise CLIError(str(exc)) from None
    exits = filter_exits(
        listing.exits,
        query=ctx.args.search,
        country=ctx.args.country,
        premium_only=ctx.args.premium,
        include_inactive=include_inactive,
    )
    exits = sort_exits(exits, ctx.args.sort)
    data = {
        "exits": [e.to_json() for e in exits],
        "from_cache": listing.from_cache,
        "fetched_at": listing.fetched_at,
        "warnings": listing.warnings,
    }
    lines = [f"{'NAME':<28} {'CC':<3} {'LOAD':>5} {'QUAL':>5} {'PREMIUM':>9}  KEY"]
    for e in exits:
        premium = f"{e.cost:g} PKT" if e.premium else "-"
        flag = "" if e.is_active else "  (inactive)"
        lines.append(
            f"{e.name[:28]:<28} {e.country_code or '--':<3} {e.load:>5g} {e.quality:>5g} "
            f"{premium:>9}  {e.public_key}{flag}"
        )
    if listing.from_cache:
        lines.append(f"(cached list from {_when(listing.fetched_at)})")
    for w in listing.warnings:
        print(f"warning: {w}", file=sys.stderr)
    ctx.emit(data, lines)
    return 0


def cmd_connect(ctx: Context) -> int:
    timeout = max(ctx.args.timeout, 0.1)
    quiet = ctx.json_output

    def progress(status: VpnStatus) -> None:
        if not quiet and status.state not in (VpnState.CONNECTED, VpnState.ERROR):
            print(f"{status.state.value.replace('_', ' ')}...", file=sys.stderr, flush=True)

    svc = _service(
        ctx,
        on_change=progress,
        peer_timeout=timeout,
        poll_interval=POLL_INTERVAL,
        poll_attempts=max(1, int(timeout / POLL_INTERVAL) + 1),
        reauth_interval=ctx.args.reauth_interval,
        health_interval=ctx.args.health_interval,
    )
    target = _resolve_target(svc, ctx.args.exit)
    try:
        status = svc.connect(target, start_cjdroute=ctx.args.start_cjdroute)
    except StepFailed as exc:
        for line in _extra_lines(svc.status):
            print(line, file=sys.stderr)
        raise CLIError(f"connect failed while {exc.step}: {exc.reason}") from None
    except VpnError as exc:
        raise CLIError(str(exc)) from None
    lines = [f"connected to {status.exit_name} ({status.exit_key})", *_status_lines(status)[2:]]
    ctx.emit(status.to_json(), lines + _extra_lines(status))
    sys.stdout.flush()
    if not ctx.args.foreground:
        if not quiet:
            print(
                "note: the lease lasts 24 h; 'pkt-wallet vpn connect --foreground' (or the "
                "desktop app) keeps it renewed",
                file=sys.stderr,
            )
        return 0
    return _foreground(ctx, svc)


def _foreground(ctx: Context, svc: VpnService) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    last_auth = svc.status.authorized_at

    def tick(status: VpnStatus) -> None:
        nonlocal last_auth
        if status.authorized_at != last_auth:
            last_auth = status.authorized_at
            print(
                f"re-authorized; lease until {_when(status.lease_expires)}",
                file=sys.stderr,
                flush=True,
            )

    code = 0
    try:
        if not ctx.json_output:
            print("staying connected; Ctrl-C disconnects", file=sys.stderr, flush=True)
        svc.run_foreground(stop, tick)
    except StepFailed as exc:
        print(f"error: the tunnel failed while {exc.step}: {exc.reason}", file=sys.stderr)
        code = 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    status = svc.disconnect()
    if not ctx.json_output:
        print("disconnected", file=sys.stderr)
    else:
        ctx.emit(status.to_json(), [])
    return code


def cmd_disconnect(ctx: Context) -> int:
    svc = _service(ctx)
    status = svc.disconnect()
    ctx.emit(status.to_json(), ["disconnected", *_extra_lines(status)])
    return 0


def cmd_diagnose(ctx: Context) -> int:
    svc = _service(ctx, admin_retries=2)
    target = _resolve_target(svc, ctx.args.exit) if ctx.args.exit else None
    steps = svc.diagnose(target)
    failed = [s for s in steps if s.status == "fail"]
    lines = [f"[{s.status:^4}] {s.name}: {s.detail}" for s in steps]
    if any(s.name == "cjdroute installed" and s.status != "ok" for s in steps) and not any(
        INSTALL_HINT in s.detail for s in steps
    ):
        lines.append(INSTALL_HINT)
    lines.append(
        "all steps passed" if not failed else f"failed: {', '.join(s.name for s in failed)}"
    )
    ctx.emit({"steps": [s.to_json() for s in steps], "ok": not failed}, lines)
    return 1 if failed else 0


def _coins(ctx: Context, units: int) -> str:
    return coins_text(ctx.params, units)


def _confirm(ctx: Context, offer: PremiumOffer) -> bool:
    if ctx.args.yes:
        return True
    if not sys.stdin.isatty():
        raise CLIError("refusing to pay without confirmation: add --yes (stdin is not a terminal)")
    print(offer.describe(ctx.params.units_per_coin, ctx.params.coin_symbol), file=sys.stderr)
    print("Sign this payment? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_premium(ctx: Context) -> int:
    svc = _service(ctx)
    target = _resolve_target(svc, ctx.args.exit)
    if isinstance(target, Invite):
        raise CLIError("premium is bought through the directory; an invite names a private exit")
    try:
        offer = svc.premium_offer(target)
    except VpnError as exc:
        raise CLIError(str(exc)) from None
    data: dict[str, Any] = {"offer": offer.to_json(), "listed_cost": target.cost}
    lines = [
        f"exit          {target.name} ({target.public_key})",
        f"listed price  {target.cost:g} PKT" if target.premium else "listed price  - (no premium)",
        f"pay           {_coins(ctx, offer.amount_units)} to {offer.address}",
        "for           1 hour (revoked after 5 minutes if the payment does not arrive)",
    ]
    if not ctx.args.buy:
        ctx.emit(data, lines)
        return 0
    from ..vpn.premium import WalletPaymentSigner
    from ..wallet.wallet import Wallet
    from .wallet_session import sync_with_peers

    try:
        wallet = Wallet.open(ctx.datadir, ctx.args.wallet, ctx.params)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    try:
        sync_with_peers(ctx, wallet)  # pay from the coins the chain has now
    except BaseException:
        wallet.close()
        raise

    def signer(address: str, amount_units: int) -> SignedPayment:
        if ctx.args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Wallet password: ")
        pay: PaymentSigner = WalletPaymentSigner(wallet, password)
        return pay(address, amount_units)

    try:
        grant = svc.buy_premium(offer, signer, lambda o: _confirm(ctx, o))
    except (VpnError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        wallet.close()
    data["grant"] = grant.to_json()
    lines.append(f"premium until {_when(grant.until)} (payment {grant.txid})")
    ctx.emit(data, lines)
    return 0


def cmd_config(ctx: Context) -> int:
    a = ctx.args
    settings = VpnSettings() if a.reset else _settings(ctx)
    changed = a.reset
    for attr, value in (
        ("directory_url", getattr(a, "directory_url", None)),
        ("cjdroute_conf", str(a.cjdroute_conf) if getattr(a, "cjdroute_conf", None) else None),
        ("cjdroute_path", a.cjdroute_path),
        ("admin_bind", a.admin_bind),
        ("admin_password", a.admin_password),
        ("default_exit", a.default_exit),
    ):
        if value is not None:
            setattr(settings, attr, value)
            changed = True
    if a.dns:
        settings.dns_servers = [s.strip() for s in a.dns.split(",") if s.strip()]
        changed = True
    if a.set_dns:
        settings.set_dns = a.set_dns == "yes"
        changed = True
    if a.coordinator_via_cjdns:
        settings.coordinator_via_cjdns = a.coordinator_via_cjdns == "yes"
        changed = True
    if changed:
        settings.save(ctx.datadir)
    data = settings.__dict__ | {"saved_to": str(VpnSettings.path(ctx.datadir))}
    if data.get("admin_password"):
        data["admin_password"] = "(set)"
    ctx.emit(data, [f"{k:<16} {v}" for k, v in data.items()])
    return 0
