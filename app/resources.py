"""Where the application's bundled files (icons, ...) are: the source tree or the bundle.

In the source tree (and an editable install) they live in ``resources/`` at the repository
root. In the PyInstaller bundle they are unpacked under ``sys._MEIPASS`` (``resources/`` there
too, see packaging/pkt-wallet.spec).
"""

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The ``resources/`` directory of this installation."""
    bundle_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and isinstance(bundle_root, str):
        return Path(bundle_root) / "resources"
    return SOURCE_ROOT / "resources"


def resource_path(relative: str) -> Path:
    """The path of a bundled file, e.g. ``resource_path("icons/pkt-wallet.svg")``.

    The file may not exist (a partial install); callers check before using it.
    """
    return resources_dir() / relative
