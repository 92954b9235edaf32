"""The SVG icons under resources/icons/, found in the source tree and in a packaged bundle."""

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtGui import QIcon

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


def _source_tree_path(rel: str) -> Path:
    return Path(__file__).resolve().parent.parent.parent / "resources" / rel


def _resource_lookup() -> Callable[[str], Path]:
    """`app.resources.resource_path` when the app ships one (it knows about bundles), else the
    source tree."""
    try:
        module = importlib.import_module("app.resources")
    except ImportError:
        return _source_tree_path
    lookup = getattr(module, "resource_path", None)
    return cast(Callable[[str], Path], lookup) if callable(lookup) else _source_tree_path


def icon_path(name: str) -> Path:
    """Where icon file `name` (e.g. "send.svg") lives."""
    return Path(_resource_lookup()(f"icons/{name}"))


def nav_icon(title: str) -> QIcon:
    """The icon for a navigation entry; a null icon for a title without one."""
    name = NAV_ICON_FILES.get(title)
    if name is None:
        return QIcon()
    path = icon_path(name)
    return QIcon(str(path)) if path.is_file() else QIcon()
