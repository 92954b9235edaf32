"""Exit list parsing, caching, sorting; peering lines; cjdroute.conf / ~/.cjdnsadmin; detecting
cjdroute; invite tokens; settings."""

import json
import os
import stat
from pathlib import Path

import pytest

from app.vpn.admin import AdminClient
from app.vpn.cjdroute import (
    INSTALL_HINT,
    credentials_from_cjdnsadmin,
    detect_cjdroute,
    parse_bind,
    resolve_credentials,
    start_cjdroute,
    strip_json_comments,
)
from app.vpn.directory import (
    Directory,
    ExitServer,
    decode_json,
    filter_exits,
    find_exit,
    parse_exit_list,
    parse_peering_lines,
    sort_exits,
)
from app.vpn.errors import CjdrouteNotFound, ConfigError, DirectoryError, InviteError
from app.vpn.invite import Invite, looks_like_invite, parse_invite
from app.vpn.settings import DEFAULT_PUBLIC_IP_URL, VpnSettings

from .conftest import DATA, vpn_vector
from .directory_server import (
    DEFAULT_EXIT,
    INACTIVE_EXIT,
    PREMIUM_EXIT,
    FakeDirectory,
    default_exits,
)

SHAPES = vpn_vector("coordinator_api_shapes.json")["endpoints"]


def test_exit_list_accepts_both_key_styles() -> None:
    example = SHAPES["vpn_servers_list"]["example_object"]
    exits, warnings = parse_exit_list([example, *default_exits()])
    assert len(warnings) == 1 and "no valid cjdns public key" in warnings[0]
    by_key = {e.public_key: e for e in exits}
    assert len(exits) == 3  # the duplicate of the example is dropped
    montreal = by_key[DEFAULT_EXIT]
    assert (montreal.name, montreal.country_code, montreal.premium) == (
        "PKT Pal Montreal",
        "CA",
        False,
    )
    assert montreal.public_ip == "203.0.113.10" and montreal.auth_server is None
    france = by_key[PREMIUM_EXIT]
    assert france.premium and france.cost == 25 and france.load == 3.5
    assert france.average_rating == 4.5 and france.num_ratings == 2 and france.country_code == "FR"
    assert not by_key[INACTIVE_EXIT].is_active
    assert parse_exit_list({"results": [example]})[0][0].public_key == DEFAULT_EXIT
    with pytest.raises(DirectoryError, match="not a JSON array"):
        parse_exit_list({"detail": "oops"})


def test_sort_filter_find() -> None:
    exits, _ = parse_exit_list(default_exits())
    assert [e.name for e in sort_exits(exits, "load")][0] == "Routie Germany 1"
    assert [e.name for e in sort_exits(exits, "quality")][0] == "Routie France 1"
    assert [e.country_code for e in sort_exits(exits, "country")] == ["CA", "DE", "FR"]
    assert [e.name for e in filter_exits(exits, premium_only=True)] == ["Routie France 1"]
    assert len(filter_exits(exits, include_inactive=False)) == 2
    assert [e.name for e in filter_exits(exits, country="de")] == ["Routie Germany 1"]
    assert [e.name for e in filter_exits(exits, query="montreal")] == ["PKT Pal Montreal"]
    assert find_exit(exits, PREMIUM_EXIT).name == "Routie France 1"
    assert find_exit(exits, "pkt pal montreal").public_key == DEFAULT_EXIT
    with pytest.raises(DirectoryError, match="several exits"):
        find_exit(exits, "Routie")
    with pytest.raises(DirectoryError, match="no exit named"):
        find_exit(exits, "Atlantis")
    with pytest.raises(ValueError):
        sort_exits(exits, "colour")


def test_peering_lines_from_published_lists() -> None:
    for name in (
        "pkt-server_cjdnspeers.json",
        "cjdns-peers-finder_peers.json",
        "cjdns-peering_peers.json",
    ):
        lines, warnings = parse_peering_lines(vpn_vector(name))
        assert lines and not warnings
    first = parse_peering_lines(vpn_vector("pkt-server_cjdnspeers.json"))[0][0]
    assert (first.address, first.login) == ("51.222.138.35:32286", "default-login")
    lines, warnings = parse_peering_lines([{"publicKey": "x.k", "ip": "1.2.3.4", "port": 1}])
    assert not lines and warnings


def test_double_encoded_json() -> None:
    assert decode_json(json.dumps(json.dumps({"a": 1})), "status") == {"a": 1}
    with pytest.raises(DirectoryError, match="sent an invalid exit list"):
        decode_json("[{", "exit list")


def test_malformed_directory_json_and_cache(directory: FakeDirectory, tmp_path: Path) -> None:
    d = Directory(directory.url, tmp_path / "cache", timeout=(1, 2))
    directory.raw_exit_list = b'[{"public_key": '
    with pytest.raises(DirectoryError, match="sent an invalid exit list"):
        d.list_exits()
    directory.raw_exit_list = None
    fresh = d.list_exits()
    assert not fresh.from_cache and len(fresh.exits) == 2
    directory.raw_exit_list = b"<html>502 Bad Gateway</html>"
    cached = d.list_exits()
    assert cached.from_cache and len(cached.exits) == 2
    assert "sent an invalid exit list" in cached.warnings[0] and "cached at" in cached.warnings[0]
    directory.raw_exit_list = b'[{"public_key": "junk"}]'
    with pytest.raises(DirectoryError, match="no usable entry"):
        d.fetch_exits()


def test_conf_with_comments(tmp_path: Path) -> None:
    conf = tmp_path / "cjdroute.conf"
    conf.write_text(
        """{
    // Private key: keep it secret
    "privateKey": "00ff",
    "publicKey": "EXIT_KEY",
    /* several
       lines */
    "admin": {
        // Port to bind the admin RPC server to.
        "bind": "127.0.0.1:11235",
        "password": "pa//ss/*not a comment*/",
    },
    "router": { "interface": { "type": "TUNInterface", "tunDevice": "cjdns0" }, },
    "url": "http://example.invalid/x", // trailing comment
}
""".replace("EXIT_KEY", DEFAULT_EXIT)
    )
    creds = resolve_credentials(conf)
    assert (creds.host, creds.port, creds.password) == (
        "127.0.0.1",
        11235,
        "pa//ss/*not a comment*/",
    )
    assert creds.tun_device == "cjdns0" and creds.public_key == DEFAULT_EXIT
    assert creds.source == str(conf)
    assert json.loads(strip_json_comments('{"a": "\\"//", /* c */ "b": [1, 2,],}')) == {
        "a": '"//',
        "b": [1, 2],
    }
    bad = tmp_path / "bad.conf"
    bad.write_text('{"admin": ')
    with pytest.raises(ConfigError, match="not valid JSON"):
        resolve_credentials(bad)
    bad.write_text("{}")
    with pytest.raises(ConfigError, match='no "admin" block'):
        resolve_credentials(bad)
    assert parse_bind("[::1]:11234") == ("::1", 11234)
    with pytest.raises(ConfigError):
        parse_bind("localhost")


def test_cjdnsadmin_and_precedence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cjdnsadmin").write_bytes((DATA / "pkt-server_cjdnsadmin.json").read_bytes())
    creds = resolve_credentials(home=home, search_system=False)
    assert (creds.host, creds.port, creds.password) == ("127.0.0.1", 11234, "NONE")
    assert creds.source.endswith(".cjdnsadmin")
    over = resolve_credentials(home=home, search_system=False, password="x", bind="127.0.0.1:9")
    assert (over.port, over.password, over.source) == (9, "x", "settings")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert resolve_credentials(home=empty, search_system=False).password == "NONE"
    (home / ".cjdnsadmin").write_text('{"config": "%s"}' % (tmp_path / "missing.conf"))
    with pytest.raises(ConfigError, match="cannot read"):
        credentials_from_cjdnsadmin(home / ".cjdnsadmin")


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_detect_cjdroute(tmp_path: Path) -> None:
    absent = detect_cjdroute(search_path="", locations=())
    assert not absent.found and absent.to_json()["install_hint"] == INSTALL_HINT
    bad = detect_cjdroute(tmp_path / "nope")
    assert not bad.found and "not an executable" in (bad.error or "")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(
        bindir / "cjdroute",
        'echo "Cjdns version: cjdns-v22.3"\necho "Cjdns protocol version: 22"\n',
    )
    info = detect_cjdroute(search_path=str(bindir), locations=())
    assert info.found and info.found_via == "PATH"
    assert (info.version, info.protocol) == ("cjdns-v22.3", 22)
    other = _script(tmp_path / "cjd", 'echo "weird build 1.0"\n')
    assert detect_cjdroute(other).version == "weird build 1.0"
    loc = detect_cjdroute(search_path="", locations=(str(other),))
    assert loc.found_via == "common location"


def test_start_cjdroute_feeds_the_conf(tmp_path: Path, free_udp_port: int) -> None:
    fed = tmp_path / "stdin.txt"
    launcher = _script(tmp_path / "cjdroute", f'cat > "{fed}"\nexit 3\n')
    conf = tmp_path / "c.conf"
    conf.write_text('{"admin": {}}')
    admin = AdminClient("127.0.0.1", free_udp_port, "NONE", timeout=0.05, retries=1)
    with pytest.raises(CjdrouteNotFound, match="exited with status 3"):
        start_cjdroute(launcher, conf, admin, log_path=tmp_path / "log", wait=5)
    assert fed.read_text() == '{"admin": {}}'


def test_invites() -> None:
    key = "dwr8dc930kwsz46sty5x09m0sq2j1c43853bxgk2bq6br2nlswt0.k"
    inv = Invite(
        key,
        "2001:db8::7",
        5000,
        "p&w=1",
        None,
        DEFAULT_EXIT,
        "https://exit.example:8443",
        "My exit",
    )
    uri = inv.to_uri()
    assert uri.startswith(f"pktvpn:{key}?peer=[2001:db8::7]:5000&password=p%26w%3D1")
    assert parse_invite(uri) == inv
    assert parse_invite(uri.replace("pktvpn:", "pktvpn://", 1)) == inv
    assert inv.peering_line().public_key == DEFAULT_EXIT and inv.exit_server().public_ip is None
    peer = vpn_vector("cjdns-peering_peers.json")[2]
    as_json = parse_invite(json.dumps(peer | {"authServer": "http://51.79.51.242:8099"}))
    assert as_json.exit_key == peer["publicKey"] and as_json.peer_port == 52733
    assert as_json.auth_server == "http://51.79.51.242:8099" and as_json.peer_key is None
    assert looks_like_invite(uri) and not looks_like_invite("PKT Pal")
    for bad, msg in [
        ("pktvpn:xyz?peer=1.2.3.4:5", "not a valid cjdns public key"),
        (f"pktvpn:{key}", "no peer"),
        (f"pktvpn:{key}?peer=host.example:5", "IP address"),
        (f"pktvpn:{key}?peer=1.2.3.4:0", "IP:PORT"),
        (f"pktvpn:{key}?peer=1.2.3.4:5&auth=ftp://x", "http"),
        (f"pktvpn:{key}?peer=1.2.3.4:5&name=a&name=b", "repeats"),
        ("vpn://x", "starts with"),
        ("{nope", "does not parse"),
    ]:
        with pytest.raises(InviteError, match=msg):
            parse_invite(bad)


def test_settings_roundtrip(tmp_path: Path) -> None:
    s = VpnSettings.load(tmp_path)
    assert s.resolved_public_ip_url() == DEFAULT_PUBLIC_IP_URL
    s.directory_url = "http://127.0.0.1:1/"
    s.save(tmp_path)
    again = VpnSettings.load(tmp_path)
    assert again.directory_url == "http://127.0.0.1:1/"
    assert again.resolved_public_ip_url() == "http://127.0.0.1:1/api/0.3/vpn/clients/ipaddress/"
    assert oct(os.stat(VpnSettings.path(tmp_path)).st_mode & 0o777) == "0o600"
    VpnSettings.path(tmp_path).write_text('{"dns_servers": "1.1.1.1"}')
    with pytest.raises(ConfigError):
        VpnSettings.load(tmp_path)


def test_exit_server_json() -> None:
    e = ExitServer(public_key=DEFAULT_EXIT, name="x", cost=10)
    assert e.to_json()["premium"] is True


def test_coordinator_fallback_base(
    directory: FakeDirectory, free_tcp_url: str, tmp_path: Path
) -> None:
    s = VpnSettings()
    assert s.coordinator_cjdns_url() is None
    s.coordinator_via_cjdns = True
    # the address Anodium hard-codes for the coordinator, derived from its key
    assert s.coordinator_cjdns_url() == "http://[fca8:420d:c940:d70b:55b2:44c0:c01b:3f31]"
    # (tests only use loopback: the fallback here is the loopback directory)
    d = Directory(free_tcp_url, tmp_path, timeout=(1, 2), fallback_base=directory.url)
    assert len(d.fetch_exits().exits) == 2
    assert ("GET", "/api/0.3/vpn/servers/true/") in directory.requests
    with pytest.raises(DirectoryError, match="nor"):
        Directory(free_tcp_url, None, timeout=(1, 2), fallback_base=free_tcp_url).fetch_exits()
