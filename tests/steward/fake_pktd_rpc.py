"""A loopback stand-in for a PKT full node's vote RPC (pkt-cash/PKT-FullNode PR #3 rpcserver.go).

JSON-RPC 1.0 over HTTP POST with basic auth, positional parameters; errors as HTTP 200 with an
`error` object (-32601 for an unknown method), HTTP 401 for a wrong password. `listaddresses`
pages follow the node's loop: addresses in database order (script || 00000000), zero balances
and (with votingonly) bystanders skipped, the starting address itself skipped, and a page ends
once its counter passes `page_size` (`has_more` then true). Switches make it misbehave.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.steward.electorium.address_list import script_from_node_text
from app.steward.electorium.vote_list import AddressRecord
from spv.params import MAINNET

from .electorium_data import info


@dataclass
class FakePktdRpc:
    records: list[AddressRecord]
    user: str = "rpcuser"
    password: str = "rpc pass:word"
    page_size: int = 3
    as_of_block: int = 2338559
    tip: int = 2340000
    results: list[dict[str, Any]] = field(default_factory=list)
    offer_vote_rpc: bool = True
    offer_getwinners: bool = True
    garbage: bool = False
    silent: bool = False  # accept the request and never answer
    huge_answer: int = 0  # pad answers with this many bytes
    epoch_change_after_pages: int | None = None  # as_of_block moves on after so many pages
    epoch_changes_forever: bool = False
    no_progress: bool = False  # has_more true but the same page again
    calls: list[tuple[str, list[Any]]] = field(default_factory=list)

    def start(self) -> FakePktdRpc:
        fake = self
        self._release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    # --- request handling ---

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length)
        if self.silent:
            self._release.wait(30)
            return
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if h.headers.get("Authorization") != expected:
            self._send(
                h, 401, b"401 Unauthorized.\n", {"WWW-Authenticate": 'Basic realm="pktd RPC"'}
            )
            return
        request = json.loads(body)
        method, params = request["method"], request.get("params") or []
        self.calls.append((method, params))
        if self.garbage:
            self._send(h, 200, b"<html><body>proxy error</body></html>")
            return
        handler = {
            "listaddresses": self._list_addresses if self.offer_vote_rpc else None,
            "getaddressinfo": self._address_info if self.offer_vote_rpc else None,
            "getwinners": self._winners if self.offer_vote_rpc and self.offer_getwinners else None,
            "getblockcount": lambda p: self.tip,
        }.get(method)
        if handler is None:
            answer = {
                "result": None,
                "error": {"code": -32601, "message": "v1.7.0 Method not found"},
            }
        else:
            try:
                answer = {"result": handler(params), "error": None}
            except Exception as exc:  # the node answers a bad parameter with an RPC error
                answer = {"result": None, "error": {"code": -8, "message": f"v1.7.0 {exc}"}}
        answer["id"] = request.get("id")
        if self.huge_answer:
            answer["padding"] = "x" * self.huge_answer
        self._send(h, 200, json.dumps(answer).encode() + b"\n")

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _pages_served(self) -> int:
        return sum(1 for m, _ in self.calls if m == "listaddresses")

    def _list_addresses(self, params: list[Any]) -> dict[str, Any]:
        start_text = params[0] if params else ""
        voting_only = len(params) > 2 and params[2] is True
        start = script_from_node_text(start_text, MAINNET) if start_text else None
        ordered = sorted(self.records, key=lambda r: r.script + b"\0\0\0\0")
        if start is not None and not self.no_progress:
            ordered = [r for r in ordered if r.script + b"\0\0\0\0" >= start + b"\0\0\0\0"]
        out, has_more, i = [], False, 0
        for r in ordered:
            if voting_only and not (r.vote_for or r.is_candidate):
                continue
            if r.balance == 0:
                continue
            if i == 0 and r.script == start:
                i += 1
                continue
            out.append(info(r))
            if i > self.page_size:
                has_more = True
                break
            i += 1
        as_of = self.as_of_block
        served = self._pages_served()
        changed = self.epoch_change_after_pages
        if changed is not None and served > changed:
            as_of += 10080 * (served if self.epoch_changes_forever else 1)
        return {"addresses": out, "as_of_block": as_of, "has_more": has_more}

    def _address_info(self, params: list[Any]) -> dict[str, Any] | None:
        script = script_from_node_text(params[0], MAINNET)
        for r in self.records:
            if r.script == script:
                return info(r)
        return None

    def _winners(self, params: list[Any]) -> dict[str, Any]:
        neb = self.tip // 10080 * 10080 - 1 + 10081
        return {
            "next_election_block": neb,
            "next_inaguration_block": neb + 360,
            "next_election_estimated_time": 1706100000,
            "next_inaguration_estimated_time": 1706121600,
            "Results": self.results or None,
        }


def tennessee_node() -> FakePktdRpc:
    """A started node serving the Tennessee election of electorium_data, whose own result for
    it (`getwinners`) is Nashville, as the count finds."""
    from .electorium_data import SAMPLE_AS_OF_BLOCK, named_address, tennessee_records

    winner = named_address("Nashville").encode(MAINNET)
    result = {"vote_close_height": SAMPLE_AS_OF_BLOCK + 1, "winner": winner, "vote_table_hash": ""}
    return FakePktdRpc(tennessee_records(), results=[result]).start()
