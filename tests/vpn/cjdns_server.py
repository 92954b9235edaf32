"""A cjdns admin API test server on 127.0.0.1 UDP.

It follows cjdns admin/Admin.c: cookies are the server's Unix time and are valid for 20 s; an
``auth`` request is checked by finding the submitted hash in the raw datagram, replacing it with
sha256_hex(password + cookie) (first 63 bytes, like cjdns's 64-byte snprintf buffer) and hashing
the whole datagram; password ``NONE`` authenticates everything; required arguments are checked
("Entry [x] is required and must be of type [Int]"); requests over 2048 bytes get
"Request too big.". Replies echo ``txid`` and zero-pad the first key's length like cjdroute.
The node signs with an Ed25519 key whose Curve25519 form is its cjdns public key.
"""

import functools
import hashlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .ref import b32dec, b32enc, bdec, benc, curve_key_of, ipv6_of

_ALPHABET = "0123456789bcdfghjklmnpqrstuvwxyz"


@functools.lru_cache(maxsize=8)
def node_keypair(seed: int = 0) -> tuple[Ed25519PrivateKey, str]:
    """A deterministic Ed25519 key whose cjdns key has a valid fc00::/8 address."""
    for i in range(100000):
        raw = hashlib.sha256(b"pkt-wallet vpn test node %d %d" % (seed, i)).digest()
        sk = Ed25519PrivateKey.from_private_bytes(raw)
        pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        key = curve_key_of(pub)
        if ipv6_of(key).startswith("fc"):
            return sk, key
    raise RuntimeError("no key")


def key_error(key: Any) -> str | None:
    """cjdns Key_parse_strerror for a candidate key string, None if valid."""
    if not isinstance(key, str) or len(key) < 52:
        return "key must be 52 characters long"
    if key[52:54] != ".k":
        return "key must end in .k"
    try:
        raw = b32dec(key[:52])
    except ValueError:
        return "failed to base-32 decode key"
    if len(raw) != 32:
        return "failed to base-32 decode key"
    if not ipv6_of(key).startswith("fc"):
        return "not a valid cjdns public key"
    return None


@dataclass
class Peer:
    key: str
    address: str
    login: str | None
    password: str | None
    added: float
    state: str = "INIT"


@dataclass
class Conn:
    number: int
    key: str
    outgoing: bool = True


@dataclass
class Lease:
    ip4: str | None
    ip6: str | None
    ip4_prefix: int = 0
    ip4_alloc: int = 32
    ip6_prefix: int = 0
    ip6_alloc: int = 64


Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class FakeCjdns:
    password: str = "NONE"
    node_seed: int = 0
    establish_after: float = 0.05
    unreachable_peers: set[str] = field(default_factory=set)
    reverse_keys: bool = False
    version: int = 22

    def __post_init__(self) -> None:
        self.sign_key, self.public_key = node_keypair(self.node_seed)
        self.ipv6 = ipv6_of(self.public_key)
        self.peers: dict[str, Peer] = {}
        self.connections: dict[int, Conn] = {}
        self.leases: dict[str, Lease] = {}
        self.exceptions: list[str] = []
        self.calls: list[tuple[str, dict[str, Any], bool]] = []
        self.noncanonical_requests = 0
        self.auth_failures = 0
        self._next_conn = 0
        self._drop = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        s, i = "String", "Int"
        self.functions: dict[str, tuple[bool, dict[str, tuple[str, bool]], Handler]] = {
            "ping": (False, {}, lambda a: {"q": "pong"}),
            "Core_nodeInfo": (False, {}, self._node_info),
            "Core_exit": (True, {}, self._core_exit),
            "Admin_availableFunctions": (False, {"page": (i, False)}, self._available),
            "Sign_sign": (True, {"msgHash": (s, True)}, self._sign),
            "Sign_checkSig": (False, {"msgHash": (s, True), "signature": (s, True)}, self._check),
            "UDPInterface_beginConnection": (
                True,
                {
                    "publicKey": (s, True),
                    "address": (s, True),
                    "interfaceNumber": (i, False),
                    "password": (s, False),
                    "login": (s, False),
                    "peerName": (s, False),
                    "version": (i, False),
                },
                self._begin_connection,
            ),
            "InterfaceController_peerStats": (False, {"page": (i, False)}, self._peer_stats),
            "InterfaceController_disconnectPeer": (True, {"pubkey": (s, True)}, self._disconnect),
            "IpTunnel_connectTo": (
                True,
                {"publicKeyOfNodeToConnectTo": (s, True)},
                self._connect_to,
            ),
            "IpTunnel_listConnections": (True, {}, self._list_connections),
            "IpTunnel_showConnection": (True, {"connection": (i, True)}, self._show_connection),
            "IpTunnel_removeConnection": (True, {"connection": (i, True)}, self._remove_connection),
            "RouteGen_addException": (True, {"route": (s, True)}, self._add_exception),
            "RouteGen_removeException": (True, {"route": (s, True)}, self._remove_exception),
            "RouteGen_commit": (True, {"tunName": (s, True)}, lambda a: {"error": "none"}),
            "SessionManager_sessionStatsByIP": (True, {"ip6": (s, True)}, self._session_stats),
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeCjdns":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def drop_next(self, n: int) -> None:
        with self._lock:
            self._drop = n

    def grant(self, exit_key: str, ip4: str | None = "10.66.0.2", ip6: str | None = None) -> None:
        """What the exit's IpTunnel_allowConnection makes visible to this node."""
        with self._lock:
            self.leases[exit_key] = Lease(ip4, ip6)

    def revoke(self, exit_key: str) -> None:
        with self._lock:
            self.leases.pop(exit_key, None)

    def called(self, function: str) -> list[dict[str, Any]]:
        return [args for name, args, _ in self.calls if name == function]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._drop > 0:
                    self._drop -= 1
                    self.dropped += 1
                    continue
                reply = self._handle(data)
            if reply is not None:
                self.sock.sendto(reply, addr)
            if self._stop.is_set():
                return

    # -- Admin.c -----------------------------------------------------------------------------

    def _reply(self, d: dict[str, Any], txid: Any) -> bytes:
        if txid is not None:
            d = {**d, "txid": txid}
        return benc(d, pad_first_key=5, reverse_keys=self.reverse_keys)

    def _auth_valid(self, msg: dict[str, Any], raw: bytes) -> bool:
        cookie_val = msg.get("cookie")
        try:
            cookie = int(cookie_val) if cookie_val is not None else 0
        except ValueError:
            cookie = 0
        now = int(time.time())
        submitted = msg.get("hash")
        if cookie > now or cookie < now - 20 or not isinstance(submitted, str):
            return False
        if len(submitted) != 64:
            return False
        pos = raw.find(submitted.encode())
        if pos < 0:
            return False
        pass_and_cookie = (self.password.encode() + str(cookie).encode())[:63]
        hash_one = hashlib.sha256(pass_and_cookie).hexdigest().encode()
        patched = raw[:pos] + hash_one + raw[pos + 64 :]
        return hashlib.sha256(patched).hexdigest() == submitted

    def _handle(self, raw: bytes) -> bytes | None:
        if len(raw) > 2048:
            return b"d5:error16:Request too big.e"
        try:
            msg = bdec(raw)
        except (ValueError, IndexError):
            return None
        if not isinstance(msg, dict) or "q" not in msg:
            return None
        if benc(msg) != raw:
            self.noncanonical_requests += 1
        txid = msg.get("txid")
        query = msg["q"]
        if query == "cookie":
            return self._reply({"cookie": str(int(time.time()))}, txid)
        authed = False
        if query == "auth":
            if not self._auth_valid(msg, raw):
                self.auth_failures += 1
                return self._reply({"error": "Auth failed."}, txid)
            query = msg.get("aq")
            authed = True
        if self.password == "NONE":
            authed = True
        entry = self.functions.get(query)
        if entry is None or (entry[0] and not authed):
            return self._reply(
                {"error": "No functions matched your request, try Admin_availableFunctions()"},
                txid,
            )
        _, spec, handler = entry
        args = msg.get("args") if isinstance(msg.get("args"), dict) else {}
        assert isinstance(args, dict)
        for name, (kind, required) in spec.items():
            if not required:
                continue
            value = args.get(name)
            ok = isinstance(value, str | bytes) if kind == "String" else isinstance(value, int)
            if not ok:
                return self._reply(
                    {"error": f"Entry [{name}] is required and must be of type [{kind}]"}, txid
                )
        self.calls.append((str(query), dict(args), authed))
        return self._reply(handler(args), txid)

    # -- functions ---------------------------------------------------------------------------

    def _node_info(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "myAddr": f"v{self.version}.0000.0000.0000.0001.{self.public_key}",
            "myIp6": self.ipv6,
            "version": self.version,
            "compressedSchemeHex": "0000",
            "encodingScheme": [],
            "error": "none",
        }

    def _core_exit(self, a: dict[str, Any]) -> dict[str, Any]:
        self._stop.set()
        return {"error": "none"}

    def _available(self, a: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.functions)
        page = a.get("page", 0)
        chunk = names[page * 8 : page * 8 + 8]
        out: dict[str, Any] = {
            "availableFunctions": {
                n: {
                    k: {"required": int(req), "type": kind}
                    for k, (kind, req) in self.functions[n][1].items()
                }
                for n in chunk
            }
        }
        if len(chunk) >= 8:
            out["more"] = 1
        return out

    def sign_text(self, msg_hash: str) -> str:
        pub = self.sign_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{b32enc(pub)}_{b32enc(self.sign_key.sign(msg_hash.encode()))}"

    def _sign(self, a: dict[str, Any]) -> dict[str, Any]:
        msg_hash = a["msgHash"]
        if len(msg_hash.encode()) > 64:
            return {"error": "msgHash too long, max 64 bytes"}
        return {"signature": self.sign_text(msg_hash), "error": "none"}

    def _check(self, a: dict[str, Any]) -> dict[str, Any]:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        head, _, tail = a["signature"].partition("_")
        try:
            pub, sig = b32dec(head), b32dec(tail)
            Ed25519PublicKey.from_public_bytes(pub).verify(sig, a["msgHash"].encode())
        except (ValueError, InvalidSignature):
            return {"error": "invalid signature"}
        key = curve_key_of(pub)
        return {"error": "none", "pubkey": key, "ipv6": ipv6_of(key)}

    def _begin_connection(self, a: dict[str, Any]) -> dict[str, Any]:
        err = key_error(a["publicKey"])
        if err:
            return {"error": err}
        host, sep, port = a["address"].rpartition(":")
        if not sep or not port.isdigit():
            return {"error": "unable to parse ip address and port."}
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return {"error": "unable to parse ip address and port."}
        if ip.version == 6:
            return {"error": "different address type than this socket is bound to."}
        self.peers[a["publicKey"]] = Peer(
            a["publicKey"], a["address"], a.get("login"), a.get("password"), time.monotonic()
        )
        return {"error": "none"}

    def _peer_stats(self, a: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        peers = list(self.peers.values())
        for p in peers:
            if p.key not in self.unreachable_peers and now - p.added >= self.establish_after:
                p.state = "ESTABLISHED"
        page = a.get("page", 0)
        chunk = peers[page * 6 : page * 6 + 6]
        out: dict[str, Any] = {
            "peers": [
                {
                    "addr": f"v{self.version}.0000.0000.0000.0013.{p.key}",
                    "lladdr": p.address,
                    "state": p.state,
                    "bytesIn": 100,
                    "bytesOut": 200,
                    "recvKbps": 1,
                    "sendKbps": 2,
                    "last": int(now * 1000),
                    "isIncoming": 0,
                    "duplicates": 0,
                    "lostPackets": 0,
                    "receivedOutOfRange": 0,
                    "noiseProto": 0,
                    "ifNum": 0,
                    "receivedPackets": 3,
                    **({"user": p.login} if p.login else {}),
                }
                for p in chunk
            ],
            "total": len(peers),
        }
        if page * 6 + 6 < len(peers):
            out["more"] = 1
        return out

    def _disconnect(self, a: dict[str, Any]) -> dict[str, Any]:
        if self.peers.pop(a["pubkey"], None) is None:
            return {"success": 0, "error": "no such peer", "sessionsDisconnected": 0}
        return {"success": 1, "sessionsDisconnected": 1}

    def _connect_to(self, a: dict[str, Any]) -> dict[str, Any]:
        key = a["publicKeyOfNodeToConnectTo"]
        err = key_error(key)
        if err:
            return {"error": err}
        n = self._next_conn
        self._next_conn += 1
        self.connections[n] = Conn(n, key)
        return {"connection": n, "error": "none"}

    def _list_connections(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"connections": sorted(self.connections), "error": "none"}

    def _show_connection(self, a: dict[str, Any]) -> dict[str, Any]:
        conn = self.connections.get(a["connection"])
        if conn is None:
            return {"error": "connection not found"}
        out: dict[str, Any] = {"key": conn.key, "outgoing": int(conn.outgoing), "error": "none"}
        lease = self.leases.get(conn.key)
        if lease is not None:
            if lease.ip4:
                out |= {
                    "ip4Address": lease.ip4,
                    "ip4Prefix": lease.ip4_prefix,
                    "ip4Alloc": lease.ip4_alloc,
                }
            if lease.ip6:
                out |= {
                    "ip6Address": lease.ip6,
                    "ip6Prefix": lease.ip6_prefix,
                    "ip6Alloc": lease.ip6_alloc,
                }
        return out

    def _remove_connection(self, a: dict[str, Any]) -> dict[str, Any]:
        n = a["connection"]
        if self.connections.pop(n, None) is None:
            return {"error": "not_found"}
        return {"connection": n, "error": "none"}

    def _route(self, route: str) -> str | None:
        if len(route) > 63:
            return None
        try:
            return str(ipaddress.ip_network(route, strict=False))
        except ValueError:
            return None

    def _add_exception(self, a: dict[str, Any]) -> dict[str, Any]:
        route = self._route(a["route"])
        if route is None:
            return {"error": "parse_failed"}
        if route not in self.exceptions:
            self.exceptions.append(route)
        return {"error": "none"}

    def _remove_exception(self, a: dict[str, Any]) -> dict[str, Any]:
        route = self._route(a["route"])
        if route is None:
            return {"error": "parse_failed"}
        if route not in self.exceptions:
            return {"error": "no_such_route"}
        self.exceptions.remove(route)
        return {"error": "none"}

    def _session_stats(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"error": "none", "addr": a["ip6"], "state": "ESTABLISHED", "metric": 1}
