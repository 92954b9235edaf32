"""Everything the VPN does to the machine itself (routes, DNS) goes through ``SystemChanges``.

* ``NoSystemChanges`` changes nothing and records what it would have done (``--no-system-changes``).
* ``CjdnsSystem`` asks cjdroute's RouteGen to keep peers' IPs out of the tunnel routes
  (``RouteGen_addException``; cjdroute owns its TUN and its routes on desktop) and sets DNS
  through a ``DnsBackend`` when one is usable; otherwise it tells the user what to do, because
  cjdns does not handle DNS and a resolver left unchanged leaks queries.

cjdroute itself still applies the tunnel's addresses to its own TUN device (if it has one): that
is cjdroute's doing, not the wallet's.
"""

import shutil
import subprocess
from collections.abc import Sequence
from typing import Protocol

from .admin import AdminClient
from .errors import AdminError


class SystemChanges(Protocol):
    dry_run: bool
    actions: list[str]  # what was done (or, in dry-run mode, would have been done)
    notices: list[str]  # what the user has to do by hand

    def add_route_exception(self, route: str) -> None: ...

    def remove_route_exception(self, route: str) -> None: ...

    def set_dns(self, interface: str, servers: Sequence[str]) -> bool: ...

    def restore_dns(self, interface: str) -> None: ...


class NoSystemChanges:
    """Changes nothing; records what would have been done."""

    dry_run = True

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.notices: list[str] = []

    def add_route_exception(self, route: str) -> None:
        self.actions.append(
            f"would keep {route} out of the tunnel routes (RouteGen_addException route={route})"
        )

    def remove_route_exception(self, route: str) -> None:
        self.actions.append(
            f"would remove the route exception for {route} (RouteGen_removeException)"
        )

    def set_dns(self, interface: str, servers: Sequence[str]) -> bool:
        self.actions.append(f"would set the DNS resolver of {interface} to {', '.join(servers)}")
        return False

    def restore_dns(self, interface: str) -> None:
        self.actions.append(f"would restore the DNS resolver of {interface}")


class DnsBackend(Protocol):
    name: str

    def set(self, interface: str, servers: Sequence[str]) -> None: ...

    def restore(self, interface: str) -> None: ...


class ResolvectlDns:
    """systemd-resolved per-link DNS: ``resolvectl dns IFACE SERVERS`` + ``domain IFACE ~.``;
    restored with ``resolvectl revert IFACE``. Needs the right to change resolved's settings."""

    name = "resolvectl"

    def __init__(self, executable: str = "resolvectl", timeout: float = 10.0) -> None:
        self.executable = executable
        self.timeout = timeout

    @classmethod
    def available(cls) -> "ResolvectlDns | None":
        exe = shutil.which("resolvectl")
        return cls(exe) if exe else None

    def _run(self, *args: str) -> None:
        try:
            proc = subprocess.run(
                [self.executable, *args],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OSError(f"resolvectl {' '.join(args)}: {exc}") from None
        if proc.returncode != 0:
            raise OSError(
                f"resolvectl {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()}"
            )

    def set(self, interface: str, servers: Sequence[str]) -> None:
        self._run("dns", interface, *servers)
        self._run("domain", interface, "~.")

    def restore(self, interface: str) -> None:
        self._run("revert", interface)


class CjdnsSystem:
    """Routes through cjdroute's RouteGen, DNS through ``dns`` (or a notice to the user)."""

    dry_run = False

    def __init__(self, admin: AdminClient, dns: DnsBackend | None) -> None:
        self.admin = admin
        self.dns = dns
        self.actions: list[str] = []
        self.notices: list[str] = []

    def add_route_exception(self, route: str) -> None:
        try:
            self.admin.routegen_add_exception(route)
            self.actions.append(f"kept {route} out of the tunnel routes")
        except AdminError as exc:
            self.notices.append(f"could not add a route exception for {route}: {exc}")

    def remove_route_exception(self, route: str) -> None:
        try:
            self.admin.routegen_remove_exception(route)
            self.actions.append(f"removed the route exception for {route}")
        except AdminError as exc:
            self.notices.append(f"could not remove the route exception for {route}: {exc}")

    def set_dns(self, interface: str, servers: Sequence[str]) -> bool:
        listed = ", ".join(servers)
        if self.dns is None:
            self.notices.append(
                f"DNS was not changed (no supported resolver manager): set your DNS to {listed} "
                "while connected, or your DNS queries bypass the VPN"
            )
            return False
        try:
            self.dns.set(interface, servers)
        except OSError as exc:
            self.notices.append(
                f"DNS was not changed ({exc}): set your DNS to {listed} while connected, or "
                "your DNS queries bypass the VPN"
            )
            return False
        self.actions.append(f"set the DNS resolver of {interface} to {listed} ({self.dns.name})")
        return True

    def restore_dns(self, interface: str) -> None:
        if self.dns is None:
            return
        try:
            self.dns.restore(interface)
            self.actions.append(f"restored the DNS resolver of {interface}")
        except OSError as exc:
            self.notices.append(f"could not restore DNS of {interface}: {exc}")
