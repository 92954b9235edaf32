"""Which system libraries Qt's X11 (xcb) platform plugin lacks on this machine, asked of the
dynamic linker (``ldd``) without loading Qt.

Qt aborts the whole process when its platform plugin cannot load ("Could not load the Qt
platform plugin "xcb""), naming at best one library. The window's start and the self-test ask
here first so they can name every missing one. The packages that provide them on Debian/Ubuntu
are in packaging/linux/qt-system-libs.sh (which `make run` and the bundle's install.sh use).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN = Path("Qt") / "plugins" / "platforms" / "libqxcb.so"
HINT = (
    "on Debian/Ubuntu `make run` installs them, or see README.md, section "
    "“System libraries for the window”"
)


def pyside_dir() -> Path | None:
    """The installed PySide6 package's directory (None when it is not installed)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def wants_xcb(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Qt will use its xcb platform: Linux, and X11 chosen or the default."""
    if not sys.platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def missing_libraries(qt_dir: Path | None = None) -> list[str]:
    """The libraries (sonames) the xcb platform plugin links to that are not installed; empty
    when all are there or when this cannot be asked (no ldd, no plugin: Qt will say)."""
    base = qt_dir if qt_dir is not None else pyside_dir()
    ldd = shutil.which("ldd")
    if base is None or ldd is None:
        return []
    plugin = base / PLUGIN
    if not plugin.is_file():
        return []
    env = dict(os.environ)
    bundle = getattr(sys, "_MEIPASS", "")  # the bundle's own copies of system libraries
    search = (str(base / "Qt" / "lib"), bundle, env.get("LD_LIBRARY_PATH", ""))
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in search if p)
    try:
        done = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, env=env
        )
    except (OSError, subprocess.SubprocessError):
        return []
    missing = {
        line.split()[0]
        for line in done.stdout.splitlines()
        if "=> not found" in line and not line.strip().startswith("libQt6")
    }
    return sorted(missing)


def describe_missing(missing: list[str]) -> str:
    """One sentence for the user."""
    return f"the window needs system libraries that are missing: {', '.join(missing)} ({HINT})"
