"""The VPN service end to end against the loopback cjdns admin and directory servers."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.vpn.errors import PremiumError, StepFailed
from app.vpn.invite import Invite, parse_invite
from app.vpn.premium import SignedPayment
from app.vpn.state import Session, VpnState, VpnStatus

from .cjdns_server import FakeCjdns
from .conftest import FakeDns, ServiceFactory, vpn_vector
from .directory_server import DEFAULT_EXIT, PREMIUM_EXIT, FakeDirectory

PEERS = vpn_vector("pkt-server_cjdnspeers.json")


def test_connect_and_disconnect(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory, tmp_path: Path
) -> None:
    dns = FakeDns()
    states: list[str] = []
    svc = make_service(dns=dns, on_change=lambda s: states.append(s.state.value))
    exit_server = svc.resolve_exit("pkt pal")
    assert exit_server.public_key == DEFAULT_EXIT
    before = time.time()
    status = svc.connect(exit_server)
    assert status.state == VpnState.CONNECTED
    assert (status.ip4, status.ip6) == ("10.66.0.2", "2001:db8:66::2")
    assert status.since is not None and status.since >= before
    assert status.exit_name == "PKT Pal Montreal" and status.auth_via == "coordinator"
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == [
        "starting_cjdns",
        "peering",
        "authorizing",
        "connecting",
        "connected",
    ]
    # peered with every peering line, and kept the peers and the exit out of the tunnel routes
    assert set(cjdns.peers) == {p["publicKey"] for p in PEERS}
    assert cjdns.peers[PEERS[0]["publicKey"]].password == PEERS[0]["password"]
    assert cjdns.exceptions == [f"{p['ip']}/32" for p in PEERS] + ["203.0.113.10/32"]
    # one authorization through the coordinator: seconds, charset, verified signature
    (auth,) = directory.authorizations
    assert auth["status"] == 201 and auth["signer"] == cjdns.public_key
    assert auth["content_type"] == "application/json; charset=utf-8"
    assert abs(auth["date"] - time.time()) < 60
    assert auth["body"] == b'{"date":%d}' % auth["date"]
    assert dns.calls == [("set", "tun0", ("1.1.1.1",))]
    assert Session.load(tmp_path) is not None
    # another process reads the live state from cjdroute
    live = make_service().live_status()
    assert live.state == VpnState.CONNECTED and live.exit_key == DEFAULT_EXIT
    assert live.ip4 == "10.66.0.2" and live.since == status.since
    # disconnect removes the tunnel and restores routes and DNS
    off = svc.disconnect()
    assert off.state == VpnState.OFF and cjdns.connections == {}
    assert cjdns.exceptions == []
    assert dns.calls[-1] == ("restore", "tun0", ())
    assert Session.load(tmp_path) is None
    assert make_service().live_status().state == VpnState.OFF
    assert cjdns.noncanonical_requests == 0


def test_disconnect_from_another_process(make_service: ServiceFactory, cjdns: FakeCjdns) -> None:
    make_service(dns=FakeDns()).connect(make_service().resolve_exit(DEFAULT_EXIT))
    assert cjdns.exceptions
    status = make_service().disconnect()  # a new service, from the saved session
    assert status.state == VpnState.OFF
    assert cjdns.connections == {} and cjdns.exceptions == []


def test_no_system_changes_only_records(make_service: ServiceFactory, cjdns: FakeCjdns) -> None:
    svc = make_service(dry_run=True)
    status = svc.connect(svc.resolve_exit("PKT Pal Montreal"))
    assert status.state == VpnState.CONNECTED and status.dry_run
    assert cjdns.exceptions == [] and cjdns.called("RouteGen_addException") == []
    assert any("would keep 203.0.113.10 out of the tunnel routes" in a for a in status.actions)
    assert any("would set the DNS resolver of tun0 to 1.1.1.1" in a for a in status.actions)
    svc.disconnect()
    assert cjdns.connections == {}


def test_reauthorization_and_health(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    now = [1_000_000.0]
    svc = make_service(clock=lambda: now[0], reauth_interval=3600, health_interval=10)
    svc.connect(svc.resolve_exit("PKT Pal"))
    assert len(directory.authorizations) == 1
    now[0] += 600
    svc.keep_alive_once()
    assert len(directory.authorizations) == 1  # not yet due
    assert svc.next_wakeup() == 10
    now[0] += 3000
    status = svc.keep_alive_once()
    assert [a["status"] for a in directory.authorizations] == [201, 200]
    assert status.authorized_at == now[0] and status.state == VpnState.CONNECTED
    # the exit stops handing out the address: the service re-authorizes and reconnects
    cjdns.revoke(DEFAULT_EXIT)
    old = status.connection
    directory.lease_ip4 = "10.66.0.3"
    status = svc.keep_alive_once()
    assert status.state == VpnState.CONNECTED and status.ip4 == "10.66.0.3"
    assert status.connection != old and list(cjdns.connections) == [status.connection]
    # the tunnel removed behind our back: an error naming the step
    cjdns.connections.clear()
    with pytest.raises(StepFailed) as exc:
        svc.keep_alive_once()
    assert exc.value.step == "keeping the tunnel up"
    assert svc.status.state == VpnState.ERROR and "removed outside" in (svc.status.error or "")


def test_foreground_loop_reauthorizes_until_stopped(
    make_service: ServiceFactory, directory: FakeDirectory
) -> None:
    svc = make_service(reauth_interval=0.1, health_interval=0.05)
    svc.connect(svc.resolve_exit("PKT Pal"))
    stop = threading.Event()
    ticks: list[VpnStatus] = []
    t = threading.Thread(target=svc.run_foreground, args=(stop, ticks.append))
    t.start()
    deadline = time.time() + 5
    while len(directory.authorizations) < 3 and time.time() < deadline:
        time.sleep(0.02)
    stop.set()
    t.join(5)
    assert len(directory.authorizations) >= 3 and ticks
    assert svc.status.state == VpnState.CONNECTED
    svc.disconnect()


def test_wrong_admin_password(make_service: ServiceFactory, cjdns: FakeCjdns) -> None:
    svc = make_service(password="wrong")
    with pytest.raises(StepFailed) as exc:
        svc.connect(svc.resolve_exit("PKT Pal"))
    assert exc.value.step == "starting cjdns" and "Auth failed" in exc.value.reason
    assert svc.status.state == VpnState.ERROR and svc.status.failed_step == "starting cjdns"
    assert cjdns.connections == {} and cjdns.peers == {}


def test_cjdroute_absent(make_service: ServiceFactory, free_udp_port: int) -> None:
    svc = make_service(port=free_udp_port)
    with pytest.raises(StepFailed) as exc:
        svc.connect(svc.resolve_exit("PKT Pal"))
    assert exc.value.step == "starting cjdns"
    assert (
        "is not reachable" in exc.value.reason and "github.com/cjdelisle/cjdns" in exc.value.reason
    )
    live = svc.live_status()
    assert live.state == VpnState.OFF and "cjdroute" in (live.error or "")


def test_exit_unreachable(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    directory.exit_reachable = False
    svc = make_service(dns=FakeDns())
    with pytest.raises(StepFailed) as exc:
        svc.connect(svc.resolve_exit("PKT Pal"))
    assert exc.value.step == "authorizing"
    assert "exit unreachable" in exc.value.reason and "VPN server timed out." in exc.value.reason
    assert cjdns.exceptions == [] and cjdns.connections == {}  # cleaned up
    # retry with another exit works from the error state
    directory.exit_reachable = True
    assert svc.connect(svc.resolve_exit("Routie France")).state == VpnState.CONNECTED


def test_no_address_names_the_connecting_step(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    directory.cjdns = FakeCjdns().start()  # the exit grants the lease to some other node
    svc = make_service()
    with pytest.raises(StepFailed) as exc:
        svc.connect(svc.resolve_exit("PKT Pal"))
    directory.cjdns.stop()
    assert exc.value.step == "connecting" and "not authorized" in exc.value.reason
    assert cjdns.connections == {}


def test_peers_never_established(make_service: ServiceFactory, cjdns: FakeCjdns) -> None:
    cjdns.unreachable_peers = {p["publicKey"] for p in PEERS}
    svc = make_service(peer_timeout=0.2)
    with pytest.raises(StepFailed) as exc:
        svc.connect(svc.resolve_exit("PKT Pal"))
    assert exc.value.step == "peering" and "ESTABLISHED" in exc.value.reason
    assert "INIT" in exc.value.reason


def test_coordinator_down_falls_back_to_the_exit(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory, free_tcp_url: str
) -> None:
    svc = make_service()
    svc.directory.list_exits()  # fills the cache
    svc.directory.peering_lines()
    exit_auth = FakeDirectory(cjdns, exit_key=PREMIUM_EXIT).start()
    try:
        down = make_service(directory_url=free_tcp_url)
        listed = down.directory.list_exits()
        assert listed.from_cache and "cannot reach" in listed.warnings[0]
        target = down.resolve_exit("Routie France")
        from dataclasses import replace

        target = replace(target, auth_server=exit_auth.url)
        status = down.connect(target)
        assert status.state == VpnState.CONNECTED and status.auth_via == "direct"
        (auth,) = exit_auth.authorizations
        assert auth["via"] == "direct" and auth["signer"] == cjdns.public_key
        assert b'"clientPublicKey":"%s"' % cjdns.public_key.encode() in auth["body"]
        assert any("coordinator unreachable" in n for n in status.notices)
    finally:
        exit_auth.stop()


def test_invite_connects_to_a_private_exit(make_service: ServiceFactory, cjdns: FakeCjdns) -> None:
    private = "dwr8dc930kwsz46sty5x09m0sq2j1c43853bxgk2bq6br2nlswt0.k"
    exit_auth = FakeDirectory(cjdns, exit_key=private, lease_ip6=None).start()
    try:
        invite = Invite(
            private, "198.51.100.7", 52733, "pw with space&", "friend", None, exit_auth.url, "Home"
        )
        parsed = parse_invite(invite.to_uri())
        assert parsed == invite
        svc = make_service()
        status = svc.connect(parsed)
        assert (
            status.state == VpnState.CONNECTED and status.ip4 == "10.66.0.2" and status.ip6 is None
        )
        peer = cjdns.peers[private]
        assert (peer.address, peer.password, peer.login) == (
            "198.51.100.7:52733",
            "pw with space&",
            "friend",
        )
        assert cjdns.exceptions == ["198.51.100.7/32"]  # (the auth server is on loopback)
        assert [a["via"] for a in exit_auth.authorizations] == ["direct"]
        svc.disconnect()
    finally:
        exit_auth.stop()
    # without an authorization server the operator must have allowed us already
    cjdns.grant(private, "10.9.0.2")
    svc = make_service()
    status = svc.connect(parse_invite(f"pktvpn:{private}?peer=198.51.100.7:52733&password=x"))
    assert status.state == VpnState.CONNECTED and status.ip4 == "10.9.0.2"
    assert any("not authorizing" in n for n in status.notices)


class FakeSigner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.accepted = False

    def __call__(self, address: str, amount_units: int) -> SignedPayment:
        self.calls.append((address, amount_units))

        def accepted() -> None:
            self.accepted = True

        return SignedPayment("0200feed", "ab" * 32, amount_units, 1000, accepted)


def test_premium_with_a_fake_signer(
    make_service: ServiceFactory, directory: FakeDirectory, tmp_path: Path
) -> None:
    svc = make_service()
    target = svc.resolve_exit("Routie France")
    assert target.premium and target.cost == 25
    offer = svc.premium_offer(target)
    assert offer.amount_units == 10 * 2**30 and offer.address == directory.premium_address
    assert "10 PKT" in offer.describe(2**30)
    signer = FakeSigner()
    with pytest.raises(PremiumError, match="connect to this exit first"):
        svc.buy_premium(offer, signer, lambda o: True)
    svc.connect(target)
    shown: list[Any] = []
    with pytest.raises(PremiumError, match="not confirmed"):
        svc.buy_premium(offer, signer, lambda o: shown.append(o) is not None)  # returns False
    assert shown == [offer] and signer.calls == [] and directory.premium_posts == []
    grant = svc.buy_premium(offer, signer, lambda o: True)
    assert signer.calls == [(offer.address, offer.amount_units)] and signer.accepted
    (post,) = directory.premium_posts
    assert post == {
        "exit": PREMIUM_EXIT,
        "ip": "10.66.0.2",
        "transaction": "0200feed",
        "address": offer.address,
    }
    assert grant.until - grant.granted_at == 3600
    assert svc.status.premium_until == grant.until
    assert make_service().live_status().premium_until == grant.until


def test_premium_offer_rejects_bad_address(
    make_service: ServiceFactory, directory: FakeDirectory
) -> None:
    directory.premium_address = "tpk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    svc = make_service()
    with pytest.raises(PremiumError, match="payment address"):
        svc.premium_offer(svc.resolve_exit("Routie France"))


def test_diagnose(make_service: ServiceFactory, cjdns: FakeCjdns, free_udp_port: int) -> None:
    svc = make_service()
    target = svc.resolve_exit("PKT Pal")
    steps = {s.name: s for s in svc.diagnose(target)}
    assert steps["cjdroute installed"].status == "warn"
    assert (
        steps["cjdroute running"].status == "ok"
        and cjdns.public_key in steps["cjdroute running"].detail
    )
    assert steps["admin password"].status == "ok"
    assert steps["peers"].status == "fail"  # nothing peered yet
    assert steps["directory"].status == "ok" and "3 exits (2 active)" in steps["directory"].detail
    assert steps["authorization"].status == "ok" and "allocated" in steps["authorization"].detail
    assert steps["tunnel"].status == "skip"
    assert steps["public IP"].status == "ok" and "203.0.113.7" in steps["public IP"].detail
    svc.connect(target)
    steps = {s.name: s for s in svc.diagnose()}
    assert steps["peers"].status == "ok" and steps["tunnel"].status == "ok"
    assert "10.66.0.2" in steps["tunnel"].detail
    wrong = {s.name: s for s in make_service(password="nope").diagnose(target)}
    assert wrong["admin password"].status == "fail" and wrong["tunnel"].status == "skip"
    down = {s.name: s for s in make_service(port=free_udp_port).diagnose(target)}
    assert down["cjdroute running"].status == "fail" and down["directory"].status == "ok"


def test_status_readable_and_disconnect_cancels_a_connect(
    make_service: ServiceFactory, cjdns: FakeCjdns, directory: FakeDirectory
) -> None:
    directory.cjdns = FakeCjdns().start()  # no lease will ever reach our node
    svc = make_service(poll_interval=0.05, poll_attempts=400)
    target = svc.resolve_exit("PKT Pal")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            svc.connect(target)
        except StepFailed as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 5
    while svc.status.state != VpnState.CONNECTING and time.time() < deadline:
        time.sleep(0.01)  # the status is readable while connect() works
    assert svc.status.state == VpnState.CONNECTING
    t0 = time.time()
    assert svc.disconnect().state == VpnState.OFF
    t.join(5)
    directory.cjdns.stop()
    assert time.time() - t0 < 2
    assert len(errors) == 1 and isinstance(errors[0], StepFailed)
    assert errors[0].step == "connecting" and errors[0].reason == "cancelled"
    assert cjdns.connections == {} and cjdns.exceptions == []
