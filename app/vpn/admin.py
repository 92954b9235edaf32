"""Client for the cjdns admin API: bencoded dictionaries over UDP (cjdns doc/admin-api.md).

Authentication follows cjdns admin/Admin.c: ask for a ``cookie``; hash1 = sha256_hex(password +
cookie) (cjdns formats the two into a 64-byte buffer, so only the first 63 bytes count); bencode
``{q: "auth", aq: <function>, args, cookie, hash: hash1, txid}``; replace hash1 in those bytes by
sha256_hex of the whole request and send. A new cookie is fetched for every call. Every request
carries a ``txid`` that the reply echoes; replies for other txids are ignored, a lost datagram is
retried (with a fresh cookie) until ``retries`` attempts have timed out.
"""

import hashlib
import itertools
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import bencode
from .errors import (
    AdminAuthError,
    AdminCallError,
    AdminProtocolError,
    AdminUnreachable,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11234
DEFAULT_PASSWORD = "NONE"
MAX_REQUEST_SIZE = 2048  # cjdns Admin_MAX_REQUEST_SIZE: bigger requests get "Request too big."
_AUTH_FAILED = "Auth failed."
_NO_FUNCTION = "No functions matched your request"


def auth_hash(password: str, cookie: str) -> str:
    """sha256_hex(password + cookie) as cjdns computes it (snprintf into 64 bytes)."""
    pass_and_cookie = (password.encode() + cookie.encode()).split(b"\0")[0][:63]
    return hashlib.sha256(pass_and_cookie).hexdigest()


def build_auth_request(
    function: str, args: dict[str, Any] | None, cookie: str, password: str, txid: str
) -> bytes:
    hash_one = auth_hash(password, cookie)
    request: dict[str, Any] = {
        "q": "auth",
        "aq": function,
        "cookie": cookie,
        "hash": hash_one,
        "txid": txid,
    }
    if args is not None:
        request["args"] = args
    raw = bencode.encode(request)
    final = hashlib.sha256(raw).hexdigest()
    return raw.replace(hash_one.encode(), final.encode(), 1)


@dataclass(frozen=True)
class NodeInfo:
    my_addr: str
    my_ip6: str
    public_key: str
    version: int | None

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> "NodeInfo":
        addr = str(reply.get("myAddr", ""))
        key = addr[-54:] if addr.endswith(".k") else ""
        version = reply.get("version")
        return cls(
            addr, str(reply.get("myIp6", "")), key, version if isinstance(version, int) else None
        )


@dataclass(frozen=True)
class PeerStat:
    addr: str
    public_key: str
    lladdr: str
    state: str
    bytes_in: int = 0
    bytes_out: int = 0
    recv_kbps: int = 0
    send_kbps: int = 0
    lost_packets: int = 0
    is_incoming: bool = False
    user: str | None = None

    @property
    def ip(self) -> str:
        """The peer's Internet IP (lladdr without the port)."""
        host = self.lladdr.rsplit(":", 1)[0] if ":" in self.lladdr else self.lladdr
        return host.strip("[]")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PeerStat":
        addr = str(d.get("addr", ""))
        parts = addr.split(".")
        key = ".".join(parts[-2:]) if addr.endswith(".k") and len(parts) >= 2 else ""

        def num(name: str) -> int:
            v = d.get(name, 0)
            return v if isinstance(v, int) else 0

        user = d.get("user")
        return cls(
            addr=addr,
            public_key=key,
            lladdr=str(d.get("lladdr", "")),
            state=str(d.get("state", "")),
            bytes_in=num("bytesIn"),
            bytes_out=num("bytesOut"),
            recv_kbps=num("recvKbps"),
            send_kbps=num("sendKbps"),
            lost_packets=num("lostPackets"),
            is_incoming=bool(num("isIncoming")),
            user=str(user) if user is not None else None,
        )


@dataclass(frozen=True)
class TunnelConnection:
    number: int
    key: str
    outgoing: bool
    ip4_address: str | None = None
    ip4_prefix: int | None = None
    ip4_alloc: int | None = None
    ip6_address: str | None = None
    ip6_prefix: int | None = None
    ip6_alloc: int | None = None

    @property
    def has_address(self) -> bool:
        return bool(self.ip4_address or self.ip6_address)

    @classmethod
    def from_reply(cls, number: int, reply: dict[str, Any]) -> "TunnelConnection":
        def opt_int(name: str) -> int | None:
            v = reply.get(name)
            return v if isinstance(v, int) else None

        def opt_str(name: str) -> str | None:
            v = reply.get(name)
            return str(v) if isinstance(v, str) and v else None

        return cls(
            number=number,
            key=str(reply.get("key", "")),
            outgoing=bool(reply.get("outgoing", 0)),
            ip4_address=opt_str("ip4Address"),
            ip4_prefix=opt_int("ip4Prefix"),
            ip4_alloc=opt_int("ip4Alloc"),
            ip6_address=opt_str("ip6Address"),
            ip6_prefix=opt_int("ip6Prefix"),
            ip6_alloc=opt_int("ip6Alloc"),
        )


@dataclass
class AdminClient:
    """One admin connection. Thread-safe: calls are serialised."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password: str | None = DEFAULT_PASSWORD
    timeout: float = 2.0
    retries: int = 3
    password_source: str = ""
    _sock: socket.socket | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _counter: "itertools.count[int]" = field(
        default_factory=itertools.count, init=False, repr=False
    )
    _prefix: str = field(default_factory=lambda: os.urandom(4).hex(), init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self) -> "AdminClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _socket(self) -> socket.socket:
        if self._sock is None:
            try:
                infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            except socket.gaierror as exc:
                raise AdminUnreachable(f"bad admin address {self.endpoint}: {exc}") from None
            family, kind, proto, _, addr = infos[0]
            sock = socket.socket(family, kind, proto)
            sock.connect(addr)
            self._sock = sock
        return self._sock

    def _txid(self) -> str:
        return f"{self._prefix}{next(self._counter):06d}"

    def _exchange(self, payload: bytes, txid: str, timeout: float) -> dict[str, Any]:
        """Send one datagram and wait for the reply that echoes ``txid``."""
        sock = self._socket()
        sock.send(payload)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            data = sock.recv(65535)
            try:
                reply = bencode.decode(data)
            except bencode.BencodeError:
                continue
            if not isinstance(reply, dict):
                continue
            got = reply.get("txid")
            if got is None or got == txid:
                reply.pop("txid", None)
                return reply

    def _attempt(
        self, function: str, args: dict[str, Any] | None, auth: bool, timeout: float
    ) -> dict[str, Any]:
        if auth and self.password is not None:
            cookie_txid = self._txid()
            cookie_reply = self._exchange(
                bencode.encode({"q": "cookie", "txid": cookie_txid}), cookie_txid, timeout
            )
            cookie = cookie_reply.get("cookie")
            if isinstance(cookie, int):
                cookie = str(cookie)
            if not isinstance(cookie, str):
                raise AdminProtocolError(f"cookie reply without a cookie: {cookie_reply!r}")
            txid = self._txid()
            payload = build_auth_request(function, args, cookie, self.password, txid)
        else:
            txid = self._txid()
            request: dict[str, Any] = {"q": function, "txid": txid}
            if args is not None:
                request["args"] = args
            payload = bencode.encode(request)
        return self._exchange(payload, txid, timeout)

    def call(
        self, function: str, args: dict[str, Any] | None = None, *, auth: bool = True
    ) -> dict[str, Any]:
        """Call ``function``; returns the reply without ``txid``. Raises AdminError subclasses."""
        refused = False
        with self._lock:
            for _ in range(max(1, self.retries)):
                try:
                    reply = self._attempt(function, args, auth, self.timeout)
                    break
                except TimeoutError:
                    continue
                except ConnectionRefusedError:
                    refused = True
                    time.sleep(min(0.2, self.timeout))
                    continue
                except OSError as exc:
                    raise AdminUnreachable(
                        f"cannot talk to cjdroute at {self.endpoint}: {exc.strerror or exc}"
                    ) from None
            else:
                why = "nothing is listening" if refused else "no answer"
                raise AdminUnreachable(
                    f"cjdroute admin API at {self.endpoint} is not reachable ({why} after "
                    f"{max(1, self.retries)} tries): is cjdroute running?"
                )
        error = reply.get("error")
        if error is None or error == "none":
            return reply
        error = str(error)
        if error == _AUTH_FAILED:
            where = f" (password from {self.password_source})" if self.password_source else ""
            raise AdminAuthError(
                f"cjdroute at {self.endpoint} rejected the admin password{where}: Auth failed."
            )
        if error.startswith(_NO_FUNCTION) and not auth:
            error += " (this function needs an authenticated call)"
        raise AdminCallError(function, error)

    # -- functions ---------------------------------------------------------------------------

    def ping(self) -> bool:
        """Unauthenticated ``ping``: True if cjdroute answered ``pong``."""
        return self.call("ping", auth=False).get("q") == "pong"

    def check_auth(self) -> None:
        """Authenticated ``ping``: raises AdminAuthError if the password is wrong."""
        self.call("ping", auth=True)

    def node_info(self) -> NodeInfo:
        return NodeInfo.from_reply(self.call("Core_nodeInfo", auth=False))

    def available_functions(self) -> dict[str, Any]:
        functions: dict[str, Any] = {}
        for page in range(1000):
            reply = self.call("Admin_availableFunctions", {"page": page})
            part = reply.get("availableFunctions")
            if isinstance(part, dict):
                functions.update(part)
            if not reply.get("more"):
                break
        return functions

    def sign(self, msg_hash: str) -> str:
        """``Sign_sign``: sign a string of at most 64 bytes with the node's key."""
        reply = self.call("Sign_sign", {"msgHash": msg_hash})
        signature = reply.get("signature")
        if not isinstance(signature, str) or "_" not in signature:
            raise AdminProtocolError(f"Sign_sign returned no signature: {reply!r}")
        return signature

    def check_sig(self, msg_hash: str, signature: str) -> tuple[str, str]:
        """``Sign_checkSig``: returns (signer public key, signer IPv6)."""
        reply = self.call("Sign_checkSig", {"msgHash": msg_hash, "signature": signature})
        return str(reply.get("pubkey", "")), str(reply.get("ipv6", ""))

    def udp_begin_connection(
        self,
        public_key: str,
        address: str,
        password: str | None,
        login: str | None = None,
        interface_number: int = 0,
        peer_name: str | None = None,
    ) -> None:
        args: dict[str, Any] = {
            "publicKey": public_key,
            "address": address,
            "interfaceNumber": interface_number,
        }
        if password is not None:
            args["password"] = password
        if login:
            args["login"] = login
        if peer_name:
            args["peerName"] = peer_name
        self.call("UDPInterface_beginConnection", args)

    def peer_stats(self) -> list[PeerStat]:
        peers: list[PeerStat] = []
        for page in range(1000):
            reply = self.call("InterfaceController_peerStats", {"page": page})
            batch = reply.get("peers")
            if not isinstance(batch, list) or not batch:
                break
            peers.extend(PeerStat.from_dict(p) for p in batch if isinstance(p, dict))
            if not reply.get("more"):
                break
        return peers

    def disconnect_peer(self, public_key: str) -> None:
        self.call("InterfaceController_disconnectPeer", {"pubkey": public_key})

    def iptunnel_connect_to(self, public_key: str) -> int:
        reply = self.call("IpTunnel_connectTo", {"publicKeyOfNodeToConnectTo": public_key})
        number = reply.get("connection")
        if not isinstance(number, int):
            raise AdminProtocolError(f"IpTunnel_connectTo returned no connection: {reply!r}")
        return number

    def iptunnel_list_connections(self) -> list[int]:
        reply = self.call("IpTunnel_listConnections")
        conns = reply.get("connections", [])
        if not isinstance(conns, list):
            raise AdminProtocolError(f"IpTunnel_listConnections: {reply!r}")
        return [c for c in conns if isinstance(c, int)]

    def iptunnel_show_connection(self, number: int) -> TunnelConnection:
        reply = self.call("IpTunnel_showConnection", {"connection": number})
        return TunnelConnection.from_reply(number, reply)

    def iptunnel_remove_connection(self, number: int) -> None:
        self.call("IpTunnel_removeConnection", {"connection": number})

    def routegen_add_exception(self, route: str) -> None:
        self.call("RouteGen_addException", {"route": route})

    def routegen_remove_exception(self, route: str) -> None:
        self.call("RouteGen_removeException", {"route": route})

    def routegen_commit(self, tun_name: str) -> None:
        self.call("RouteGen_commit", {"tunName": tun_name})

    def session_stats_by_ip(self, ip6: str) -> dict[str, Any]:
        return self.call("SessionManager_sessionStatsByIP", {"ip6": ip6})

    def core_exit(self) -> None:
        self.call("Core_exit")
