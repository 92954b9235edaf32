"""A loopback announcement pool for the mining tests: a real HTTP server on 127.0.0.1.

It serves ``config.json`` and ``blkinfo_<hash>.json`` for a synthetic chain, changes the tip
on command, and runs the handler's checks (spec section 13.5) on every submitted batch,
including a full validation of every ann with :func:`miner.kernel.validate` against the parent
it announces. It can be told to fail: HTTP 500, garbage JSON, slow answers, overload.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from miner import kernel
from miner.pool.protocol import dedup_value

START_HEIGHT = 1_000_000
EASY_TARGET = 0x207FFFFF


@dataclass
class Block:
    hash: str  # display hex
    height: int
    prev: str

    @property
    def internal(self) -> bytes:
        return bytes.fromhex(self.hash)[::-1]


@dataclass
class Submission:
    time: float
    handler: int
    worknum: int
    count: int
    status: int
    accepted: int
    dup: int
    error: str
    tip_height: int
    parent_heights: tuple[int, ...]
    payto: str
    headers: dict[str, str] = field(default_factory=dict)


def dead_url() -> str:
    """A loopback URL nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class TestPool:
    __test__ = False  # not a pytest class

    def __init__(
        self,
        *,
        handlers: int = 2,
        ann_target: int = EASY_TARGET,
        mine_old: int = 2,
        chain_length: int = 10,
        sig_key: bytes | None = None,
        tracked: int = 6,
        validate: bool = True,
        cache_control: str = "max-age=0",
    ) -> None:
        self.handlers = handlers
        self.ann_target = ann_target
        self.mine_old = mine_old
        self.sig_key = sig_key
        self.tracked = tracked
        self.validate = validate
        self.cache_control = cache_control
        self.lock = threading.RLock()
        self.chain: list[Block] = []
        for _ in range(chain_length):
            self._add_block()
        # failure modes
        self.config_mode = "ok"  # ok, error, garbage, slow, missing-tip, body
        self.config_body = b""  # what config_mode "body" serves (hostile JSON)
        self.submit_mode = "ok"  # ok, error, garbage, slow, overload
        self.delay = 0.0
        # what happened
        self.config_requests = 0
        self.not_modified = 0
        self.blkinfo_requests: Counter[str] = Counter()
        self.submissions: list[Submission] = []
        self.accepted = 0
        self.rejected = 0
        self.dup = 0
        self.overloaded = 0
        self.accepted_by_height: Counter[int] = Counter()
        self.received_by_height: Counter[int] = Counter()
        self.invalid: Counter[str] = Counter()
        self.cpu_seconds = 0.0
        """CPU time of the submit handler threads (validation included)."""
        self._seen: dict[int, set[bytes]] = {}
        self.on_submit: Callable[[Submission], None] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._url = ""
        self._thread: threading.Thread | None = None

    # --- the chain ---

    def _add_block(self) -> Block:
        prev = self.chain[-1] if self.chain else None
        height = prev.height + 1 if prev else START_HEIGHT
        block = Block(os.urandom(32).hex(), height, prev.hash if prev else "00" * 32)
        self.chain.append(block)
        return block

    def advance(self, blocks: int = 1) -> None:
        """New tip(s): the job block moves on."""
        with self.lock:
            for _ in range(blocks):
                self._add_block()

    @property
    def tip(self) -> Block:
        return self.chain[-1]

    def job_block(self) -> Block:
        with self.lock:
            return self.chain[-1 - self.mine_old]

    def block_at(self, height: int) -> Block | None:
        with self.lock:
            for b in reversed(self.chain):
                if b.height == height:
                    return b
        return None

    # --- server ---

    @property
    def url(self) -> str:
        assert self._url, "the pool is not started"
        return self._url

    def handler_url(self, i: int) -> str:
        return f"{self.url}/h{i}/submit"

    def start(self) -> TestPool:
        pool = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                pool._get(self)

            def do_POST(self) -> None:
                pool._post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TestPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- replies ---

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            req.send_response(status)
            req.send_header("Content-Type", ctype)
            req.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(body)
        except OSError:
            pass

    def config(self) -> dict[str, Any]:
        with self.lock:
            tip = self.tip
            conf: dict[str, Any] = {
                "tipHash": tip.hash,
                "currentHeight": tip.height + 1,
                "masterUrl": self.url,
                "submitAnnUrls": [self.handler_url(i) for i in range(self.handlers)],
                "downloadAnnUrls": [],
                "submitBlockUrls": [],
                "paymakerUrl": f"{self.url}/paymaker",
                "version": 3,
                "softVersion": 1,
                "annVersions": [1],
                "mineOldAnns": self.mine_old,
                "annTarget": self.ann_target,
            }
            if self.config_mode == "missing-tip":
                del conf["tipHash"]
            return conf

    def _get(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?")[0]
        if path == "/config.json":
            with self.lock:
                self.config_requests += 1
                mode, delay = self.config_mode, self.delay
            if mode == "slow":
                time.sleep(delay)
            if mode == "error":
                return self._send(req, 500, b"internal error", "text/plain")
            if mode == "garbage":
                return self._send(req, 200, b"{not json at all")
            if mode == "body":
                return self._send(req, 200, self.config_body)
            body = json.dumps(self.config()).encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"Cache-Control": self.cache_control, "ETag": etag}
            if req.headers.get("If-None-Match") == etag:
                with self.lock:
                    self.not_modified += 1
                try:
                    req.send_response(304)
                    for k, v in headers.items():
                        req.send_header(k, v)
                    req.send_header("Content-Length", "0")
                    req.end_headers()
                except OSError:
                    pass
                return None
            return self._send(req, 200, body, headers=headers)
        m = re.fullmatch(r"/blkinfo_([0-9a-f]{64})\.json", path)
        if m:
            with self.lock:
                self.blkinfo_requests[m.group(1)] += 1
                block = next((b for b in self.chain if b.hash == m.group(1)), None)
            if block is None:
                return self._send(req, 404, b"not found", "text/plain")
            info = {
                "header": {
                    "hash": block.hash,
                    "height": block.height,
                    "version": 1,
                    "versionHex": "00000001",
                    "merkleroot": "00" * 32,
                    "time": 1_600_000_000 + block.height,
                    "nonce": 0,
                    "bits": "1d00ffff",
                    "difficulty": 1.0,
                    "previousblockhash": block.prev,
                },
                "sigKey": self.sig_key.hex() if self.sig_key else None,
            }
            return self._send(req, 200, json.dumps(info).encode())
        return self._send(req, 404, b"not found", "text/plain")

    def _reply(self, req: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
        self._send(req, status, json.dumps(data).encode())

    def _post(self, req: BaseHTTPRequestHandler) -> None:
        cpu0 = time.thread_time()
        try:
            self._handle_post(req)
        finally:
            with self.lock:
                self.cpu_seconds += time.thread_time() - cpu0

    def _handle_post(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        m = re.fullmatch(r"/h(\d+)/submit", req.path)
        if not m:
            return self._send(req, 404, b"not found", "text/plain")
        index = int(m.group(1))
        with self.lock:
            mode, delay = self.submit_mode, self.delay
        if mode == "slow":
            time.sleep(delay)
        if mode == "error":
            return self._send(req, 500, b"internal server error", "text/plain")
        if mode == "garbage":
            return self._send(req, 200, b"<html>oops</html>", "text/html")
        if mode == "overload":
            with self.lock:
                self.overloaded += len(body) // 1024
            return self._reply(req, 503, {"warn": [], "error": ["overloaded"], "result": None})
        status, data, sub = self.check_batch(index, dict(req.headers.items()), body)
        if self.on_submit is not None:
            self.on_submit(sub)
        self._reply(req, status, data)

    # --- the handler's checks (section 13.5) ---

    def check_batch(
        self, index: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], Submission]:
        lower = {k.lower(): v for k, v in headers.items()}
        count = len(body) // 1024
        parents = tuple(
            int.from_bytes(body[i + 12 : i + 16], "little") for i in range(0, len(body), 1024)
        )
        with self.lock:
            tip_height = self.tip.height
            tracked = {b.height: b for b in self.chain[-self.tracked :]}
        payto = lower.get("x-pc-payto", "")

        def fail(msg: str, status: int = 400) -> tuple[int, dict[str, Any], Submission]:
            sub = Submission(
                time.monotonic(),
                index,
                worknum,
                count,
                status,
                0,
                0,
                msg,
                tip_height,
                parents,
                payto,
                lower,
            )
            with self.lock:
                self.rejected += count
                self.invalid[msg.split(" ->")[0].split(",")[0]] += 1
                self.submissions.append(sub)
                for h in parents:
                    self.received_by_height[h] += 1
            return status, {"warn": [], "error": [msg], "result": None}, sub

        worknum = -1
        for name in ("x-pc-sver", "x-pc-worknum", "x-pc-payto"):
            if name not in lower:
                return fail(f"missing header {name}", 404)
        try:
            worknum = int(lower["x-pc-worknum"])
        except ValueError:
            return fail("bad worknum")
        if lower["x-pc-sver"] != "1" or lower.get("x-pc-annver") != "1":
            return fail("unexpected sver/annver")
        height = worknum - 1
        if height not in tracked:
            return fail(f"block number out of range, expect {tip_height} got {height}")
        if not re.fullmatch(r"[a-zA-Z0-9]+", payto):
            return fail(f"invalid payto {payto}")
        if len(payto) > 63:
            return fail("payto too long")
        if len(body) % 1024 or not body:
            return fail("size not an even multiple of 1024")
        parent = tracked[height]
        for i in range(count):
            ann = body[i * 1024 : (i + 1) * 1024]
            key = ann[56:88]
            if any(key) and key != (self.sig_key or bytes(32)):
                return fail("wrong signing key" if self.sig_key else "unexpected signed ann")
            ann_height = int.from_bytes(ann[12:16], "little")
            if ann_height != height:
                return fail(f"wrong parent block height, want {height} got {ann_height}")
            if int.from_bytes(ann[8:12], "little") > self.ann_target:
                return fail("not enough work")
            dedup = dedup_value(ann)
            if dedup in (0, (1 << 64) - 1):
                return fail("zero or fff hash")
            if dedup % self.handlers != index:
                return fail("submit elsewhere")
            if any(ann[24:56]):
                return fail("submit elsewhere (non-zero content hash)")
            if ann[0] != 1:
                return fail("unsupported ann version")
            if self.validate:
                result = kernel.validate(ann, parent.internal)
                if not result.ok:
                    return fail(f"check_ann() -> {result.code.name}")
        accepted = dup = 0
        with self.lock:
            seen = self._seen.setdefault(height, set())
            for i in range(count):
                digest = hashlib.blake2b(body[i * 1024 : (i + 1) * 1024], digest_size=32).digest()
                if digest in seen:
                    dup += 1
                else:
                    seen.add(digest)
                    accepted += 1
            self.accepted += accepted
            self.dup += dup
            self.accepted_by_height[height] += accepted
            self.received_by_height[height] += count
            sub = Submission(
                time.monotonic(),
                index,
                worknum,
                count,
                200,
                accepted,
                dup,
                "",
                tip_height,
                parents,
                payto,
                lower,
            )
            self.submissions.append(sub)
        event = {
            "type": "anns",
            "accepted": accepted,
            "dup": dup,
            "inval": 0,
            "badHash": 0,
            "runt": 0,
            "internalErr": 0,
            "payTo": payto,
            "unsigned": count,
            "totalLen": len(body),
            "target": self.ann_target,
            "time": int(time.time() * 1000),
            "eventId": hashlib.blake2b(body, digest_size=32).hexdigest()[:32],
        }
        return 200, {"warn": [], "error": [], "result": event}, sub


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
