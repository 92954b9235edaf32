"""Submitting announcements to one pool's handlers (spec sections 13.3 to 13.5).

Every ann goes to exactly one handler: ``submitAnnUrls[dedup % len(submitAnnUrls)]``, in the
order the pool lists them. Anns are collected in one open batch per handler; a batch is queued
when it holds 1024 anns or is ``batch_seconds`` old, and several uploader threads post the
newest queued batches first. Anns of a job that is no longer mined are dropped, never sent:
when the job changes, open and queued batches of the old job are discarded and an uploader
checks the job again just before it posts.

Counters follow packetcrypt_rs: ``accepted``, ``rejected`` (count - accepted of a handler's
reply, or the whole batch on an error), ``overload`` (503 "overloaded"), ``lost`` (upload
failed, timed out, unreadable reply, queue overflow); goodrate = accepted / (accepted +
rejected + overload + lost). We add ``stale`` (dropped because the job changed) and ``dup``.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests

from .protocol import (
    MAX_BATCH_ANNS,
    MAX_REPLY_BYTES,
    PoolJob,
    PoolProtocolError,
    SubmitReply,
    handler_index,
    parse_submit_reply,
    submit_headers,
    summarize,
)

log = logging.getLogger(__name__)


@dataclass
class UploadOptions:
    uploaders: int = 10
    """Upload threads per pool (uploads in flight at once)."""
    upload_timeout: float = 30.0
    """Seconds for one upload, reply included."""
    connect_timeout: float = 5.0
    batch_seconds: float = 10.0
    """An open batch is queued once it is this old (or full)."""
    max_queued_batches: int = 100
    """Per handler; the oldest queued batch is dropped (counted lost) beyond this."""
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    user_agent: str = "pkt-wallet-miner/0.1"


@dataclass
class UploadCounters:
    """Per-pool announcement counters (totals since the start)."""

    submitted: int = 0
    """Anns handed to this pool (routed into a batch)."""
    accepted: int = 0
    rejected: int = 0
    overload: int = 0
    dup: int = 0
    lost: int = 0
    stale: int = 0
    incompatible: int = 0
    """Mined for a job this pool would refuse (another parent, target or signing key)."""
    unroutable: int = 0
    """Dedup value 0 or 2^64 - 1: every handler refuses those."""
    unsent: int = 0
    """Still batched or queued when mining stopped."""
    uploads: int = 0
    upload_errors: int = 0
    bytes_sent: int = 0
    inflight: int = 0
    warnings: int = 0
    last_error: str = ""
    last_warning: str = ""
    last_accept: float = 0.0
    """time.monotonic() of the last upload with accepted anns (0: never)."""

    @property
    def goodrate(self) -> float:
        """accepted / (accepted + rejected + overload + lost), 1.0 before any result."""
        total = self.accepted + self.rejected + self.overload + self.lost
        return self.accepted / total if total else 1.0

    def copy(self) -> UploadCounters:
        return UploadCounters(**self.__dict__)


@dataclass
class _Batch:
    handler: str
    job: PoolJob
    created: float
    anns: list[bytes] = field(default_factory=list)


@dataclass
class _Handler:
    url: str
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class _Uploader:
    token: int
    thread: threading.Thread | None = None
    busy_since: float | None = None
    batch: _Batch | None = None
    abandoned: bool = False


class Uploader:
    """Batches and posts one pool's announcements."""

    def __init__(
        self,
        pool_url: str,
        payto: str,
        options: UploadOptions,
        session_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool_url = pool_url
        self.payto = payto
        self.options = options
        self.session_id = session_id
        self.clock = clock
        self.counters = UploadCounters()
        self._lock = threading.Condition()
        self._handlers: list[_Handler] = []
        self._open: dict[str, _Batch] = {}
        self._queue: collections.deque[_Batch] = collections.deque()
        self._job: PoolJob | None = None
        self._running = False
        self._workers: list[_Uploader] = []
        self._tokens = 0
        self._epoch = 0
        """Bumped to make every uploader open a fresh HTTP session."""

    # --- configuration ---

    @property
    def handler_urls(self) -> list[str]:
        with self._lock:
            return [h.url for h in self._handlers]

    def set_handlers(self, urls: Iterable[str]) -> None:
        """The pool's ``submitAnnUrls``, in its order (the order routes the anns)."""
        urls = list(urls)
        with self._lock:
            if [h.url for h in self._handlers] == urls:
                return
            old = [h.url for h in self._handlers]
            known = {h.url: h for h in self._handlers}
            self._handlers = [known.get(u) or _Handler(u) for u in urls]

            def same_route(url: str) -> bool:
                # an ann keeps its handler only if the handler keeps its index and the count
                # is unchanged (dedup % count picks it)
                return len(old) == len(urls) and url in urls and old.index(url) == urls.index(url)

            why = "the pool's handler list changed"
            for url in list(self._open):
                if not same_route(url):
                    self._lose(self._open.pop(url).anns, why)
            kept: collections.deque[_Batch] = collections.deque()
            for batch in self._queue:
                if same_route(batch.handler):
                    kept.append(batch)
                else:
                    self._lose(batch.anns, why)
            self._queue = kept
            self._lock.notify_all()

    def set_job(self, job: PoolJob | None) -> None:
        """The job being mined now: anns of any other job are dropped as stale."""
        with self._lock:
            if job == self._job:
                return
            self._job = job
            for url in list(self._open):
                batch = self._open[url]
                if batch.job != job:
                    self.counters.stale += len(batch.anns)
                    del self._open[url]
            kept: collections.deque[_Batch] = collections.deque()
            for batch in self._queue:
                if batch.job == job:
                    kept.append(batch)
                else:
                    self.counters.stale += len(batch.anns)
            self._queue = kept

    def reset_connections(self) -> None:
        """Make every uploader open a new HTTP session before its next upload."""
        with self._lock:
            self._epoch += 1

    # --- adding anns ---

    def add(self, anns: Iterable[bytes], job: PoolJob) -> None:
        """Route and batch anns mined for ``job`` (dropped as stale if it is not current)."""
        now = self.clock()
        with self._lock:
            anns = list(anns)
            if job != self._job:
                self.counters.stale += len(anns)
                return
            count = len(self._handlers)
            if count == 0:
                self._lose(anns, "the pool has not listed its handlers yet")
                return
            for ann in anns:
                index = handler_index(ann, count)
                if index is None:
                    self.counters.unroutable += 1
                    continue
                url = self._handlers[index].url
                batch = self._open.get(url)
                if batch is None:
                    batch = self._open[url] = _Batch(url, job, now)
                batch.anns.append(ann)
                self.counters.submitted += 1
                if len(batch.anns) >= MAX_BATCH_ANNS:
                    self._enqueue(self._open.pop(url))

    def flush_due(self, force: bool = False) -> None:
        """Queue open batches that are ``batch_seconds`` old (all of them with ``force``)."""
        with self._lock:
            self._flush_locked(self.clock(), force)

    def _flush_locked(self, now: float, force: bool = False) -> float:
        """Queue the aged open batches; returns the seconds until the next one ages."""
        wait = self.options.batch_seconds
        for url in list(self._open):
            batch = self._open[url]
            age = now - batch.created
            if force or age >= self.options.batch_seconds:
                self._enqueue(self._open.pop(url))
            else:
                wait = min(wait, self.options.batch_seconds - age)
        return wait

    def _enqueue(self, batch: _Batch) -> None:
        if not batch.anns:
            return
        limit = self.options.max_queued_batches * max(1, len(self._handlers))
        while len(self._queue) >= limit:
            dropped = self._queue.popleft()
            self._lose(dropped.anns, "upload queue overflow (uploads too slow)")
        self._queue.append(batch)
        self._lock.notify()

    def _lose(self, anns: list[bytes], why: str) -> None:
        if anns:
            self.counters.lost += len(anns)
            self.counters.last_error = why

    # --- uploader threads ---

    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
            for _ in range(max(1, self.options.uploaders)):
                self._spawn()

    def _spawn(self) -> _Uploader:
        self._tokens += 1
        worker = _Uploader(self._tokens)
        worker.thread = threading.Thread(
            target=self._run,
            args=(worker,),
            name=f"pool-upload-{self._tokens}",
            daemon=True,
        )
        self._workers.append(worker)
        worker.thread.start()
        return worker

    def drain(self, deadline: float) -> None:
        """Before stopping: queue every open batch and wait, until `deadline`
        (time.monotonic), for the queued and in-flight uploads to finish — the announcements
        mined just before a stop still reach the pool."""
        with self._lock:
            if not self._running:
                return
            self._flush_locked(self.clock(), force=True)
            self._lock.notify_all()
            while (self._queue or self.counters.inflight > 0) and time.monotonic() < deadline:
                self._lock.wait(min(0.05, max(0.001, deadline - time.monotonic())))

    def stop(self) -> None:
        with self._lock:
            self._running = False
            for batch in self._open.values():
                self.counters.unsent += len(batch.anns)
            for batch in self._queue:
                self.counters.unsent += len(batch.anns)
            self._open.clear()
            self._queue.clear()
            self._lock.notify_all()

    def join(self, deadline: float) -> None:
        for worker in list(self._workers):
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))

    def check_stuck(self) -> list[str]:
        """Watchdog: replace uploaders busy far longer than the upload timeout."""
        now = self.clock()
        limit = self.options.upload_timeout + self.options.connect_timeout + 5.0
        reasons = []
        with self._lock:
            if not self._running:
                return []
            for worker in list(self._workers):
                if worker.abandoned or worker.busy_since is None:
                    continue
                stuck = now - worker.busy_since
                if stuck > limit:
                    worker.abandoned = True
                    self._workers.remove(worker)
                    if worker.batch is not None:
                        self.counters.inflight -= len(worker.batch.anns)
                        self._lose(worker.batch.anns, "an upload hung")
                        worker.batch = None
                    self._spawn()
                    reasons.append(
                        f"an upload to {self.pool_url} hung for {stuck:.0f} s; uploader replaced"
                    )
        return reasons

    def _take(self, worker: _Uploader) -> _Batch | None:
        """Wait for the newest queued batch of the current job whose handler is not backing
        off; None when stopping."""
        with self._lock:
            while self._running and not worker.abandoned:
                now = self.clock()
                wait = min(0.5, self._flush_locked(now))
                for i in range(len(self._queue) - 1, -1, -1):
                    batch = self._queue[i]
                    if batch.job != self._job:
                        del self._queue[i]
                        self.counters.stale += len(batch.anns)
                        continue
                    handler = self._handler(batch.handler)
                    if handler is None:
                        del self._queue[i]
                        self._lose(batch.anns, "handler removed by the pool")
                        continue
                    if handler.retry_at > now:
                        wait = min(wait, handler.retry_at - now)
                        continue
                    del self._queue[i]
                    worker.batch = batch
                    worker.busy_since = now
                    self.counters.inflight += len(batch.anns)
                    return batch
                self._lock.wait(max(0.01, wait))
            return None

    def _handler(self, url: str) -> _Handler | None:
        for h in self._handlers:
            if h.url == url:
                return h
        return None

    def _run(self, worker: _Uploader) -> None:
        session: requests.Session | None = None
        epoch = -1
        try:
            while True:
                batch = self._take(worker)
                if batch is None:
                    return
                if session is None or epoch != self._epoch:
                    if session is not None:
                        session.close()
                    session, epoch = requests.Session(), self._epoch
                outcome = self._post(session, batch)
                with self._lock:
                    if worker.abandoned:
                        return  # the watchdog already counted this batch as lost
                    worker.batch = None
                    worker.busy_since = None
                    self.counters.inflight -= len(batch.anns)
                    self._account(batch, outcome)
                    self._lock.notify_all()  # a drain may wait for this upload
                if isinstance(outcome, Exception) and session is not None:
                    session.close()
                    session = None
        finally:
            if session is not None:
                session.close()

    def _post(self, session: requests.Session, batch: _Batch) -> SubmitReply | Exception:
        body = b"".join(batch.anns)
        headers = submit_headers(
            self.payto, batch.job.worknum, self.session_id, self.options.user_agent
        )
        deadline = time.monotonic() + self.options.upload_timeout
        try:
            resp = session.post(
                batch.handler,
                data=body,
                headers=headers,
                timeout=(self.options.connect_timeout, self.options.upload_timeout),
                stream=True,
            )
            try:
                raw = read_limited(resp, MAX_REPLY_BYTES, deadline)
            finally:
                resp.close()
            if resp.status_code >= 500 and resp.status_code != 503:
                try:
                    reply = parse_submit_reply(resp.status_code, raw, len(batch.anns))
                except PoolProtocolError:
                    reply = None
                if reply is None or not reply.overloaded:
                    return PoolProtocolError(f"HTTP {resp.status_code} from {batch.handler}")
                return reply
            return parse_submit_reply(resp.status_code, raw, len(batch.anns))
        except (requests.RequestException, PoolProtocolError, TimeoutError) as exc:
            return exc
        except Exception as exc:  # a bug must cost this batch, not the uploader thread
            log.exception("upload to %s failed", batch.handler)
            return exc

    def _account(self, batch: _Batch, outcome: SubmitReply | Exception) -> None:
        c = self.counters
        count = len(batch.anns)
        handler = self._handler(batch.handler)
        if isinstance(outcome, Exception):
            c.upload_errors += 1
            c.lost += count
            c.last_error = f"{batch.handler}: {_describe(outcome)}"
            if handler is not None:
                handler.failures += 1
                delay = backoff(
                    self.options.backoff_initial, self.options.backoff_max, handler.failures
                )
                handler.retry_at = self.clock() + delay
            log.info("upload of %d anns failed: %s", count, c.last_error)
            return
        c.uploads += 1
        c.bytes_sent += count * 1024
        if handler is not None:
            handler.failures = 0
            handler.retry_at = 0.0
        if outcome.warnings:
            c.warnings += len(outcome.warnings)
            c.last_warning = summarize(outcome.warnings)
        if outcome.overloaded:
            c.overload += count
            c.last_error = f"{batch.handler}: overloaded"
            return
        c.accepted += outcome.accepted
        c.dup += outcome.dup
        c.rejected += outcome.rejected
        if outcome.accepted:
            c.last_accept = self.clock()
        if outcome.errors:
            c.last_error = f"{batch.handler}: {summarize(outcome.errors)}"


def backoff(initial: float, limit: float, failures: int) -> float:
    """Seconds to wait after ``failures`` failures in a row: doubling, capped at ``limit``."""
    return float(min(limit, initial * 2.0 ** min(max(0, failures - 1), 32)))


def read_limited(resp: requests.Response, limit: int, deadline: float) -> bytes:
    """Read a streamed response body: at most ``limit`` bytes, before ``deadline``."""
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(chunk_size=16384):
        size += len(chunk)
        if size > limit:
            raise PoolProtocolError(f"the pool sent a reply larger than {limit >> 10} KiB")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("the reply took too long")
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]
