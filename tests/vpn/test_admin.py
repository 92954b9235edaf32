"""The cjdns admin client against the loopback admin server (tests/vpn/cjdns_server.py)."""

import hashlib
import socket
import time

import pytest

from app.vpn.admin import AdminClient, auth_hash, build_auth_request
from app.vpn.errors import AdminAuthError, AdminCallError, AdminUnreachable
from app.vpn.keys import verify_signature

from .cjdns_server import FakeCjdns
from .conftest import vpn_vector
from .ref import bdec

EXIT = "929cwrjn11muk4cs5pwkdc5f56hu475wrlhq90pb9g38pp447640.k"


def client(server: FakeCjdns, password: str | None = "s3cret-admin", **kw: float) -> AdminClient:
    return AdminClient(
        "127.0.0.1", server.port, password, timeout=kw.get("timeout", 0.5), retries=3
    )


def test_auth_request_matches_the_documented_steps() -> None:
    raw = build_auth_request("ping", None, "1390480958", "pw", "t1")
    request = bdec(raw)
    assert request["q"] == "auth" and request["aq"] == "ping" and request["cookie"] == "1390480958"
    hash_one = auth_hash("pw", "1390480958")
    assert hash_one == hashlib.sha256(b"pw1390480958").hexdigest()
    # step 3: the sent hash is sha256 of the request as it was with hash_one in place
    with_one = raw.replace(request["hash"].encode(), hash_one.encode())
    assert hashlib.sha256(with_one).hexdigest() == request["hash"]
    # cjdns formats password+cookie into a 64-byte buffer: only 63 bytes count
    assert auth_hash("p" * 70, "123") == auth_hash("p" * 63, "")


def test_ping_nodeinfo_and_signing(cjdns: FakeCjdns) -> None:
    with client(cjdns) as c:
        assert c.ping()
        c.check_auth()
        info = c.node_info()
        assert info.public_key == cjdns.public_key and info.my_ip6 == cjdns.ipv6
        assert info.version == 22
        sig = c.sign("nzaT8NETGS6CUJt/aSjl9Y1WnkWIg6IqNLMVdResaoM=")
        assert (
            verify_signature(sig, "nzaT8NETGS6CUJt/aSjl9Y1WnkWIg6IqNLMVdResaoM=")
            == cjdns.public_key
        )
        assert c.check_sig("nzaT8NETGS6CUJt/aSjl9Y1WnkWIg6IqNLMVdResaoM=", sig) == (
            cjdns.public_key,
            cjdns.ipv6,
        )
        with pytest.raises(AdminCallError, match="max 64 bytes"):
            c.sign("x" * 65)
        funcs = c.available_functions()
        assert "IpTunnel_connectTo" in funcs and len(funcs) == len(cjdns.functions)
    assert cjdns.noncanonical_requests == 0


def test_tunnel_peers_and_routes(cjdns: FakeCjdns) -> None:
    peers = vpn_vector("cjdns-peers-finder_peers.json")
    with client(cjdns) as c:
        for p in peers:
            c.udp_begin_connection(
                p["publicKey"], f"{p['ip']}:{p['port']}", p["password"], p["login"]
            )
        time.sleep(0.06)
        stats = c.peer_stats()  # 8 peers: two pages of 6
        assert len(stats) == len(peers)
        assert {s.public_key for s in stats} == {p["publicKey"] for p in peers}
        assert all(s.state == "ESTABLISHED" for s in stats)
        assert stats[0].ip == peers[0]["ip"]
        with pytest.raises(AdminCallError, match="unable to parse ip address"):
            c.udp_begin_connection(peers[0]["publicKey"], "x", None)
        with pytest.raises(AdminCallError, match="different address type"):
            c.udp_begin_connection(peers[0]["publicKey"], "[1234::5]:10000", None)
        with pytest.raises(AdminCallError, match="key must be 52 characters long"):
            c.iptunnel_connect_to("k")
        n = c.iptunnel_connect_to(EXIT)
        assert c.iptunnel_list_connections() == [n]
        conn = c.iptunnel_show_connection(n)
        assert conn.key == EXIT and conn.outgoing and not conn.has_address
        cjdns.grant(EXIT, "10.66.0.9", "2001:db8::9")
        conn = c.iptunnel_show_connection(n)
        assert conn.ip4_address == "10.66.0.9" and conn.ip6_address == "2001:db8::9"
        assert conn.ip4_prefix == 0 and conn.ip4_alloc == 32
        c.iptunnel_remove_connection(n)
        with pytest.raises(AdminCallError, match="not_found"):
            c.iptunnel_remove_connection(n)
        with pytest.raises(AdminCallError, match="connection not found"):
            c.iptunnel_show_connection(n)
        c.routegen_add_exception("51.222.138.35")
        assert cjdns.exceptions == ["51.222.138.35/32"]
        c.routegen_remove_exception("51.222.138.35")
        with pytest.raises(AdminCallError, match="no_such_route"):
            c.routegen_remove_exception("51.222.138.35")
        with pytest.raises(AdminCallError, match="Entry \\[connection\\] is required"):
            c.call("IpTunnel_showConnection", {})


def test_wrong_password_is_a_typed_error(cjdns: FakeCjdns) -> None:
    c = AdminClient("127.0.0.1", cjdns.port, "wrong", timeout=0.5, password_source="test.conf")
    assert c.ping()  # unauthenticated calls still work
    with pytest.raises(AdminAuthError, match="rejected the admin password .*test.conf"):
        c.check_auth()
    with pytest.raises(AdminAuthError):
        c.iptunnel_list_connections()
    # an unauthenticated call to a function that needs auth is refused by name
    with pytest.raises(AdminCallError, match="No functions matched"):
        c.call("IpTunnel_listConnections", auth=False)
    assert cjdns.auth_failures == 2


def test_password_none_authenticates_everything() -> None:
    server = FakeCjdns(password="NONE").start()
    try:
        c = AdminClient("127.0.0.1", server.port, None, timeout=0.5)  # no auth at all
        assert c.iptunnel_list_connections() == []
        assert (
            AdminClient("127.0.0.1", server.port, "NONE", timeout=0.5).iptunnel_list_connections()
            == []
        )
    finally:
        server.stop()


def test_dropped_packets_are_retried(cjdns: FakeCjdns) -> None:
    c = AdminClient("127.0.0.1", cjdns.port, "s3cret-admin", timeout=0.2, retries=4)
    cjdns.drop_next(2)
    assert c.iptunnel_list_connections() == []
    assert cjdns.dropped == 2
    cjdns.drop_next(10)
    with pytest.raises(AdminUnreachable, match="no answer"):
        AdminClient("127.0.0.1", cjdns.port, "s3cret-admin", timeout=0.1, retries=2).ping()


def test_unsorted_replies_are_accepted() -> None:
    server = FakeCjdns(password="pw", reverse_keys=True).start()
    try:
        c = AdminClient("127.0.0.1", server.port, "pw", timeout=0.5)
        n = c.iptunnel_connect_to(EXIT)
        assert c.iptunnel_show_connection(n).key == EXIT
    finally:
        server.stop()


def test_nothing_listening() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(AdminUnreachable, match="is cjdroute running"):
        AdminClient("127.0.0.1", port, "x", timeout=0.1, retries=2).node_info()
