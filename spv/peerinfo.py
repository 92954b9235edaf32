"""What the peer layer reports: its errors, what it knows of a peer, and the callbacks for
messages a peer sends unasked."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ChainError
from .messages import NODE_COMPACT_FILTERS, InvVector, NetAddress, Reject

if TYPE_CHECKING:
    from .peer import Peer


class PeerError(ChainError):
    """A connection-level failure: refused, closed, timed out, or handshake failed."""


class PeerTimeout(PeerError):
    """The peer did not answer in time (not a reason to ban: pktd ignores some requests)."""


class PeerMisbehaving(PeerError):
    """The peer sent something invalid; the caller should ban it."""


class NotFoundError(PeerError):
    """The peer answered `notfound`: it does not have what was asked (no offence)."""


@dataclass
class PeerInfo:
    host: str
    port: int
    version: int = 0
    services: int = 0
    user_agent: str = ""
    start_height: int = 0
    relay: bool = True
    connected_at: float = 0.0
    best_height: int = 0  # start height, raised by announcements
    bytes_received: int = 0
    bytes_sent: int = 0

    @property
    def serves_filters(self) -> bool:
        return bool(self.services & NODE_COMPACT_FILTERS)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass
class PeerEvents:
    """Callbacks for unsolicited messages (all optional, all called on the event loop)."""

    on_inv: Callable[["Peer", list[InvVector]], Awaitable[None] | None] | None = None
    on_headers: Callable[["Peer", bytes], Awaitable[None] | None] | None = None
    on_reject: Callable[["Peer", Reject], Awaitable[None] | None] | None = None
    on_tx: Callable[["Peer", bytes], Awaitable[None] | None] | None = None
    on_getdata: Callable[["Peer", list[InvVector]], Awaitable[None] | None] | None = None
    on_addr: Callable[["Peer", list[NetAddress]], Awaitable[None] | None] | None = None
    on_close: Callable[["Peer"], Awaitable[None] | None] | None = None
