"""What a VPN connection is in: its state, the status callers read, and the saved session.

States::

    off -> starting_cjdns -> peering -> authorizing -> connecting -> connected
                                                                      |  ^
                                     (addresses lost: reconnect)      v  |
                                                                   connecting
    any step -> error (human reason + the failing step); connected/error -> disconnecting -> off

The session (exit, tunnel number, route exceptions, DNS, lease) is saved in
``<datadir>/vpn/session.json`` so another process can report or undo it.
"""

import contextlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from spv.atomic import atomic_write

from .settings import vpn_dir


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

TRANSITIONS: dict[VpnState, set[VpnState]] = {
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
