"""Fixtures for the VPN tests: loopback cjdns admin and directory servers."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .cjdns_server import FakeCjdns

DATA = Path(__file__).resolve().parent.parent / "data" / "vpn"


def vpn_vector(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture
def cjdns() -> Iterator[FakeCjdns]:
    server = FakeCjdns(password="s3cret-admin").start()
    yield server
    server.stop()
