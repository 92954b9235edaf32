"""VPN diagnostics: test every link of the chain (cjdroute installed and running, its admin
password, peers, the directory, authorization at the exit, the tunnel, the public IP) and
report each step as ok, warn, fail or skip. No tunnel is opened.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .admin import AdminClient
from .authorize import Authorizer
from .cjdroute import INSTALL_HINT, AdminCredentials, CjdrouteInfo
from .directory import Directory, ExitServer
from .errors import VpnError
from .invite import Invite
from .settings import VpnSettings
from .state import Session, VpnState, VpnStatus


@dataclass(frozen=True)
class DiagStep:
    name: str
    status: str  # ok, warn, fail, skip
    detail: str
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(
    target: ExitServer | Invite | None,
    *,
    datadir: Path,
    settings: VpnSettings,
    admin: AdminClient,
    directory: Directory,
    authorizer: Authorizer,
    credentials: AdminCredentials | None,
    detect: Callable[[], CjdrouteInfo],
    live_status: Callable[[], VpnStatus],
) -> list[DiagStep]:
    """Test every link of the chain and report each step (no tunnel is opened)."""
    steps: list[DiagStep] = []

    def run(name: str, fn: Callable[[], tuple[str, str]]) -> str:
        t0 = time.monotonic()
        try:
            status, detail = fn()
        except VpnError as exc:
            status, detail = "fail", str(exc)
        steps.append(DiagStep(name, status, detail, round(time.monotonic() - t0, 3)))
        return status

    info_holder: dict[str, CjdrouteInfo] = {}

    def installed() -> tuple[str, str]:
        info = detect()
        info_holder["info"] = info
        if not info.found:
            return "warn", f"{info.error}. {INSTALL_HINT}"
        version = " ".join(
            x for x in (info.version, f"protocol {info.protocol}" if info.protocol else None) if x
        )
        return "ok", f"{info.path} ({info.found_via}){f', {version}' if version else ''}"

    def running() -> tuple[str, str]:
        info = admin.node_info()
        authorizer.my_key = info.public_key
        return (
            "ok",
            f"{admin.endpoint}: node {info.my_ip6} ({info.public_key}), protocol {info.version}",
        )

    def password() -> tuple[str, str]:
        admin.check_auth()
        return "ok", f"accepted ({credentials.source if credentials else 'settings'})"

    def peers() -> tuple[str, str]:
        stats = admin.peer_stats()
        up = [p for p in stats if p.state == "ESTABLISHED"]
        if not stats:
            return "fail", "no peers (connecting adds the coordinator's peering lines)"
        detail = f"{len(up)} of {len(stats)} ESTABLISHED"
        return ("ok" if up else "fail"), detail

    def listing() -> tuple[str, str]:
        lst = directory.list_exits(include_inactive=True)
        active = sum(1 for e in lst.exits if e.is_active)
        detail = f"{len(lst.exits)} exits ({active} active) from {directory.base_url}"
        if lst.from_cache:
            return "warn", f"{lst.warnings[0] if lst.warnings else 'cached'}; {detail}"
        return "ok", detail

    session = Session.load(datadir)
    exit_server: ExitServer | None = None
    invite = target if isinstance(target, Invite) else None
    if isinstance(target, Invite):
        exit_server = target.exit_server()
    elif target is not None:
        exit_server = target
    elif session is not None:
        exit_server = ExitServer(public_key=session.exit_key, name=session.exit_name)

    def authorization() -> tuple[str, str]:
        if exit_server is None:
            return "skip", "no exit given (pkt-wallet vpn diagnose EXIT)"
        direct = (
            session.auth_server if session and session.exit_key == exit_server.public_key else None
        )
        auth = authorizer.authorize(exit_server, invite, direct)
        if auth is None:
            return "skip", "the invite has no authorization server"
        expires = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(auth.expires_at))
            if auth.expires_at
            else "?"
        )
        return (
            "ok",
            f"{exit_server.name}: HTTP {auth.status} {auth.message} via {auth.via}, lease until {expires}",
        )

    def tunnel() -> tuple[str, str]:
        live = live_status()
        if live.state == VpnState.CONNECTED:
            return (
                "ok",
                f"connection {live.connection} to {live.exit_key}: {live.ip4 or ''} {live.ip6 or ''}".strip(),
            )
        if live.state == VpnState.CONNECTING:
            return "fail", (
                f"connection {live.connection} to {live.exit_key} has no address yet "
                "(authorization missing or expired?)"
            )
        return "skip", "no tunnel open"

    def public_ip() -> tuple[str, str]:
        url = settings.resolved_public_ip_url()
        return "ok", f"{directory.public_ip(url)} (from {url})"

    run("cjdroute installed", installed)
    if run("cjdroute running", running) == "fail":
        for name in ("admin password", "peers", "tunnel"):
            steps.append(DiagStep(name, "skip", "cjdroute is not reachable"))
        run("directory", listing)
        if exit_server is not None:
            steps.append(DiagStep("authorization", "skip", "needs cjdroute to sign"))
        run("public IP", public_ip)
        return steps
    if run("admin password", password) == "fail":
        for name in ("peers", "authorization", "tunnel"):
            steps.append(DiagStep(name, "skip", "needs the admin password"))
        run("directory", listing)
        run("public IP", public_ip)
        return steps
    run("peers", peers)
    run("directory", listing)
    run("authorization", authorization)
    run("tunnel", tunnel)
    run("public IP", public_ip)
    return steps
