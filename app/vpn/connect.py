"""Connecting to a VPN exit: the state machine from ``off`` to ``connected``, one step at a
time (start cjdns, peer, authorize, open the tunnel), each with its own timeout and naming
itself when it fails; a failed connect undoes what it did. The states are in
``app/vpn/state.py``.

`ConnectStateMachine` holds what the whole service shares (the collaborators, the status and
its legal transitions, the saved session, cancellation); `app.vpn.service.VpnService` adds
keeping the tunnel alive, disconnecting, the live status, premium and diagnostics on top.

What this changes on the machine (route exceptions, DNS) goes through ``SystemChanges``
(``app/vpn/system.py``), so ``NoSystemChanges`` makes a dry run.
"""

import contextlib
import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from spv.params import MAINNET, NetworkParams

from .admin import AdminClient, TunnelConnection
from .authorize import Authorizer
from .cjdroute import (
    INSTALL_HINT,
    AdminCredentials,
    CjdrouteInfo,
    detect_cjdroute,
    start_cjdroute,
)
from .directory import AuthResult, Directory, ExitServer, PeeringLine
from .errors import (
    AdminAuthError,
    AdminCallError,
    AdminError,
    AdminUnreachable,
    AuthorizationError,
    DirectoryError,
    StepFailed,
    VpnError,
)
from .invite import Invite
from .premium import PremiumStore
from .settings import VpnSettings, vpn_dir
from .state import STEP_NAMES, TRANSITIONS, Session, VpnState, VpnStatus
from .system import SystemChanges

REAUTH_INTERVAL = 3600.0  # Anodium's Auth_TIMEOUT: leases last 24 h, renew every hour
HEALTH_INTERVAL = 10.0
POLL_INTERVAL = 2.0
POLL_ATTEMPTS = 10
PEER_TIMEOUT = 20.0
DEFAULT_TUN = "tun0"


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


class ConnectStateMachine:
    """The VPN's state, its collaborators and ``connect``: the base of ``VpnService``."""

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
        self.authorizer = Authorizer(admin, directory, system)

    # -- state -----------------------------------------------------------------------------------

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
            if state != current and state not in TRANSITIONS[current]:
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

    # -- connect ---------------------------------------------------------------------------------

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
        self.authorizer.my_key = info.public_key or None
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

    def _step_authorize(self, exit_server: ExitServer, invite: Invite | None) -> AuthResult | None:
        self._set(VpnState.AUTHORIZING)
        step = STEP_NAMES[VpnState.AUTHORIZING]
        assert self._session is not None
        try:
            auth = self.authorizer.authorize(exit_server, invite)
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
                f"operator must already allow this node ({self.authorizer.my_key})"
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
