"""Fixtures for the Network Steward tests: the loopback GitHub/explorer server and services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.steward.service import StewardService
from spv.params import MAINNET

from .fake_servers import FakeServers


@pytest.fixture
def servers() -> Iterator[FakeServers]:
    s = FakeServers().start()
    yield s
    s.stop()


ServiceFactory = Callable[..., StewardService]


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[ServiceFactory]:
    opened: list[StewardService] = []

    def make(datadir: Path | None = None, **kwargs: object) -> StewardService:
        kwargs.setdefault("keyring_lookup", lambda: None)
        kwargs.setdefault("timeout", 5.0)
        svc = StewardService(datadir or tmp_path / "data", MAINNET, **kwargs)  # type: ignore[arg-type]
        opened.append(svc)
        return svc

    yield make
    for svc in opened:
        svc.close()
