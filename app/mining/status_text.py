"""Mining status as text: the status line and the summary the CLI prints, rates and pool
names as the window shows them."""

from __future__ import annotations

from miner.annmine import MiningSnapshot
from miner.pool.upload import UploadCounters


def human_rate(value: float, unit: str) -> str:
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.1f} {unit}"


def short_url(url: str) -> str:
    return url.split("://", 1)[-1]


def goodrate_text(counters: UploadCounters, digits: int) -> str:
    """The goodrate as a percentage; a dash before the pool has judged any announcement."""
    c = counters
    if not c.accepted + c.rejected + c.overload + c.lost:
        return "-"
    return f"{c.goodrate * 100:.{digits}f}%"


def format_status(snap: MiningSnapshot) -> str:
    """One status line in the spirit of packetcrypt_rs' log line."""
    job = f"job {snap.job.parent_height}" if snap.job else "waiting for a job"
    parts = [
        human_rate(snap.hashes_per_sec, "h/s"),
        f"{snap.anns_per_sec:.1f} anns/s",
        human_rate(snap.upload_bps, "b/s"),
        job,
        f"cpu {snap.cpu_percent:.0f}%",
    ]
    if snap.paused:
        parts.append(f"PAUSED ({snap.paused})")
    pools = []
    for p in snap.pools:
        c = p.counters
        state = "" if p.state == "up" else f" {p.state.upper()}"
        pools.append(
            f"{short_url(p.url)}{state} acc/rej/ovl {c.accepted}/{c.rejected}/{c.overload} "
            f"good {goodrate_text(c, 0)} up {c.inflight}" + (f" lost {c.lost}" if c.lost else "")
        )
    return "  ".join(parts) + " | " + " | ".join(pools)


def format_summary(snap: MiningSnapshot) -> list[str]:
    uptime = snap.uptime
    lines = [
        f"mined for {uptime:.0f} s with {snap.threads} thread(s) ({snap.backend} kernel)",
        f"hashes {snap.hashes:,}, announcements found {snap.anns_found:,}, "
        f"dropped as stale {snap.anns_stale:,}, job changes {snap.job_changes}",
    ]
    for p in snap.pools:
        c = p.counters
        lines.append(
            f"{short_url(p.url)}: accepted {c.accepted:,} rejected {c.rejected:,} "
            f"overload {c.overload:,} lost {c.lost:,} stale {c.stale:,} unsent {c.unsent:,} "
            f"goodrate {goodrate_text(c, 1)} sent {c.bytes_sent / 1e6:.1f} MB"
            + (f" last error: {error}" if (error := p.last_error or c.last_error) else "")
        )
    if snap.watchdog_restarts:
        lines.append(f"watchdog restarts {snap.watchdog_restarts}")
    return lines
