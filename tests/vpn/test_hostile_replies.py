"""Hostile bodies from the coordinator and the exits (loopback FakeDirectory serving raw bytes):
every one ends as a DirectoryError / PremiumError in the user's terms, never as RecursionError,
OverflowError, ValueError or a NaN price (regressions of issue 16)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.vpn.directory import Directory, parse_exit_list
from app.vpn.errors import DirectoryError, PremiumError
from app.vpn.premium import pkt_to_units
from spv.params import MAINNET

from .directory_server import DEFAULT_EXIT, FakeDirectory

EXITS = "/api/0.3/vpn/servers/true/"
PEERS = "/api/0.3/vpn/cjdns/peeringlines/"
PREMIUM = f"/api/0.4/vpn/server/{DEFAULT_EXIT}/premium/address/"
AUTHORIZE = f"/api/0.3/vpn/servers/{DEFAULT_EXIT}/authorize/"
HOSTILE = [
    (b"[" * 100_000, "nested deeper than 32 levels"),
    (b"[1e400]", "out of range"),
    (b"[NaN]", "NaN is not a number"),
    (b"[" + b"1" * 4301 + b"]", "4301 digits"),
    (b'["\\udc00"]', "surrogate"),
    (b"\xff\xfe", "not UTF-8"),
]


def _directory(fake: FakeDirectory, tmp_path: Path) -> Directory:
    return Directory(fake.url, tmp_path / "cache", timeout=(1, 3))


@pytest.mark.parametrize(("body", "reason"), HOSTILE)
def test_hostile_exit_list_and_peering_lines(
    directory: FakeDirectory, tmp_path: Path, body: bytes, reason: str
) -> None:
    d = _directory(directory, tmp_path)
    directory.raw[EXITS] = body
    directory.raw[PEERS] = body
    with pytest.raises(
        DirectoryError, match=f"the coordinator sent an invalid exit list: .*{reason}"
    ):
        d.fetch_exits()
    with pytest.raises(DirectoryError, match="the coordinator sent an invalid peering lines"):
        d.peering_lines(use_cache=False)


def test_hostile_numbers_inside_an_exit_entry() -> None:
    entry = {"public_key": DEFAULT_EXIT, "name": "x"}
    for value in ("nan", "NaN", "inf", "-Infinity", "1e400", "\u00b2", "\u0663", "9" * 5000, [1]):
        (ex,), _ = parse_exit_list([entry | {"cost": value, "load": value, "num_ratings": value}])
        assert (ex.cost, ex.load, ex.num_ratings, ex.premium) == (0.0, 0.0, 0, False)
        (ex,), _ = parse_exit_list([entry | {"average_rating": value}])
        assert ex.average_rating is None
    (ex,), _ = parse_exit_list([entry | {"cost": Decimal("-5"), "load": "0.25"}])
    assert ex.cost == 0.0 and ex.load == 0.25  # a negative price is no price
    (ex,), _ = parse_exit_list([entry | {"cost": "0.0000000001"}])
    assert ex.cost == 0.0 and not ex.premium  # below the smallest amount: free, not 0 units
    (ex,), _ = parse_exit_list([entry | {"cost": "0.000000001"}])
    assert ex.premium and pkt_to_units(ex.cost, MAINNET.units_per_coin) == 1


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("NaN", "invalid premium offer: NaN is not a number"),
        ('"NaN"', "invalid premium price"),
        ('"inf"', "invalid premium price"),
        ('"\u00b2"', "invalid premium price"),
        ('"1e400"', "invalid premium price"),
        ("0", "invalid premium price"),
        ("-1", "invalid premium price"),
        ("1e400", "out of range"),
        ('{"x": 1}', "invalid premium price"),
    ],
)
def test_hostile_premium_price(
    directory: FakeDirectory, tmp_path: Path, amount: str, reason: str
) -> None:
    body = (
        '{"address": "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2", "amount": '
    )
    directory.raw[PREMIUM] = (body + amount + "}").encode()
    with pytest.raises(DirectoryError, match=reason):
        _directory(directory, tmp_path).premium_address(DEFAULT_EXIT)


def test_premium_price_is_exact_and_never_rounds_to_nothing(
    directory: FakeDirectory, tmp_path: Path
) -> None:
    directory.premium_amount = 0.1
    request = _directory(directory, tmp_path).premium_address(DEFAULT_EXIT)
    assert request.amount == Decimal("0.1")
    assert pkt_to_units(request.amount, MAINNET.units_per_coin) == MAINNET.units_per_coin // 10
    with pytest.raises(PremiumError, match="less than one unit"):
        pkt_to_units(Decimal("0.0000000001"), MAINNET.units_per_coin)


@pytest.mark.parametrize("body", [b[0] for b in HOSTILE] + [b'{"expiresAt": "\\u00b2"}'])
def test_hostile_authorization_reply(directory: FakeDirectory, tmp_path: Path, body: bytes) -> None:
    """A 200 answer is an authorization whatever its body; a hostile body gives no message and
    no lease end rather than an exception."""
    directory.raw[AUTHORIZE] = body
    result = _directory(directory, tmp_path).authorize(DEFAULT_EXIT, lambda h: "sig")
    assert result.status == 200 and result.expires_at is None and result.message == ""


def test_cache_holds_decimals_as_numbers(directory: FakeDirectory, tmp_path: Path) -> None:
    directory.exits[0]["cost"] = 0.25
    d = _directory(directory, tmp_path)
    d.fetch_exits()
    cached = json.loads((tmp_path / "cache" / "exits-active.json").read_text())
    assert any(e.get("cost") == 0.25 for e in cached["data"])
    assert d.cached_exits() is not None
