"""What the Settings page shows, read from and written to where each setting lives: the app's
settings file, the Steward cache (its service addresses) and the VPN settings (the directory,
and how to reach cjdns: cjdroute's path, its configuration file, the admin address and
password). Run in a worker: files, SQLite and the OS keyring."""

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from app.settings import AppSettings, load_settings_checked, save_settings
from app.steward.service import StewardService
from app.steward.store import SETTING_EXPLORER, SETTING_GITHUB_API
from app.vpn.errors import ConfigError
from app.vpn.settings import DEFAULT_DIRECTORY_URL, VpnSettings
from app.wallet import unlock_cache
from app.wallet.wallet import list_wallets
from spv.params import NetworkParams


@dataclass(frozen=True)
class CjdnsAdmin:
    """How the VPN reaches cjdns (VpnSettings fields; empty: found automatically)."""

    cjdroute_path: str = ""
    cjdroute_conf: str = ""
    admin_bind: str = ""
    admin_password: str = ""


@dataclass(frozen=True)
class StoredSettings:
    """What the page shows, as it is on disk."""

    app: AppSettings
    problems: tuple[str, ...]
    steward_source_url: str
    explorer_url: str
    vpn_directory_url: str | None
    """None when the VPN settings file cannot be read (then it is left alone)."""
    keyring_problem: str | None
    cjdns: CjdnsAdmin | None = None
    """None when the VPN settings file cannot be read."""
    node_url: str = ""
    """The full node whose vote RPC counts the Network Steward election ('' : none)."""
    node_user: str = ""
    node_password: str = field(default="", repr=False)  # OS keyring when there is one


def read_stored_settings(datadir: Path, params: NetworkParams) -> StoredSettings:
    app, problems = load_settings_checked(datadir)
    with StewardService(datadir, params) as steward:
        steward_url = steward.github_api_url()
        explorer_url = steward.explorer_api_url() or ""
        node = steward.node_settings()
    vpn_url: str | None
    cjdns: CjdnsAdmin | None
    try:
        vpn = VpnSettings.load(datadir)
    except ConfigError as exc:
        problems.append(f"VPN settings: {exc}")
        vpn_url, cjdns = None, None
    else:
        vpn_url = vpn.directory_url
        cjdns = CjdnsAdmin(**{f.name: getattr(vpn, f.name) or "" for f in fields(CjdnsAdmin)})
    return StoredSettings(
        app,
        tuple(problems),
        steward_url,
        explorer_url,
        vpn_url,
        unlock_cache.availability(),
        cjdns,
        node.url or "",
        node.user or "",
        node.password or "",
    )


def write_settings(
    datadir: Path, params: NetworkParams, old: StoredSettings, new: StoredSettings
) -> None:
    """Save `new`; the service addresses only where they changed (an untouched default stays a
    default, so a later release can move it)."""
    save_settings(datadir, new.app)
    changed = {
        key: value or None
        for key, value, before in (
            (SETTING_GITHUB_API, new.steward_source_url, old.steward_source_url),
            (SETTING_EXPLORER, new.explorer_url, old.explorer_url),
        )
        if value != before
    }
    node_changed = (new.node_url, new.node_user) != (old.node_url, old.node_user)
    if changed or node_changed or new.node_password != old.node_password:
        with StewardService(datadir, params) as steward:
            for key, value in changed.items():
                steward.set_setting(key, value)
            if node_changed:
                steward.save_node(new.node_url, new.node_user)
            if new.node_password != old.node_password:
                steward.save_node_password(new.node_password or None)
    vpn_changes: dict[str, str | None] = {}
    if new.vpn_directory_url is not None and new.vpn_directory_url != old.vpn_directory_url:
        vpn_changes["directory_url"] = new.vpn_directory_url or DEFAULT_DIRECTORY_URL
    if new.cjdns is not None and old.cjdns is not None:
        for admin_field in fields(CjdnsAdmin):
            value = getattr(new.cjdns, admin_field.name)
            if value != getattr(old.cjdns, admin_field.name):
                vpn_changes[admin_field.name] = value or None
    if vpn_changes:
        vpn = replace(VpnSettings.load(datadir), **vpn_changes)  # type: ignore[arg-type]
        vpn.save(datadir)


def forget_passwords(datadir: Path, network: str) -> int:
    """Remove every remembered password of this network's wallets; how many there were."""
    return sum(unlock_cache.forget(network, name) for name in list_wallets(datadir))
