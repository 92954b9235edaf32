"""App settings file (defaults, round trip, damaged files) and amounts in PKT / mPKT / μPKT."""

import json
import os
import socket
import socketserver
import threading
from pathlib import Path

import pytest
import requests

from app.display_units import UNIT_DIVISORS, format_in_unit, parse_in_unit
from app.settings import (
    UNITS,
    AppSettings,
    SettingsError,
    apply_http_proxy,
    check_http_url,
    load_settings,
    load_settings_checked,
    parse_peer,
    parse_peer_lines,
    proxy_url,
    save_settings,
    settings_path,
)
from spv.params import MAINNET, REGTEST
from spv.units import AmountError, format_amount, max_units

PKT = MAINNET.units_per_coin


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    settings, problems = load_settings_checked(tmp_path)
    assert settings == AppSettings()
    assert problems == []
    assert settings.units == "PKT" and settings.use_dns_seeds and not settings.keep_mining_in_tray
    assert not settings_path(tmp_path).exists()


def test_round_trip(tmp_path: Path) -> None:
    chosen = AppSettings(
        units="μPKT",
        extra_peers=["127.0.0.1:64764", "[::1]:1234", "seed.example.org"],
        use_dns_seeds=False,
        proxy="http://127.0.0.1:3128",
        keep_mining_in_tray=True,
    )
    save_settings(tmp_path, chosen)
    assert load_settings_checked(tmp_path) == (chosen, [])
    assert chosen.peer_addresses(64764) == [
        ("127.0.0.1", 64764),
        ("::1", 1234),
        ("seed.example.org", 64764),
    ]
    assert oct(settings_path(tmp_path).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b"[1, 2]", b""])
def test_damaged_file_gives_defaults_and_is_kept(tmp_path: Path, content: bytes) -> None:
    settings_path(tmp_path).write_bytes(content)
    settings, problems = load_settings_checked(tmp_path)
    assert settings == AppSettings()
    assert len(problems) == 1 and "settings.json.bad" in problems[0]
    assert (tmp_path / "settings.json.bad").read_bytes() == content
    save_settings(tmp_path, AppSettings(units="mPKT"))  # the next save keeps the copy
    assert (tmp_path / "settings.json.bad").read_bytes() == content
    assert load_settings(tmp_path).units == "mPKT"


def test_bad_fields_fall_back_to_their_defaults(tmp_path: Path) -> None:
    settings_path(tmp_path).write_text(
        json.dumps(
            {
                "units": "kPKT",
                "extra_peers": ["127.0.0.1:64764", "host:99999", 7],
                "use_dns_seeds": "no",
                "proxy": "ftp://127.0.0.1:21",
                "keep_mining_in_tray": True,
                "colour": "blue",
            }
        )
    )
    settings, problems = load_settings_checked(tmp_path)
    assert settings == AppSettings(extra_peers=["127.0.0.1:64764"], keep_mining_in_tray=True)
    text = "\n".join(problems)
    for name in ("units", "host:99999", "7", "use_dns_seeds", "proxy", "colour"):
        assert name in text
    assert len(problems) == 6


def test_peer_addresses() -> None:
    assert parse_peer(" 10.0.0.1:64764 ") == ("10.0.0.1", 64764)
    assert parse_peer("[2001:db8::1]:8") == ("2001:db8::1", 8)
    assert parse_peer("node.example.org") == ("node.example.org", 0)
    assert parse_peer_lines("a.example:1\n\n  b.example:2  \n") == ["a.example:1", "b.example:2"]
    for bad, words in [
        ("host:0", "port must be a number from 1 to 65535"),
        ("host:65536", "port must be a number"),
        ("host:x", "port must be a number"),
        (":64764", "host name is missing"),
        ("2001:db8::1", "IPv6 address in brackets"),
        ("[2001:db8::1", "']' is missing"),
        ("http://host:1", "without a scheme"),
        ("a b:1", "not a host name"),
        ("", "empty"),
    ]:
        with pytest.raises(SettingsError, match=words):
            parse_peer(bad)


def test_urls_and_proxies() -> None:
    assert check_http_url(" https://explorer.example.org/api/ ", "Explorer") == (
        "https://explorer.example.org/api"
    )
    assert check_http_url("", "Explorer") == ""
    with pytest.raises(SettingsError, match="Explorer: the address must start with http"):
        check_http_url("ftp://example.org", "Explorer")
    with pytest.raises(SettingsError, match="server name is missing"):
        check_http_url("http://", "Explorer")
    assert proxy_url("") == ""
    assert proxy_url("127.0.0.1:9050") == "socks5h://127.0.0.1:9050"
    assert proxy_url("socks5://[::1]:9050") == "socks5h://[::1]:9050"
    assert proxy_url("http://127.0.0.1:3128/") == "http://127.0.0.1:3128"
    for bad, words in [
        ("127.0.0.1", "port is missing"),
        ("https://127.0.0.1:3128", "use host:port"),
        ("127.0.0.1:70000", "port must be"),
    ]:
        with pytest.raises(SettingsError, match=words):
            proxy_url(bad)


def test_proxy_is_set_for_http_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://users-own-proxy.example:8080")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setattr("app.settings._environment_before", None)
    apply_http_proxy("http://127.0.0.1:3128")
    assert os.environ["http_proxy"] == os.environ["HTTPS_PROXY"] == "http://127.0.0.1:3128"
    apply_http_proxy("")
    assert "http_proxy" not in os.environ
    assert os.environ["HTTPS_PROXY"] == "http://users-own-proxy.example:8080"
    with pytest.raises(SettingsError):
        apply_http_proxy("nonsense")


class _Socks5Server(socketserver.ThreadingTCPServer):
    """A loopback SOCKS5 proxy (no authentication) that answers every HTTP request itself and
    records the host name it was asked to connect to."""

    daemon_threads = True

    def __init__(self) -> None:
        self.targets: list[str] = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                reader = conn.makefile("rb")
                version, n_methods = reader.read(2)
                assert version == 5 and 0 in reader.read(n_methods)
                conn.sendall(b"\x05\x00")
                _, command, _, address_type = reader.read(4)
                assert command == 1 and address_type == 3  # CONNECT to a name (socks5h)
                host = reader.read(reader.read(1)[0]).decode()
                port = int.from_bytes(reader.read(2), "big")
                outer.targets.append(f"{host}:{port}")
                conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
                while reader.readline() not in (b"\r\n", b""):
                    pass
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nvia ss5"
                )

        super().__init__(("127.0.0.1", 0), Handler)


def test_socks5_proxy_carries_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.settings._environment_before", None)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with _Socks5Server() as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            apply_http_proxy(f"127.0.0.1:{server.server_address[1]}")
            answer = requests.get("http://pool.invalid:8080/config.json", timeout=10)
            assert answer.text == "via ss5"
            assert server.targets == ["pool.invalid:8080"]  # the name went to the proxy
        finally:
            apply_http_proxy("")
            server.shutdown()


# --- amounts in a unit ----------------------------------------------------------------------

SAMPLES = [0, 1, 2, 3, 999, 2**30 - 1, 2**30, 2**30 + 1, 123_456_789_012, max_units(PKT) - 1]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("units", [*SAMPLES, max_units(PKT)])
def test_formatting_round_trips_exactly(unit: str, units: int) -> None:
    text = format_in_unit(units, PKT, unit)
    assert parse_in_unit(text, PKT, unit) == units
    assert format_in_unit(-units, PKT, unit) == ("-" + text if units else "0")


def test_known_values() -> None:
    assert [format_in_unit(1, PKT, unit) for unit in UNITS] == ["0.000000001", "0.000001", "0.001"]
    assert [format_in_unit(2**30, PKT, unit) for unit in UNITS] == ["1", "1000", "1000000"]
    assert [format_in_unit(max_units(PKT), PKT, unit) for unit in UNITS] == [
        "6000000000",
        "6000000000000",
        "6000000000000000",
    ]
    assert format_in_unit(2**29, PKT, "mPKT") == "500"
    assert parse_in_unit("0.5", PKT, "PKT") == 2**29
    assert parse_in_unit("500", PKT, "mPKT") == 2**29
    assert parse_in_unit("500000", PKT, "μPKT") == 2**29
    assert parse_in_unit("1", PKT, "μPKT") == 1074  # 2^30 / 10^6 = 1073.74…
    # 1 μPKT is 1073.741824 units: typed amounts round to the nearest unit
    assert parse_in_unit("0.0005", PKT, "μPKT") == 1  # 0.54 of a unit
    with pytest.raises(AmountError, match="too many decimals: the smallest amount is 0.001 μPKT"):
        parse_in_unit("0.0004", PKT, "μPKT")  # 0.43 of a unit: not zero, not sendable
    assert parse_in_unit("0.0000", PKT, "μPKT") == 0  # zero stays zero
    assert parse_in_unit("0.001", PKT, "μPKT") == 1


def test_pkt_unit_matches_spv_units() -> None:
    for units in SAMPLES:
        assert format_in_unit(units, PKT, "PKT") == format_amount(units, PKT)
    assert format_in_unit(12_345_678, REGTEST.units_per_coin, "mPKT") == "123.45678"


def test_invalid_amounts() -> None:
    for bad, words in [
        ("", "write a decimal number"),
        ("-1", "cannot be negative"),
        ("1,5", "decimal point"),
        ("1e3", "write a decimal number"),
        ("abc", "write a decimal number"),
        (".", "write a decimal number"),
        ("1." + "0" * 31, "too many decimal places"),
        ("6000000000.000000001", "maximum supply of 6,000,000,000 PKT"),
        ("60000000000", "maximum supply"),
    ]:
        with pytest.raises(AmountError, match=words):
            parse_in_unit(bad, PKT, "PKT")
    with pytest.raises(AmountError, match="maximum supply of 6,000,000,000,000 mPKT"):
        parse_in_unit("6000000000001", PKT, "mPKT")
    assert parse_in_unit("6000000000000", PKT, "mPKT") == max_units(PKT)
    assert set(UNIT_DIVISORS) == set(UNITS)


def test_without_pysocks_only_http_proxies_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.settings.socks_available", lambda: False)
    with pytest.raises(SettingsError, match="SOCKS5 needs the PySocks package"):
        proxy_url("127.0.0.1:9050")
    assert proxy_url("http://127.0.0.1:3128") == "http://127.0.0.1:3128"


def test_commands_use_the_saved_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.settings as settings_module
    from app.cli.main import main

    for name in settings_module.PROXY_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "_environment_before", None)
    assert main(["--network", "regtest", "--datadir", str(tmp_path), "network-info"]) == 0
    assert "https_proxy" not in os.environ  # no settings file: nothing changes
    save_settings(tmp_path, AppSettings(proxy="http://127.0.0.1:3128"))
    try:
        assert main(["--network", "regtest", "--datadir", str(tmp_path), "network-info"]) == 0
        assert os.environ["https_proxy"] == "http://127.0.0.1:3128"
    finally:
        settings_module.apply_http_proxy("")
    assert "https_proxy" not in os.environ
