"""Hostile answers from GitHub and the explorer (the loopback servers serving raw bytes and
headers): typed steward errors in the user's terms, never ValueError, RecursionError or
OverflowError (regressions of issue 16: `Retry-After: ²`, 4,301-digit amounts, `"[" * 100000`)."""

from __future__ import annotations

import time

import pytest

from app.steward.errors import MalformedResponseError, RateLimitedError, UnreachableError

from .conftest import ServiceFactory
from .fake_servers import EXPLORER_PREFIX, FakeServers

TREE = "/repos/pkt-cash/ns-projects/git/trees/master"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000, "nested deeper than 32 levels"),
        (b'{"tree": [], "sha": 1e400}', "out of range"),
        (b'{"sha": NaN}', "NaN is not a number"),
        (b'{"sha": ' + b"9" * 4301 + b"}", "4301 digits"),
        (b'{"sha": "\\ud800"}', "surrogate"),
    ],
)
def test_hostile_github_json(
    make_service: ServiceFactory, servers: FakeServers, body: bytes, reason: str
) -> None:
    servers.raw[TREE] = (200, body, {})
    with pytest.raises(
        MalformedResponseError, match=f"sent an invalid reply for {TREE}: .*{reason}"
    ):
        make_service().refresh(api_url=servers.base_url)


@pytest.mark.parametrize("value", ["\u00b2", "\u00b9\u00b3", "1e3", "-5", "9" * 5000, "nan"])
def test_hostile_retry_after_is_ignored(
    make_service: ServiceFactory, servers: FakeServers, value: str
) -> None:
    servers.raw[TREE] = (403, b'{"message": "forbidden"}', {"Retry-After": value})
    with pytest.raises(UnreachableError, match="answered HTTP 403 .*: forbidden"):
        make_service().refresh(api_url=servers.base_url)


def test_retry_after_and_rate_headers(make_service: ServiceFactory, servers: FakeServers) -> None:
    headers = {"Retry-After": "120", "x-ratelimit-reset": "\u00b3" * 10, "x-ratelimit-limit": "²"}
    servers.raw[TREE] = (429, b"", headers)
    before = time.time()
    with pytest.raises(RateLimitedError) as info:
        make_service().refresh(api_url=servers.base_url)
    assert (
        info.value.reset_at is not None and before + 119 <= info.value.reset_at <= time.time() + 121
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"networkSteward": "x", "votesAgainst": "\\u00b2", "votesNeeded": "1"}', "amount"),
        (
            b'{"networkSteward": "x", "votesAgainst": "' + b"9" * 4301 + b'", "votesNeeded": 1}',
            "amount",
        ),
        (b'{"networkSteward": "x", "votesAgainst": -5, "votesNeeded": 1}', "amount"),
        (b'{"networkSteward": "x", "votesAgainst": 1.5, "votesNeeded": 1}', "amount"),
        (b'{"networkSteward": "x", "votesAgainst": 1e400, "votesNeeded": 1}', "out of range"),
        (b"[" * 100_000, "nested deeper"),
    ],
)
def test_hostile_explorer(
    make_service: ServiceFactory, servers: FakeServers, body: bytes, reason: str
) -> None:
    servers.raw[EXPLORER_PREFIX + "/ns"] = (200, body, {})
    view = make_service().election(servers.explorer_url)
    assert view.state is None and view.error and "the explorer" in view.error
    assert reason in view.error
