"""The headless VPN service the window and the CLI use: connect (``app/vpn/connect.py``), keep
the tunnel alive and re-authorize, disconnect, the live status, premium (``app/vpn/premium.py``)
and diagnostics (``app/vpn/diagnostics.py``). ``build_service`` wires one from the settings.

The states and the saved session are in ``app/vpn/state.py``.
"""

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from spv.params import MAINNET, NetworkParams

from .admin import TunnelConnection
from .cjdroute import resolve_credentials
from .connect import ConnectStateMachine
from .diagnostics import DiagStep, diagnose
from .directory import Directory, ExitServer, find_exit
from .errors import (
    AdminCallError,
    AdminError,
    AdminUnreachable,
    AuthorizationError,
    DirectoryError,
    StepFailed,
    VpnError,
)
from .invite import Invite
from .premium import PaymentSigner, PremiumGrant, PremiumOffer, purchase_premium, request_offer
from .settings import VpnSettings, vpn_dir
from .state import STEP_NAMES, Session, VpnState, VpnStatus
from .system import CjdnsSystem, NoSystemChanges, ResolvectlDns, SystemChanges


class VpnService(ConnectStateMachine):
    """Connect, keep alive, disconnect, status, premium and diagnostics of the VPN. One
    operation at a time; ``status`` is readable during one (``on_change`` reports changes)."""

    # -- exits -----------------------------------------------------------------------------------

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

    # -- keep alive ------------------------------------------------------------------------------

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
            auth = self.authorizer.authorize(exit_server, self._invite, self._session.auth_server)
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

    # -- disconnect ------------------------------------------------------------------------------

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

    # -- live status -----------------------------------------------------------------------------

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

    # -- premium ---------------------------------------------------------------------------------

    def premium_offer(self, exit_server: ExitServer) -> PremiumOffer:
        """Ask the exit for a payment address and amount (nothing is spent)."""
        return request_offer(self.directory, self.params, exit_server)

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
        grant = purchase_premium(
            offer, signer, confirm, status, self.directory, self.premium, self.clock
        )
        with self._state_lock:
            self._status = replace(self._status, premium_until=grant.until)
        return grant

    # -- diagnostics -----------------------------------------------------------------------------

    def diagnose(self, target: ExitServer | Invite | None = None) -> list[DiagStep]:
        """Test every link of the chain and report each step (no tunnel is opened)."""
        return diagnose(
            target,
            datadir=self.datadir,
            settings=self.settings,
            admin=self.admin,
            directory=self.directory,
            authorizer=self.authorizer,
            credentials=self.credentials,
            detect=self.detect,
            live_status=self.live_status,
        )


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
