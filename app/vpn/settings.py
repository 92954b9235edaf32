"""VPN settings, saved as ``<datadir>/vpn/settings.json`` (atomic writes)."""

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from spv.atomic import atomic_write

from .errors import ConfigError
from .keys import key_to_ipv6

DEFAULT_DIRECTORY_URL = "https://vpn.anode.co"
DEFAULT_PUBLIC_IP_URL = "http://v4.vpn.anode.co/api/0.3/vpn/clients/ipaddress/"
# Hard-coded as the coordinator's signing key in anodevpn-server (and Anodium's default exit).
DEFAULT_COORDINATOR_KEY = "929cwrjn11muk4cs5pwkdc5f56hu475wrlhq90pb9g38pp447640.k"
DEFAULT_EXIT_NAME = "PKT Pal Montreal"
DEFAULT_DNS = ("1.1.1.1",)


def vpn_dir(datadir: Path) -> Path:
    return Path(datadir) / "vpn"


@dataclass
class VpnSettings:
    directory_url: str = DEFAULT_DIRECTORY_URL
    public_ip_url: str | None = None  # default: derived from directory_url
    cjdroute_conf: str | None = None
    cjdroute_path: str | None = None
    admin_bind: str | None = None
    admin_password: str | None = None
    dns_servers: list[str] = field(default_factory=lambda: list(DEFAULT_DNS))
    set_dns: bool = True
    coordinator_key: str = DEFAULT_COORDINATOR_KEY
    coordinator_via_cjdns: bool = False  # retry the coordinator at http://[<its cjdns IPv6>]
    show_inactive: bool = False
    default_exit: str | None = None

    @classmethod
    def path(cls, datadir: Path) -> Path:
        return vpn_dir(datadir) / "settings.json"

    @classmethod
    def load(cls, datadir: Path) -> "VpnSettings":
        p = cls.path(datadir)
        if not p.exists():
            return cls()
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read VPN settings {p}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"VPN settings {p} is not a JSON object")
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VpnSettings":
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in data.items() if k in known})
        if not isinstance(settings.dns_servers, list) or not all(
            isinstance(s, str) for s in settings.dns_servers
        ):
            raise ConfigError("dns_servers must be a list of IP addresses")
        return settings

    def save(self, datadir: Path) -> None:
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        atomic_write(self.path(datadir), text.encode(), mode=0o600)

    def coordinator_cjdns_url(self) -> str | None:
        """http://[<cjdns IPv6 of coordinator_key>] when coordinator_via_cjdns is on: the
        address is derived from the key, so cjdns itself authenticates the coordinator."""
        if not self.coordinator_via_cjdns:
            return None
        try:
            return f"http://[{key_to_ipv6(self.coordinator_key)}]"
        except ValueError as exc:
            raise ConfigError(f"coordinator_key: {exc}") from None

    def resolved_public_ip_url(self) -> str:
        if self.public_ip_url:
            return self.public_ip_url
        if self.directory_url.rstrip("/") == DEFAULT_DIRECTORY_URL:
            return DEFAULT_PUBLIC_IP_URL
        return self.directory_url.rstrip("/") + "/api/0.3/vpn/clients/ipaddress/"
