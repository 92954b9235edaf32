"""Which notification each state change gives (no Qt), and mining earnings from a history."""

from datetime import UTC, date, datetime

from app.mining.earnings import earnings_summary
from app.notifications import (
    STOPPED,
    MiningState,
    Notification,
    WalletHistory,
    describe_mining,
    describe_vpn,
    mining_notifications,
    mining_state,
    payment_notifications,
    vpn_notifications,
)
from app.vpn.state import VpnState, VpnStatus
from app.wallet.model import HistoryEntry
from miner.annmine import MiningSnapshot
from miner.pool.client import PoolStatus
from miner.pool.upload import UploadCounters
from spv.params import MAINNET

COIN = MAINNET.units_per_coin
NOON = int(datetime(2026, 11, 24, 12, tzinfo=UTC).timestamp())


def entry(
    txid: str,
    amount: int,
    direction: str = "incoming",
    *,
    height: int | None = 10,
    coinbase: bool = False,
    timestamp: int = NOON,
) -> HistoryEntry:
    return HistoryEntry(
        txid=txid,
        height=height,
        timestamp=timestamp,
        confirmations=1 if height is not None else 0,
        amount=amount,
        fee=None,
        balance=0,
        direction=direction,
        coinbase=coinbase,
    )


def history(*entries: HistoryEntry, wallet: str = "main") -> WalletHistory:
    return WalletHistory(wallet, list(entries))


# --- payments ---


def test_first_view_after_opening_a_wallet_announces_nothing() -> None:
    new = history(entry("a", 5 * COIN), entry("b", 2 * COIN))
    assert payment_notifications(None, new, MAINNET) == []


def test_a_new_incoming_transaction_gives_one_notification() -> None:
    old = history(entry("a", 5 * COIN))
    new = history(entry("a", 5 * COIN), entry("b", 2 * COIN, height=None))
    assert payment_notifications(old, new, MAINNET) == [
        Notification("Payment received", "+2 PKT to main (unconfirmed)")
    ]


def test_a_payment_confirming_later_is_not_announced_again() -> None:
    old = history(entry("b", 2 * COIN, height=None))
    new = history(entry("b", 2 * COIN, height=11))
    assert payment_notifications(old, new, MAINNET) == []


def test_outgoing_and_self_transfers_are_not_received_payments() -> None:
    old = history(entry("a", 5 * COIN))
    new = history(
        entry("a", 5 * COIN),
        entry("c", -COIN, "outgoing"),
        entry("d", -1000, "self"),
        entry("e", 0, "incoming"),
    )
    assert payment_notifications(old, new, MAINNET) == []


def test_a_mining_reward_is_named_as_such() -> None:
    old = history()
    new = history(entry("cb", 3 * COIN, coinbase=True))
    assert payment_notifications(old, new, MAINNET) == [
        Notification("Mining reward", "+3 PKT mined to main")
    ]


def test_many_payments_at_once_are_summed_up_in_one_notification() -> None:
    old = history()
    new = history(*(entry(f"t{i}", COIN) for i in range(5)), entry("out", -COIN, "outgoing"))
    assert payment_notifications(old, new, MAINNET) == [
        Notification("Payments received", "5 payments, +5 PKT to main")
    ]
    three = history(*(entry(f"t{i}", COIN) for i in range(3)))
    assert len(payment_notifications(old, three, MAINNET)) == 3


def test_switching_wallets_is_like_a_first_view() -> None:
    old = history(entry("a", COIN), wallet="main")
    new = history(entry("a", COIN), entry("z", COIN), wallet="savings")
    assert payment_notifications(old, new, MAINNET) == []


# --- mining ---


def pool(url: str, state: str = "up", error: str = "") -> PoolStatus:
    return PoolStatus(url, state, 0, error, None, 10, 10, None, 1, UploadCounters())


def snapshot(running: bool, pools: tuple[PoolStatus, ...], anns: float = 12.5) -> MiningSnapshot:
    return MiningSnapshot(
        running=running,
        uptime=5.0,
        backend="native",
        threads=2,
        paused=None,
        priority="idle",
        hashes_per_sec=1e6,
        anns_per_sec=anns,
        accepted_per_sec=anns,
        upload_bps=0.0,
        estimated_eps=0.0,
        cpu_percent=50.0,
        hashes=100,
        anns_found=10,
        anns_stale=0,
        hard_nonces=0,
        job=None,
        job_changes=0,
        job_pool=None,
        watchdog_restarts=0,
        recent_events=(),
        workers=(),
        pools=pools,
    )


def test_mining_state_from_snapshots() -> None:
    assert mining_state(None) == STOPPED
    assert mining_state(snapshot(False, (pool("http://127.0.0.1:1"),))) == STOPPED
    running = mining_state(snapshot(True, (pool("http://127.0.0.1:1"),)))
    assert running == MiningState(True, 12.5, "http://127.0.0.1:1", None)
    assert describe_mining(running) == "mining 12.5 anns/s to 127.0.0.1:1"
    assert describe_mining(STOPPED) == "stopped"
    one_down = snapshot(
        True, (pool("http://a.example", "down", "refused"), pool("http://b.example"))
    )
    assert mining_state(one_down).error is None
    all_down = snapshot(True, (pool("http://a.example", "down", "connection refused"),))
    state = mining_state(all_down)
    assert state.error == "no pool answers: connection refused"
    assert describe_mining(state) == "not mining: no pool answers: connection refused"


def test_mining_started_stopped_and_error() -> None:
    running = MiningState(True, 3.0, "http://pool.example")
    assert mining_notifications(STOPPED, running) == [
        Notification("Mining started", "Mining announcements for pool.example.")
    ]
    assert mining_notifications(running, running) == []
    assert mining_notifications(running, STOPPED) == [
        Notification("Mining stopped", "Mining has stopped.")
    ]
    failing = MiningState(True, 0.0, "http://pool.example", "no pool answers")
    assert mining_notifications(running, failing) == [
        Notification("Mining problem", "no pool answers")
    ]
    assert mining_notifications(failing, failing) == []  # once, not on every poll
    assert mining_notifications(failing, running) == []


# --- VPN ---


def vpn(state: VpnState, error: str | None = None) -> VpnStatus:
    return VpnStatus(state=state, exit_name="Paris", exit_key="k.k", error=error)


def test_vpn_connected_and_dropped() -> None:
    assert vpn_notifications(None, vpn(VpnState.PEERING)) == []
    assert vpn_notifications(vpn(VpnState.CONNECTING), vpn(VpnState.CONNECTED)) == [
        Notification("VPN connected", "Connected to Paris.")
    ]
    assert vpn_notifications(vpn(VpnState.CONNECTED), vpn(VpnState.CONNECTED)) == []
    assert vpn_notifications(vpn(VpnState.CONNECTED), vpn(VpnState.ERROR, "tunnel removed")) == [
        Notification("VPN dropped", "The connection to Paris was lost: tunnel removed")
    ]
    assert vpn_notifications(vpn(VpnState.CONNECTED), vpn(VpnState.CONNECTING)) == [
        Notification("VPN dropped", "The connection to Paris was lost; reconnecting.")
    ]


def test_disconnecting_on_purpose_or_failing_to_connect_is_not_a_drop() -> None:
    assert vpn_notifications(vpn(VpnState.CONNECTED), vpn(VpnState.DISCONNECTING)) == []
    assert vpn_notifications(vpn(VpnState.DISCONNECTING), vpn(VpnState.OFF)) == []
    assert vpn_notifications(vpn(VpnState.AUTHORIZING), vpn(VpnState.ERROR, "refused")) == []


def test_vpn_descriptions() -> None:
    assert describe_vpn(VpnStatus()) == "off"
    assert describe_vpn(vpn(VpnState.PEERING)) == "connecting…"
    assert describe_vpn(vpn(VpnState.CONNECTED)) == "connected to Paris"
    assert describe_vpn(vpn(VpnState.ERROR, "x")) == "not connected (error)"


# --- earnings ---


def test_earnings_today_and_total_from_the_wallets_days() -> None:
    from app.wallet.history import DailyEarnings

    day = date(2026, 11, 24)
    rows = [
        DailyEarnings(date(2026, 11, 22), 3 * COIN, 2),
        DailyEarnings(date(2026, 11, 23), 4 * COIN, 1),
        DailyEarnings(day, 2 * COIN, 1),
    ]
    summary = earnings_summary(rows, today=day)
    assert (summary.today, summary.total, summary.blocks) == (2 * COIN, 9 * COIN, 4)
    assert earnings_summary(rows[:2], today=day).today == 0
    assert earnings_summary([], today=day).total == 0


def test_an_older_payment_sliding_into_the_views_window_is_not_news() -> None:
    """A view holds the newest transactions only: when a newer one is abandoned, an older one
    enters the window; it was never news."""
    older = entry("older", 5 * COIN)
    kept = entry("kept", 1 * COIN)
    abandoned = entry("gone", -COIN, "outgoing")
    before = history(kept, abandoned)  # "older" is beyond the window
    after = history(older, kept)
    assert payment_notifications(before, after, MAINNET) == []
    newer = entry("new", 2 * COIN)
    assert [n.title for n in payment_notifications(before, history(kept, newer), MAINNET)] == [
        "Payment received"
    ]
