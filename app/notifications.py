"""Which desktop notifications a state change deserves, decided without Qt.

Each function takes the previous and the new state of one thing the window watches (the
wallet view, mining, the VPN) and returns the notifications to show, usually none. The tray
icon (``app/gui/tray.py``) only displays them; the at-a-glance texts for the Overview page come
from here too, so the tray and the page say the same thing.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from miner.annmine import MiningSnapshot
from spv.params import NetworkParams
from spv.units import format_amount

from .mining.status_text import short_url
from .vpn.state import VpnState, VpnStatus
from .wallet.model import HistoryEntry


@dataclass(frozen=True)
class Notification:
    title: str
    text: str


# --- wallet -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletHistory:
    """The part of a wallet view payment notifications compare: whose wallet, which entries."""

    wallet: str
    entries: Sequence[HistoryEntry]


SEPARATE_PAYMENTS = 3
"""More new payments than this at once (catching up after a while offline, a restore) are
summed up in one notification instead of one each."""


def payment_notifications(
    old: WalletHistory | None, new: WalletHistory, params: NetworkParams
) -> list[Notification]:
    """One notification per transaction that newly appears in the history and pays the wallet.

    ``old`` None (the first view after opening a wallet) or another wallet's view: nothing —
    the history already there is not news. A transaction seen before (unconfirmed, now
    confirmed) is not announced twice; payments out and moves between own addresses never are.
    """
    if old is None or old.wallet != new.wallet:
        return []
    seen = {e.txid for e in old.entries}
    # A view carries only the newest transactions (oldest first): an older one that slides
    # into the window (a newer one was abandoned) is not news. News comes after the oldest
    # transaction both views hold; with none in common, everything shown is new.
    shared = [i for i, e in enumerate(new.entries) if e.txid in seen]
    fresh = new.entries[shared[0] + 1 :] if shared else new.entries
    received = [
        e for e in fresh if e.txid not in seen and e.amount > 0 and e.direction == "incoming"
    ]

    def plus(units: int) -> str:
        return f"+{format_amount(units, params.units_per_coin)} {params.coin_symbol}"

    if len(received) > SEPARATE_PAYMENTS:
        total = sum(e.amount for e in received)
        return [
            Notification(
                "Payments received", f"{len(received)} payments, {plus(total)} to {new.wallet}"
            )
        ]
    out: list[Notification] = []
    for entry in received:
        if entry.coinbase:
            out.append(Notification("Mining reward", f"{plus(entry.amount)} mined to {new.wallet}"))
        else:
            state = "unconfirmed" if entry.height is None else "confirmed"
            out.append(
                Notification("Payment received", f"{plus(entry.amount)} to {new.wallet} ({state})")
            )
    return out


def vote_reminder_notifications(old: str, new: str) -> list[Notification]:
    """A Network Steward vote expires within four weeks (`WalletView.vote_reminder`): said
    once per reminder, not at every wallet view."""
    if not new or new == old:
        return []
    return [Notification("Network Steward vote", new)]


# --- mining -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MiningState:
    running: bool = False
    anns_per_sec: float = 0.0
    pool: str | None = None
    """The pool the current job comes from (else the first pool)."""
    error: str | None = None
    """Set while mining cannot reach any pool."""


STOPPED = MiningState()


def mining_state(snapshot: MiningSnapshot | None) -> MiningState:
    """What the tray and the Overview show of a mining snapshot (None: never started)."""
    if snapshot is None or not snapshot.running:
        return STOPPED
    pool = snapshot.job_pool or (snapshot.pools[0].url if snapshot.pools else None)
    error = None
    if snapshot.pools and all(p.state == "down" for p in snapshot.pools):
        reasons = {p.last_error or p.counters.last_error for p in snapshot.pools} - {""}
        error = "no pool answers" + (f": {'; '.join(sorted(reasons))}" if reasons else "")
    return MiningState(True, snapshot.anns_per_sec, pool, error)


def describe_mining(state: MiningState) -> str:
    if not state.running:
        return "stopped"
    if state.error is not None:
        return f"not mining: {state.error}"
    to_pool = f" to {short_url(state.pool)}" if state.pool else ""
    return f"mining {state.anns_per_sec:.1f} anns/s{to_pool}"


def mining_notifications(old: MiningState, new: MiningState) -> list[Notification]:
    """Started, stopped, and a pool problem appearing while mining (once, not every poll)."""
    out: list[Notification] = []
    if new.running and not old.running:
        to_pool = f" for {short_url(new.pool)}" if new.pool else ""
        out.append(Notification("Mining started", f"Mining announcements{to_pool}."))
    if old.running and not new.running:
        out.append(Notification("Mining stopped", "Mining has stopped."))
    if new.running and new.error is not None and new.error != old.error:
        out.append(Notification("Mining problem", new.error))
    return out


# --- VPN ----------------------------------------------------------------------------------------

_BUSY = (
    VpnState.STARTING_CJDNS,
    VpnState.PEERING,
    VpnState.AUTHORIZING,
    VpnState.CONNECTING,
)


def exit_label(status: VpnStatus) -> str:
    return status.exit_name or status.exit_key or "the exit"


def describe_vpn(status: VpnStatus) -> str:
    """A few words for the Overview and the tray menu."""
    if status.state == VpnState.CONNECTED:
        return f"connected to {exit_label(status)}"
    if status.state in _BUSY:
        return "connecting…"
    if status.state == VpnState.DISCONNECTING:
        return "disconnecting…"
    if status.state == VpnState.ERROR:
        return "not connected (error)"
    return "off"


def vpn_notifications(old: VpnStatus | None, new: VpnStatus) -> list[Notification]:
    """Connected, and a connection lost without the user asking (an error, or the tunnel
    reconnecting after losing its addresses). Disconnecting on purpose is not announced."""
    before = old.state if old is not None else VpnState.OFF
    if new.state == before:
        return []
    if new.state == VpnState.CONNECTED:
        return [Notification("VPN connected", f"Connected to {exit_label(new)}.")]
    if before == VpnState.CONNECTED and new.state == VpnState.ERROR:
        reason = f": {new.error}" if new.error else ""
        return [
            Notification("VPN dropped", f"The connection to {exit_label(new)} was lost{reason}")
        ]
    if before == VpnState.CONNECTED and new.state in _BUSY:
        return [
            Notification(
                "VPN dropped", f"The connection to {exit_label(new)} was lost; reconnecting."
            )
        ]
    return []
