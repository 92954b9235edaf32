"""One announcement pool: polls ``config.json``, follows the blkinfo chain, picks the job and
owns the pool's :class:`~miner.pool.upload.Uploader` (spec sections 13.1 and 13.2).

A background thread fetches ``<master>/config.json`` every ``poll_interval`` seconds (longer
when the pool's ``Cache-Control: max-age`` says the answer stays fresh longer; conditional
requests with ``ETag`` / ``Last-Modified``). When the config changes it fetches
``blkinfo_<hash>.json`` from the tip back through :data:`HISTORY_DEPTH` blocks (blkinfo files
never change: they are cached) and picks the job block at ``tip height - mineOldAnns``.
A failing pool is retried with exponential backoff; ``on_update`` is called after every change
of config, job or health.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from .protocol import (
    HISTORY_DEPTH,
    MAX_CONFIG_BYTES,
    BlockInfo,
    MasterConfig,
    PoolJob,
    PoolProtocolError,
    check_payto,
    freshness_seconds,
    join_url,
    parse_blkinfo,
    parse_master_config,
)
from .upload import UploadCounters, Uploader, UploadOptions, backoff, read_limited

log = logging.getLogger(__name__)

BLKINFO_CACHE = 256


@dataclass
class PoolOptions:
    poll_interval: float = 5.0
    """Seconds between two config.json requests (packetcrypt_rs: 5)."""
    max_poll_interval: float = 15.0
    """Cap on the wait a long ``max-age`` asks for."""
    request_timeout: float = 10.0
    connect_timeout: float = 5.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    mine_old_anns: int | None = None
    """Override the pool's ``mineOldAnns`` (None: the pool decides)."""
    upload: UploadOptions = field(default_factory=UploadOptions)


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of one pool for the stats."""

    url: str
    state: str
    """starting, up, down, stopped."""
    failures: int
    last_error: str
    retry_in: float | None
    height: int | None
    """Tip height the pool reported."""
    job_height: int | None
    ann_target: int | None
    handlers: int
    counters: UploadCounters

    def to_json(self) -> dict[str, object]:
        c = self.counters
        return {
            "url": self.url,
            "state": self.state,
            "failures": self.failures,
            "last_error": self.last_error or c.last_error,
            "retry_in": self.retry_in,
            "height": self.height,
            "job_height": self.job_height,
            "ann_target": self.ann_target,
            "handlers": self.handlers,
            "submitted": c.submitted,
            "accepted": c.accepted,
            "rejected": c.rejected,
            "overload": c.overload,
            "dup": c.dup,
            "lost": c.lost,
            "stale": c.stale,
            "incompatible": c.incompatible,
            "unroutable": c.unroutable,
            "unsent": c.unsent,
            "uploading": c.inflight,
            "uploads": c.uploads,
            "upload_errors": c.upload_errors,
            "bytes_sent": c.bytes_sent,
            "warnings": c.warnings,
            "last_warning": c.last_warning,
            "goodrate": round(c.goodrate * 100, 2),
        }


class PoolClient:
    """One pool master URL."""

    def __init__(
        self,
        url: str,
        payto: str,
        options: PoolOptions | None = None,
        *,
        on_update: Callable[[PoolClient], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"pool URL {url!r} must start with http:// or https://")
        self.url = url.rstrip("/")
        self.payto = check_payto(payto)
        self.options = options or PoolOptions()
        self.on_update = on_update
        self.clock = clock
        self.session_id = uuid.uuid4().hex
        self.uploader = Uploader(
            self.url, self.payto, self.options.upload, self.session_id, clock=clock
        )
        self._lock = threading.RLock()
        self._config: MasterConfig | None = None
        self._chain: list[BlockInfo] = []
        """The pool's chain, tip first, HISTORY_DEPTH blocks deep."""
        self._job: PoolJob | None = None
        self._cache: collections.OrderedDict[str, BlockInfo] = collections.OrderedDict()
        self._etag: str | None = None
        self._last_modified: str | None = None
        self.state = "starting"
        self.failures = 0
        self.last_error = ""
        self.last_ok = 0.0
        self.next_poll = 0.0
        self.beat = clock()
        self.config_requests = 0
        self._token = 0
        self._wake = threading.Event()
        self._stopped = True
        self._thread: threading.Thread | None = None

    # --- reading the state ---

    @property
    def config(self) -> MasterConfig | None:
        with self._lock:
            return self._config

    @property
    def job(self) -> PoolJob | None:
        with self._lock:
            return self._job

    def usable(self, now: float, failover_after: float) -> bool:
        """Has a job and answered recently (or has not failed since it last answered)."""
        with self._lock:
            if self._job is None:
                return False
            return self.failures == 0 or now - self.last_ok < failover_after

    def incompatibility(self, job: PoolJob) -> str | None:
        """Why this pool would refuse anns mined for ``job`` (None: it takes them).

        Section 13.6: the pool must track the same parent block, its annTarget must not be
        harder than the one mined, and the ann's signing key must be zero or the pool's."""
        with self._lock:
            if self._job == job:
                return None
            if self._config is None:
                return "no config from this pool yet"
            block = next((b for b in self._chain if b.height == job.parent_height), None)
            if block is None or block.internal_hash != job.parent_hash:
                return "this pool does not track the mined parent block"
            if job.target_bits > self._config.ann_target:
                return "the mined target is easier than this pool's annTarget"
            if any(job.signing_key) and job.signing_key != (block.sig_key or bytes(32)):
                return "the mined signing key is not this pool's"
            return None

    def status(self) -> PoolStatus:
        now = self.clock()
        with self._lock:
            conf = self._config
            retry = max(0.0, self.next_poll - now) if self.state == "down" else None
            counters = self.uploader.counters.copy()
            return PoolStatus(
                url=self.url,
                state=self.state,
                failures=self.failures,
                last_error=self.last_error,
                retry_in=retry,
                height=conf.tip_height if conf else None,
                job_height=self._job.parent_height if self._job else None,
                ann_target=conf.ann_target if conf else None,
                handlers=len(conf.submit_ann_urls) if conf else 0,
                counters=counters,
            )

    # --- lifecycle ---

    def start(self) -> None:
        with self._lock:
            if not self._stopped:
                return
            self._stopped = False
            self.uploader.start()
            self._spawn_poller()

    def _spawn_poller(self) -> None:
        self._token += 1
        self._wake = threading.Event()
        self.beat = self.clock()
        self._thread = threading.Thread(
            target=self._poll_loop,
            args=(self._token, self._wake),
            name=f"pool-poll-{self.url}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, drain_until: float | None = None) -> None:
        """Stop polling and uploading; with `drain_until` (time.monotonic), first let the
        pending announcements upload until then."""
        with self._lock:
            self._stopped = True
            self.state = "stopped"
            self._wake.set()
        if drain_until is not None:
            self.uploader.drain(drain_until)
        self.uploader.stop()

    def join(self, deadline: float) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.uploader.join(deadline)

    def poll_now(self) -> None:
        """Skip the rest of the current wait (a retry after backoff, or a test)."""
        self._wake.set()

    def check(self, stall_after: float) -> list[str]:
        """Watchdog: restart the config poller if it has not come back for ``stall_after``
        seconds; replace hung uploaders."""
        reasons = self.uploader.check_stuck()
        now = self.clock()
        with self._lock:
            if self._stopped:
                return reasons
            idle = now - self.beat
            waiting = self.next_poll - self.beat
            if idle > stall_after + max(0.0, waiting):
                old = self._wake
                self._spawn_poller()
                old.set()
                reasons.append(
                    f"pool {self.url}: no answer from the config poller for {idle:.0f} s; "
                    "connection restarted"
                )
        return reasons

    def reset_connections(self) -> None:
        """New HTTP sessions for the poller and every uploader (a supervisor's remedy)."""
        self.uploader.reset_connections()
        with self._lock:
            if not self._stopped:
                old = self._wake
                self._spawn_poller()
                old.set()

    # --- the poller ---

    def _poll_loop(self, token: int, wake: threading.Event) -> None:
        session = requests.Session()
        session.headers["User-Agent"] = self.options.upload.user_agent
        session.headers["x-pc-sid"] = self.session_id
        try:
            while True:
                with self._lock:
                    if self._stopped or token != self._token:
                        return
                    self.beat = self.clock()
                try:
                    delay = self._poll_once(session, token)
                    failed = False
                except (requests.RequestException, PoolProtocolError, TimeoutError) as exc:
                    failed = True
                    delay = self._failed(token, exc)
                except Exception as exc:  # a bug must cost this pool a retry, not the thread
                    log.exception("pool %s: polling failed", self.url)
                    failed = True
                    delay = self._failed(token, exc)
                with self._lock:
                    if token != self._token:
                        return
                    now = self.clock()
                    self.beat = now
                    self.next_poll = now + delay
                if failed:
                    session.close()
                    session = requests.Session()
                    session.headers["User-Agent"] = self.options.upload.user_agent
                    session.headers["x-pc-sid"] = self.session_id
                wake.wait(delay)
                wake.clear()
        finally:
            session.close()

    def _failed(self, token: int, exc: BaseException) -> float:
        with self._lock:
            if token != self._token:
                return 0.0
            self.failures += 1
            delay = backoff(self.options.backoff_initial, self.options.backoff_max, self.failures)
            self.last_error = _describe(exc)
            changed = self.state != "down"
            self.state = "down"
        log.warning("pool %s: %s; retry in %.1f s", self.url, self.last_error, delay)
        if changed:
            self._notify()
        return delay

    def _get(self, session: requests.Session, url: str, conditional: bool) -> requests.Response:
        headers: dict[str, str] = {}
        if conditional:
            if self._etag:
                headers["If-None-Match"] = self._etag
            if self._last_modified:
                headers["If-Modified-Since"] = self._last_modified
        return session.get(
            url,
            headers=headers,
            timeout=(self.options.connect_timeout, self.options.request_timeout),
            stream=True,
        )

    def _fetch(self, session: requests.Session, url: str) -> bytes:
        deadline = time.monotonic() + self.options.request_timeout
        self.beat = self.clock()
        resp = self._get(session, url, conditional=False)
        try:
            if resp.status_code != 200:
                raise PoolProtocolError(f"HTTP {resp.status_code} for {url}")
            return read_limited(resp, MAX_CONFIG_BYTES, deadline)
        finally:
            resp.close()

    def _poll_once(self, session: requests.Session, token: int) -> float:
        """One config.json round; returns the delay before the next one."""
        url = join_url(self.url, "config.json")
        deadline = time.monotonic() + self.options.request_timeout
        self.config_requests += 1
        have_config = self._config is not None
        resp = self._get(session, url, conditional=have_config)
        try:
            fresh = freshness_seconds(resp.headers)
            if resp.status_code == 304 and have_config:
                conf = self._config
            elif resp.status_code != 200:
                raise PoolProtocolError(f"HTTP {resp.status_code} for {url}")
            else:
                conf = parse_master_config(read_limited(resp, MAX_CONFIG_BYTES, deadline))
                self._etag = resp.headers.get("ETag")
                self._last_modified = resp.headers.get("Last-Modified")
        finally:
            resp.close()
        assert conf is not None
        changed = False
        if conf != self._config or self._job is None:
            chain = self._discover(session, conf)
            job = self._choose(conf, chain)
            with self._lock:
                if token != self._token:
                    return 0.0
                changed = job != self._job or conf != self._config
                self._config, self._chain, self._job = conf, chain, job
                self.uploader.set_handlers(conf.submit_ann_urls)
            if changed:
                log.info(
                    "pool %s: tip %d, job parent %s @ %d, target %#x",
                    self.url,
                    conf.tip_height,
                    job.parent_display,
                    job.parent_height,
                    job.target_bits,
                )
        with self._lock:
            if token != self._token:
                return 0.0
            recovered = self.state != "up"
            self.state = "up"
            self.failures = 0
            self.last_error = ""
            self.last_ok = self.clock()
        if changed or recovered:
            self._notify()
        delay = self.options.poll_interval
        if fresh is not None:
            delay = max(delay, min(fresh, self.options.max_poll_interval))
        return delay

    def _blkinfo(self, session: requests.Session, base: str, block_hash: str) -> BlockInfo:
        cached = self._cache.get(block_hash)
        if cached is not None:
            self._cache.move_to_end(block_hash)
            return cached
        raw = self._fetch(session, join_url(base, f"blkinfo_{block_hash}.json"))
        info = parse_blkinfo(raw, block_hash)
        self._cache[block_hash] = info
        while len(self._cache) > BLKINFO_CACHE:
            self._cache.popitem(last=False)
        return info

    def _mine_old(self, conf: MasterConfig) -> int:
        override = self.options.mine_old_anns
        return conf.mine_old_anns if override is None or override < 0 else override

    def _discover(self, session: requests.Session, conf: MasterConfig) -> list[BlockInfo]:
        """The chain from the tip back through the history depth (tip first)."""
        base = conf.blkinfo_url or self.url
        depth = max(HISTORY_DEPTH, self._mine_old(conf))
        chain = [self._blkinfo(session, base, conf.tip_hash)]
        while len(chain) <= depth:
            prev = chain[-1].previous_hash
            if prev is None:
                break
            block = self._blkinfo(session, base, prev)
            if block.height != chain[-1].height - 1:
                raise PoolProtocolError(
                    f"blkinfo {prev} has height {block.height}, expected {chain[-1].height - 1}"
                )
            chain.append(block)
        return chain

    def _choose(self, conf: MasterConfig, chain: list[BlockInfo]) -> PoolJob:
        """Job block = tip height - mineOldAnns (section 13.2 step 4)."""
        want = chain[0].height - self._mine_old(conf)
        block = next((b for b in chain if b.height == want), None)
        if block is None:
            raise PoolProtocolError(f"no block at height {want} in the pool's chain")
        return PoolJob(
            parent_hash=block.internal_hash,
            parent_height=block.height,
            target_bits=conf.ann_target,
            signing_key=block.sig_key or bytes(32),
            pool=self.url,
        )

    def _notify(self) -> None:
        if self.on_update is not None:
            try:
                self.on_update(self)
            except Exception:  # a broken listener must not stop the poller
                log.exception("pool update listener failed")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    if not isinstance(exc, PoolProtocolError | TimeoutError | requests.RequestException):
        return f"the pool client failed ({type(exc).__name__}); see the log"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]
