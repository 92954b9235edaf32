"""The headless VPN service: connect, keep alive, disconnect, status, diagnostics, premium.

State machine::

    off -> starting_cjdns -> peering -> authorizing -> connecting -> connected
                                                                      |  ^
                                     (addresses lost: reconnect)      v  |
                                                                   connecting
    any step -> error (human reason + the failing step); connected/error -> disconnecting -> off

Each step has its own timeout and names itself when it fails. What this service changes on the
machine (route exceptions, DNS) goes through ``SystemChanges`` (``app/vpn/system.py``), so
``NoSystemChanges`` makes a dry run. The session (exit, tunnel number, route exceptions, DNS,
lease) is saved in ``<datadir>/vpn/session.json`` so another process can report or undo it.
"""

import contextlib
import ipaddress
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from spv.address import decode_address
from spv.atomic import atomic_write
from spv.params import MAINNET, NetworkParams

from .admin import AdminClient, TunnelConnection
from .cjdroute import (
    INSTALL_HINT,
    AdminCredentials,
    CjdrouteInfo,
    detect_cjdroute,
    resolve_credentials,
    start_cjdroute,
)
from .directory import AuthResult, Directory, ExitServer, PeeringLine, find_exit
from .errors import (
    AdminAuthError,
    AdminCallError,
    AdminError,
    AdminUnreachable,
    AuthorizationError,
    DirectoryError,
    DirectoryUnreachable,
    PremiumError,
    StepFailed,
    VpnError,
)
from .invite import Invite
from .premium import (
    PREMIUM_SECONDS,
    PaymentSigner,
    PremiumGrant,
    PremiumOffer,
    PremiumStore,
    pkt_to_units,
)
from .settings import VpnSettings, vpn_dir
from .system import CjdnsSystem, NoSystemChanges, ResolvectlDns, SystemChanges

REAUTH_INTERVAL = 3600.0  # Anodium's Auth_TIMEOUT: leases last 24 h, renew every hour
HEALTH_INTERVAL = 10.0
POLL_INTERVAL = 2.0
POLL_ATTEMPTS = 10
PEER_TIMEOUT = 20.0
DEFAULT_TUN = "tun0"


class VpnState(StrEnum):
    OFF = "off"
    STARTING_CJDNS = "starting_cjdns"
    PEERING = "peering"
    AUTHORIZING = "authorizing"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    ERROR = "error"


STEP_NAMES = {
    VpnState.STARTING_CJDNS: "starting cjdns",
    VpnState.PEERING: "peering",
    VpnState.AUTHORIZING: "authorizing",
    VpnState.CONNECTING: "connecting",
    VpnState.CONNECTED: "keeping the tunnel up",
    VpnState.DISCONNECTING: "disconnecting",
}

_ALLOWED: dict[VpnState, set[VpnState]] = {
    VpnState.OFF: {VpnState.STARTING_CJDNS, VpnState.DISCONNECTING, VpnState.ERROR},
    VpnState.STARTING_CJDNS: {VpnState.PEERING, VpnState.ERROR},
    VpnState.PEERING: {VpnState.AUTHORIZING, VpnState.ERROR},
    VpnState.AUTHORIZING: {VpnState.CONNECTING, VpnState.ERROR},
    VpnState.CONNECTING: {VpnState.CONNECTED, VpnState.ERROR},
    VpnState.CONNECTED: {VpnState.CONNECTING, VpnState.DISCONNECTING, VpnState.ERROR},
    VpnState.DISCONNECTING: {VpnState.OFF, VpnState.ERROR},
    VpnState.ERROR: {VpnState.STARTING_CJDNS, VpnState.DISCONNECTING, VpnState.OFF},
}


@dataclass
class VpnStatus:
    state: VpnState = VpnState.OFF
    exit_key: str | None = None
    exit_name: str | None = None
    ip4: str | None = None
    ip6: str | None = None
    ip4_prefix: int | None = None
    ip6_prefix: int | None = None
    connection: int | None = None
    since: float | None = None
    authorized_at: float | None = None
    lease_expires: int | None = None
    auth_via: str | None = None
    premium_until: float | None = None
    error: str | None = None
    failed_step: str | None = None
    dry_run: bool = False
    actions: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


@dataclass
class Session:
    """What must survive the process: enough to report on and undo a connection."""

    exit_key: str
    exit_name: str
    connection: int | None = None
    since: float | None = None
    authorized_at: float | None = None
    lease_expires: int | None = None
    auth_via: str | None = None
    auth_server: str | None = None  # direct authorization URL (invites, coordinator fallback)
    route_exceptions: list[str] = field(default_factory=list)
    dns_interface: str | None = None
    started_cjdroute: bool = False
    dry_run: bool = False

    @classmethod
    def path(cls, datadir: Path) -> Path:
        return vpn_dir(datadir) / "session.json"

    @classmethod
    def load(cls, datadir: Path) -> "Session | None":
        try:
            data = json.loads(cls.path(datadir).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, datadir: Path) -> None:
        atomic_write(self.path(datadir), json.dumps(asdict(self), indent=1).encode(), mode=0o600)

    @classmethod
    def clear(cls, datadir: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            cls.path(datadir).unlink()


@dataclass(frozen=True)
class DiagStep:
    name: str
    status: str  # ok, warn, fail, skip
    detail: str
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _routable(text: str) -> bool:
    """An IP literal that could be routed into the tunnel (not loopback/link-local)."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def _host_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    host = urlsplit(url if "://" in url else "http://" + url).hostname
    return host if host and _routable(host) else None


class VpnService:
    def __init__(
        self,
        *,
        datadir: Path,
        settings: VpnSettings,
        admin: AdminClient,
        directory: Directory,
        system: SystemChanges,
        params: NetworkParams = MAINNET,
        credentials: AdminCredentials | None = None,
        cjdroute_path: Path | None = None,
        detect: Callable[[], CjdrouteInfo] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
        on_change: Callable[[VpnStatus], None] | None = None,
        peer_timeout: float = PEER_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        poll_attempts: int = POLL_ATTEMPTS,
        reauth_interval: float = REAUTH_INTERVAL,
        health_interval: float = HEALTH_INTERVAL,
    ) -> None:
        self.datadir = Path(datadir)
        self.settings = settings
        self.admin = admin
        self.directory = directory
        self.system = system
        self.params = params
        self.credentials = credentials
        self.cjdroute_path = cjdroute_path
        self.detect: Callable[[], CjdrouteInfo] = detect or (
            lambda: detect_cjdroute(self.cjdroute_path)
        )
        self.clock = clock
        self._cancel = threading.Event()
        self.sleep: Callable[[float], None] = sleep or self._wait_or_cancel
        self.on_change = on_change
        self.peer_timeout = peer_timeout
        self.poll_interval = poll_interval
        self.poll_attempts = poll_attempts
        self.reauth_interval = reauth_interval
        self.health_interval = health_interval
        self.tun_device = (credentials.tun_device if credentials else None) or DEFAULT_TUN
        self.premium = PremiumStore(vpn_dir(self.datadir) / "premium.json")
        self._status = VpnStatus(dry_run=system.dry_run)
        self._session: Session | None = None
        self._exit: ExitServer | None = None
        self._invite: Invite | None = None
        self._lock = threading.RLock()  # one operation at a time (connect, keep-alive, disconnect)
        self._state_lock = threading.Lock()  # the status alone: readable during an operation
        self._my_key: str | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def status(self) -> VpnStatus:
        with self._state_lock:
            s = replace(self._status)
            s.actions = list(self.system.actions)
            s.notices = list(self.system.notices)
            return s

    def _set(self, state: VpnState, **changes: Any) -> None:
        with self._state_lock:
            current = self._status.state
            if state != current and state not in _ALLOWED[current]:
                raise RuntimeError(f"illegal VPN state change {current} -> {state}")
            self._status = replace(self._status, state=state, **changes)
        if self.on_change is not None:
            self.on_change(self.status)

    def _fail(self, step: str, reason: str) -> StepFailed:
        self._set(VpnState.ERROR, error=reason, failed_step=step)
        return StepFailed(step, reason)

    def _wait_or_cancel(self, seconds: float) -> None:
        self._cancel.wait(seconds)

    def _pause(self, step: str, seconds: float) -> None:
        """Wait between polls; a ``cancel()`` ends the step."""
        if not self._cancel.is_set():
            self.sleep(seconds)
        if self._cancel.is_set():
            raise self._fail(step, "cancelled")

    def cancel(self) -> None:
        """Stop a connect in progress at its next wait (it fails with reason "cancelled")."""
        self._cancel.set()

    def _save_session(self) -> None:
        if self._session is not None:
            self._session.save(self.datadir)

    # -- exits -------------------------------------------------------------------------------

    def resolve_exit(self, text: str) -> ExitServer:
        """An exit by name or public key from the directory (cached list if it is down)."""
        exits = self.directory.list_exits(include_inactive=True).exits
        try:
            return find_exit(exits, text)
        except DirectoryError:
            from .keys import is_public_key

            if is_public_key(text.strip()):  # an exit the directory does not list
                return ExitServer(public_key=text.strip(), name=text.strip()[:12])
            raise

    # -- connect -----------------------------------------------------------------------------

    def connect(self, target: ExitServer | Invite, *, start_cjdroute: bool = False) -> VpnStatus:
        """Run every step up to ``connected``; raises StepFailed naming the failing step."""
        with self._lock:
            if self.status.state not in (VpnState.OFF, VpnState.ERROR):
                raise VpnError(f"the VPN is already {self.status.state.value}; disconnect first")
            self._cancel.clear()
            self.system.actions.clear()
            self.system.notices.clear()
            invite = target if isinstance(target, Invite) else None
            exit_server = target.exit_server() if isinstance(target, Invite) else target
            self._invite, self._exit = invite, exit_server
            self._set(
                VpnState.STARTING_CJDNS,
                exit_key=exit_server.public_key,
                exit_name=exit_server.name,
                ip4=None,
                ip6=None,
                connection=None,
                since=None,
                error=None,
                failed_step=None,
                dry_run=self.system.dry_run,
            )
            try:
                self._session = Session(
                    exit_server.public_key, exit_server.name, dry_run=self.system.dry_run
                )
                self._session.started_cjdroute = self._step_cjdns(start_cjdroute)
                self._step_peering(exit_server, invite)
                auth = self._step_authorize(exit_server, invite)
                conn = self._step_connect(exit_server)
                self._step_connected(conn, auth)
            except StepFailed:
                self._cleanup_after_failure()
                raise
            except VpnError as exc:  # e.g. the admin password rejected in the middle of a step
                step = STEP_NAMES.get(self.status.state, self.status.state.value)
                self._cleanup_after_failure()
                raise self._fail(step, str(exc)) from None
            return self.status

    def _step_cjdns(self, start: bool) -> bool:
        step = STEP_NAMES[VpnState.STARTING_CJDNS]
        started = False
        try:
            info = self.admin.node_info()
        except AdminUnreachable as exc:
            if not start:
                raise self._fail(step, self._cjdroute_missing_reason(str(exc))) from None
            info = None
            started = self._start_cjdroute(step)
        if info is None:
            try:
                info = self.admin.node_info()
            except AdminError as exc:
                raise self._fail(step, str(exc)) from None
        self._my_key = info.public_key or None
        try:
            self.admin.check_auth()
        except AdminAuthError as exc:
            raise self._fail(
                step, f"{exc} — fix admin.password (cjdroute.conf or ~/.cjdnsadmin)"
            ) from None
        except AdminError as exc:
            raise self._fail(step, str(exc)) from None
        return started

    def _cjdroute_missing_reason(self, unreachable: str) -> str:
        info = self.detect()
        if not info.found:
            return f"{unreachable}. {INSTALL_HINT}"
        return (
            f"{unreachable}. cjdroute is installed at {info.path}"
            f"{f' ({info.version})' if info.version else ''}: start it (as root: "
            f"'sudo {info.path} < cjdroute.conf', or its systemd service), or pass --start-cjdroute"
        )

    def _start_cjdroute(self, step: str) -> bool:
        info = self.detect()
        conf = self.credentials.config_path if self.credentials else None
        if not info.found or info.path is None:
            raise self._fail(step, f"cjdroute is not running and not installed. {INSTALL_HINT}")
        if conf is None:
            raise self._fail(step, "cannot start cjdroute: no cjdroute.conf (use --cjdroute-conf)")
        try:
            start_cjdroute(
                info.path, conf, self.admin, log_path=vpn_dir(self.datadir) / "cjdroute.log"
            )
        except VpnError as exc:
            raise self._fail(step, str(exc)) from None
        self.system.actions.append(f"started {info.path} with {conf}")
        return True

    def _step_peering(self, exit_server: ExitServer, invite: Invite | None) -> None:
        self._set(VpnState.PEERING)
        step = STEP_NAMES[VpnState.PEERING]
        assert self._session is not None
        try:
            existing = {p.public_key for p in self.admin.peer_stats()}
        except AdminError as exc:
            raise self._fail(step, f"InterfaceController_peerStats failed: {exc}") from None
        lines: list[PeeringLine]
        if invite is not None:
            lines = [invite.peering_line()]
        else:
            try:
                lines, warnings = self.directory.peering_lines()
                self.system.notices.extend(warnings[:3])
            except DirectoryError as exc:
                lines = []
                self.system.notices.append(f"no peering lines from the directory: {exc}")
        added: list[PeeringLine] = []
        errors: list[str] = []
        for line in lines:
            if line.public_key in existing:
                continue
            try:
                self.admin.udp_begin_connection(
                    line.public_key, line.address, line.password, line.login
                )
                added.append(line)
            except AdminCallError as exc:
                errors.append(f"{line.name or line.public_key[:8]}: {exc.error}")
        if invite is not None and errors:
            raise self._fail(step, f"cannot peer with the invite's node: {errors[0]}")
        routes = [line.ip for line in added]
        if exit_server.public_ip:
            routes.append(exit_server.public_ip)
        if invite is not None and invite.auth_server:
            auth_host = _host_of(invite.auth_server)
            if auth_host:
                routes.append(auth_host)
        for ip in dict.fromkeys(r for r in routes if _routable(r)):
            self.system.add_route_exception(ip)
            if not self.system.dry_run:
                self._session.route_exceptions.append(ip)
        self._save_session()
        deadline = time.monotonic() + self.peer_timeout
        wait = min(0.5, max(self.poll_interval, 0.01))
        while True:
            try:
                peers = self.admin.peer_stats()
            except AdminError as exc:
                raise self._fail(step, f"InterfaceController_peerStats failed: {exc}") from None
            established = [p for p in peers if p.state == "ESTABLISHED"]
            if established:
                return
            if time.monotonic() >= deadline:
                break
            self._pause(step, wait)
        detail = ", ".join(f"{p.public_key[:8]} {p.state}" for p in peers[:5]) or "no peers at all"
        extra = f"; beginConnection errors: {'; '.join(errors[:3])}" if errors else ""
        raise self._fail(
            step,
            f"no cjdns peer reached ESTABLISHED within {self.peer_timeout:g} s ({detail}){extra}",
        )

    def _sign(self, msg_hash: str) -> str:
        return self.admin.sign(msg_hash)

    def _authorize(
        self, exit_server: ExitServer, invite: Invite | None, direct_url: str | None = None
    ) -> AuthResult | None:
        """One authorization: at ``direct_url`` if given (the server that worked last time),
        directly for invites, else through the coordinator with a direct fallback when the
        coordinator is unreachable. None: an invite without an authorization server (the
        operator pre-allowed this node)."""
        if direct_url:
            return self._authorize_direct(direct_url)
        if invite is not None:
            if not invite.auth_server:
                return None
            return self._authorize_direct(invite.auth_server)
        try:
            return self.directory.authorize(exit_server.public_key, self._sign)
        except DirectoryUnreachable as exc:
            direct = exit_server.auth_server or (
                f"http://{exit_server.public_ip}:8099" if exit_server.public_ip else None
            )
            if not direct:
                raise AuthorizationError(
                    f"the coordinator is unreachable ({exc}) and the exit has no known "
                    "authorization server to try directly"
                ) from None
            self.system.notices.append(f"coordinator unreachable ({exc}); authorized at {direct}")
            return self._authorize_direct(direct)

    def _authorize_direct(self, url: str) -> AuthResult:
        if not self._my_key:
            self._my_key = self.admin.node_info().public_key
        try:
            return self.directory.authorize_direct(url, self._my_key, self._sign)
        except DirectoryUnreachable as exc:
            raise AuthorizationError(
                f"the exit's authorization server is unreachable: {exc}"
            ) from None

    def _step_authorize(self, exit_server: ExitServer, invite: Invite | None) -> AuthResult | None:
        self._set(VpnState.AUTHORIZING)
        step = STEP_NAMES[VpnState.AUTHORIZING]
        assert self._session is not None
        try:
            auth = self._authorize(exit_server, invite)
        except AuthorizationError as exc:
            raise self._fail(step, str(exc)) from None
        except AdminAuthError:
            raise
        except AdminError as exc:
            raise self._fail(step, f"cjdroute could not sign the request: {exc}") from None
        except DirectoryError as exc:
            raise self._fail(step, str(exc)) from None
        now = self.clock()
        if auth is None:
            self.system.notices.append(
                "not authorizing: the invite names no authorization server, so the exit "
                f"operator must already allow this node ({self._my_key})"
            )
        else:
            if auth.via == "direct":
                self._session.auth_server = auth.url.split("/api/")[0]
            self._session.authorized_at = now
            self._session.lease_expires = auth.expires_at
            self._session.auth_via = auth.via
            self._set(
                VpnState.AUTHORIZING,
                authorized_at=now,
                lease_expires=auth.expires_at,
                auth_via=auth.via,
            )
        return auth

    def _open_tunnel(self, exit_key: str, step: str) -> TunnelConnection:
        assert self._session is not None
        try:
            for n in self.admin.iptunnel_list_connections():
                try:
                    old = self.admin.iptunnel_show_connection(n)
                    if old.outgoing:
                        self.admin.iptunnel_remove_connection(n)
                except AdminCallError:
                    continue
            number = self.admin.iptunnel_connect_to(exit_key)
        except AdminAuthError:
            raise
        except AdminError as exc:
            raise self._fail(step, f"IpTunnel_connectTo failed: {exc}") from None
        self._session.connection = number
        self._save_session()
        self._set(self._status.state, connection=number)
        conn: TunnelConnection | None = None
        for attempt in range(max(1, self.poll_attempts)):
            try:
                conn = self.admin.iptunnel_show_connection(number)
            except AdminError as exc:
                raise self._fail(step, f"IpTunnel_showConnection failed: {exc}") from None
            if conn.has_address:
                return conn
            if attempt + 1 < self.poll_attempts:
                self._pause(step, self.poll_interval)
        waited = self.poll_interval * max(0, self.poll_attempts - 1)
        raise self._fail(
            step,
            f"the exit assigned no address within {waited:g} s (IpTunnel_showConnection "
            f"{number} has no ip4Address/ip6Address): it has probably not authorized this node "
            "— authorization missing or expired, or the exit is unreachable over cjdns",
        )

    def _step_connect(self, exit_server: ExitServer) -> TunnelConnection:
        self._set(VpnState.CONNECTING)
        return self._open_tunnel(exit_server.public_key, STEP_NAMES[VpnState.CONNECTING])

    def _step_connected(self, conn: TunnelConnection, auth: AuthResult | None) -> None:
        assert self._session is not None
        now = self.clock()
        servers = list(auth.nameservers) if auth and auth.nameservers else self.settings.dns_servers
        if self.settings.set_dns and servers:
            if self.system.set_dns(self.tun_device, servers):
                self._session.dns_interface = self.tun_device
        elif servers:
            self.system.notices.append(
                f"DNS is not managed by the wallet (setting set_dns is off): use {', '.join(servers)}"
            )
        self._session.since = now
        self._save_session()
        assert self._exit is not None
        self._set(
            VpnState.CONNECTED,
            ip4=conn.ip4_address,
            ip6=conn.ip6_address,
            ip4_prefix=conn.ip4_prefix,
            ip6_prefix=conn.ip6_prefix,
            connection=conn.number,
            since=now,
            premium_until=self.premium.active_until(self._exit.public_key, now),
        )

    def _cleanup_after_failure(self) -> None:
        """Undo what a failed connect did (tunnel, route exceptions, DNS); keep the error."""
        session = self._session
        if session is None:
            return
        self._undo(session)
        Session.clear(self.datadir)
        self._session = None

    def _undo(self, session: Session) -> None:
        if session.connection is not None:
            with contextlib.suppress(AdminError):
                self.admin.iptunnel_remove_connection(session.connection)
        for route in session.route_exceptions:
            self.system.remove_route_exception(route)
        if session.dns_interface:
            self.system.restore_dns(session.dns_interface)

    # -- keep alive --------------------------------------------------------------------------

    def keep_alive_once(self) -> VpnStatus:
        """One health check: the tunnel still has addresses (reconnect if not); re-authorize
        when ``reauth_interval`` has passed since the last authorization. A failure sets the
        error state and raises StepFailed."""
        with self._lock:
            if self.status.state != VpnState.CONNECTED or self._session is None:
                return self.status
            try:
                self._keep_alive(self._session)
            except StepFailed:
                raise
            except VpnError as exc:
                raise self._fail(STEP_NAMES[VpnState.CONNECTED], str(exc)) from None
            return self.status

    def _keep_alive(self, session: Session) -> None:
        exit_server = self._exit
        assert exit_server is not None
        step = STEP_NAMES[VpnState.CONNECTED]
        now = self.clock()
        if (
            session.authorized_at is not None
            and now - session.authorized_at >= self.reauth_interval
        ):
            self._reauthorize(exit_server, now)
        try:
            conn = self.admin.iptunnel_show_connection(session.connection or 0)
        except AdminUnreachable as exc:
            raise self._fail(step, f"cjdroute stopped answering: {exc}") from None
        except AdminCallError as exc:
            if "not found" in exc.error:
                raise self._fail(step, "the tunnel was removed outside the wallet") from None
            raise self._fail(step, str(exc)) from None
        if not conn.has_address:
            self.system.notices.append("the tunnel lost its addresses; reconnecting")
            self._set(VpnState.CONNECTING)
            self._reauthorize(exit_server, self.clock(), required=True)
            conn = self._open_tunnel(exit_server.public_key, step)
            self._set(VpnState.CONNECTED)
        current = self.status
        if (conn.ip4_address, conn.ip6_address) != (current.ip4, current.ip6):
            self._set(
                VpnState.CONNECTED,
                ip4=conn.ip4_address,
                ip6=conn.ip6_address,
                ip4_prefix=conn.ip4_prefix,
                ip6_prefix=conn.ip6_prefix,
                connection=conn.number,
            )
        self._save_session()

    def _reauthorize(self, exit_server: ExitServer, now: float, required: bool = False) -> None:
        assert self._session is not None
        step = STEP_NAMES[VpnState.AUTHORIZING]
        try:
            auth = self._authorize(exit_server, self._invite, self._session.auth_server)
        except (AuthorizationError, DirectoryError, AdminError) as exc:
            lease = self._session.lease_expires
            if required or (lease is not None and now >= lease):
                raise self._fail(step, f"re-authorization failed: {exc}") from None
            self.system.notices.append(f"re-authorization failed (will retry): {exc}")
            return
        if auth is None:
            return
        self._session.authorized_at = now
        self._session.lease_expires = auth.expires_at
        self._save_session()
        self._set(self._status.state, authorized_at=now, lease_expires=auth.expires_at)

    def next_wakeup(self) -> float:
        """Seconds until keep_alive_once should run next."""
        s = self._session
        if s is None or s.authorized_at is None:
            return self.health_interval
        until_reauth = s.authorized_at + self.reauth_interval - self.clock()
        return max(0.01, min(self.health_interval, until_reauth))

    def run_foreground(
        self, stop: threading.Event, on_tick: Callable[[VpnStatus], None] | None = None
    ) -> VpnStatus:
        """Keep the tunnel healthy and authorized until ``stop`` is set or a step fails."""
        while not stop.wait(self.next_wakeup()):
            status = self.keep_alive_once()
            if on_tick is not None:
                on_tick(status)
        return self.status

    # -- disconnect --------------------------------------------------------------------------

    def disconnect(self) -> VpnStatus:
        """Remove the tunnel, route exceptions and DNS of this (or a saved) session. A connect in
        progress in another thread is cancelled first."""
        self.cancel()
        with self._lock:
            self._cancel.clear()
            session = self._session or Session.load(self.datadir)
            self._set(VpnState.DISCONNECTING)
            removed: list[int] = []
            try:
                numbers = (
                    [session.connection]
                    if session and session.connection is not None
                    else [
                        n
                        for n in self.admin.iptunnel_list_connections()
                        if self.admin.iptunnel_show_connection(n).outgoing
                    ]
                )
                for n in numbers:
                    try:
                        self.admin.iptunnel_remove_connection(n)
                        removed.append(n)
                    except AdminCallError as exc:
                        if exc.error != "not_found":
                            raise
                if removed:
                    self.system.actions.append(
                        "removed tunnel " + ", ".join(str(n) for n in removed)
                    )
                else:
                    self.system.notices.append("no tunnel was open")
            except AdminError as exc:
                self.system.notices.append(f"could not remove the tunnel: {exc}")
            if session is not None:
                session.connection = None
                self._undo(session)
                if session.started_cjdroute:
                    try:
                        self.admin.core_exit()
                        self.system.actions.append("stopped cjdroute (the wallet had started it)")
                    except AdminError as exc:
                        self.system.notices.append(f"could not stop cjdroute: {exc}")
            Session.clear(self.datadir)
            self._session = None
            self._set(
                VpnState.OFF,
                ip4=None,
                ip6=None,
                connection=None,
                since=None,
                error=None,
                failed_step=None,
            )
            return self.status

    # -- live status -------------------------------------------------------------------------

    def live_status(self) -> VpnStatus:
        """The state as cjdroute reports it now, completed with the saved session."""
        session = Session.load(self.datadir)
        status = VpnStatus(dry_run=self.system.dry_run)
        if session:
            status.exit_key, status.exit_name = session.exit_key, session.exit_name
            status.authorized_at, status.lease_expires = (
                session.authorized_at,
                session.lease_expires,
            )
            status.auth_via = session.auth_via
        try:
            numbers = self.admin.iptunnel_list_connections()
            conns = [self.admin.iptunnel_show_connection(n) for n in numbers]
        except AdminUnreachable as exc:
            status.error = self._cjdroute_missing_reason(str(exc))
            status.failed_step = STEP_NAMES[VpnState.STARTING_CJDNS]
            return status
        except AdminError as exc:
            status.state, status.error = VpnState.ERROR, str(exc)
            status.failed_step = "reading the tunnel state"
            return status
        outgoing = [c for c in conns if c.outgoing]
        chosen: TunnelConnection | None = None
        if session and session.connection is not None:
            chosen = next((c for c in outgoing if c.number == session.connection), None)
        if chosen is None and outgoing:
            chosen = next((c for c in outgoing if c.has_address), outgoing[0])
        if chosen is None:
            if session:
                status.error = "the saved session's tunnel is gone (cjdroute restarted?)"
            return status
        if not session or chosen.key != session.exit_key:
            status.exit_key, status.exit_name = chosen.key, None
            status.since = None
        else:
            status.since = session.since
        status.connection = chosen.number
        status.ip4, status.ip6 = chosen.ip4_address, chosen.ip6_address
        status.ip4_prefix, status.ip6_prefix = chosen.ip4_prefix, chosen.ip6_prefix
        status.state = VpnState.CONNECTED if chosen.has_address else VpnState.CONNECTING
        if status.exit_key:
            status.premium_until = self.premium.active_until(status.exit_key, self.clock())
        return status

    # -- premium -----------------------------------------------------------------------------

    def premium_offer(self, exit_server: ExitServer) -> PremiumOffer:
        """Ask the exit for a payment address and amount (nothing is spent)."""
        request = self.directory.premium_address(exit_server.public_key)
        try:
            decode_address(request.address, self.params)
        except ValueError as exc:
            raise PremiumError(f"the exit's payment address is not usable: {exc}") from None
        return PremiumOffer(
            exit_server.public_key,
            exit_server.name,
            request.address,
            pkt_to_units(request.amount, self.params.units_per_coin),
            exit_server.cost,
        )

    def buy_premium(
        self,
        offer: PremiumOffer,
        signer: PaymentSigner,
        confirm: Callable[[PremiumOffer], bool],
    ) -> PremiumGrant:
        """Pay for one hour of premium on the connected exit. ``confirm`` must return True for
        this exact offer before anything is signed; the exit broadcasts the transaction."""
        status = self.status
        if status.state != VpnState.CONNECTED:
            status = self.live_status()  # connected by another process (the CLI, a service)
        if status.state != VpnState.CONNECTED or status.exit_key != offer.exit_key:
            raise PremiumError(
                "connect to this exit first: premium is granted to the tunnel's IPv4"
            )
        if not status.ip4:
            raise PremiumError("the tunnel has no IPv4 address; the exit grants premium per IPv4")
        if confirm(offer) is not True:
            raise PremiumError("premium purchase not confirmed: nothing was signed or spent")
        payment = signer(offer.address, offer.amount_units)
        if payment.amount_units != offer.amount_units:
            raise PremiumError("the signed payment does not match the offer; not sent")
        message = self.directory.post_premium(
            offer.exit_key, status.ip4, payment.tx_hex, offer.address
        )
        if payment.on_accepted is not None:
            payment.on_accepted()
        now = self.clock()
        grant = PremiumGrant(
            offer.exit_key,
            now,
            now + PREMIUM_SECONDS,
            payment.txid,
            offer.address,
            offer.amount_units,
            message,
        )
        self.premium.add(grant)
        with self._state_lock:
            self._status = replace(self._status, premium_until=grant.until)
        return grant

    # -- diagnostics -------------------------------------------------------------------------

    def diagnose(self, target: ExitServer | Invite | None = None) -> list[DiagStep]:
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
            info = self.detect()
            info_holder["info"] = info
            if not info.found:
                return "warn", f"{info.error}. {INSTALL_HINT}"
            version = " ".join(
                x
                for x in (info.version, f"protocol {info.protocol}" if info.protocol else None)
                if x
            )
            return "ok", f"{info.path} ({info.found_via}){f', {version}' if version else ''}"

        def running() -> tuple[str, str]:
            info = self.admin.node_info()
            self._my_key = info.public_key
            return (
                "ok",
                f"{self.admin.endpoint}: node {info.my_ip6} ({info.public_key}), protocol {info.version}",
            )

        def password() -> tuple[str, str]:
            self.admin.check_auth()
            return "ok", f"accepted ({self.credentials.source if self.credentials else 'settings'})"

        def peers() -> tuple[str, str]:
            stats = self.admin.peer_stats()
            up = [p for p in stats if p.state == "ESTABLISHED"]
            if not stats:
                return "fail", "no peers (connecting adds the coordinator's peering lines)"
            detail = f"{len(up)} of {len(stats)} ESTABLISHED"
            return ("ok" if up else "fail"), detail

        def directory() -> tuple[str, str]:
            lst = self.directory.list_exits(include_inactive=True)
            active = sum(1 for e in lst.exits if e.is_active)
            detail = f"{len(lst.exits)} exits ({active} active) from {self.directory.base_url}"
            if lst.from_cache:
                return "warn", f"{lst.warnings[0] if lst.warnings else 'cached'}; {detail}"
            return "ok", detail

        session = Session.load(self.datadir)
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
                session.auth_server
                if session and session.exit_key == exit_server.public_key
                else None
            )
            auth = self._authorize(exit_server, invite, direct)
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
            live = self.live_status()
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
            url = self.settings.resolved_public_ip_url()
            return "ok", f"{self.directory.public_ip(url)} (from {url})"

        run("cjdroute installed", installed)
        if run("cjdroute running", running) == "fail":
            for name in ("admin password", "peers", "tunnel"):
                steps.append(DiagStep(name, "skip", "cjdroute is not reachable"))
            run("directory", directory)
            if exit_server is not None:
                steps.append(DiagStep("authorization", "skip", "needs cjdroute to sign"))
            run("public IP", public_ip)
            return steps
        if run("admin password", password) == "fail":
            for name in ("peers", "authorization", "tunnel"):
                steps.append(DiagStep(name, "skip", "needs the admin password"))
            run("directory", directory)
            run("public IP", public_ip)
            return steps
        run("peers", peers)
        run("directory", directory)
        run("authorization", authorization)
        run("tunnel", tunnel)
        run("public IP", public_ip)
        return steps


def build_service(
    datadir: Path,
    settings: VpnSettings,
    *,
    params: NetworkParams = MAINNET,
    no_system_changes: bool = False,
    cjdroute_conf: Path | None = None,
    admin_timeout: float = 2.0,
    admin_retries: int = 3,
    home: Path | None = None,
    **kwargs: Any,
) -> VpnService:
    """Wire a service from settings: admin credentials, directory with its cache, system."""
    conf = cjdroute_conf or (Path(settings.cjdroute_conf) if settings.cjdroute_conf else None)
    creds = resolve_credentials(
        conf,
        password=settings.admin_password,
        bind=settings.admin_bind,
        home=home,
        search_system=conf is None,
    )
    admin = creds.client(timeout=admin_timeout, retries=admin_retries)
    directory = Directory(
        settings.directory_url, vpn_dir(datadir), fallback_base=settings.coordinator_cjdns_url()
    )
    system: SystemChanges = (
        NoSystemChanges() if no_system_changes else CjdnsSystem(admin, ResolvectlDns.available())
    )
    return VpnService(
        datadir=datadir,
        settings=settings,
        admin=admin,
        directory=directory,
        system=system,
        params=params,
        credentials=creds,
        cjdroute_path=Path(settings.cjdroute_path) if settings.cjdroute_path else None,
        **kwargs,
    )
