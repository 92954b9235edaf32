"""The SVG icons under resources/icons/, found in the source tree and in a packaged bundle."""

from pathlib import Path

from PySide6.QtGui import QIcon

from app.resources import resource_path

# Navigation entries (the main window's page titles) and their icon files.
NAV_ICON_FILES = {
    "Overview": "overview.svg",
    "Send": "send.svg",
    "Receive": "receive.svg",
    "History": "history.svg",
    "Mining": "mining.svg",
    "VPN": "vpn.svg",
    "Steward": "steward.svg",
    "Network": "network.svg",
    "Settings": "settings.svg",
    "Get started": "get-started.svg",
}


def icon_path(name: str) -> Path:
    """Where icon file `name` (e.g. "send.svg") lives."""
    return resource_path(f"icons/{name}")


def nav_icon(title: str) -> QIcon:
    """The icon for a navigation entry; a null icon for a title without one."""
    name = NAV_ICON_FILES.get(title)
    if name is None:
        return QIcon()
    path = icon_path(name)
    return QIcon(str(path)) if path.is_file() else QIcon()
