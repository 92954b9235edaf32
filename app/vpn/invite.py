"""Invite tokens for private exits: everything needed to reach one exit without the coordinator.

URI form (values percent-encoded)::

    pktvpn:<exit public key>?peer=<IP:PORT>&password=<peering password>
          [&login=<peering login>][&peerkey=<key of the peer node, if not the exit itself>]
          [&auth=<authorization server URL, e.g. http://203.0.113.5:8099>][&name=<display name>]

``pktvpn://<key>?...`` is accepted too. JSON form: a cjdns peering line (``publicKey``, ``ip``,
``port``, ``password``, ``login``, ``name``) plus optional ``authServer`` and ``exitKey`` (when
the exit is not the peer itself).

Connecting with an invite: peer with ``peer`` using the credentials (``UDPInterface_beginConnection``)
and keep its IP out of the tunnel routes; if ``auth`` is given, authorize directly at the exit's
authorization server with a body signed by this node (``{clientPublicKey, date}``, as the exit
accepts requests signed by the client itself); without ``auth`` the operator must already have
allowed this node's key (``IpTunnel_allowConnection`` / ``ipTunnel.allowedConnections``). Then
``IpTunnel_connectTo`` the exit key as usual.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from miner import safejson

from .directory import ExitServer, PeeringLine
from .errors import InviteError
from .keys import is_public_key

SCHEME = "pktvpn"


@dataclass(frozen=True)
class Invite:
    exit_key: str
    peer_ip: str
    peer_port: int
    password: str | None
    login: str | None = None
    peer_key: str | None = None  # None: the exit is the peer
    auth_server: str | None = None
    name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or f"private exit {self.exit_key[:8]}"

    def peering_line(self) -> PeeringLine:
        return PeeringLine(
            self.peer_key or self.exit_key,
            self.peer_ip,
            self.peer_port,
            self.password,
            self.login,
            self.name,
        )

    def exit_server(self) -> ExitServer:
        return ExitServer(
            public_key=self.exit_key,
            name=self.display_name,
            public_ip=self.peer_ip if not self.peer_key else None,
            auth_server=self.auth_server,
        )

    def to_uri(self) -> str:
        host = f"[{self.peer_ip}]" if ":" in self.peer_ip else self.peer_ip
        params = [("peer", f"{host}:{self.peer_port}")]
        if self.password is not None:
            params.append(("password", self.password))
        for key, value in (
            ("login", self.login),
            ("peerkey", self.peer_key),
            ("auth", self.auth_server),
            ("name", self.name),
        ):
            if value:
                params.append((key, value))
        query = "&".join(f"{k}={quote(v, safe=':[]')}" for k, v in params)
        return f"{SCHEME}:{self.exit_key}?{query}"


def looks_like_invite(text: str) -> bool:
    t = text.strip()
    return t.lower().startswith(SCHEME + ":") or t.startswith("{")


def _split_host_port(text: str) -> tuple[str, int]:
    t = text.strip()
    if t.startswith("["):
        host, _, rest = t[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = t.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InviteError(f"peer must be IP:PORT, got {text!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise InviteError(
            f"peer must be an IP address (cjdns does not resolve names): {host!r}"
        ) from None
    return host, int(port)


def _check(invite: Invite) -> Invite:
    if not is_public_key(invite.exit_key):
        raise InviteError(
            f"the invite's exit key is not a valid cjdns public key: {invite.exit_key!r}"
        )
    if invite.peer_key and not is_public_key(invite.peer_key):
        raise InviteError("the invite's peer key is not a valid cjdns public key")
    if invite.auth_server and not invite.auth_server.startswith(("http://", "https://")):
        raise InviteError("the invite's authorization server must be an http:// or https:// URL")
    return invite


def parse_invite(text: str) -> Invite:
    t = text.strip()
    if t.startswith("{"):
        try:
            obj = safejson.loads(t, max_bytes=64 << 10)
        except safejson.JsonError as exc:
            raise InviteError(f"invite JSON does not parse: {exc}") from None
        if not isinstance(obj, dict):
            raise InviteError("an invite is a JSON object")
        try:
            line = PeeringLine.from_json(obj)
        except ValueError as exc:
            raise InviteError(f"invite: {exc}") from None
        exit_key = obj.get("exitKey") or line.public_key
        auth = obj.get("authServer")
        return _check(
            Invite(
                str(exit_key),
                line.ip,
                line.port,
                line.password,
                line.login,
                line.public_key if exit_key != line.public_key else None,
                str(auth) if auth else None,
                line.name,
            )
        )
    if not t.lower().startswith(SCHEME + ":"):
        raise InviteError(f"an invite starts with '{SCHEME}:' or is a JSON peering line")
    parts = urlsplit(t)
    key = (parts.netloc or parts.path).strip("/")
    query = parse_qs(parts.query, keep_blank_values=True)

    def one(name: str) -> str | None:
        values = query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise InviteError(f"the invite repeats {name!r}")
        return values[0]

    peer = one("peer")
    if not peer:
        raise InviteError("the invite has no peer=IP:PORT")
    host, port = _split_host_port(peer)
    return _check(
        Invite(
            key,
            host,
            port,
            one("password"),
            one("login"),
            one("peerkey"),
            one("auth"),
            one("name"),
        )
    )
