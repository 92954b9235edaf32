"""Fixtures for the VPN tests: loopback cjdns admin and directory servers, and a service wired
to them with short timeouts. Nothing here touches the machine's routes or DNS."""

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.vpn.admin import AdminClient
from app.vpn.cjdroute import AdminCredentials, detect_cjdroute
from app.vpn.directory import Directory
from app.vpn.service import VpnService
from app.vpn.settings import VpnSettings, vpn_dir
from app.vpn.system import CjdnsSystem, NoSystemChanges, SystemChanges

from .cjdns_server import FakeCjdns
from .directory_server import FakeDirectory

DATA = Path(__file__).resolve().parent.parent / "data" / "vpn"
ADMIN_PASSWORD = "s3cret-admin"


def vpn_vector(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return json.load(fh)


class FakeDns:
    """A DnsBackend that only records (tests never touch the real resolver)."""

    name = "fake-dns"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def set(self, interface: str, servers: Sequence[str]) -> None:
        self.calls.append(("set", interface, tuple(servers)))

    def restore(self, interface: str) -> None:
        self.calls.append(("restore", interface, ()))


@pytest.fixture
def cjdns() -> Iterator[FakeCjdns]:
    server = FakeCjdns(password=ADMIN_PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def directory(cjdns: FakeCjdns) -> Iterator[FakeDirectory]:
    server = FakeDirectory(cjdns, peers=vpn_vector("pkt-server_cjdnspeers.json")).start()
    yield server
    server.stop()


ServiceFactory = Callable[..., VpnService]


@pytest.fixture
def make_service(
    tmp_path: Path, cjdns: FakeCjdns, directory: FakeDirectory
) -> Callable[..., VpnService]:
    def make(
        *,
        password: str | None = ADMIN_PASSWORD,
        port: int | None = None,
        dry_run: bool = False,
        dns: FakeDns | None = None,
        directory_url: str | None = None,
        datadir: Path | None = None,
        **kwargs: Any,
    ) -> VpnService:
        admin = AdminClient("127.0.0.1", port or cjdns.port, password, timeout=0.3, retries=2)
        settings = VpnSettings(directory_url=directory_url or directory.url)
        base = datadir or tmp_path
        system: SystemChanges = NoSystemChanges() if dry_run else CjdnsSystem(admin, dns)
        kwargs.setdefault("poll_interval", 0.02)
        kwargs.setdefault("poll_attempts", 5)
        kwargs.setdefault("peer_timeout", 1.0)
        kwargs.setdefault("detect", lambda: detect_cjdroute(search_path="", locations=()))
        return VpnService(
            datadir=base,
            settings=settings,
            admin=admin,
            directory=Directory(settings.directory_url, vpn_dir(base), timeout=(1.0, 2.0)),
            system=system,
            credentials=AdminCredentials(
                "127.0.0.1", port or cjdns.port, password or "NONE", "test"
            ),
            **kwargs,
        )

    return make


@pytest.fixture
def free_udp_port() -> int:
    """A loopback UDP port nothing listens on."""
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def free_tcp_url() -> str:
    """An http:// URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
