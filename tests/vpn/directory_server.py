"""A coordinator + exit authorization HTTP server on 127.0.0.1 for the VPN tests.

Coordinator paths (``/api/0.3/vpn/...``, ``/api/0.4/vpn/server/<key>/premium...``) and the exit
authorization server path (``/api/0.3/server/authorize/``) as transcribed in
tests/data/vpn/coordinator_api_shapes.json and exit_server_api_shapes.json. An authorization is
accepted only if the ``Authorization: cjdns <sig>`` header carries a valid Ed25519 signature of
base64(sha256(body)) made with the test node's key (checked independently of app/vpn, with
``cryptography``); a granted lease is made visible to the node through ``FakeCjdns.grant`` (what
the exit's IpTunnel_allowConnection does).
"""

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .cjdns_server import FakeCjdns
from .ref import b32dec, curve_key_of

DEFAULT_EXIT = "929cwrjn11muk4cs5pwkdc5f56hu475wrlhq90pb9g38pp447640.k"
PREMIUM_EXIT = "3j05q8yvkk1v9dtud11x00n31z9w05qdmmskdk0yulv561wutft0.k"
INACTIVE_EXIT = "hqr2chwf758jjzq4fz68nl810lpsmtu74uq0brluj0bh209wh0g0.k"
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"


def default_exits() -> list[dict[str, Any]]:
    return [
        {  # the coordinator shapes' example object (Anodium's default exit)
            "public_key": DEFAULT_EXIT,
            "name": "PKT Pal Montreal",
            "country_code": "CA",
            "is_active": True,
            "cost": 0,
            "load": 12,
            "quality": 80,
            "average_rating": None,
            "num_ratings": 0,
            "is_favorite": False,
            "public_ip": "203.0.113.10",
            "auth_server": "",
        },
        {  # camelCase, numbers as strings: the older coordinator rendering
            "publicKey": PREMIUM_EXIT,
            "name": "Routie France 1",
            "countryCode": "fr",
            "isActive": True,
            "cost": "25",
            "load": "3.5",
            "quality": "95",
            "averageRating": "4.5",
            "numRatings": "2",
        },
        {
            "public_key": INACTIVE_EXIT,
            "name": "Routie Germany 1",
            "country_code": "DE",
            "is_active": False,
            "cost": 0,
            "load": 0,
            "quality": 0,
        },
        {"public_key": "not-a-key", "name": "broken entry"},
    ]


@dataclass
class FakeDirectory:
    cjdns: FakeCjdns
    exits: list[dict[str, Any]] = field(default_factory=default_exits)
    peers: list[dict[str, Any]] = field(default_factory=list)
    exit_key: str = DEFAULT_EXIT  # whose authorization server this is (direct path)
    exit_reachable: bool = True
    raw_exit_list: bytes | None = None  # served instead of `exits` (malformed JSON tests)
    lease_ip4: str = "10.66.0.2"
    lease_ip6: str | None = "2001:db8:66::2"
    premium_address: str = NS_ADDRESS
    premium_amount: Any = 10
    coordinator_key: str | None = None
    raw: dict[str, bytes] = field(default_factory=dict)  # path -> body served as is (hostile)

    def __post_init__(self) -> None:
        self.authorizations: list[dict[str, Any]] = []
        self.premium_posts: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.leased: set[str] = set()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(body, indent="\t").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                owner.requests.append(("GET", self.path))
                if self.path in owner.raw:
                    return self._send(200, None, owner.raw[self.path])
                status, body, raw = owner.handle_get(self.path)
                self._send(status, body, raw)

            def do_POST(self) -> None:
                owner.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length", "0"))
                payload = self.rfile.read(length)
                if self.path in owner.raw:
                    return self._send(200, None, owner.raw[self.path])
                status, body = owner.handle_post(self.path, dict(self.headers.items()), payload)
                self._send(status, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "FakeDirectory":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- GET ---------------------------------------------------------------------------------

    def handle_get(self, path: str) -> tuple[int, Any, bytes | None]:
        if path in ("/api/0.3/vpn/servers/true/", "/api/0.3/vpn/servers/false/"):
            if self.raw_exit_list is not None:
                return 200, None, self.raw_exit_list
            active_only = path.endswith("/true/")
            exits = [
                e
                for e in self.exits
                if not active_only or e.get("is_active", e.get("isActive", True))
            ]
            return 200, exits, None
        if path == "/api/0.3/vpn/cjdns/peeringlines/":
            return 200, self.peers, None
        if path == "/api/0.3/vpn/clients/ipaddress/":
            return 200, {"ipAddress": "203.0.113.7", "maxPrefixLength": 32, "version": 4}, None
        m = re.fullmatch(r"/api/0\.4/vpn/server/([^/]+)/premium/address/", path)
        if m:
            return 200, {"address": self.premium_address, "amount": self.premium_amount}, None
        if path == "/api/0.4/server/status/":  # double-encoded, as the exit server does
            return 200, None, json.dumps(json.dumps({"hostname": "exit", "cjdns": 1})).encode()
        return 404, {"status": "error", "message": "no such endpoint"}, None

    # -- POST --------------------------------------------------------------------------------

    def _verify(self, headers: dict[str, str], body: bytes) -> tuple[str | None, str]:
        """(signer cjdns key or None, error message)."""
        auth = headers.get("Authorization", "")
        if not auth.startswith("cjdns "):
            return None, "cjdns http signature required"
        head, _, tail = auth[6:].partition("_")
        try:
            pub, sig = b32dec(head), b32dec(tail)
            msg_hash = base64.b64encode(hashlib.sha256(body).digest())
            Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg_hash)
        except (ValueError, InvalidSignature):
            return None, "Sign_checksig invalid sig"
        return curve_key_of(pub), ""

    def _grant(self, exit_key: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            first = exit_key not in self.leased
            self.leased.add(exit_key)
        self.cjdns.grant(exit_key, self.lease_ip4, self.lease_ip6)
        expires = int(time.time()) + 86400
        if first:
            return 201, {"status": "success", "message": "allocated", "expiresAt": expires}
        return 200, {"status": "success", "message": "updated timeout", "expiresAt": expires}

    def _check_date(self, data: Any) -> dict[str, Any] | None:
        if not isinstance(data, dict) or not isinstance(data.get("date"), int):
            return {"status": "error", "message": "date field required and must be a number"}
        if time.time() * 1000 - data["date"] * 1000 > 86400000:
            return {"status": "error", "message": "date is more than 1 day old"}
        return None

    def handle_post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        record: dict[str, Any] = {
            "path": path,
            "content_type": headers.get("Content-Type"),
            "body": body,
        }
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            data = None
        m = re.fullmatch(r"/api/0\.3/vpn/servers/([^/]+)/authorize/", path)
        if m:  # the coordinator
            record["via"] = "coordinator"
            self.authorizations.append(record)
            if data is None:
                return 405, {"status": "error", "message": "could not parse json"}
            signer, err = self._verify(headers, body)
            record["signer"] = signer
            if signer is None:
                return 403, {"status": "error", "message": err}
            if signer != self.cjdns.public_key:
                return 403, {"status": "error", "message": f"unknown signer {signer}"}
            bad = self._check_date(data)
            if bad:
                return 405, bad
            record["date"] = data["date"]
            if not self.exit_reachable:
                return 408, {"status": "error", "message": "VPN server timed out."}
            status, reply = self._grant(m.group(1))
            record["status"] = status
            return status, reply
        if path == "/api/0.3/server/authorize/":  # the exit's own authorization server
            record["via"] = "direct"
            self.authorizations.append(record)
            if data is None:
                return 405, {"status": "error", "message": "could not parse json"}
            signer, err = self._verify(headers, body)
            record["signer"] = signer
            if signer is None:
                return 403, {"status": "error", "message": err}
            bad = self._check_date(data)
            if bad:
                return 405, bad
            client = data.get("clientPublicKey")
            if not isinstance(client, str) or not client.endswith(".k"):
                return 405, {"status": "error", "message": "expecting a cjdns public key"}
            if signer not in (client, self.coordinator_key):
                return 403, {
                    "status": "error",
                    "message": f"request can only be made (signed) by either client ({client}) "
                    f"or coordinator ({self.coordinator_key}) (signed by {signer})",
                }
            record["date"] = data["date"]
            status, reply = self._grant(self.exit_key)
            record["status"] = status
            return status, reply
        m = re.fullmatch(r"/api/0\.4/vpn/server/([^/]+)/premium/", path)
        if m:
            if not isinstance(data, dict):
                return 400, {"status": "error", "message": "Invalid JSON"}
            for name in ("ip", "address"):
                if name not in data:
                    return 400, {"status": "error", "message": f"Missing '{name}' property"}
            self.premium_posts.append({"exit": m.group(1), **data})
            return 200, {"status": "success", "message": "Premium VPN granted"}
        return 404, {"status": "error", "message": "no such endpoint"}


def node_signing_key(cjdns: FakeCjdns) -> bytes:
    return cjdns.sign_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
