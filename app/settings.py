"""The desktop app's own settings, saved as ``<datadir>/settings.json`` (atomic writes).

Display unit, extra peers and DNS seeds (read at start), the HTTP proxy and "keep mining in
the tray". Remembering a wallet's password is chosen per wallet when unlocking it
(`app.wallet.unlock_cache`). Service URLs live with their services (`app.vpn.settings`,
`app.steward`), pools with mining (`app.mining.settings`); nothing is duplicated here.

A damaged file never stops the app: it is kept beside as ``settings.json.bad`` and the
defaults are used; a field with a wrong value falls back to its default, with a warning.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spv.atomic import atomic_write

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
UNITS: tuple[str, ...] = ("PKT", "mPKT", "μPKT")
PROXY_ENV_NAMES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class SettingsError(ValueError):
    """A setting's value is not acceptable; the message is for the user."""


@dataclass
class AppSettings:
    units: str = "PKT"
    extra_peers: list[str] = field(default_factory=list)
    """host:port or [IPv6]:port; a host alone means the network's default port."""
    use_dns_seeds: bool = True
    proxy: str = ""
    """Empty: none. host:port or socks5://host:port (SOCKS5), or http://host:port."""
    keep_mining_in_tray: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "extra_peers": list(self.extra_peers),
            "use_dns_seeds": self.use_dns_seeds,
            "proxy": self.proxy,
            "keep_mining_in_tray": self.keep_mining_in_tray,
        }

    def peer_addresses(self, default_port: int) -> list[tuple[str, int]]:
        return [
            (host, port or default_port)
            for host, port in (parse_peer(text) for text in self.extra_peers)
        ]


# --- checks shared by the file reader and the Settings page ---------------------------------


def check_units(text: str) -> str:
    if text not in UNITS:
        raise SettingsError(f"unknown unit {text!r}: choose one of {', '.join(UNITS)}")
    return text


def _split_host_port(text: str) -> tuple[str, str]:
    """("host", "port text") from host:port, [IPv6]:port or host; port text may be empty."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SettingsError(f"{text}: a ']' is missing after the IPv6 address")
        rest = text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise SettingsError(f"{text}: expected ':port' after the ']'")
        return text[1:end], rest[1:]
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    if ":" in text:
        raise SettingsError(f"{text}: write an IPv6 address in brackets, like [::1]:64764")
    return text, ""


def _check_port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"{whole}: the port must be a number from 1 to 65535")
    return int(text)


def _check_host(host: str, whole: str) -> None:
    if not host:
        raise SettingsError(f"{whole}: the host name is missing")
    if any(c.isspace() or c in "/?#@" for c in host):
        raise SettingsError(f"{whole}: {host!r} is not a host name or IP address")


def parse_peer(text: str) -> tuple[str, int]:
    """(host, port) for one peer; port 0 when none was given (the network default)."""
    text = text.strip()
    if not text:
        raise SettingsError("a peer address is empty")
    if "://" in text:
        raise SettingsError(f"{text}: write a peer as host:port, without a scheme like http://")
    host, port_text = _split_host_port(text)
    _check_host(host, text)
    return host, (_check_port(port_text, text) if port_text else 0)


def parse_peer_lines(text: str) -> list[str]:
    """The peers of a multi-line text box (one a line, blank lines ignored), each checked."""
    peers = [line.strip() for line in text.splitlines() if line.strip()]
    for peer in peers:
        parse_peer(peer)
    return peers


def check_http_url(text: str, what: str) -> str:
    """An http(s) URL without the trailing '/', or '' when empty (use the default)."""
    url = text.strip().rstrip("/")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise SettingsError(f"{what}: the address must start with http:// or https://")
    if not parts.hostname:
        raise SettingsError(f"{what}: the server name is missing")
    return url


def socks_available() -> bool:
    """PySocks is what requests needs for socks5h:// proxies."""
    return importlib.util.find_spec("socks") is not None


def proxy_url(text: str) -> str:
    """The requests proxy URL for the proxy setting: '' (none), socks5h://… or http://…"""
    text = text.strip().rstrip("/")
    if not text:
        return ""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "socks5", text
    scheme = scheme.lower()
    if scheme not in ("socks5", "socks5h", "http"):
        raise SettingsError(
            "proxy: use host:port for a SOCKS5 proxy, or http://host:port for an HTTP proxy"
        )
    host, port_text = _split_host_port(rest)
    _check_host(host, f"proxy {text}")
    if not port_text:
        raise SettingsError(f"proxy {text}: the port is missing (for example {host}:9050)")
    _check_port(port_text, f"proxy {text}")
    if scheme == "http":
        return f"http://{rest}"
    if not socks_available():
        raise SettingsError(
            "proxy: SOCKS5 needs the PySocks package, which is not installed; "
            "use an HTTP proxy (http://host:port) instead"
        )
    return f"socks5h://{rest}"  # socks5h: the proxy resolves names, so DNS does not leak


# --- applying the proxy ---------------------------------------------------------------------

_environment_before: dict[str, str | None] | None = None


def apply_http_proxy(proxy: str) -> None:
    """Send this process's HTTP services (pools, Steward/GitHub, VPN directory, explorer)
    through the proxy, or stop doing so for ''. They all use `requests`, which reads the
    proxy environment variables on every request; peer-to-peer connections do not."""
    global _environment_before
    url = proxy_url(proxy)
    if _environment_before is None:
        _environment_before = {name: os.environ.get(name) for name in PROXY_ENV_NAMES}
    for name in PROXY_ENV_NAMES:
        value = url or _environment_before[name]
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)


# --- the file -------------------------------------------------------------------------------


def settings_path(datadir: Path) -> Path:
    return Path(datadir) / SETTINGS_FILE


def _field(data: dict[str, Any], name: str, default: Any, check: Any, problems: list[str]) -> Any:
    if name not in data:
        return default
    try:
        return check(data[name])
    except (SettingsError, TypeError, AttributeError) as exc:
        problems.append(f"{name}: {exc}; using the default")
        return default


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"expected true or false, got {value!r}")
    return value


def _peer_list(value: Any, problems: list[str]) -> list[str]:
    """The good peers of the list; each bad one is reported and dropped."""
    if not isinstance(value, list):
        raise SettingsError("expected a list of host:port texts")
    peers = []
    for item in value:
        try:
            if not isinstance(item, str):
                raise SettingsError(f"{item!r} is not a host:port text")
            parse_peer(item)
            peers.append(item.strip())
        except SettingsError as exc:
            problems.append(f"extra_peers: {exc}; dropped")
    return peers


def _proxy(value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"expected text, got {value!r}")
    proxy_url(value)
    return value.strip()


def settings_from_json(data: Any) -> tuple[AppSettings, list[str]]:
    """Settings from decoded JSON, each bad or unknown field reported and left at default."""
    if not isinstance(data, dict):
        return AppSettings(), ["the file is not a JSON object; using the defaults"]
    problems: list[str] = []
    default = AppSettings()
    known = set(default.to_json())
    problems += [f"{name}: unknown setting, ignored" for name in sorted(set(data) - known)]
    settings = AppSettings(
        units=_field(data, "units", default.units, check_units, problems),
        extra_peers=_field(
            data, "extra_peers", default.extra_peers, lambda v: _peer_list(v, problems), problems
        ),
        use_dns_seeds=_field(data, "use_dns_seeds", default.use_dns_seeds, _boolean, problems),
        proxy=_field(data, "proxy", default.proxy, _proxy, problems),
        keep_mining_in_tray=_field(
            data, "keep_mining_in_tray", default.keep_mining_in_tray, _boolean, problems
        ),
    )
    return settings, problems


def load_settings_checked(datadir: Path) -> tuple[AppSettings, list[str]]:
    """The saved settings and what was wrong with the file (each problem also logged).

    An unreadable or undecodable file is copied to ``settings.json.bad`` first, so the next
    save does not silently destroy what the user had."""
    path = settings_path(datadir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AppSettings(), []
    except OSError as exc:
        problem = f"cannot read {path} ({exc.strerror or exc}); using the defaults"
        log.warning("settings: %s", problem)
        return AppSettings(), [problem]
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        bad = path.with_name(path.name + ".bad")
        atomic_write(bad, raw, mode=0o600)
        problem = f"{path} is damaged; it was kept as {bad.name} and the defaults are used"
        log.warning("settings: %s", problem)
        return AppSettings(), [problem]
    settings, problems = settings_from_json(data)
    for problem in problems:
        log.warning("settings %s: %s", path, problem)
    return settings, problems


def load_settings(datadir: Path) -> AppSettings:
    return load_settings_checked(datadir)[0]


def save_settings(datadir: Path, settings: AppSettings) -> None:
    data = json.dumps(settings.to_json(), indent=2, sort_keys=True, ensure_ascii=False)
    atomic_write(settings_path(datadir), data.encode() + b"\n", mode=0o600)
