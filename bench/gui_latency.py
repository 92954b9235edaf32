"""How long the Qt event loop stalls while the app syncs and mines. Printed, not asserted.

The real window (offscreen) with the real AppCore syncs a regtest chain (headers, filter
headers, filters, the wallet's blocks) from a loopback TestPeer, with a wallet open that the
chain pays every 50 blocks (`--pay-every`), while 2 mining threads (chosen on the Mining page)
mine against the loopback test pool. `--miner` is a miner's wallet at scale: 100,000 blocks that
all pay it (a first sync recording 100,000 payouts), then the History scrolled to its end and
searched while mining goes on. A QTimer on the Qt thread ticks every 5 ms; the longest gap between two
ticks is the longest stall (goal <= 50 ms). The peer and the pool run in their own processes,
as pktd and a pool server would.

--why: a watchdog thread samples the Qt thread's stack whenever a tick is 30 ms late and
prints the most frequent places (to find what stalls it).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_latency.py [--blocks 25000]
[--pay-every 50] [--threads 2] [--after 5] [--why] [--miner]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import threadguard  # noqa: E402
from app.core import AppCore  # noqa: E402
from app.gui.app import prefer_the_gui_thread  # noqa: E402
from app.gui.bridge import CoreBridge  # noqa: E402
from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.stall_meter import (  # noqa: E402
    TICK_MS,
    StallMeter,
    qt_application,
    run_event_loop_until,
)
from app.mining.service import MiningService  # noqa: E402
from app.wallet.wallet import Wallet  # noqa: E402
from miner.annmine import MinerOptions  # noqa: E402
from spv.address import script_for_address  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.mining.poolserver import TestPool  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import TestPeer  # noqa: E402

GOAL_MS = 50.0
PAY_EVERY = 50
BUCKETS_MS = (10, 20, 50, 100, 250)


def _peer_process(
    blocks: int, pay_every: int, pay_to: bytes, out: multiprocessing.Queue[object]
) -> None:
    chain = RegtestChain()
    for height in range(1, blocks + 1):
        chain.mine(pay_to=pay_to if height % pay_every == 1 % pay_every else b"\x51")
    peer = TestPeer(chain)
    peer.start()
    out.put(peer.port)
    time.sleep(3600)


def _pool_process(out: multiprocessing.Queue[object]) -> None:
    with TestPool() as pool:
        out.put(pool.url)
        time.sleep(3600)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blocks", type=int, default=25_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pay-every", type=int, default=PAY_EVERY, help="a payout every N blocks")
    ap.add_argument(
        "--miner",
        action="store_true",
        help="a miner's wallet: 100,000 blocks all paying it, then History scrolled and searched",
    )
    ap.add_argument("--after", type=float, default=5.0, help="seconds measured after sync")
    ap.add_argument("--limit", type=float, default=600.0, help="give up after this many s")
    ap.add_argument("--why", action="store_true", help="sample the Qt thread when it stalls")
    ap.add_argument(
        "--default-switch",
        action="store_true",
        help="keep Python's 5 ms interpreter switch interval (the app sets 1 ms)",
    )
    args = ap.parse_args()
    if args.miner:
        args.blocks, args.pay_every = 100_000, 1
        args.limit = max(args.limit, 3600.0)
        args.after = max(args.after, 20.0)

    if not args.default_switch:
        prefer_the_gui_thread()  # as run_gui does
    print(f"interpreter switch interval: {sys.getswitchinterval() * 1000:g} ms")
    qt_application()
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp)
        wallet, _ = Wallet.create(
            datadir, "main", REGTEST, "benchmark", kdf_params={"n": 1024, "r": 8, "p": 1}
        )
        address = wallet.mining_address()
        wallet.close()
        threadguard.mark_gui_thread()  # lenient: violations are counted, not raised

        ctx = multiprocessing.get_context("fork")
        ports: multiprocessing.Queue[object] = ctx.Queue()
        pay_to = script_for_address(address, REGTEST)
        t0 = time.perf_counter()
        peer_proc = ctx.Process(
            target=_peer_process, args=(args.blocks, args.pay_every, pay_to, ports)
        )
        pool_proc = ctx.Process(target=_pool_process, args=(ports,))
        peer_proc.start()
        pool_proc.start()
        try:
            first, second = ports.get(timeout=600), ports.get(timeout=600)
            port = first if isinstance(first, int) else second
            pool_url = second if isinstance(first, int) else first
            assert isinstance(port, int) and isinstance(pool_url, str)
            print(
                f"chain of {args.blocks:,} blocks built and served in {time.perf_counter() - t0:.1f} s"
            )
            _measure(datadir, port, pool_url, address, args)
        finally:
            peer_proc.terminate()
            pool_proc.terminate()


def _measure(
    datadir: Path,
    port: int,
    pool_url: str,
    address: str,
    args: argparse.Namespace,
) -> None:
    bridge = CoreBridge()
    progress_events = [0]
    wallet_events = [0]
    bridge.sync_progress.connect(lambda _p: progress_events.__setitem__(0, progress_events[0] + 1))
    bridge.core_event.connect(
        lambda kind, _p: wallet_events.__setitem__(0, wallet_events[0] + (kind == "wallet"))
    )
    core = AppCore(REGTEST, datadir, peers=[("127.0.0.1", port)], on_event=bridge.deliver)
    mining = MiningService(REGTEST, options=MinerOptions(threads=args.threads))
    meter = StallMeter(args.why)
    core.start()
    try:
        window = MainWindow(core, bridge, GuiCalls(), mining)
        window.show()
        meter.start()
        page = window.mining_page
        page.payout.setText(address)
        page.pools.clear()
        page.new_pool.setText(pool_url)
        page._add_pool()
        page.threads.setValue(args.threads)
        if args.threads > 0:
            page.toggle()
        if args.threads > 0 and not mining.running:
            print(f"mining did not start: {page.why_not.text()}")
        start = time.perf_counter()
        synced: list[float] = []
        history = window.history_page
        browsing = {"scrolls": 0, "searched": False}

        def browse(since_sync: float) -> None:
            """After a miner's sync: the History page, scrolled down page after page (each a
            fetch of 200 rows), then searched."""
            if window.pages.currentWidget() is not history:
                window.pages.setCurrentWidget(history)
            if since_sync < args.after / 2:
                history.table.scrollToBottom()  # Qt asks the model for more rows
                browsing["scrolls"] += 1
            elif not browsing["searched"]:
                browsing["searched"] = True
                history.search.setText("mining")

        def done() -> bool:
            """Note when the wallet's pages are up; done `args.after` s after the sync (or at
            the time limit)."""
            now = time.perf_counter()
            if meter.ready_at is None and window.wallet_name is not None:
                meter.ready_at = now
            progress = core.last_progress
            if not synced and (
                progress is not None
                and progress.stage == "synced"
                and progress.height >= args.blocks
                and window.overview_page.table.rowCount() > 0
            ):
                synced.append(now)
            if args.miner and synced:
                browse(now - synced[0])
            if now - start > args.limit or (synced and now - synced[0] >= args.after):
                meter.stop()  # before the loop quits: closing the window is not measured
                return True
            return False

        run_event_loop_until(done)
        synced_at = synced[0] if synced else None
        if args.miner:
            print(
                f"History after the sync: {history.model.total:,} transactions, "
                f"{history.model.rowCount():,} rows read by scrolling ({browsing['scrolls']} "
                f"scrolls), then searched: {history.status.text()}"
            )
        snap = mining.snapshot()
        mining.stop()
    finally:
        core.stop()
    _report(meter, start, synced_at, progress_events[0], wallet_events[0], snap, args)


def _report(
    meter: StallMeter,
    start: float,
    synced_at: float | None,
    progress_events: int,
    wallet_events: int,
    snap: object,
    args: argparse.Namespace,
) -> None:
    gaps = meter.gaps
    if synced_at is None:
        print(f"sync did not finish within {args.limit:.0f} s")
    else:
        print(
            f"synced {args.blocks:,} blocks (headers, filters, wallet) in {synced_at - start:.1f} s"
        )
    print(f"sync progress signals: {progress_events:,}; wallet views: {wallet_events:,}")
    accepted = getattr(snap, "accepted", 0)
    print(f"mining: {args.threads} threads, {accepted} announcements accepted by the pool")
    print(f"Qt timer ticks every {TICK_MS} ms: {len(gaps):,} ticks")
    if not gaps:
        return
    longest = max(gaps)
    p99 = _percentile(gaps, 99)
    print(f"{'longest stall':<28} {longest:8.1f} ms")
    print(f"{'p99 gap':<28} {p99:8.1f} ms")
    print(f"{'p50 gap':<28} {_percentile(gaps, 50):8.1f} ms")
    lower = 0
    for upper in BUCKETS_MS:
        n = sum(1 for g in gaps if lower < g <= upper)
        print(f"  gaps in ({lower:>3}, {upper:>3}] ms: {n:>8,}")
        lower = upper
    print(f"  gaps over {lower} ms:       {sum(1 for g in gaps if g > lower):>8,}")
    print(f"goal: longest stall <= {GOAL_MS:.0f} ms: {'met' if longest <= GOAL_MS else 'NOT met'}")
    worst = sorted(range(len(gaps)), key=gaps.__getitem__)[-5:][::-1]
    print(
        "longest five (wall ms = the Qt thread's own CPU + waiting for a CPU + the rest, i.e."
        " blocked on the GIL or a lock; @ s after the start):\n  "
        + "\n  ".join(
            f"{gaps[i]:5.0f} = {meter.busy[i]:3.0f} + {meter.queued[i]:3.0f} +"
            f" {gaps[i] - meter.busy[i] - meter.queued[i]:3.0f} @ {meter.times[i] - start:.1f}"
            for i in worst
        )
    )
    print(
        f"{'longest Qt-thread CPU burst':<28} {max(meter.busy):8.1f} ms  (its own work between"
        " two ticks; the rest of a stall is waiting for a CPU or the GIL)"
    )
    if meter.ready_at is not None:
        later = [g for g, t in zip(gaps, meter.times, strict=True) if t - g / 1000 > meter.ready_at]
        if later:
            print(
                f"after the wallet's pages were up ({meter.ready_at - start:.1f} s): longest stall"
                f" {max(later):.1f} ms, p99 {_percentile(later, 99):.1f} ms"
            )
    print(f"GUI-thread violations (sync, wallet I/O, mining): {len(threadguard.violations())}")
    if meter.places:
        print("where the Qt thread was when a tick was 30+ ms late (samples):")
        for where, n in meter.places.most_common(8):
            print(f"  {n:>4}  {where}")


if __name__ == "__main__":
    main()
